#pragma once
// The safety checkers. Each returns the anomalies it finds, named as in docs/simulation.md:
//   durability   lost_write (an acknowledged entry is missing), moved_write (it is at another id),
//                unreadable_write (the final read failed with acknowledged entries to read)
//   ordering     id_gap, duplicate_entry, phantom_entry (no append produced it),
//                divergent_read (a reader saw other bytes for an id), phantom_read (a reader saw
//                an id past the final end), reader_gap / reader_duplicate (within one session)
//   fencing      fenced_write_visible (an append invoked after a newer writer opened is visible)
//   outcomes     definite_failure_visible (the WAL said "did not happen" and it did)
//   linearizable order_violation (an append that started after another was acknowledged sits
//                before it), writer_order_violation (one writer's appends out of call order)
// Unknown outcomes, abandoned and pending appends may be visible or not: both are accepted.
// Entries below the final truncation point are not required to be present.

#include <vector>

#include "sim/history.h"

namespace wal::sim {

[[nodiscard]] std::vector<Anomaly> check_durability(const History& history);
[[nodiscard]] std::vector<Anomaly> check_ordering(const History& history);
[[nodiscard]] std::vector<Anomaly> check_fencing(const History& history);
[[nodiscard]] std::vector<Anomaly> check_outcomes(const History& history);
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
