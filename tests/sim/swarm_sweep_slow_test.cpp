// The long sweeps (CTest label `slow`): 10,000 MemoryBuffer and 5,000 QuorumBuffer swarm seeds,
// each run twice.
#include <gtest/gtest.h>

#include "sim/runner.h"

namespace wal::sim {
namespace {

TEST(swarm_slow, ten_thousand_seeds_pass_twice_with_equal_trace_hashes) {
  uint64_t failures = 0;
  for (uint64_t seed = 1'000'000; seed < 1'010'000 && failures < 5; ++seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.fencing = seed % 2 == 0 ? FencingMode::fence_object : FencingMode::meta_confirm;
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

TEST(swarm_slow, five_thousand_quorum_seeds_pass_twice_with_equal_trace_hashes) {
  uint64_t failures = 0;
  for (uint64_t seed = 2'000'000; seed < 2'005'000 && failures < 5; ++seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.mode = "quorum";
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

}  // namespace
}  // namespace wal::sim
