#pragma once
// What memorybuffer_bench and s3_bench judge a run by: the target for the ratio WAL /
// ceiling, and which round of several is the median one.

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <vector>

#include "wal/core/assert.h"

namespace wal::bench {

// >= 0.90 of the ceiling with 1 MiB entries, >= 0.60 with 1 KiB. Sizes in between have none;
// smaller sizes take the 1 KiB target, larger ones the 1 MiB target.
[[nodiscard]] inline std::optional<double> target_ratio(uint64_t entry_bytes) {
  if (entry_bytes <= 1024) return 0.60;
  if (entry_bytes >= (1u << 20)) return 0.90;
  return std::nullopt;
}

// The index of the round whose ratio is the median (the lower of two middles).
[[nodiscard]] inline size_t median_index(const std::vector<double>& ratios) {
  WAL_ASSERT(!ratios.empty());
  std::vector<size_t> order(ratios.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ratios[a] < ratios[b]; });
  return order[(order.size() - 1) / 2];
}

}  // namespace wal::bench
