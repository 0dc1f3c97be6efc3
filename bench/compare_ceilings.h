#pragma once
// compare_bench's ceilings: what the machine gives each WAL system with nothing of the WAL
// around it, measured in the same run as the systems (bench/README.md, "Side by side").
//
//   fdatasync-loop   `threads` threads each append blocks of the WAL's block size to a file of
//                    their own and fdatasync each (fsync_baseline.h): the device's
//                    write+fdatasync rate at the MemoryBuffer writer's block size and PUT
//                    concurrency (fio's job, bench/run-all.sh runs fio itself beside it).
//   journal-group    3 threads (one per LogStore of an ensemble, all on this disk) each append
//                    groups of entries as journal records (entry + 21 bytes of record header
//                    and id) up to the 1 MiB an add carries, and fdatasync each group: the
//                    journal's raw group-fsync rate, the QuorumBuffer throughput ceiling.
//   journal-single   the same with one entry per fsync: the latency floor of one quorum append.
//   s3-put           create-only PUTs of the WAL's block size through S3ObjectStore, the WAL's
//                    client, event loop and I/O threads, inflight_blocks_max at once
//                    (store_put_case.h): the S3 server's raw PUT rate.
//
// Errors: a file-system call's io_error; the S3 store's open and PUT errors.

#include <string>

#include "latency_histogram.h"
#include "wal/core/result.h"
#include "wal/log/options.h"
#include "wal/real/s3_config.h"
#include "workload_spec.h"

namespace wal::bench {

struct CeilingResult {
  std::string system;
  uint64_t entry_bytes = 0;      // the entry size this is the ceiling for
  uint64_t write_bytes = 0;      // bytes per write (per fsync, per PUT)
  uint32_t concurrency = 0;      // writes in flight
  double writes_per_second = 0;  // all threads together
  // Entries of entry_bytes those writes carry per second (payload only), the figure the
  // systems' entries/s are compared with; and their payload MiB/s.
  double entries_per_second = 0;
  double mib_per_second = 0;
  LatencyHistogram latency;  // one write, start to durable
};

// The journal record overhead per entry (wal/src/quorum/logstore_journal.h: a 13-byte record
// header and the u64 entry id).
inline constexpr uint64_t journal_entry_overhead_bytes = 21;

[[nodiscard]] Result<CeilingResult> measure_fdatasync_loop(const std::string& dir,
                                                           const Workload& workload,
                                                           uint64_t entry_bytes,
                                                           const WriterOptions& writer);
[[nodiscard]] Result<CeilingResult> measure_journal(const std::string& dir,
                                                    const Workload& workload, uint64_t entry_bytes,
                                                    bool grouped);
[[nodiscard]] Result<CeilingResult> measure_s3_put(const std::string& dir, const Workload& workload,
                                                   uint64_t entry_bytes,
                                                   const WriterOptions& writer,
                                                   const S3Options& s3);

}  // namespace wal::bench
