// Coverage marks of runs and sweeps (sim/coverage.h).
#include "sim/coverage.h"

#include <fmt/format.h>

#include "wal/core/assert.h"

namespace wal::sim {

MarkCounts MarkCounter::counts() const {
  MarkCounts counts;
  for (size_t index = 0; index < coverage_mark_count; ++index) {
    if (counts_[index] == 0) continue;
    counts[std::string(coverage_mark_name(static_cast<CoverageMark>(index)))] = counts_[index];
  }
  return counts;
}

SweepMarks::SweepMarks() {
  // Every WAL mark is listed, so the report shows the ones no run reached.
  for (size_t index = 0; index < coverage_mark_count; ++index) {
    tallies_[std::string(coverage_mark_name(static_cast<CoverageMark>(index)))] = MarkTally{};
  }
}

void SweepMarks::add_run(const MarkCounts& run) {
  ++run_count_;
  for (const auto& [name, count] : run) {
    WAL_ASSERT_GT(count, uint64_t{0});
    MarkTally& tally = tallies_[name];
    ++tally.seed_count;
    tally.hit_count += count;
  }
}

std::vector<std::string> SweepMarks::missing(const std::vector<std::string>& required) const {
  std::vector<std::string> names;
  for (const std::string& name : required) {
    const auto it = tallies_.find(name);
    if (it == tallies_.end() || it->second.seed_count == 0) names.push_back(name);
  }
  return names;
}

std::string SweepMarks::report() const {
  std::map<std::string, std::string_view> meanings;
  for (size_t index = 0; index < coverage_mark_count; ++index) {
    const auto mark = static_cast<CoverageMark>(index);
    meanings[std::string(coverage_mark_name(mark))] = coverage_mark_meaning(mark);
  }
  std::string out = fmt::format("coverage marks over {} runs:\n", run_count_);
  for (const auto& [name, tally] : tallies_) {
    const auto meaning = meanings.find(name);
    out += fmt::format("  {} {:>6}/{} seeds {:>8} times  {}{}\n",
                       tally.seed_count == 0 ? "NEVER  " : "reached", tally.seed_count,
                       run_count_, tally.hit_count, name,
                       meaning == meanings.end() ? "" : fmt::format(": {}", meaning->second));
  }
  return out;
}

}  // namespace wal::sim
