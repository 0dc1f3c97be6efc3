// Coverage marks (wal/env/coverage_mark.h): a sample sweep of every mode must reach every mark
// listed here, or a checker would be guarding a path that no schedule takes. Every WAL mark is
// either required here or named in not_yet_reached with what it waits for, so a new mark needs a
// decision. The sample is small (the runs skip the determinism check; swarm_sweep_test does it);
// `wp-sim sweep --marks` shows the same table for any range.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/coverage.h"
#include "sim/runner.h"

namespace wal::sim {
namespace {

// Marks the sample reaches (seeds 1..60 memory, 100001..100040 meta_confirm, 1..40 quorum; each
// is reached by at least two seeds of its sample except where noted).
const std::vector<std::string> required = {
    "block_put_met_fence",
    "block_put_settled_as_ours",
    "checkpoint_settled_by_reading",
    "fence_damaged_in_transit",
    "meta_confirm_epoch_changed",
    "recovery_fence_race_lost",
    "recovery_fenced_by_newer",
    "recovery_found_own_fence",
    "recovery_from_checkpoint",
    "seal_retried_after_unknown",
    "seal_settled_as_another",
    "seal_on_top_of_checkpoint",
    "logstore_repaired",
    "logstore_torn_tail",
    "quorum_fence_reply_unknown",
    "quorum_fruitless_roll",
    "quorum_rereplicated",
    // Reached through the aimed metadata fault meta_txn_lost (faults/swarm.cpp), each by at
    // least two seeds of every mode's sample.
    "epoch_settled_as_ours",
    "epoch_settled_as_lost",
    "create_settled_as_ours",
    "create_refused_moved_on",
    "seal_settled_as_ours",
    "writer_stopped_on_newer_epoch",
};

// Marks no swarm schedule reaches yet, each with what it waits for. Empty today: a new mark
// that the sample does not reach goes here, with its reason, until a schedule reaches it.
const std::vector<std::string> not_yet_reached = {};

void add_sample(SweepMarks& marks, const char* mode, FencingMode fencing, uint64_t first,
                uint64_t count) {
  for (uint64_t seed = first; seed < first + count; ++seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.mode = mode;
    spec.fencing = fencing;
    const CheckedRun run = run_checked(spec, /*check_determinism=*/false);
    ASSERT_EQ(exit_code(run), 0) << result_line(spec, run);
    marks.add_run(run.result.marks);
  }
}

TEST(coverage_marks, every_wal_mark_is_required_or_named_as_not_yet_reached) {
  for (size_t index = 0; index < coverage_mark_count; ++index) {
    const std::string name(coverage_mark_name(static_cast<CoverageMark>(index)));
    const bool listed = std::count(required.begin(), required.end(), name) +
                        std::count(not_yet_reached.begin(), not_yet_reached.end(), name);
    EXPECT_EQ(listed, 1) << name << " must be in exactly one list";
  }
}

TEST(coverage_marks, the_sample_sweep_reaches_every_required_mark) {
  SweepMarks marks;
  add_sample(marks, "memory", FencingMode::fence_object, 1, 60);
  add_sample(marks, "memory", FencingMode::meta_confirm, 100'001, 40);
  add_sample(marks, "quorum", FencingMode::fence_object, 1, 40);
  const std::vector<std::string> missing = marks.missing(required);
  EXPECT_TRUE(missing.empty()) << "never reached: " << fmt::format("{}", fmt::join(missing, ", "))
                               << "\n"
                               << marks.report();
}

TEST(coverage_marks, a_run_reports_what_it_reached_and_a_sweep_adds_runs_up) {
  SweepMarks marks;
  marks.add_run({{"recovery_from_checkpoint", 3}});
  marks.add_run({{"recovery_from_checkpoint", 2}, {"logstore_repaired", 1}});
  EXPECT_EQ(marks.run_count(), 2u);
  EXPECT_EQ(marks.tallies().at("recovery_from_checkpoint").seed_count, 2u);
  EXPECT_EQ(marks.tallies().at("recovery_from_checkpoint").hit_count, 5u);
  EXPECT_EQ(marks.tallies().at("logstore_repaired").seed_count, 1u);
  EXPECT_EQ(marks.missing({"logstore_repaired", "quorum_rereplicated"}),
            std::vector<std::string>{"quorum_rereplicated"});
  EXPECT_NE(marks.report().find("NEVER"), std::string::npos);
}

}  // namespace
}  // namespace wal::sim
