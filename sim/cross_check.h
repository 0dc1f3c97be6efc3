#pragma once
// A second opinion on every run: the run's history is exported (sim/history_export.h) and
// judged by the independent checker in tests/lincheck, which shares no code with
// sim/checkers.h, and the two verdicts are compared. They must agree: a run one flags and the
// other passes means one of them is wrong, and the run fails until that is understood.
//
// Compared: the simulator's history-based anomalies (check_safety, plus final_read_failed)
// against the independent checker's findings. Anomalies the world finds outside the history
// (sealed_range_lost: no LogStore holds a sealed range; owned_object_deleted; ack_beyond_sync;
// fenced_without_newer_writer) and liveness failures are not part of either side.

#include <string>

#include "sim/history.h"
#include "sim/history_export.h"

namespace wal::sim {

struct CrossCheck {
  bool simulator_flags = false;  // the simulator's checkers found a safety anomaly
  std::string simulator_verdict;  // "pass" or "NAME: detail" of its first anomaly
  bool independent_flags = false;  // the independent checker found a violation
  std::string independent_verdict;  // its summary (or why it gave none)
  bool agree = true;
  // "simulator: ...; independent checker: ..." with DISAGREE when they do.
  [[nodiscard]] std::string describe() const;
};

// `header` goes into the exported history (the independent checker only reads it).
[[nodiscard]] CrossCheck cross_check(const History& history, const HistoryHeader& header);

}  // namespace wal::sim
