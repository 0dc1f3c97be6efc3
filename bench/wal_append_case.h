#pragma once
// One WAL measurement: create a log, open a writer, keep `window` appends of `entry_bytes` each
// outstanding for `duration`, and measure what got acknowledged.
//
// The window is ceil(inflight_bytes_max / entry_bytes) + window_extra_count appends, so the
// writer's own back-pressure (inflight_bytes_max), not the driver, is what limits the bytes in
// flight; the extra few wait in the writer's ticket queue, ready the moment space frees up.
// The driver is `window` coroutines ("lanes"), each appending one entry at a time in a loop
// until the measured window ends; each append copies a prepared payload (as any producer must fill a
// buffer), reads the clock, calls append() and reads the clock when it completes.
// The driver runs for `warmup` + `duration`; only the last `duration` is measured, so spawning
// the lanes and filling the first inflight_bytes_max do not count. Counted: appends acknowledged
// within the measured window, over its duration (the ones still in flight at its end are drained
// and the writer closed, but they are not counted). Latency: every append called within the
// window, from the call to the acknowledgement. Store tallies and writer stats: the window's.

#include <chrono>
#include <cstdint>
#include <string>

#include "counting_stores.h"
#include "latency_summary.h"
#include "wal/log/log_writer.h"
#include "wal/log/options.h"
#include "wal_runtime.h"

namespace wal::bench {

struct WalCaseConfig {
  std::string log_name;
  uint64_t entry_bytes = 0;
  std::chrono::nanoseconds warmup{};
  std::chrono::nanoseconds duration{};
  WriterOptions writer;
  uint64_t window_extra_count = 64;
  // Delete the log when done, so a long run does not fill the disk (not timed).
  bool delete_log_after = true;
};

struct WalCaseResult {
  uint64_t window_count = 0;
  uint64_t entries_count = 0;  // acknowledged within the measured window
  uint64_t payload_bytes = 0;  // their payload bytes
  double seconds = 0;
  double entries_per_second = 0;
  double mib_per_second = 0;  // payload
  LatencySummary latency;     // appends called within the window
  WriterStats writer_stats;   // the window's
  PutTally puts;              // PUTs that completed within the window
  MetaTally meta;
  double loop_cpu_seconds = 0;     // CPU time of the loop thread within the window
  // Time the loop thread was ready to run but had no CPU (other threads or processes had them).
  double loop_runqueue_wait_seconds = 0;
  double process_cpu_seconds = 0;  // CPU time of the whole process within the window
};

// The first append error (the WAL failed), or a LogClient error (create, open, close, delete).
[[nodiscard]] Result<WalCaseResult> run_wal_case(WalRuntime& runtime,
                                                 const WalCaseConfig& config);

}  // namespace wal::bench
