// Checker speed: how much judging a run costs next to simulating it, for both checkers.
// For each seed of a sweep (as `wp-sim sweep` runs them, swarm faults), measured in CPU time of
// this thread, in the same run:
//   simulate   run_simulation (the baseline; it already includes one pass of the simulator's
//              checkers, as every run does)
//   checkers   sim/checkers.h check_safety over the history once more
//   export     the history as JSON lines (sim/history_export.h)
//   parse      tests/lincheck reading it back
//   search     tests/lincheck judging it (client order, model, linearizability search)
// Reported per 10,000 history operations (appends, reads, opens, truncations, final entries)
// and as a share of the simulation's time, plus the largest history of the sweep and the
// slowest search. With --bug the runs fail, so the searches are refutations (every order tried).
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <fmt/format.h>

#include <ctime>
#include <string>
#include <vector>

#include "sim/checkers.h"
#include "sim/history_export.h"
#include "sim/runner.h"
#include "tests/lincheck/lincheck.h"

namespace {

using namespace wal::sim;

double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Costs {
  double simulate = 0;
  double checkers = 0;
  double export_ = 0;
  double parse = 0;
  double search = 0;
  uint64_t operations = 0;
  uint64_t steps = 0;
  void add(const Costs& o) {
    simulate += o.simulate;
    checkers += o.checkers;
    export_ += o.export_;
    parse += o.parse;
    search += o.search;
    operations += o.operations;
    steps += o.steps;
  }
};

uint64_t operations_of(const History& h) {
  return h.appends.size() + h.reads.size() + h.opens.size() + h.truncations.size() +
         h.final_log.ids.size();
}

// One seed, every phase timed; `verdicts` gets "sim:NAME lincheck:VERDICT" for the record.
Costs measure(const RunSpec& spec, std::string& verdicts) {
  Costs c;
  double t = cpu_seconds();
  const SimResult result = run_simulation(config_for(spec));
  c.simulate = cpu_seconds() - t;
  c.operations = operations_of(result.history);
  t = cpu_seconds();
  const std::vector<Anomaly> anomalies = check_safety(result.history);
  c.checkers = cpu_seconds() - t;
  t = cpu_seconds();
  const std::string text = history_to_jsonl(result.history, history_header(spec));
  c.export_ = cpu_seconds() - t;
  t = cpu_seconds();
  const lincheck::Parsed parsed = lincheck::parse_history(text);
  c.parse = cpu_seconds() - t;
  if (!parsed.history) {
    fmt::print(stderr, "checker_bench: seed {}: {}\n", spec.seed, parsed.error);
    std::exit(1);
  }
  std::string verdict = "linearizable";
  t = cpu_seconds();
  for (const auto& [name, log] : parsed.history->logs) {
    const lincheck::LogReport report = lincheck::check_log(log);
    c.steps += report.search_steps;
    if (report.verdict != lincheck::Verdict::linearizable) {
      verdict = std::string(lincheck::verdict_name(report.verdict));
    }
  }
  c.search = cpu_seconds() - t;
  verdicts = fmt::format("simulator {} / independent {}",
                         anomalies.empty() ? "pass" : anomalies.front().name, verdict);
  return c;
}

double per_10k(double seconds, uint64_t operations) {
  return operations == 0 ? 0 : seconds * 1e3 * 1e4 / static_cast<double>(operations);
}

void report_mode(const std::string& mode, uint64_t first, uint64_t last,
                 const std::vector<std::string>& bugs) {
  Costs total;
  Costs largest;
  uint64_t largest_seed = 0;
  Costs slowest;
  uint64_t slowest_seed = 0;
  std::string largest_verdict;
  for (uint64_t seed = first; seed <= last; ++seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.mode = mode;
    for (const std::string& name : bugs) spec.bugs.push_back(*bug_by_name(name));
    for (const BugInfo& info : planted_bugs()) {
      if (!spec.bugs.empty() && info.bug == spec.bugs.front()) spec.fencing = info.fencing;
    }
    std::string verdicts;
    const Costs c = measure(spec, verdicts);
    total.add(c);
    if (c.operations > largest.operations) {
      largest = c;
      largest_seed = seed;
      largest_verdict = verdicts;
    }
    if (c.search > slowest.search) {
      slowest = c;
      slowest_seed = seed;
    }
    fmt::print(stderr, "\r{} seed {}/{}", mode, seed - first + 1, last - first + 1);
  }
  fmt::print(stderr, "\n");
  const double second = total.export_ + total.parse + total.search;
  fmt::print("| {} | {} | {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.3f} | "
             "{:.3f} |\n",
             mode, last - first + 1, total.operations, total.simulate,
             per_10k(total.simulate, total.operations), per_10k(total.checkers, total.operations),
             per_10k(total.export_, total.operations), per_10k(total.parse, total.operations),
             per_10k(total.search, total.operations), total.checkers / total.simulate,
             second / total.simulate);
  fmt::print("  largest history: seed {}, {} operations ({}): simulate {:.0f} ms, checkers "
             "{:.1f} ms, export {:.1f} ms, parse {:.1f} ms, search {:.1f} ms ({} steps)\n",
             largest_seed, largest.operations, largest_verdict, largest.simulate * 1e3,
             largest.checkers * 1e3, largest.export_ * 1e3, largest.parse * 1e3,
             largest.search * 1e3, largest.steps);
  fmt::print("  slowest search: seed {}, {} operations: {:.1f} ms, {} steps ({:.2f} of its "
             "simulation)\n",
             slowest_seed, slowest.operations, slowest.search * 1e3, slowest.steps,
             slowest.search / slowest.simulate);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"checker_bench: CPU time of both checkers (the simulator's and wp-lincheck's) "
               "per 10,000 history operations, next to the time of simulating the same runs"};
  std::string seeds = "1..100";
  std::vector<std::string> modes{"memory", "keyed", "quorum"};
  std::vector<std::string> bugs;
  app.add_option("--seeds", seeds, "swarm seeds A..B per mode (default 1..100)");
  app.add_option("--mode", modes, "memory, keyed, quorum (repeatable; default all three)");
  app.add_option("--bug", bugs, "a planted bug (runs then fail: searches are refutations)");
  CLI11_PARSE(app, argc, argv);
  uint64_t first = 0;
  uint64_t last = 0;
  if (std::sscanf(seeds.c_str(), "%lu..%lu", &first, &last) != 2 || first > last) {
    fmt::print(stderr, "checker_bench: --seeds takes A..B\n");
    return 64;
  }
  for (const std::string& name : bugs) {
    if (!bug_by_name(name)) {
      fmt::print(stderr, "checker_bench: unknown bug '{}' (wp-sim bugs lists them)\n", name);
      return 64;
    }
  }
  fmt::print("commit {}, seeds {}, CPU time of one thread{}\n\n", build_commit(), seeds,
             bugs.empty() ? "" : ", bugs " + fmt::format("{}", fmt::join(bugs, ",")));
  fmt::print("| mode | seeds | operations | simulate s | simulate ms/10k ops | checkers ms/10k | "
             "export ms/10k | parse ms/10k | search ms/10k | checkers / simulate | "
             "second checker / simulate |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const std::string& mode : modes) report_mode(mode, first, last, bugs);
  return 0;
}
