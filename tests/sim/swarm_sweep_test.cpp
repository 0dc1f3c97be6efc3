// Swarm seeds of the WAL under faults, in both modes: every seed passes every checker, and runs
// twice with the same trace hash. WAL_SIM_SEEDS overrides how many per test (a positive whole
// number: 0, an empty value or garbage fail the test rather than sweep nothing); the slow suite
// (swarm_sweep_slow_test.cpp) runs 50,000 per mode.
#include <gtest/gtest.h>

#include "sim/runner.h"
#include "tests/support/seed_count_env.h"

namespace wal::sim {
namespace {

constexpr uint64_t seeds_max = 1'000'000;  // a typo guard: these run in the test's own process

void sweep(uint64_t first, uint64_t fallback_count, FencingMode fencing,
           const char* mode = "memory") {
  const Result<uint64_t> count = count_from_environment("WAL_SIM_SEEDS", fallback_count, seeds_max);
  ASSERT_TRUE(count.ok()) << count.error().describe();
  uint64_t failures = 0;
  for (uint64_t seed = first; seed < first + *count; ++seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.mode = mode;
    spec.fencing = fencing;
    const CheckedRun run = run_checked(spec, /*check_determinism=*/true);
    EXPECT_TRUE(run.deterministic) << "seed " << seed << ": " << run.divergence;
    if (run.result.verdict != Verdict::pass || !run.deterministic) {
      ++failures;
      RunSpec replay = spec;
      replay.expected_trace_hash = run.result.trace_hash.hex();
      ADD_FAILURE() << result_line(spec, run.result) << "\n  "
                    << (run.result.anomalies.empty() ? "" : run.result.anomalies[0].detail)
                    << "\n  replay: wp-sim replay " << encode_token(replay);
      if (failures >= 5) return;  // enough to debug; do not drown the log
    }
  }
}

TEST(swarm, fence_object_seeds_pass_twice_with_equal_trace_hashes) {
  sweep(1, 150, FencingMode::fence_object);
}

TEST(swarm, meta_confirm_seeds_pass_twice_with_equal_trace_hashes) {
  sweep(100'001, 150, FencingMode::meta_confirm);
}

TEST(swarm, quorum_seeds_pass_twice_with_equal_trace_hashes) {
  sweep(200'001, 150, FencingMode::fence_object, "quorum");
}

// MemoryBuffer with idempotent appends: appends with an unknown outcome are retried with their
// key by the node's next writer; none may be applied twice.
TEST(swarm, keyed_seeds_pass_twice_with_equal_trace_hashes) {
  sweep(300'001, 100, FencingMode::fence_object, "keyed");
}

TEST(swarm, a_changed_seed_changes_the_trace) {
  RunSpec a;
  a.seed = 5;
  RunSpec b = a;
  b.seed = 6;
  EXPECT_NE(run_simulation(config_for(a)).trace_hash, run_simulation(config_for(b)).trace_hash);
}

TEST(tokens, round_trip_a_shrunk_schedule_exactly) {
  RunSpec spec;
  spec.seed = 77;
  spec.faults = FaultSource::explicit_schedule;
  spec.schedule = schedule_for(RunSpec{});
  spec.bugs = {SimBug::seal_one_short};
  spec.fencing = FencingMode::meta_confirm;
  auto decoded = decode_token(encode_token(spec));
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->seed, 77u);
  EXPECT_EQ(decoded->schedule, spec.schedule);
  EXPECT_EQ(decoded->bugs, spec.bugs);
  EXPECT_EQ(decoded->fencing, FencingMode::meta_confirm);
  spec.mode = "keyed";
  auto keyed = decode_token(encode_token(spec));
  ASSERT_TRUE(keyed.ok());
  EXPECT_EQ(keyed->mode, "keyed");
  EXPECT_FALSE(decode_token("wpsim1.!!!").ok());
  EXPECT_FALSE(decode_token("nonsense").ok());
}

}  // namespace
}  // namespace wal::sim
