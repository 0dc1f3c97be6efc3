// wp-sim: run, sweep, replay and shrink deterministic simulations of the WAL.
//   wp-sim run --seed N [--mode memory] [--faults swarm|none|FILE] [--bug NAME] [--trace F.jsonl]
//              [--history H.jsonl]
//   wp-sim sweep --seeds A..B [--jobs J] [--marks] [same options]
//   wp-sim replay TOKEN ; wp-sim shrink TOKEN ; wp-sim bugs ; wp-sim marks
// Exit codes: 0 pass, 1 safety failure (or nondeterminism), 2 liveness failure, 3 a sweep's run
// crashed (aborted, asserted or died of a signal), 64 usage. `run` and `replay` run in this
// process (a crash there is the process's own, visible to a debugger) and print the replay
// token before the run starts; `sweep` and `shrink` run each simulation in a child process.
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "sim/artifacts.h"
#include "sim/child_runs.h"
#include "sim/runner.h"
#include "sim/sweep.h"

namespace {

using namespace wal::sim;

struct CommonOptions {
  std::string mode = "memory";
  std::string faults = "swarm";
  std::string fencing = "fence_object";
  std::vector<std::string> bugs;
  uint32_t fault_phase_ms = 20'000;
  bool no_determinism_check = false;
  bool keep_artifacts = false;  // run/replay: write them for a passing run too
  std::string artifacts_dir = "wp-sim-artifacts";
};

void add_common(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--mode", o.mode,
                  "memory (MemoryBuffer), keyed (MemoryBuffer with idempotent appends retried "
                  "after unknown outcomes) or quorum (QuorumBuffer: 3-replica LogStores)");
  cmd->add_option("--faults", o.faults, "swarm (default), none, or a schedule FILE (JSON)");
  cmd->add_option("--fencing", o.fencing, "fence_object (default) or meta_confirm");
  cmd->add_option("--bug", o.bugs, "switch on a planted bug (see `wp-sim bugs`); repeatable");
  cmd->add_option("--fault-phase-ms", o.fault_phase_ms, "virtual length of the fault phase");
  cmd->add_flag("--no-determinism-check", o.no_determinism_check,
                "run each seed once instead of twice");
  cmd->add_option("--artifacts", o.artifacts_dir,
                  "where failing runs write nodes.log, events.log, timeline.html, "
                  "history.jsonl, trace.jsonl, replay.txt");
  cmd->add_flag("--keep-artifacts", o.keep_artifacts,
                "run/replay: write the artifacts also when the run passes (to read its logs)");
}

wal::Result<RunSpec> make_spec(const CommonOptions& o, uint64_t seed) {
  RunSpec spec;
  spec.seed = seed;
  spec.mode = o.mode;
  if (o.mode != "memory" && o.mode != "keyed" && o.mode != "quorum") {
    return wal::make_error(wal::Errc::invalid_argument, "--mode: memory, keyed or quorum");
  }
  if (o.fencing == "meta_confirm") {
    spec.fencing = wal::FencingMode::meta_confirm;
  } else if (o.fencing != "fence_object") {
    return wal::make_error(wal::Errc::invalid_argument, "--fencing: fence_object or meta_confirm");
  }
  for (const std::string& name : o.bugs) {
    auto bug = bug_by_name(name);
    if (!bug) return wal::make_error(wal::Errc::invalid_argument, "unknown bug '" + name + "'");
    for (const BugInfo& info : planted_bugs()) {
      if (info.bug == *bug && info.mode != spec.mode) {
        return wal::make_error(wal::Errc::invalid_argument,
                               "bug '" + name + "' lives in --mode " + std::string(info.mode));
      }
    }
    spec.bugs.push_back(*bug);
  }
  spec.fault_phase_ms = o.fault_phase_ms;
  if (o.faults == "swarm") {
    spec.faults = FaultSource::swarm;
  } else if (o.faults == "none") {
    spec.faults = FaultSource::none;
  } else {
    std::ifstream in(o.faults);
    if (!in) return wal::make_error(wal::Errc::not_found, "cannot open schedule " + o.faults);
    std::stringstream text;
    text << in.rdbuf();
    auto schedule = wal::faults::schedule_from_json(text.str());
    if (!schedule.ok()) return std::move(schedule).error();
    spec.faults = FaultSource::explicit_schedule;
    spec.schedule = std::move(schedule).value();
  }
  return spec;
}

