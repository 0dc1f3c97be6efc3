#pragma once
// The roles of wp-chaos-client, one process each: a writer, a tailing reader, or the final read.
// Each opens the cluster through the same runtime as `wp` (wal/cli/wp_runtime.h: the config
// file that scripts/cluster.sh writes, QuorumBuffer or MemoryBuffer by its "mode") and records
// what it invoked and saw in its EventLog (chaos/README.md, "Client events").
//
// Each returns the process's exit status: 0 when the role ran to its end (a writer that was
// fenced by a newer one also ends with 0: that is the fault it was there to meet), 1 when it
// gave up (a writer that could not open within --open-timeout-s; a final read that failed
// every attempt). Errors of single operations are recorded, never fatal.
#include <cstdint>
#include <string>

#include "event_log.h"
#include "wp_runtime.h"

namespace wal::chaos {

struct WriterArgs {
  std::string log;
  uint64_t count = 0;    // appends to invoke in all (0: open, then close: seals the log)
  uint64_t window = 8;   // appends outstanding at most
  uint64_t pace_ms = 5;  // pause between two invocations
  uint64_t payload_bytes = 64;
  uint64_t open_timeout_s = 60;
  int64_t until_ns = 0;  // stop invoking at this run time (0: only --count stops)
  // 0: a fenced writer stops (a newer writer owns the log). Otherwise it waits this long and
  // opens again, fencing the other: writer processes that take the log from each other.
  uint64_t reopen_when_fenced_ms = 0;
};

struct ReaderArgs {
  std::string log;
  uint64_t attempts_max = 5;  // final read: attempts before it records outcome "failed"
};

[[nodiscard]] int run_writer(cli::WpRuntime& runtime, EventLog& events, uint64_t process,
                             const WriterArgs& args);
// A tailing reader: reads from the log's start and waits at its end until it is killed.
[[nodiscard]] int run_reader(cli::WpRuntime& runtime, EventLog& events, const ReaderArgs& args);
// The whole log once, from its first kept entry to its end: the history's final read.
[[nodiscard]] int run_final_read(cli::WpRuntime& runtime, EventLog& events, const ReaderArgs& args);

}  // namespace wal::chaos
