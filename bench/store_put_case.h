#pragma once
// The store alone: LocalObjectStore::put_shared through the same EventLoop and BlockingPool the
// WAL uses, `puts_in_flight` PUTs kept going for a warm-up and then `duration`, with no writer
// around them. It sits between the raw ceiling (the same file-system calls on plain threads) and the WAL (the writer
// on top of this store), so the report can tell how much of the WAL's gap to the ceiling is the
// store and the loop <-> pool hand-offs, and how much is the writer.
//
// The PUTs look like the writer's: create-only (link + unlink, as the writer's block PUTs), the
// block size for the entry size measured, keys in one directory per `blocks_per_directory`
// (the writer's per-segment directories), and bodies taken in turn from buffers that together
// exceed the CPU's last-level cache, so the copy into the page cache reads memory, as the
// writer's freshly built blocks do. Every PUT's key is new; the objects are deleted afterwards.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "block_shape.h"
#include "latency_summary.h"
#include "wal/core/result.h"
#include "wal_runtime.h"

namespace wal::bench {

struct StoreCaseConfig {
  std::string key_prefix;  // a fresh key prefix, e.g. "bench-store/3-before"
  uint64_t body_bytes = 0;  // the WAL's block size for the entry size measured
  // Bytes the store writes besides the body, counted in file_bytes: LocalObjectStore's header
  // (block_shape.h); 0 for S3, where the body is the object.
  uint64_t object_overhead_bytes = local_object_header_bytes;
  uint64_t blocks_per_directory = 0;
  uint32_t puts_in_flight = 0;
  // PUTs run for warmup + duration; those finishing within the last `duration` count.
  std::chrono::nanoseconds warmup{};
  std::chrono::nanoseconds duration{};
};

struct StoreCaseResult {
  uint64_t puts_count = 0;  // completed within the measured duration
  uint64_t file_bytes = 0;  // their bytes stored (object overhead + body)
  double seconds = 0;
  double mib_per_second = 0;   // of file bytes, as the ceiling counts them
  LatencySummary put_latency;  // loop-thread view: call to completion
  std::vector<uint64_t> put_latencies_us;  // the samples behind put_latency
};

// The first PUT or delete error.
[[nodiscard]] Result<StoreCaseResult> run_store_case(WalRuntime& runtime,
                                                     const StoreCaseConfig& config);

// Two measurements of the same configuration as one (counts and time add up).
[[nodiscard]] StoreCaseResult combine_store_phases(const StoreCaseResult& first,
                                                   const StoreCaseResult& second);

}  // namespace wal::bench
