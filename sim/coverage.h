#pragma once
// Coverage marks of simulated runs (wal/env/coverage_mark.h): which rare paths a run, or a
// sweep of runs, reached.
//
// A run counts the WAL's marks, reached through FaultPoints::reached, and reports them by name
// (coverage_mark_name). A sweep adds the runs up: per mark, the seeds that reached it and the
// total count.
//
// `wp-sim sweep --marks` prints the report; tests/sim/coverage_marks_test.cpp requires a list.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "wal/core/assert.h"
#include "wal/env/coverage_mark.h"

namespace wal::sim {

// One run: mark name -> times reached (marks never reached are absent).
using MarkCounts = std::map<std::string, uint64_t>;

// Counts the WAL's marks of one run; the world hands it to every node as part of its
// FaultPoints. Not thread-safe: one simulation runs on one thread.
class MarkCounter {
 public:
  void reached(CoverageMark mark) {
    WAL_ASSERT(mark != CoverageMark::count_);
    ++counts_[static_cast<size_t>(mark)];
  }
  // Every mark reached at least once, by name.
  [[nodiscard]] MarkCounts counts() const;

 private:
  uint64_t counts_[coverage_mark_count] = {};
};

struct MarkTally {
  uint64_t seed_count = 0;  // runs that reached it at least once
  uint64_t hit_count = 0;   // times reached, over all runs
};

// A sweep's marks: every WAL mark, reached or not.
class SweepMarks {
 public:
  SweepMarks();
  void add_run(const MarkCounts& run);
  [[nodiscard]] const std::map<std::string, MarkTally>& tallies() const { return tallies_; }
  [[nodiscard]] uint64_t run_count() const { return run_count_; }
  // The names of `required` that no run reached.
  [[nodiscard]] std::vector<std::string> missing(const std::vector<std::string>& required) const;
  // One line per mark: "  reached  12/300 seeds   57 times  seal_settled_as_ours", the WAL's
  // marks with their meaning, unreached ones flagged.
  [[nodiscard]] std::string report() const;

 private:
  std::map<std::string, MarkTally> tallies_;
  uint64_t run_count_ = 0;
};

}  // namespace wal::sim
