#pragma once
// The raw ceiling: how fast this machine can make objects durable the way LocalObjectStore does,
// with nothing of the WAL around it. Each write is
//   create a temp file in the root (O_EXCL) -> pwrite header + body -> fsync it
//   -> link() it to its key's path in a sub-directory (under a mutex, as the store's commit lock)
//   -> unlink the temp name -> fsync the sub-directory
// which is wal/real/local_object_files.cpp's put() minus its CPU work (the XXH64 of the body)
// and minus the flock() on the lock file. `writers_count`
// threads each keep one write going, as the writer keeps inflight_blocks_max PUTs in flight.
// Threads and the real clock are fine here: bench/ is outside wal/.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "latency_summary.h"
#include "wal/core/result.h"

namespace wal::bench {

struct RawCeilingConfig {
  std::string dir;                 // created if absent; the files written are removed after
  uint64_t object_file_bytes = 0;  // bytes per file (store header + block)
  uint32_t writers_count = 0;      // writes in flight at once
  // Writes run for warmup + duration; only those finishing within the last `duration` count,
  // so this phase has the WAL's shape (see memorybuffer_bench.cpp, "same shape").
  std::chrono::nanoseconds warmup{};
  std::chrono::nanoseconds duration{};
};

struct RawCeilingResult {
  uint64_t objects_count = 0;  // completed (durable) within the measured duration
  uint64_t bytes = 0;          // their file bytes
  double seconds = 0;          // the duration
  double mib_per_second = 0;
  LatencySummary write_latency;  // one durable write, start to directory fsync done
  std::vector<uint64_t> write_latencies_us;  // the samples behind write_latency
};

// io_error with the failing call and strerror if any file-system call fails.
[[nodiscard]] Result<RawCeilingResult> measure_raw_ceiling(const RawCeilingConfig& config);

// Two measurements of the same configuration as one (their counts and time add up), so a
// ceiling measured once before and once after the WAL cancels slow drift of the disk.
[[nodiscard]] RawCeilingResult combine_ceilings(const RawCeilingResult& first,
                                                const RawCeilingResult& second);

}  // namespace wal::bench
