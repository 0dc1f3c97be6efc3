#include "sim/cross_check.h"

#include <fmt/core.h>

#include "sim/checkers.h"
#include "tests/lincheck/lincheck.h"

namespace wal::sim {

std::string CrossCheck::describe() const {
  return fmt::format("{}simulator's checkers: {}; independent checker: {}",
                     agree ? "" : "CHECKERS DISAGREE: ", simulator_verdict, independent_verdict);
}

CrossCheck cross_check(const History& history, const HistoryHeader& header) {
  CrossCheck check;
  std::vector<Anomaly> anomalies = check_safety(history);
  if (history.final_log.ended && !history.final_log.read_ok) {
    anomalies.push_back(Anomaly{"final_read_failed", history.final_log.error});
  }
  check.simulator_flags = !anomalies.empty();
  check.simulator_verdict = anomalies.empty()
                                ? std::string("pass")
                                : anomalies.front().name + ": " + anomalies.front().detail;
  const lincheck::Report report =
      lincheck::check_history_text(history_to_jsonl(history, header));
  check.independent_flags = report.verdict == lincheck::Verdict::violation;
  check.independent_verdict = report.summary();
  // No verdict (a search out of steps, or an export the checker cannot read) is no agreement.
  const bool decided = report.verdict == lincheck::Verdict::violation ||
                       report.verdict == lincheck::Verdict::linearizable;
  check.agree = decided && check.simulator_flags == check.independent_flags;
  return check;
}

}  // namespace wal::sim
