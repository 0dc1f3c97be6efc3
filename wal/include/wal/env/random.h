#pragma once
// Random: the only source of randomness WAL code may use (jitter, ids, ensemble choice).
// Production seeds it from the OS once (wal/real/); the simulator derives it from the run's seed,
// one stream per node and purpose, so a run replays exactly.

#include <cstdint>

#include "wal/core/assert.h"

namespace wal {

class Random {
 public:
  virtual ~Random() = default;
  [[nodiscard]] virtual uint64_t next_u64() = 0;

  // Uniform in [0, bound). bound > 0. Lemire's multiply-shift; the tiny bias is irrelevant here.
  [[nodiscard]] uint64_t below(uint64_t bound) {
    WAL_ASSERT(bound > 0);
    __extension__ using Wide = unsigned __int128;  // GCC and Clang; exact 64x64->128 multiply
    return static_cast<uint64_t>((static_cast<Wide>(next_u64()) * bound) >> 64);
  }
  // Uniform in [low, high]. low <= high.
  [[nodiscard]] uint64_t between(uint64_t low, uint64_t high) {
    WAL_ASSERT(low <= high);
    if (high - low == UINT64_MAX) return next_u64();
    return low + below(high - low + 1);
  }
  // True with probability parts_per_million / 1e6. Integer-only, so results do not depend on
  // floating-point modes or compilers.
  [[nodiscard]] bool chance_ppm(uint32_t parts_per_million) {
    WAL_ASSERT(parts_per_million <= 1'000'000);
    return below(1'000'000) < parts_per_million;
  }
};

// xoshiro256** seeded through splitmix64: fast, small, and the same on every platform.
class Xoshiro256 final : public Random {
 public:
  explicit Xoshiro256(uint64_t seed);
  [[nodiscard]] uint64_t next_u64() override;

 private:
  uint64_t state_[4];
};

// splitmix64 finaliser; also used to derive independent stream seeds from (seed, purpose).
[[nodiscard]] uint64_t mix64(uint64_t value);
[[nodiscard]] inline uint64_t derive_seed(uint64_t seed, uint64_t purpose) {
  return mix64(seed ^ mix64(purpose + 0x9e3779b97f4a7c15ULL));
}

}  // namespace wal
