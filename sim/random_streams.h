#pragma once
// RandomStreams: every random choice of a simulation run comes from a stream derived from the
// run's seed and the stream's purpose, never from one shared generator.
//
// Why: with one generator, adding a log line that draws, a new fault site or a new node
// reshuffles every later draw, so a seed stops meaning anything after a code change and a
// shrunk schedule stops reproducing. With one stream per purpose ("net.latency", "node.random"
// index 3, ...) only the draws of that purpose move (lesson 2 in dst.md section 5).
//
//   RandomStreams streams(seed);
//   Xoshiro256 latency = streams.stream("net.latency");     // same as stream("net.latency", 0)
//   Xoshiro256 node3 = streams.stream("node.random", 3);
//   Xoshiro256 fault = Xoshiro256(event_seed(seed, fault_event_id));
//
// event_seed gives each scheduled fault event its own randomness from (seed, event id) alone,
// so removing an event from a schedule (shrinking, goal G4) leaves every other event's draws
// unchanged.
//
// TracedRandom is a wal::Random for WAL code (Env::random) that mixes every draw into the trace.

#include <cstdint>
#include <string_view>

#include "sim/trace.h"
#include "wal/env/random.h"

namespace wal::sim {

class RandomStreams {
 public:
  explicit RandomStreams(uint64_t seed) : seed_(seed) {}
  [[nodiscard]] uint64_t seed() const { return seed_; }
  // derive_seed(seed, fnv1a64(purpose) ^ index): the seed of a stream; pure function.
  [[nodiscard]] uint64_t stream_seed(std::string_view purpose, uint64_t index = 0) const;
  // A fresh generator at the start of the stream; two calls return identical generators.
  [[nodiscard]] Xoshiro256 stream(std::string_view purpose, uint64_t index = 0) const {
    return Xoshiro256(stream_seed(purpose, index));
  }

 private:
  uint64_t seed_;
};

// The seed of one fault/workload event's own randomness: a function of (seed, event_id) only,
// and in a different domain from every stream_seed.
[[nodiscard]] uint64_t event_seed(uint64_t seed, uint64_t event_id);

// A wal::Random whose draws enter the trace hash (site, node, value), so a node that draws a
// different number of values in two runs of one seed is caught at that draw.
class TracedRandom final : public Random {
 public:
  TracedRandom(Xoshiro256 generator, Trace& trace, uint32_t node, Site site)
      : generator_(generator), trace_(trace), node_(node), site_(site) {}
  [[nodiscard]] uint64_t next_u64() override;

 private:
  Xoshiro256 generator_;
  Trace& trace_;
  uint32_t node_;
  Site site_;
};

}  // namespace wal::sim
