#pragma once
// A latency histogram in the manner of HdrHistogram: fixed memory, any number of samples, and
// every percentile within a bounded relative error. Debian packages no C or C++ HdrHistogram
// (only the Java and Go ones), so this is the small part of it the benchmarks need.
//
// Values are microseconds. Values below 2^sub_bucket_bits are counted exactly; above, each
// power-of-two range [2^k, 2^(k+1)) is split into 2^(sub_bucket_bits - 1) equal buckets, so a
// bucket spans less than 1/128 of its values: value_at_quantile() returns the top of the bucket
// holding the nearest-rank sample, which is at most 0.8% above that sample, never below it.
// min() and max() are exact. Not thread-safe: callers that record from several threads lock.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "latency_summary.h"

namespace wal::bench {

class LatencyHistogram {
 public:
  static constexpr uint32_t sub_bucket_bits = 8;
  static constexpr uint64_t value_max_us = (uint64_t{1} << 40) - 1;  // 12.7 days: beyond any run

  LatencyHistogram();

  // Values above value_max_us are counted as value_max_us.
  void record(uint64_t value_us);
  void merge(const LatencyHistogram& other);

  [[nodiscard]] uint64_t count() const { return count_; }
  [[nodiscard]] uint64_t min_us() const { return count_ == 0 ? 0 : min_us_; }
  [[nodiscard]] uint64_t max_us() const { return max_us_; }
  // The nearest-rank q-quantile (0 < q <= 1), as the top of its bucket (at most max_us()).
  // 0 when empty.
  [[nodiscard]] uint64_t value_at_quantile(double q) const;
  [[nodiscard]] LatencySummary summary() const;
  // (bucket top in us, fraction of samples at or below it), one point per non-empty bucket, for
  // a CDF plot. Empty when there are no samples.
  [[nodiscard]] std::vector<std::pair<uint64_t, double>> cdf() const;

  // Exposed for the test: the bucket of a value, and the largest value in a bucket.
  [[nodiscard]] static size_t bucket_index(uint64_t value_us);
  [[nodiscard]] static uint64_t bucket_top_us(size_t index);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_us_ = 0;
  uint64_t max_us_ = 0;
};

}  // namespace wal::bench
