// The long sweeps (CTest label `slow`): 10,000 MemoryBuffer, 2,000 keyed MemoryBuffer and 5,000
// QuorumBuffer swarm seeds, each run twice.
#include <gtest/gtest.h>

#include "sim/runner.h"

namespace wal::sim {
namespace {

// Runs seeds [first, first + count) twice each; reports at most 5 failures.
void sweep(uint64_t first, uint64_t count, const char* mode) {
  uint64_t failures = 0;
  for (uint64_t seed = first; seed < first + count && failures < 5; ++seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.mode = mode;
    spec.fencing = seed % 2 == 0 ? FencingMode::fence_object : FencingMode::meta_confirm;
    if (spec.mode == "quorum") spec.fencing = FencingMode::fence_object;
    const CheckedRun run = run_checked(spec, true);
    if (run.result.verdict != Verdict::pass || !run.deterministic) {
      ++failures;
      RunSpec replay = spec;
      replay.expected_trace_hash = run.result.trace_hash.hex();
      ADD_FAILURE() << result_line(spec, run.result) << " replay: wp-sim replay "
                    << encode_token(replay);
    }
  }
}

TEST(swarm_slow, ten_thousand_seeds_pass_twice_with_equal_trace_hashes) {
  sweep(1'000'000, 10'000, "memory");
}

TEST(swarm_slow, two_thousand_keyed_seeds_pass_twice_with_equal_trace_hashes) {
  sweep(3'000'000, 2'000, "keyed");
}

TEST(swarm_slow, five_thousand_quorum_seeds_pass_twice_with_equal_trace_hashes) {
  sweep(2'000'000, 5'000, "quorum");
}

}  // namespace
}  // namespace wal::sim
