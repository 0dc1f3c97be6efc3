#pragma once
// Seed sweeps: many seeds, each run in a child process of its own (sim/child_runs.h), so that a
// run which aborts, asserts or dies of a signal is reported as that seed's failure, with its
// replay token, and the sweep goes on with the next seed. `wp-sim sweep` and the slow sweep
// tests both run through here. Each child runs its seed exactly as `wp-sim run` would (twice,
// comparing trace hashes, unless the determinism check is off).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/coverage.h"
#include "sim/runner.h"

namespace wal::sim {

struct SweepOptions {
  uint64_t first_seed = 1;
  uint64_t last_seed = 1;  // inclusive
  // The spec of each seed (mode, faults, fencing, bugs, fault phase); must set `seed`.
  std::function<RunSpec(uint64_t seed)> spec_for;
  unsigned jobs = 1;  // children running at once
  bool check_determinism = true;
  // A seed whose child has not answered by then is killed and reported as a crash. The slowest
  // seeds seen take a few seconds (docs/simulation.md); this only catches a run stuck in a loop.
  std::chrono::seconds seed_timeout{600};
  // Failing runs write their artifacts under `<artifacts_dir>/seed-N/` (empty: none). A crashed
  // run writes replay.txt and crash.txt there (its child could not write the rest).
  std::string artifacts_dir;
  // What a child runs for one seed; empty: run_checked. Tests put a crashing function here.
  std::function<CheckedRun(const RunSpec& spec, bool check_determinism)> run;
};

struct SweepFailure {
  uint64_t seed = 0;
  int exit_code = 0;   // as wp-sim's: 1 safety or nondeterminism, 2 liveness, 3 crash
  std::string line;    // result_line(), or "seed=N result=crash: <how>: <message>"
  std::string detail;  // the first anomaly's detail, the divergence, or empty
  std::string token;   // the replay token (with the trace hash when the run finished)
};

struct SweepProgress {
  uint64_t done_count = 0;
  uint64_t seed_count = 0;
  uint64_t failed_count = 0;
  double wall_seconds = 0;
};

struct SweepReport {
  uint64_t seed_count = 0;
  std::vector<SweepFailure> failures;  // in seed order
  int exit_code = 0;                   // the highest of the failures' codes; 0 if none
  double wall_seconds = 0;
  SweepMarks marks;  // the coverage marks of every run that finished (a crash reports none)
};

// Runs every seed of the range. `progress` is called after each seed, with the seed's failure
// when it failed (nullptr otherwise); it may be empty.
[[nodiscard]] SweepReport run_sweep(
    const SweepOptions& options,
    const std::function<void(const SweepProgress&, const SweepFailure*)>& progress);

// A seed count given as text (an environment variable, a command-line value): a positive
// decimal integer of at most `count_max`. invalid_argument naming `what` otherwise: empty,
// zero, a sign, trailing garbage, or too large. A sweep of zero seeds proves nothing, so zero
// is an error, not an empty sweep.
[[nodiscard]] Result<uint64_t> parse_seed_count(std::string_view text, std::string_view what,
                                                uint64_t count_max);

}  // namespace wal::sim
