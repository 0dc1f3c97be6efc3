#pragma once
// Production randomness: a Xoshiro256 stream seeded once from the OS entropy source.
#include <cstdint>

#include "wal/env/random.h"

namespace wal {
[[nodiscard]] uint64_t os_entropy_seed();
}  // namespace wal
