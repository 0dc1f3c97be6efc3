#include "latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "wal/core/assert.h"

namespace wal::bench {

namespace {

constexpr uint64_t exact_count = uint64_t{1} << LatencyHistogram::sub_bucket_bits;  // 256
constexpr uint64_t half_count = exact_count / 2;  // buckets per power of two above that
constexpr uint32_t value_bits = 40;
static_assert(LatencyHistogram::value_max_us == (uint64_t{1} << value_bits) - 1);
// Exact buckets, then one group of half_count per shift 1 .. value_bits - sub_bucket_bits.
constexpr size_t buckets_count =
    exact_count + (value_bits - LatencyHistogram::sub_bucket_bits) * half_count;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(buckets_count, 0) {}

size_t LatencyHistogram::bucket_index(uint64_t value_us) {
  WAL_ASSERT_LE(value_us, value_max_us);
  if (value_us < exact_count) return value_us;
  // value_us >> shift lies in [half_count, exact_count): its top sub_bucket_bits bits.
  const auto shift = static_cast<uint32_t>(std::bit_width(value_us)) - sub_bucket_bits;
  const uint64_t top = value_us >> shift;
  WAL_ASSERT_GE(top, half_count);
  WAL_ASSERT_LT(top, exact_count);
  return exact_count + (shift - 1) * half_count + (top - half_count);
}

uint64_t LatencyHistogram::bucket_top_us(size_t index) {
  WAL_ASSERT_LT(index, buckets_count);
  if (index < exact_count) return index;
  const uint64_t group = (index - exact_count) / half_count;  // shift - 1
  const uint64_t top = half_count + (index - exact_count) % half_count;
  const uint64_t shift = group + 1;
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::record(uint64_t value_us) {
  value_us = std::min(value_us, value_max_us);
  ++counts_[bucket_index(value_us)];
  min_us_ = count_ == 0 ? value_us : std::min(min_us_, value_us);
  max_us_ = std::max(max_us_, value_us);
  ++count_;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_us_ = count_ == 0 ? other.min_us_ : std::min(min_us_, other.min_us_);
  max_us_ = std::max(max_us_, other.max_us_);
  count_ += other.count_;
}

uint64_t LatencyHistogram::value_at_quantile(double q) const {
  WAL_ASSERT(q > 0.0 && q <= 1.0);
  if (count_ == 0) return 0;
  const auto rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(bucket_top_us(i), max_us_);
  }
  WAL_ASSERT(false && "the counts add up to count_");
  return max_us_;
}

LatencySummary LatencyHistogram::summary() const {
  LatencySummary summary;
  summary.sample_count = count_;
  if (count_ == 0) return summary;
  summary.p50_us = value_at_quantile(0.50);
  summary.p99_us = value_at_quantile(0.99);
  summary.p999_us = value_at_quantile(0.999);
  summary.max_us = max_us_;
  WAL_ASSERT_LE(summary.p50_us, summary.p99_us);
  WAL_ASSERT_LE(summary.p999_us, summary.max_us);
  return summary;
}

std::vector<std::pair<uint64_t, double>> LatencyHistogram::cdf() const {
  std::vector<std::pair<uint64_t, double>> points;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    seen += counts_[i];
    points.emplace_back(std::min(bucket_top_us(i), max_us_),
                        static_cast<double>(seen) / static_cast<double>(count_));
  }
  if (count_ > 0) WAL_ASSERT_EQ(seen, count_);
  return points;
}

}  // namespace wal::bench
