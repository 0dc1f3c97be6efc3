// rapidcheck generates the schedule itself (workload and fault events with their parameters), so
// a failure shrinks to a minimal schedule, not to a meaningless seed number. Each event's own
// randomness comes from (seed, event id): removing one event leaves the others unchanged.
#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "sim/runner.h"

namespace wal::sim {
namespace {

using faults::Event;
using faults::EventKind;

rc::Gen<EventKind> gen_kind(bool quorum) {
  if (!quorum) {
    return rc::gen::weightedElement<EventKind>({{6, EventKind::append},
                                                {2, EventKind::open_writer},
                                                {1, EventKind::close_writer},
                                                {1, EventKind::truncate},
                                                {1, EventKind::collect_garbage},
                                                {2, EventKind::crash},
                                                {1, EventKind::meta_partition},
                                                {1, EventKind::meta_leader_change},
                                                {1, EventKind::meta_compact},
                                                {1, EventKind::s3_latency_spike},
                                                {1, EventKind::s3_errors},
                                                {1, EventKind::s3_timeouts},
                                                {1, EventKind::s3_outage},
                                                {1, EventKind::s3_get_corruption},
                                                {1, EventKind::meta_txn_lost}});
  }
  return rc::gen::weightedElement<EventKind>({{6, EventKind::append},
                                              {2, EventKind::open_writer},
                                              {1, EventKind::close_writer},
                                              {1, EventKind::truncate},
                                              {1, EventKind::collect_garbage},
                                              {4, EventKind::crash},
                                              {1, EventKind::meta_partition},
                                              {1, EventKind::meta_leader_change},
                                              {1, EventKind::meta_compact},
                                              {1, EventKind::s3_latency_spike},
                                              {1, EventKind::s3_errors},
                                              {1, EventKind::s3_timeouts},
                                              {1, EventKind::s3_outage},
                                              {1, EventKind::s3_get_corruption},
                                              {1, EventKind::disk_wipe},
                                              {1, EventKind::net_partition},
                                              {1, EventKind::net_chaos},
                                              {1, EventKind::slow_fsync},
                                              {1, EventKind::logstores_restart},
                                              {1, EventKind::meta_txn_lost}});
}

rc::Gen<Event> gen_event(bool quorum) {
  using namespace rc;
  faults::WorldShape shape;
  if (quorum) shape.logstore_nodes = 4;
  return gen::apply(
      [](EventKind kind, uint32_t at_ms, uint32_t node, uint32_t count, uint32_t duration_ms,
         uint32_t magnitude) {
        Event e;
        e.kind = kind;
        e.at = std::chrono::milliseconds(at_ms);
        e.node = node;
        e.count = count;
        e.duration = std::chrono::milliseconds(duration_ms);
        // A latency spike's magnitude is milliseconds (at most a few seconds); the others are
        // parts per million.
        e.magnitude = kind == EventKind::s3_latency_spike ? 1 + magnitude % 3000 : magnitude;
        return e;
      },
      gen_kind(quorum),
      gen::inRange<uint32_t>(0, 5000),
      // Any node but the admin's... plus the LogStores in quorum mode: node_count() + 1 is the
      // exclusive bound.
      gen::inRange<uint32_t>(1, quorum ? shape.node_count() + 1
                                       : shape.writer_nodes + shape.reader_nodes + 1),
      gen::inRange<uint32_t>(1, 40), gen::inRange<uint32_t>(1, 2000),
      gen::inRange<uint32_t>(1, 600'000));
}

rc::Gen<faults::Schedule> gen_schedule(bool quorum) {
  return rc::gen::map(rc::gen::container<std::vector<Event>>(gen_event(quorum)), [](std::vector<Event> events) {
    faults::Schedule schedule;
    // Every run starts with a writer; ids number the events in generation order.
    Event first;
    first.kind = EventKind::open_writer;
    first.node = 1;
    schedule.events.push_back(first);
    for (Event& e : events) schedule.events.push_back(e);
    for (size_t i = 0; i < schedule.events.size(); ++i) {
      schedule.events[i].id = static_cast<uint32_t>(i + 1);
    }
    faults::sort_events(schedule);
    return schedule;
  });
}

void check_generated_schedule(bool quorum) {
  RunSpec spec;
  spec.seed = *rc::gen::inRange<uint64_t>(1, 1'000'000);
  spec.mode = quorum ? "quorum" : "memory";
  spec.faults = FaultSource::explicit_schedule;
  spec.schedule = *gen_schedule(quorum);
  spec.fault_phase_ms = 6000;
  spec.fencing = quorum ? FencingMode::fence_object
                        : *rc::gen::element(FencingMode::fence_object, FencingMode::meta_confirm);
  // A crash (not an anomaly) would lose the RC_LOG lines below: WAL_PROPERTY_ECHO=1 prints each
  // case's token before it runs, so the last one printed replays the crash with wp-sim.
  if (std::getenv("WAL_PROPERTY_ECHO") != nullptr) {
    std::fprintf(stderr, "case: wp-sim replay %s\n", encode_token(spec).c_str());
  }
  // Judged by both checkers (sim/cross_check.h): they must agree, as on every swept seed.
  const CheckedRun run = run_checked(spec, /*check_determinism=*/false);
  const SimResult& result = run.result;
  RC_LOG() << result_line(spec, run) << "\n" << run.cross.describe() << "\n"
           << faults::to_json(spec.schedule) << "\n";
  RunSpec replay = spec;
  replay.expected_trace_hash = result.trace_hash.hex();
  RC_LOG() << "replay: wp-sim replay " << encode_token(replay) << "\n";
  for (const Anomaly& a : result.anomalies) RC_LOG() << a.name << ": " << a.detail << "\n";
  RC_ASSERT(result.verdict == Verdict::pass);
  RC_ASSERT(run.cross.agree);
}

RC_GTEST_PROP(generated_schedules, never_violate_safety_or_liveness, ()) {
  check_generated_schedule(/*quorum=*/false);
}

RC_GTEST_PROP(generated_quorum_schedules, never_violate_safety_or_liveness, ()) {
  check_generated_schedule(/*quorum=*/true);
}

}  // namespace
}  // namespace wal::sim
