// The two checkers must agree: the simulator's (sim/checkers.h) and the independent one
// (tests/lincheck, reading the exported history). Here on every planted bug, whose runs fail,
// so both must name a violation on the same seeds; the swarm sweeps check agreement on runs
// that pass (run_checked compares every run). The long version is checker_agreement_slow_test.
#include <gtest/gtest.h>

#include "sim/runner.h"

namespace wal::sim {
namespace {

constexpr uint64_t seeds_per_bug = 10;

class both_checkers : public ::testing::TestWithParam<BugInfo> {};

TEST_P(both_checkers, agree_on_every_seed_of_a_planted_bug) {
  const BugInfo& info = GetParam();
  uint64_t flagged = 0;
  for (uint64_t seed = 1; seed <= seeds_per_bug; ++seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.mode = std::string(info.mode);
    spec.fencing = info.fencing;
    spec.bugs = {info.bug};
    const CheckedRun run = run_checked(spec, /*check_determinism=*/false);
    EXPECT_TRUE(run.cross.agree) << result_line(spec, run) << "\n  " << run.cross.describe()
                                 << "\n  replay: wp-sim replay " << encode_token(spec);
    if (run.cross.simulator_flags) ++flagged;
  }
  std::cout << sim_bug_name(info.bug) << ": both checkers agree on " << seeds_per_bug
            << " seeds, " << flagged << " of them violations\n";
}

INSTANTIATE_TEST_SUITE_P(all, both_checkers, ::testing::ValuesIn(planted_bugs()),
                         [](const ::testing::TestParamInfo<BugInfo>& param) {
                           return std::string(sim_bug_name(param.param.bug));
                         });

}  // namespace
}  // namespace wal::sim
