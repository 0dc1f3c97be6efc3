#pragma once
// Running simulations the way users do: from a RunSpec (seed, mode, faults, bugs, optionally an
// explicit schedule), twice to check determinism, replayable from a one-line token, and
// shrinkable to a minimal failing schedule.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/cross_check.h"
#include "sim/history_export.h"
#include "sim/world.h"

namespace wal::sim {

enum class FaultSource : uint8_t { swarm, none, explicit_schedule };

struct RunSpec {
  uint64_t seed = 1;
  // "memory" (MemoryBuffer), "keyed" (MemoryBuffer; appends carry producer keys and appends
  // with an unknown outcome are retried with the same key) or "quorum" (QuorumBuffer)
  std::string mode = "memory";
  FaultSource faults = FaultSource::swarm;
  faults::Schedule schedule;    // for explicit_schedule
  FencingMode fencing = FencingMode::fence_object;
  std::vector<SimBug> bugs;
  uint32_t fault_phase_ms = 20'000;
  std::string expected_trace_hash;  // in tokens of failures: what replay must reproduce
};

// The world a spec's mode needs: quorum adds 4 LogStore nodes after the admin.
[[nodiscard]] faults::WorldShape shape_for(const RunSpec& spec);
// The schedule a spec runs: the explicit one, or the one its seed generates.
[[nodiscard]] faults::Schedule schedule_for(const RunSpec& spec);
[[nodiscard]] SimConfig config_for(const RunSpec& spec);
[[nodiscard]] std::string run_header(const RunSpec& spec);  // seed, mode, faults, swarm draw

// "wpsim1.<base64url(JSON)>": seed, commit, build options, configuration, and the schedule when
// it is explicit (shrunk). decode_token: invalid_argument with a clear message.
[[nodiscard]] std::string encode_token(const RunSpec& spec);
[[nodiscard]] Result<RunSpec> decode_token(std::string_view token);
[[nodiscard]] std::string build_commit();
[[nodiscard]] std::string build_options();
// The header of a run's exported history (sim/history_export.h): seed, mode, fencing, bugs,
// commit and the replay token.
[[nodiscard]] HistoryHeader history_header(const RunSpec& spec);

struct CheckedRun {
  SimResult result;
  bool deterministic = true;
  std::string divergence;  // the first divergent event, when not deterministic
  CrossCheck cross;        // the independent checker's verdict beside the simulator's
};

// Runs the spec; with `check_determinism`, runs it again and compares trace hashes. On a
// mismatch it runs both again recording every event and reports the first divergence. Every
// run is also judged by the independent checker (sim/cross_check.h).
[[nodiscard]] CheckedRun run_checked(const RunSpec& spec, bool check_determinism);

// `seed=N result=pass|fail|liveness anomaly=NAME trace_hash=HEX sim_seconds=S`
[[nodiscard]] std::string result_line(const RunSpec& spec, const SimResult& result);
// The same, plus ` nondeterministic=true` and ` checkers=disagree` when they apply.
[[nodiscard]] std::string result_line(const RunSpec& spec, const CheckedRun& run);
// 0 pass, 1 safety failure (or nondeterminism, or the two checkers disagree), 2 liveness
// failure. A run that crashed (it aborted, asserted or died of a signal; only a run in a child
// process can report that) is exit_code_crash.
[[nodiscard]] int exit_code(const CheckedRun& run);
inline constexpr int exit_code_crash = 3;

// Minimises a failing spec's schedule: removes events (halves, then quarters, ... then single
// events) and shrinks counts and durations while the run still fails with `anomaly` (with
// `first_only`: as its first anomaly, the one its result line names, so a failure that only a
// later rule sees does not shrink into one an earlier rule sees too). Returns a spec with an
// explicit schedule. At most `runs_max` simulations.
struct ShrinkResult {
  RunSpec spec;
  SimResult result;
  uint32_t runs = 0;
};
[[nodiscard]] ShrinkResult shrink(const RunSpec& failing, const std::string& anomaly,
                                  uint32_t runs_max,
                                  const std::function<void(const std::string&)>& progress,
                                  bool first_only = false);
// The same search with any notion of "still fails the same way". `still_fails` runs the
// candidate and, when it ran it in this process and it failed, stores the run in *result (a
// candidate run in a child process, to shrink a crash, leaves *result alone). The returned
// spec carries an expected trace hash only when the final run's result is known.
using StillFails = std::function<bool(const RunSpec& candidate, SimResult* result)>;
[[nodiscard]] ShrinkResult shrink_while(const RunSpec& failing, const StillFails& still_fails,
                                        uint32_t runs_max,
                                        const std::function<void(const std::string&)>& progress);

// Planted bugs: name, the mode it applies to, what it breaks.
struct BugInfo {
  SimBug bug;
  std::string_view mode;
  std::string_view breaks;
  FencingMode fencing;  // the fencing mode the bug lives in
};
[[nodiscard]] const std::vector<BugInfo>& planted_bugs();
[[nodiscard]] std::optional<SimBug> bug_by_name(std::string_view name);

}  // namespace wal::sim
