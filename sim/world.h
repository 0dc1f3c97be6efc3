#pragma once
// One simulation run of the MemoryBuffer WAL: a seeded world of nodes (writers, readers, an
// admin) over simulated S3 and etcd, driven by a fault schedule, then healed and checked.
//
// Phases:
//  1. faults: the schedule's events run (workload steps and faults) until `fault_phase`;
//  2. heal: every fault stops, crashed nodes restart; within `heal_timeout` of virtual time every
//     append of a live process must resolve, a fresh writer must open (fencing and recovering
//     whatever is left) and close, GC must collect every orphan, and every reader must catch up
//     to the end. Anything not done in time is a liveness failure;
//  3. check: the safety checkers (sim/checkers.h) over the history and the final log.
// The production WAL code runs unmodified; planted bugs are switched on through FaultPoints.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "faults/schedule.h"
#include "faults/swarm.h"
#include "sim/coverage.h"
#include "sim/history.h"
#include "sim/trace.h"
#include "wal/env/fault_points.h"
#include "wal/log/options.h"

namespace wal::sim {

struct SimConfig {
  uint64_t seed = 1;
  faults::Schedule schedule;
  faults::WorldShape shape;
  FencingMode fencing = FencingMode::fence_object;
  bool quorum = false;  // QuorumBuffer: writers use LogStore nodes (shape.logstore_nodes > 0)
  // MemoryBuffer with idempotent appends: each writer node is a producer (id = node index) whose
  // appends carry increasing sequences; an append that ended unknown is retried, same key and
  // bytes, by the node's next writer. The checkers then see any double application.
  bool keyed = false;
  std::vector<SimBug> bugs;
  Duration fault_phase = std::chrono::seconds(20);
  Duration heal_timeout = std::chrono::seconds(180);
  bool record_digests = false;     // keep per-record trace logs (first-divergence reports)
  std::ostream* jsonl = nullptr;   // stream the trace as JSONL
};

enum class Verdict : uint8_t { pass, safety_failure, liveness_failure };
[[nodiscard]] std::string_view verdict_name(Verdict verdict);

struct NodeLogLine {
  TimePoint at{};
  uint32_t node = 0;  // 0 = the world (faults)
  std::string text;
};

struct SimResult {
  Verdict verdict = Verdict::pass;
  std::vector<Anomaly> anomalies;
  TraceHash trace_hash;
  TraceLog trace_log;  // records only with SimConfig::record_digests
  Duration sim_time{0};
  uint64_t steps = 0;
  History history;
  std::vector<NodeLogLine> node_log;
  MarkCounts marks;  // coverage marks reached (sim/coverage.h)
  [[nodiscard]] std::string first_anomaly_name() const {
    return anomalies.empty() ? "none" : anomalies.front().name;
  }
};

[[nodiscard]] SimResult run_simulation(const SimConfig& config);

// The WriterOptions the simulation uses: small blocks and segments so that a run of a few
// thousand entries exercises rolls, checkpoints and recovery.
[[nodiscard]] WriterOptions sim_writer_options(FencingMode fencing);

}  // namespace wal::sim
