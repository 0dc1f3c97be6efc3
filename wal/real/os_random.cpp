#include "wal/real/os_random.h"

#include <random>

namespace wal {

uint64_t os_entropy_seed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

}  // namespace wal
