#pragma once
// The safety checkers. Each returns the anomalies it finds, named as in docs/simulation.md.
// Rules on the final log run only when the final read succeeded; the others judge the whole
// history (everything clients were told and saw), so they also run after a liveness failure.
//   durability   lost_write (an acknowledged entry at or above the truncation point is missing
//                from the final log), moved_write (it is at another id), unreadable_write (the final
//                read failed with acknowledged entries at or above the truncation point to read)
//   history      conflicting_ack (an id acknowledged to two payloads), moved_write (a reader saw
//                an acknowledged entry at another id), divergent_read (two reads of an id, or a
//                read and the acknowledgement, disagree on its bytes), duplicate_entry (readers
//                saw one entry at two ids), phantom_read (bytes no append sent), premature_read
//                (read before its append was invoked), over_truncation (the log starts above
//                every truncation point asked for), phantom_entry (more ids below the end than
//                appends that can have written them)
//   ordering     id_gap, duplicate_entry, phantom_entry (in the final log), divergent_read and
//                phantom_read (a read disagrees with the final log, or is past its end),
//                reader_gap / reader_duplicate (within one session)
//   fencing      fenced_write_visible / fenced_write_acknowledged (an append invoked after a
//                newer writer opened is in the log or was read / was acknowledged)
//   outcomes     definite_failure_visible (the WAL said "did not happen" and it did)
//   linearizable order_violation (an append invoked after id k was acknowledged or read got
//                an id at or below k), writer_order_violation (one writer's appends out of
//                call order)
// Unknown outcomes, abandoned and pending appends may be visible or not: both are accepted.
// Entries below the final truncation point are not required to be in the final log.

#include <vector>

#include "sim/history.h"

namespace wal::sim {

[[nodiscard]] std::vector<Anomaly> check_durability(const History& history);
[[nodiscard]] std::vector<Anomaly> check_history(const History& history);
[[nodiscard]] std::vector<Anomaly> check_ordering(const History& history);
[[nodiscard]] std::vector<Anomaly> check_fencing(const History& history);
[[nodiscard]] std::vector<Anomaly> check_outcomes(const History& history);
// fenced_without_newer_writer: a writer was told it is fenced (an append or close failed with
// Errc::fenced) while etcd's epoch was still its own (History::fenced). Not in check_safety:
// it judges an error's honesty, which the exported history and the independent checker do not
// carry, so the world adds it next to the anomalies it finds itself.
[[nodiscard]] std::vector<Anomaly> check_fenced_answers(const History& history);
[[nodiscard]] std::vector<Anomaly> check_linearizable(const History& history);
// All of the above, in that order.
[[nodiscard]] std::vector<Anomaly> check_safety(const History& history);

// Durability when the final read ended with an error (check_safety needs a final log to
// judge): every acknowledged append at or above the truncation point (final_log.first_kept,
// known even when no reader could open) is then unreadable after the heal, which is data loss
// for its writer whatever else failed: one unreadable_write anomaly naming how many and the
// lowest id. Nothing when the final read succeeded, never ended (liveness), or nothing
// acknowledged is above the point.
[[nodiscard]] std::vector<Anomaly> check_unreadable(const History& history);

}  // namespace wal::sim
