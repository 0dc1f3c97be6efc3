#include "sim/sweep.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>

#include <fmt/core.h>

#include "sim/artifacts.h"
#include "sim/child_runs.h"

namespace wal::sim {

namespace {

SweepFailure failure_of_run(const RunSpec& spec, const CheckedRun& run) {
  SweepFailure failure;
  failure.seed = spec.seed;
  failure.exit_code = exit_code(run);
  failure.line = result_line(spec, run);
  if (!run.deterministic) {
    failure.detail = "first divergence: " + run.divergence;
  } else if (!run.cross.agree) {
    failure.detail = run.cross.describe();
  } else if (!run.result.anomalies.empty()) {
    failure.detail = run.result.anomalies.front().detail;
  }
  RunSpec replay = spec;
  replay.expected_trace_hash = run.result.trace_hash.hex();
  failure.token = encode_token(replay);
  return failure;
}

// A crashed run has no trace hash: its token replays the seed, which crashes again.
SweepFailure failure_of_crash(const RunSpec& spec, const Crash& crash) {
  SweepFailure failure;
  failure.seed = spec.seed;
  failure.exit_code = exit_code_crash;
  failure.line = fmt::format("seed={} result=crash: {}", spec.seed, crash.describe());
  failure.token = encode_token(spec);
  return failure;
}

void write_crash_artifacts(const std::string& directory, const SweepFailure& failure,
                           const Crash& crash) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  std::ofstream replay(directory + "/replay.txt");
  replay << failure.line << "\n" << failure.token << "\n";
  std::ofstream report(directory + "/crash.txt");
  report << crash.how << "\n" << crash.message << "\n";
}

}  // namespace

SweepReport run_sweep(
    const SweepOptions& options,
    const std::function<void(const SweepProgress&, const SweepFailure*)>& progress) {
  WAL_ASSERT(options.first_seed <= options.last_seed);
  WAL_ASSERT(options.spec_for != nullptr);
  const auto start = std::chrono::steady_clock::now();
  SweepReport report;
  report.seed_count = options.last_seed - options.first_seed + 1;
  const auto run = options.run ? options.run : run_checked;
  ChildPool pool(options.jobs, options.seed_timeout);
  SweepProgress counts;
  counts.seed_count = report.seed_count;
  auto collect_one = [&] {
    auto [seed, outcome] = pool.next_finished();
    const RunSpec spec = options.spec_for(seed);
    std::optional<SweepFailure> failure;
    if (outcome.crash) {
      failure = failure_of_crash(spec, *outcome.crash);
      if (!options.artifacts_dir.empty()) {
        write_crash_artifacts(fmt::format("{}/seed-{}", options.artifacts_dir, seed), *failure,
                              *outcome.crash);
      }
    } else {
      report.marks.add_run(outcome.run->result.marks);
      if (exit_code(*outcome.run) != 0) failure = failure_of_run(spec, *outcome.run);
    }
    ++counts.done_count;
    if (failure) {
      ++counts.failed_count;
      report.exit_code = std::max(report.exit_code, failure->exit_code);
      report.failures.push_back(*failure);
    }
    counts.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (progress) progress(counts, failure ? &*failure : nullptr);
  };
  for (uint64_t seed = options.first_seed;; ++seed) {
    const RunSpec spec = options.spec_for(seed);
    WAL_ASSERT_EQ(spec.seed, seed);
    // The child writes a failing run's artifacts itself: only it holds the history and logs.
    pool.start(seed, [&options, &run, spec]() {
      CheckedRun checked = run(spec, options.check_determinism);
      if (exit_code(checked) != 0 && !options.artifacts_dir.empty()) {
        (void)write_artifacts(spec, checked.result,
                              fmt::format("{}/seed-{}", options.artifacts_dir, spec.seed));
      }
      return checked;
    });
    while (pool.has_finished()) collect_one();
    if (seed == options.last_seed) break;
  }
  while (pool.busy()) collect_one();
  std::sort(report.failures.begin(), report.failures.end(),
            [](const SweepFailure& a, const SweepFailure& b) { return a.seed < b.seed; });
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

Result<uint64_t> parse_seed_count(std::string_view text, std::string_view what,
                                  uint64_t count_max) {
  uint64_t count = 0;
  const char* end = text.data() + text.size();
  const auto parsed = std::from_chars(text.data(), end, count);
  if (text.empty() || parsed.ec != std::errc() || parsed.ptr != end) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{} must be a positive whole number of seeds, not '{}'", what,
                                  text));
  }
  if (count == 0) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{} is 0: nothing would run, and a sweep that runs nothing "
                                  "proves nothing",
                                  what));
  }
  if (count > count_max) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{} is {}, more than the {} allowed", what, count, count_max));
  }
  return count;
}

}  // namespace wal::sim
