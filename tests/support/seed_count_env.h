#pragma once
// A seed or job count from an environment variable, for the sweep tests (test code may read the
// environment; the WAL may not). Unset: `fallback`. Set: it must parse as parse_seed_count
// demands (a positive decimal integer of at most `count_max`), so that `0`, an empty value or a
// typo fail the test instead of running a sweep of no seeds that passes without proving
// anything. Header-only: only the simulation tests, which link wal_sim, include it.

#include <cstdint>
#include <cstdlib>

#include "sim/sweep.h"

namespace wal::sim {

[[nodiscard]] inline Result<uint64_t> count_from_environment(const char* name, uint64_t fallback,
                                                             uint64_t count_max) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  return parse_seed_count(text, name, count_max);
}

}  // namespace wal::sim
