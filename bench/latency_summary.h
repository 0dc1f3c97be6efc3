#pragma once
// Percentiles of a set of latency samples, for the benchmark report.

#include <cstdint>
#include <vector>

namespace wal::bench {

struct LatencySummary {
  uint64_t sample_count = 0;
  uint64_t p50_us = 0;
  uint64_t p99_us = 0;
  uint64_t p999_us = 0;
  uint64_t max_us = 0;
};

// Nearest-rank percentiles (the smallest sample with at least q of the samples at or below it).
// Reorders `samples_us`. All zero for no samples.
[[nodiscard]] LatencySummary summarize_latencies(std::vector<uint64_t>& samples_us);

}  // namespace wal::bench
