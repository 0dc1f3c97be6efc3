#pragma once
// compare_bench's WAL systems: MemoryBuffer on local files or on S3, and QuorumBuffer, each
// driven through the writer `wp append` drives (wal/cli/wp_append_target.h) and read back by a
// LogReader tailing the same log, in one process on one event loop. Which system it is follows
// from the `wp` config file (docs/cli.md): its object store and its "mode".
//
// Each case creates a fresh log, runs the workload point (case_recorder.h), waits until the
// reader has received every acknowledged entry (at most reader_wait_seconds_max), closes the
// writer and deletes the log. Errors: the config's and the stores' open errors, and
// create_log/open_writer/open_reader errors; append errors are counted in the result, not
// returned, so a case with failures still reports what it measured.

#include <memory>
#include <string>

#include "case_recorder.h"
#include "wal/core/result.h"
#include "workload_spec.h"

namespace wal::bench {

// Time the reader gets to catch up after the last append (a MemoryBuffer tail is published at
// most every 50 ms; anything near this limit is a finding, reported in the case's note).
inline constexpr double reader_wait_seconds_max = 30;

class WalSystem {
 public:
  // Opens the stores the config names (wp's runtime, StoreAccess::create).
  [[nodiscard]] static Result<std::unique_ptr<WalSystem>> open(const std::string& config_path);
  virtual ~WalSystem() = default;
  // One workload point: `rate` 0 is saturation with workload.saturation_window(entry_bytes) in
  // flight; otherwise an open loop at workload.offered_rate(rate, entry_bytes).
  [[nodiscard]] virtual Result<CaseResult> run_case(const Workload& workload, uint64_t entry_bytes,
                                                    double rate) = 0;
};

}  // namespace wal::bench
