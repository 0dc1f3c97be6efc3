#include "latency_summary.h"

#include <algorithm>
#include <cmath>

#include "wal/core/assert.h"

namespace wal::bench {

namespace {

// The nearest-rank index of quantile `q` in `count` sorted samples.
size_t rank_index(size_t count, double q) {
  WAL_ASSERT_GT(count, size_t{0});
  WAL_ASSERT(q > 0.0 && q <= 1.0);
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(count)));
  return std::clamp<size_t>(rank, 1, count) - 1;
}

uint64_t quantile(std::vector<uint64_t>& samples, double q) {
  const size_t index = rank_index(samples.size(), q);
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(index),
                   samples.end());
  return samples[index];
}

}  // namespace

LatencySummary summarize_latencies(std::vector<uint64_t>& samples_us) {
  LatencySummary summary;
  summary.sample_count = samples_us.size();
  if (samples_us.empty()) return summary;
  summary.p50_us = quantile(samples_us, 0.50);
  summary.p99_us = quantile(samples_us, 0.99);
  summary.p999_us = quantile(samples_us, 0.999);
  summary.max_us = *std::max_element(samples_us.begin(), samples_us.end());
  WAL_ASSERT_LE(summary.p50_us, summary.p99_us);
  WAL_ASSERT_LE(summary.p999_us, summary.max_us);
  return summary;
}

}  // namespace wal::bench