int usage_error(const wal::Error& error) {
  fmt::print(stderr, "wp-sim: {}\n", error.describe());
  return 64;
}

// Runs one spec, prints what a person needs, writes artifacts on failure (or when asked).
int run_one(const RunSpec& spec, bool check_determinism, const std::string& artifacts_root,
            const std::string& trace_path, bool keep_artifacts,
            const std::string& history_path) {
  fmt::print("{}\n", run_header(spec));
  // Before the run: if it crashes, the token to replay it is already on the screen.
  fmt::print("  replay: wp-sim replay {}\n", encode_token(spec));
  std::fflush(stdout);
  const auto wall_start = std::chrono::steady_clock::now();
  CheckedRun run = run_checked(spec, check_determinism);
  if (!trace_path.empty()) {
    std::ofstream trace(trace_path);
    SimConfig config = config_for(spec);
    config.jsonl = &trace;
    (void)run_simulation(config);
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (!history_path.empty()) {
    const wal::Status written =
        write_history(history_path, run.result.history, history_header(spec));
    if (!written.ok()) fmt::print(stderr, "wp-sim: {}\n", written.error().describe());
  }
  for (const wal::sim::Anomaly& a : run.result.anomalies) {
    fmt::print("  ANOMALY {}: {}\n", a.name, a.detail);
  }
  if (!run.deterministic) {
    fmt::print("  NONDETERMINISM: the same seed gave two trace hashes; first divergence: {}\n",
               run.divergence);
  }
  fmt::print("  {}\n", run.cross.describe());
  fmt::print("  {} appends, {} reads, {} writer opens, {} steps, {:.2f} s wall\n",
             run.result.history.appends.size(), run.result.history.reads.size(),
             run.result.history.opens.size(), run.result.steps, wall);
  const int code = exit_code(run);
  if (code != 0 || keep_artifacts) {
    RunSpec replay = spec;
    replay.expected_trace_hash = run.result.trace_hash.hex();
    if (code != 0) fmt::print("  replay: wp-sim replay {}\n", encode_token(replay));
    const std::string dir = fmt::format("{}/seed-{}", artifacts_root, spec.seed);
    auto written = write_artifacts(spec, run.result, dir);
    if (written.ok()) {
      fmt::print("  artifacts: {}/{{nodes.log,events.log,timeline.html,history.jsonl,"
                 "trace.jsonl,replay.txt}}\n", dir);
    } else {
      fmt::print(stderr, "wp-sim: could not write artifacts: {}\n", written.error().describe());
    }
  }
  fmt::print("{}\n", result_line(spec, run));
  return code;
}

bool parse_range(const std::string& text, uint64_t& first, uint64_t& last) {
  const auto dots = text.find("..");
  if (dots == std::string::npos) return false;
  try {
    first = std::stoull(text.substr(0, dots));
    last = std::stoull(text.substr(dots + 2));
  } catch (...) {
    return false;
  }
  return first <= last;
}

int sweep(const CommonOptions& o, uint64_t first, uint64_t last, unsigned jobs,
          uint32_t seed_timeout_s, bool marks) {
  SweepOptions options;
  options.first_seed = first;
  options.last_seed = last;
  options.spec_for = [&o](uint64_t seed) {
    auto spec = make_spec(o, seed);
    WAL_ASSERT(spec.ok());  // checked for the first seed before the sweep started
    return *spec;
  };
  options.jobs = jobs;
  options.check_determinism = !o.no_determinism_check;
  options.seed_timeout = std::chrono::seconds(seed_timeout_s);
  options.artifacts_dir = o.artifacts_dir;
  const bool tty = isatty(STDERR_FILENO);
  auto progress = [&](const SweepProgress& p, const SweepFailure* failure) {
    if (failure != nullptr) {
      // At once, so a long sweep shows what it found so far (the summary lists it again).
      fmt::print(stderr, "{}sweep: {}\n", tty ? "\r" : "", failure->line);
    }
    if (tty || p.done_count % 50 == 0 || p.done_count == p.seed_count) {
      fmt::print(stderr, "{}sweep: {}/{} seeds, {} failed, {:.1f} s{}", tty ? "\r" : "",
                 p.done_count, p.seed_count, p.failed_count, p.wall_seconds, tty ? "" : "\n");
    }
  };
  const SweepReport report = run_sweep(options, progress);
  if (tty) fmt::print(stderr, "\n");
  fmt::print("sweep {}..{}: {} passed, {} failed\n", first, last,
             report.seed_count - report.failures.size(), report.failures.size());
  for (const SweepFailure& f : report.failures) {
    fmt::print("  {}\n    replay: wp-sim replay {}\n", f.line, f.token);
  }
  if (marks) fmt::print("{}", report.marks.report());
  return report.exit_code;
}

// Shrinks a failing token's schedule. The original and every candidate run in a child process,
// so a run that crashes is shrunk too (while it crashes with the same message), and a candidate
// that crashes while shrinking an anomaly is just a candidate that does not fail the same way.
int shrink_token(const RunSpec& spec, uint32_t runs_max, uint32_t seed_timeout_s) {
  const auto timeout = std::chrono::seconds(seed_timeout_s);
  auto run_in_a_child = [timeout](const RunSpec& candidate) {
    return run_in_child(
        [candidate] {
          CheckedRun run;
          run.result = run_simulation(config_for(candidate));
          return run;
        },
        timeout);
  };
  const ChildOutcome original = run_in_a_child(spec);
  std::string what;
  StillFails still_fails;
  if (original.crash) {
    what = "a crash (" + original.crash->signature() + ")";
    still_fails = [&, signature = original.crash->signature()](const RunSpec& c, SimResult*) {
      const ChildOutcome outcome = run_in_a_child(c);
      return outcome.crash && outcome.crash->signature() == signature;
    };
  } else if (original.run->result.verdict != Verdict::pass) {
    what = original.run->result.first_anomaly_name();
    still_fails = [&](const RunSpec& c, SimResult* result) {
      ChildOutcome outcome = run_in_a_child(c);
      if (!outcome.run) return false;
      // The first anomaly, the one the result line names: a failure that only a later rule
      // sees must not shrink into one an earlier rule sees too.
      const bool found = outcome.run->result.first_anomaly_name() == what;
      if (found && result != nullptr) *result = std::move(outcome.run->result);
      return found;
    };
  } else {
    fmt::print(stderr, "wp-sim: this run passes; nothing to shrink\n");
    return 64;
  }
  fmt::print("shrinking seed {} ({} events) while it fails with {}\n", spec.seed,
             schedule_for(spec).events.size(), what);
  std::fflush(stdout);
  ShrinkResult shrunk = shrink_while(spec, still_fails, runs_max, [](const std::string& line) {
    fmt::print(stderr, "{}\n", line);
  });
  fmt::print("minimal schedule ({} events, {} runs):\n", shrunk.spec.schedule.events.size(),
             shrunk.runs);
  for (const auto& e : shrunk.spec.schedule.events) fmt::print("  {}\n", wal::faults::describe(e));
  const std::string line = original.crash
                               ? fmt::format("seed={} result=crash: {}", shrunk.spec.seed,
                                             original.crash->describe())
                               : result_line(shrunk.spec, shrunk.result);
  fmt::print("{}\nreplay: wp-sim replay {}\n", line, encode_token(shrunk.spec));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wp-sim: deterministic simulation of the WAL under injected faults. Every run is "
               "a function of its seed; failures print a replay token."};
  app.require_subcommand(1);
  CommonOptions common;

  uint64_t seed = 1;
  std::string trace_path;
  std::string history_path;
  const std::string history_help =
      "also write the run's history (what clients invoked and saw) here as JSON lines, the "
      "format of docs/history.md";
  auto* run = app.add_subcommand("run", "run one seed (twice, to check determinism)");
  run->add_option("--seed", seed, "the seed")->required();
  run->add_option("--trace", trace_path, "also write the run's JSONL trace here");
  run->add_option("--history", history_path, history_help);
  add_common(run, common);

  std::string range;
  unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
  auto* sweep_cmd = app.add_subcommand("sweep", "run a range of seeds; exit non-zero if any fails");
  sweep_cmd->add_option("--seeds", range, "A..B (inclusive)")->required();
  sweep_cmd->add_option("--jobs", jobs, "parallel runs (default: cores)");
  uint32_t seed_timeout_s = 600;
  sweep_cmd->add_option("--seed-timeout-s", seed_timeout_s,
                        "kill a seed's run after this many wall seconds and report it as a "
                        "crash (default 600)")
      ->check(CLI::PositiveNumber);
  bool marks = false;
  sweep_cmd->add_flag("--marks", marks,
                      "after the summary, list every coverage mark: how many seeds reached it, "
                      "how often, and the ones never reached (docs/simulation.md)");
  add_common(sweep_cmd, common);

  std::string token;
  auto* replay = app.add_subcommand("replay", "re-run a failure from its replay token");
  replay->add_option("token", token, "the wpsim1.… token a failure printed")->required();
  replay->add_option("--artifacts", common.artifacts_dir, "where to write artifacts");
  replay->add_flag("--keep-artifacts", common.keep_artifacts,
                   "write the artifacts also when the run passes (to read its logs)");
  replay->add_option("--history", history_path, history_help);

  uint32_t runs_max = 400;
  auto* shrink_cmd = app.add_subcommand(
      "shrink", "minimise a failing run's schedule while its first anomaly stays the same");
  shrink_cmd->add_option("token", token, "the wpsim1.… token a failure printed")->required();
  shrink_cmd->add_option("--runs-max", runs_max, "simulation budget (default 400)");
  shrink_cmd->add_option("--seed-timeout-s", seed_timeout_s,
                         "kill a run after this many wall seconds (default 600)")
      ->check(CLI::PositiveNumber);

  auto* bugs = app.add_subcommand("bugs", "list the planted bugs: name, mode, what it breaks");
  auto* marks_cmd = app.add_subcommand(
      "marks", "list the WAL's coverage marks (rare paths a sweep should reach) and their meaning");

  CLI11_PARSE(app, argc, argv);

  if (bugs->parsed()) {
    for (const BugInfo& info : planted_bugs()) {
      fmt::print("{}\t{}\t{}\n", wal::sim_bug_name(info.bug), info.mode, info.breaks);
    }
    return 0;
  }
  if (marks_cmd->parsed()) {
    for (size_t index = 0; index < wal::coverage_mark_count; ++index) {
      const auto mark = static_cast<wal::CoverageMark>(index);
      fmt::print("{}\t{}\n", wal::coverage_mark_name(mark), wal::coverage_mark_meaning(mark));
    }
    return 0;
  }
  if (run->parsed()) {
    auto spec = make_spec(common, seed);
    if (!spec.ok()) return usage_error(spec.error());
    return run_one(*spec, !common.no_determinism_check, common.artifacts_dir, trace_path,
                   common.keep_artifacts, history_path);
  }
  if (sweep_cmd->parsed()) {
    uint64_t first = 0;
    uint64_t last = 0;
    if (!parse_range(range, first, last)) {
      return usage_error(wal::make_error(wal::Errc::invalid_argument, "--seeds takes A..B"));
    }
    auto probe = make_spec(common, first);
    if (!probe.ok()) return usage_error(probe.error());
    return sweep(common, first, last, jobs, seed_timeout_s, marks);
  }
  auto spec = decode_token(token);
  if (!spec.ok()) return usage_error(spec.error());
  if (replay->parsed()) {
    const std::string expected = spec->expected_trace_hash;
    const int code = run_one(*spec, true, common.artifacts_dir, "", common.keep_artifacts,
                             history_path);
    if (!expected.empty()) {
      const SimResult again = run_simulation(config_for(*spec));
      fmt::print("replay: trace hash {} {} the token's {}\n", again.trace_hash.hex(),
                 again.trace_hash.hex() == expected ? "matches" : "DIFFERS FROM", expected);
      if (again.trace_hash.hex() != expected && code == 0) return 1;
    }
    return code;
  }
  return shrink_token(*spec, runs_max, seed_timeout_s);
}
