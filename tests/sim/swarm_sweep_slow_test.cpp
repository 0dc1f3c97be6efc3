// The long sweeps (CTest label `slow`): WAL_SIM_SLOW_SEEDS swarm seeds per mode (default 50,000)
// of MemoryBuffer (both fencing modes, alternating), keyed MemoryBuffer and QuorumBuffer, each run
// twice with equal trace hashes. Every seed runs in a child process (sim/sweep.h): a seed that
// aborts, asserts or dies of a signal is reported with its replay token and the sweep goes on.
//   WAL_SIM_SLOW_SEEDS   seeds per mode; a positive whole number, anything else fails the test
//                        (a sweep of 0 seeds, or of a mistyped count, must not pass silently)
//   WAL_SIM_SLOW_JOBS    seeds run at once per test (default 1; CTest may run the three tests
//                        side by side)
//   WAL_SIM_SLOW_RUNS    runs per seed: 2 (default) compares the two runs' trace hashes, 1 runs
//                        each seed once (half the time; the default suite's sweeps and the
//                        trace corpus still check determinism)
// Each test prints its progress every 1,000 seeds and, at the end, its wall and CPU time per seed
// (CPU: user + system of the seeds' child processes, which a loaded machine does not inflate).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <iostream>

#include <fmt/core.h>

#include "sim/sweep.h"
#include "tests/support/seed_count_env.h"

namespace wal::sim {
namespace {

constexpr uint64_t seeds_default = 50'000;
constexpr uint64_t seeds_max = 10'000'000;  // a typo guard: 10M quorum seeds take weeks
constexpr uint64_t jobs_max = 64;
constexpr uint64_t runs_per_seed_max = 2;
constexpr size_t failures_shown_max = 20;    // the rest are counted, not printed

// CPU seconds (user + system) used by this process's children that have been waited for.
double children_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void sweep(uint64_t first_seed, const std::string& mode) {
  Result<uint64_t> count = count_from_environment("WAL_SIM_SLOW_SEEDS", seeds_default, seeds_max);
  ASSERT_TRUE(count.ok()) << count.error().describe();
  Result<uint64_t> jobs = count_from_environment("WAL_SIM_SLOW_JOBS", 1, jobs_max);
  ASSERT_TRUE(jobs.ok()) << jobs.error().describe();
  Result<uint64_t> runs_per_seed =
      count_from_environment("WAL_SIM_SLOW_RUNS", 2, runs_per_seed_max);
  ASSERT_TRUE(runs_per_seed.ok()) << runs_per_seed.error().describe();
  SweepOptions options;
  options.first_seed = first_seed;
  options.last_seed = first_seed + *count - 1;
  options.jobs = static_cast<unsigned>(*jobs);
  options.check_determinism = *runs_per_seed == 2;
  options.spec_for = [mode](uint64_t seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.mode = mode;
    spec.fencing = mode == "memory" && seed % 2 == 1 ? FencingMode::meta_confirm
                                                     : FencingMode::fence_object;
    return spec;
  };
  const double cpu_before = children_cpu_seconds();
  const SweepReport report = run_sweep(options, [&](const SweepProgress& p, const SweepFailure* f) {
    if (f != nullptr) std::cerr << mode << ": " << f->line << "\n";
    if (p.done_count % 1000 == 0 || p.done_count == p.seed_count) {
      std::cerr << fmt::format("{}: {}/{} seeds, {} failed, {:.0f} s\n", mode, p.done_count,
                               p.seed_count, p.failed_count, p.wall_seconds);
    }
  });
  const double cpu_seconds = children_cpu_seconds() - cpu_before;
  std::cout << fmt::format(
      "{} seeds {}..{}: {} failed; {:.0f} s wall, {:.1f} ms wall and {:.1f} "
      "ms CPU per seed (each run {}, {} at a time)\n",
      mode, options.first_seed, options.last_seed, report.failures.size(), report.wall_seconds,
      1000 * report.wall_seconds / *count, 1000 * cpu_seconds / *count,
      options.check_determinism ? "twice" : "once", *jobs);
  for (size_t i = 0; i < report.failures.size() && i < failures_shown_max; ++i) {
    const SweepFailure& f = report.failures[i];
    ADD_FAILURE() << f.line << (f.detail.empty() ? "" : "\n  " + f.detail)
                  << "\n  replay: wp-sim replay " << f.token;
  }
  if (report.failures.size() > failures_shown_max) {
    ADD_FAILURE() << report.failures.size() - failures_shown_max << " more seeds failed";
  }
}

TEST(swarm_slow, memory_seeds_pass_twice_with_equal_trace_hashes) { sweep(1'000'000, "memory"); }

TEST(swarm_slow, keyed_seeds_pass_twice_with_equal_trace_hashes) { sweep(3'000'000, "keyed"); }

TEST(swarm_slow, quorum_seeds_pass_twice_with_equal_trace_hashes) { sweep(2'000'000, "quorum"); }

}  // namespace
}  // namespace wal::sim
