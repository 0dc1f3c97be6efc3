// Simulator speed: simulated seconds per wall second (and per CPU second) for two reference
// scenarios, the same run every time:
//   idle  one writer open, nothing appended, one simulated hour (timers and watches only);
//   load  one writer appending 1,000 entries per simulated second for 60 s, a reader following
//         the log, S3 and etcd with their base latencies, then the heal phase and every checker.
// Goals (issue: deterministic simulator): >= 1000x idle, >= 100x under load.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

#include "sim/runner.h"

namespace {

using namespace wal::sim;
using wal::faults::Event;
using wal::faults::EventKind;

struct Measured {
  double simulated_seconds;
  double wall_seconds;
  double cpu_seconds;
  uint64_t steps;
};

double cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

Measured measure(const RunSpec& spec) {
  const auto wall_start = std::chrono::steady_clock::now();
  const double cpu_start = cpu_now();
  const SimResult result = run_simulation(config_for(spec));
  const double cpu = cpu_now() - cpu_start;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (result.verdict != Verdict::pass) {
    std::fprintf(stderr, "sim_speed_bench: the reference run failed: %s\n",
                 result_line(spec, result).c_str());
    std::exit(1);
  }
  return Measured{std::chrono::duration<double>(result.sim_time).count(), wall, cpu,
                  result.steps};
}

RunSpec scenario(bool load) {
  RunSpec spec;
  spec.seed = 1;
  spec.faults = FaultSource::explicit_schedule;
  Event open;
  open.id = 1;
  open.kind = EventKind::open_writer;
  open.node = 1;
  spec.schedule.events.push_back(open);
  if (load) {
    spec.fault_phase_ms = 60'000;
    for (uint32_t i = 0; i < 6000; ++i) {  // 10 entries every 10 ms
      Event append;
      append.id = i + 2;
      append.at = std::chrono::milliseconds(1 + i * 10);
      append.kind = EventKind::append;
      append.node = 1;
      append.count = 10;
      spec.schedule.events.push_back(append);
    }
  } else {
    spec.fault_phase_ms = 3'600'000;
  }
  return spec;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--help") {
    std::puts("sim_speed_bench: simulated seconds per wall (and CPU) second for the idle and "
              "load reference scenarios; no options.");
    return 0;
  }
  std::printf("%-6s %12s %10s %10s %12s %14s %14s %8s\n", "case", "simulated_s", "wall_s",
              "cpu_s", "steps", "sim/wall", "sim/cpu", "goal");
  for (bool load : {false, true}) {
    const Measured m = measure(scenario(load));
    const double per_wall = m.simulated_seconds / std::max(m.wall_seconds, 1e-6);
    const double per_cpu = m.simulated_seconds / std::max(m.cpu_seconds, 1e-6);
    std::printf("%-6s %12.1f %10.3f %10.3f %12llu %13.0fx %13.0fx %7s\n", load ? "load" : "idle",
                m.simulated_seconds, m.wall_seconds, m.cpu_seconds,
                static_cast<unsigned long long>(m.steps), per_wall, per_cpu,
                load ? ">=100x" : ">=1000x");
  }
  return 0;
}
