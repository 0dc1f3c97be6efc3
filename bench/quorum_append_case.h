#pragma once
// One measured stretch of quorum appends through an AppendTarget (wal/cli/wp_append_target.h):
//
//   paced:     an append is issued every 1/rate seconds whatever the earlier ones do (an open
//              loop); each latency runs from the append's scheduled time, so a stall counts
//              against every append it delays (no coordinated omission);
//   saturated: `window` appends in flight at all times (a closed loop); latency from issue.
//
// Both run on the runtime's event loop and end after `seconds`, once every append issued has
// finished. An append that fails is counted, not timed, and the first error is kept.

#include <cstdint>
#include <optional>

#include "latency_summary.h"
#include "wal/async/task.h"
#include "wal/core/result.h"
#include "wp_append_target.h"
#include "wp_runtime.h"

namespace wal::bench {

struct QuorumCaseResult {
  LatencySummary latency;
  uint64_t acknowledged_count = 0;
  uint64_t failed_count = 0;
  std::optional<Error> first_error;
  double seconds = 0;  // from the first issue to the last acknowledgement
  [[nodiscard]] double appends_per_second() const {
    return seconds > 0 ? static_cast<double>(acknowledged_count) / seconds : 0;
  }
};

Task<QuorumCaseResult> run_paced_appends(cli::WpRuntime& runtime, cli::AppendTarget& target,
                                         uint64_t entry_bytes, double rate_per_second,
                                         double seconds);

Task<QuorumCaseResult> run_saturated_appends(cli::WpRuntime& runtime, cli::AppendTarget& target,
                                             uint64_t entry_bytes, uint64_t window,
                                             double seconds);

}  // namespace wal::bench
