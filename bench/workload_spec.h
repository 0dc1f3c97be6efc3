#pragma once
// The workload every system of compare_bench runs, read from a JSON file in the manner of the
// OpenMessaging Benchmark's workload files (bench/workloads/*.json):
//
//   {"name": "default",
//    "entry_sizes_bytes": [1024, 65536, 1048576],
//    "rates_per_second": [0, 500],   // 0: saturation (a closed loop); else an open loop
//    "paced_bytes_per_second_max": 4194304,  // an offered rate is cut to this many bytes/s
//    "inflight_bytes_max": 16777216, // saturation: ceil(this / entry size) appends in flight...
//    "inflight_entries_max": 16384,  // ...but at most this many
//    "consumers": 1,                 // 0 or 1 tailing reader (end-to-end latency)
//    "warmup_seconds": 1, "duration_seconds": 5}
//
// One producer per system: a WAL log has one writer; its concurrency is the appends in flight.
// Every key is optional (the defaults are the ones above); an unknown key, a wrong type or a
// value out of range is an invalid_argument error naming the key, so a typo never measures
// something else silently. not_found: no such file.

#include <cstdint>
#include <string>
#include <vector>

#include "wal/core/result.h"

namespace wal::bench {

struct Workload {
  std::string name = "default";
  std::vector<uint64_t> entry_sizes_bytes = {1024, 65536, 1048576};
  std::vector<double> rates_per_second = {0, 500};
  double paced_bytes_per_second_max = 4 << 20;
  // 16 MiB: four of the MemoryBuffer writer's 4 MiB blocks, the least that keeps its 4 PUTs
  // going, and half the QuorumBuffer writer's buffered_bytes_max, so neither writer's own
  // back-pressure queues appends. (64 MiB, 65,536 x 1 KiB, queued them for seconds: 2,253
  // appends/s for QuorumBuffer and 3,347/s for NATS, against 18,000 and 13,600 with less.)
  uint64_t inflight_bytes_max = 16 << 20;
  uint64_t inflight_entries_max = 16384;
  uint32_t consumers = 1;
  double warmup_seconds = 1;
  double duration_seconds = 5;

  // Appends kept in flight at saturation for this entry size.
  [[nodiscard]] uint64_t saturation_window(uint64_t entry_bytes) const;
  // The offered rate actually used: `rate` cut to paced_bytes_per_second_max.
  [[nodiscard]] double offered_rate(double rate, uint64_t entry_bytes) const;
};

// Entries carry their send time in their first bytes (end-to-end latency), so they are at least
// this long.
inline constexpr uint64_t entry_size_bytes_min = 16;
inline constexpr uint64_t entry_size_bytes_max = 16 << 20;  // the WAL's limit

[[nodiscard]] Result<Workload> load_workload(const std::string& path);
[[nodiscard]] Result<Workload> parse_workload(const std::string& json_text);

}  // namespace wal::bench
