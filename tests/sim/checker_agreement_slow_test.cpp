// The long comparison of the two checkers (CTest label `slow`): every planted bug on 300 swarm
// seeds, and 10,000 swarm seeds of each mode without bugs, each run once and judged by the
// simulator's checkers and by the independent one from its exported history. Any disagreement
// (or a search without verdict) fails, with both verdicts and a replay token. The seed ranges
// are their own (5,000,000 + ...), apart from the other sweeps'. WAL_AGREEMENT_SEEDS overrides
// the 10,000 (the planted bugs keep 300).
#include <gtest/gtest.h>

#include <cstdlib>

#include "sim/runner.h"

namespace wal::sim {
namespace {

uint64_t seed_count(uint64_t fallback) {
  const char* text = std::getenv("WAL_AGREEMENT_SEEDS");  // test code may read the environment
  return text != nullptr ? std::strtoull(text, nullptr, 10) : fallback;
}

struct Tally {
  uint64_t runs = 0;
  uint64_t violations = 0;   // both checkers flagged
  uint64_t disagreements = 0;
};

// Runs [first, first + count); reports at most 5 disagreements in full.
Tally compare(uint64_t first, uint64_t count, const std::string& mode, std::vector<SimBug> bugs,
              std::optional<FencingMode> fencing) {
  Tally tally;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.mode = mode;
    spec.bugs = bugs;
    spec.fencing = fencing.value_or(seed % 2 == 0 || mode != "memory" ? FencingMode::fence_object
                                                                      : FencingMode::meta_confirm);
    const CheckedRun run = run_checked(spec, /*check_determinism=*/false);
    ++tally.runs;
    if (run.cross.simulator_flags && run.cross.independent_flags) ++tally.violations;
    if (run.cross.agree) continue;
    if (++tally.disagreements <= 5) {
      ADD_FAILURE() << result_line(spec, run) << "\n  " << run.cross.describe()
                    << "\n  replay: wp-sim replay " << encode_token(spec);
    }
  }
  std::cout << mode << (bugs.empty() ? "" : " " + std::string(sim_bug_name(bugs.front())))
            << ": " << tally.runs << " runs, " << tally.violations << " violations found by both, "
            << tally.disagreements << " disagreements\n";
  return tally;
}

TEST(checker_agreement_slow, every_planted_bug_on_300_seeds) {
  for (const BugInfo& info : planted_bugs()) {
    const Tally t = compare(1, 300, std::string(info.mode), {info.bug}, info.fencing);
    EXPECT_EQ(t.disagreements, 0u) << sim_bug_name(info.bug);
  }
}

TEST(checker_agreement_slow, ten_thousand_memory_seeds) {
  EXPECT_EQ(compare(5'000'000, seed_count(10'000), "memory", {}, std::nullopt).disagreements, 0u);
}

TEST(checker_agreement_slow, ten_thousand_keyed_seeds) {
  EXPECT_EQ(compare(6'000'000, seed_count(10'000), "keyed", {}, std::nullopt).disagreements, 0u);
}

TEST(checker_agreement_slow, ten_thousand_quorum_seeds) {
  EXPECT_EQ(compare(7'000'000, seed_count(10'000), "quorum", {}, std::nullopt).disagreements, 0u);
}

}  // namespace
}  // namespace wal::sim
