#include "sim/random_streams.h"

namespace wal::sim {

namespace {
// Event seeds live in their own domain: derived through this purpose first, so that no event id
// can produce the seed of a named stream.
constexpr uint64_t event_domain_hash = fnv1a64("sim.event_seed");
}  // namespace

uint64_t RandomStreams::stream_seed(std::string_view purpose, uint64_t index) const {
  WAL_ASSERT(!purpose.empty());
  return derive_seed(seed_, fnv1a64(purpose) ^ index);
}

uint64_t event_seed(uint64_t seed, uint64_t event_id) {
  const uint64_t domain_seed = derive_seed(seed, event_domain_hash);
  return derive_seed(domain_seed, event_id);
}

uint64_t TracedRandom::next_u64() {
  const uint64_t value = generator_.next_u64();
  trace_.decision(site_, node_, value);
  return value;
}

}  // namespace wal::sim
