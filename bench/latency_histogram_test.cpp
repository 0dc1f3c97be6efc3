// LatencyHistogram against exact nearest-rank percentiles of the same samples.
#include "latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace wal::bench {
namespace {

uint64_t exact_quantile(std::vector<uint64_t> sorted, double q) {
  const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::max<size_t>(rank, 1) - 1];
}

TEST(LatencyHistogram, BucketsTileTheValuesWithoutGapsOrOverlap) {
  for (uint64_t value = 0; value < (1u << 20); ++value) {
    const size_t index = LatencyHistogram::bucket_index(value);
    ASSERT_LE(value, LatencyHistogram::bucket_top_us(index)) << value;
    if (index > 0) {
      ASSERT_GT(value, LatencyHistogram::bucket_top_us(index - 1)) << value;
    }
  }
  const uint64_t top = LatencyHistogram::value_max_us;
  EXPECT_EQ(LatencyHistogram::bucket_top_us(LatencyHistogram::bucket_index(top)), top);
}

TEST(LatencyHistogram, PercentilesAreWithinOnePercentAboveTheExactOnes) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> latency_us(7.0, 1.5);  // a long tail, 1 us .. seconds
  std::vector<uint64_t> samples;
  LatencyHistogram histogram;
  for (int i = 0; i < 200000; ++i) {
    const auto value = static_cast<uint64_t>(latency_us(random));
    samples.push_back(value);
    histogram.record(value);
  }
  std::sort(samples.begin(), samples.end());
  for (double q : {0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0}) {
    const uint64_t exact = exact_quantile(samples, q);
    const uint64_t approximate = histogram.value_at_quantile(q);
    EXPECT_GE(approximate, exact) << q;
    EXPECT_LE(static_cast<double>(approximate), static_cast<double>(exact) * 1.008 + 1) << q;
  }
  EXPECT_EQ(histogram.min_us(), samples.front());
  EXPECT_EQ(histogram.max_us(), samples.back());
  EXPECT_EQ(histogram.count(), samples.size());
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a;
  LatencyHistogram b;
  LatencyHistogram both;
  for (uint64_t v = 1; v < 5000; v += 7) {
    (v % 3 == 0 ? a : b).record(v * 13);
    both.record(v * 13);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), both.count());
  EXPECT_EQ(a.cdf(), both.cdf());
  EXPECT_EQ(a.summary().p99_us, both.summary().p99_us);
  EXPECT_EQ(a.min_us(), both.min_us());
}

TEST(LatencyHistogram, CdfEndsAtOneAndAtTheMaximum) {
  LatencyHistogram histogram;
  EXPECT_TRUE(histogram.cdf().empty());
  EXPECT_EQ(histogram.summary().p99_us, 0u);
  for (uint64_t v : {3u, 3u, 900u, 1000000u}) histogram.record(v);
  const auto cdf = histogram.cdf();
  ASSERT_EQ(cdf.size(), 3u);
  EXPECT_EQ(cdf.front(), (std::pair<uint64_t, double>{3, 0.5}));
  EXPECT_EQ(cdf.back().first, 1000000u);
  EXPECT_DOUBLE_EQ(cdf.back().second, 1.0);
}

}  // namespace
}  // namespace wal::bench
