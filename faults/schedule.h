#pragma once
// A simulation schedule: workload steps and faults as data (see faults/README.md).

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wal/core/result.h"
#include "wal/env/clock.h"

namespace wal::faults {

enum class EventKind : uint8_t {
  // Workload.
  open_writer,      // node: open a writer (fencing whichever writer was open before)
  append,           // node, count: append `count` entries, pipelined
  close_writer,     // node: close the node's writer (seals its segment)
  truncate,         // count: truncate `count` entries below the acknowledged end
  collect_garbage,  // node: run GC there (0: the admin); magnitude 1: a full pass, which
                    // re-sweeps segments already swept
  // Faults. `duration` is how long the fault lasts; `magnitude` its strength (ppm or ms).
  crash,               // node: crash the node; it restarts after `duration`
  meta_partition,      // node: cut the node off from etcd for `duration`
  meta_leader_change,  // etcd changes leader: every lease TTL restarts
  meta_compact,        // etcd compacts its history up to the current revision
  s3_latency_spike,    // S3 latency rises to about `magnitude` ms for `duration`
  s3_errors,           // S3 answers 503/500 to `magnitude` ppm of requests for `duration`
  s3_timeouts,         // `magnitude` ppm of S3 requests or replies are lost for `duration`
  s3_outage,           // S3 is unreachable for `duration`
  s3_get_corruption,   // `magnitude` ppm of GET bodies arrive with a flipped bit, for `duration`
  // QuorumBuffer faults (LogStore nodes and the network between nodes).
  disk_wipe,          // node: crash the node and replace its disk; it restarts after `duration`
  net_partition,      // node: cut the node off from every other node for `duration`; magnitude
                      // 1 = one way only (its messages are lost, messages to it arrive)
  net_chaos,          // for `duration`, `magnitude` ppm of messages are dropped and as many
                      // duplicated; latency spikes reorder them
  slow_fsync,         // node: its disk's syncs take about `magnitude` ms for `duration`
  logstores_restart,  // every LogStore crashes at once (a rack loses power, a bad deploy) and
                      // restarts after `duration`
  // Aimed metadata fault (MemoryBuffer and QuorumBuffer).
  meta_txn_lost,  // node: the next txn of the kind `magnitude` names that the node sends
                  // within `duration` is applied by etcd but its reply is lost (magnitude
                  // + 4: the request is lost instead, never applied); the sender times out,
                  // outcome unknown. Kinds (meta_txn_target): 0 any of the three below,
                  // 1 an epoch bump, 2 a segment create, 3 a seal.
  count_,
};

[[nodiscard]] std::string_view event_kind_name(EventKind kind);

// The txn a meta_txn_lost event aims at: its magnitude's low two bits.
enum class MetaTxnTarget : uint8_t { any = 0, epoch_bump = 1, segment_create = 2, seal = 3 };
inline constexpr uint32_t meta_txn_request_lost_flag = 4;  // magnitude bit: lose the request
[[nodiscard]] MetaTxnTarget meta_txn_target(uint32_t magnitude);
[[nodiscard]] std::string_view meta_txn_target_name(MetaTxnTarget target);
[[nodiscard]] bool is_fault(EventKind kind);

struct Event {
  uint32_t id = 0;            // unique within the schedule; seeds the event's own randomness
  Duration at{0};             // virtual time from the start of the run
  EventKind kind = EventKind::append;
  uint32_t node = 0;          // 1-based node index, where the kind takes one
  uint32_t count = 0;
  Duration duration{0};
  uint32_t magnitude = 0;

  bool operator==(const Event&) const = default;
};

struct Schedule {
  std::vector<Event> events;  // sorted by (at, id) before a run
  bool operator==(const Schedule&) const = default;
};

void sort_events(Schedule& schedule);
[[nodiscard]] std::string describe(const Event& event);
[[nodiscard]] std::string to_json(const Schedule& schedule);
// invalid_argument with a clear message on malformed JSON, unknown kinds or fields.
[[nodiscard]] Result<Schedule> schedule_from_json(std::string_view text);

}  // namespace wal::faults
