#pragma once
// What one measured case of one system records, the same way for every system: each entry
// carries the time it was due to be sent (its "stamp", in its first bytes), and
//
//   append latency      stamp -> the system acknowledged it durable, for entries stamped
//                       within the measured window;
//   end-to-end latency  stamp -> a tailing reader received it, for the same entries;
//   throughput          acknowledgements that arrived within the window, over its length.
//
// In a paced case the stamp is the scheduled time, not the time the call was made, so a stall
// counts against every entry it delayed (no coordinated omission). The window opens after the
// warm-up. Callable from any thread (the NATS client calls back on its own threads).

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "latency_histogram.h"

namespace wal::bench {

using Steady = std::chrono::steady_clock;

// CPU time over one case (set up, appends, reader, tear down) and its wall-clock length.
struct CaseCpu {
  double client_seconds = 0;   // this process: writer, reader, their threads
  double servers_seconds = 0;  // the system's server processes (--server-pids)
  double wall_seconds = 0;
};

struct CaseResult {
  std::string system;
  uint64_t entry_bytes = 0;
  double offered_rate_per_second = 0;  // 0: saturation
  uint64_t window = 0;                 // appends in flight at most (saturation)
  double seconds = 0;                  // the measured window
  uint64_t acknowledged_count = 0;     // within the window
  uint64_t failed_count = 0;
  std::string first_error;
  uint64_t received_count = 0;  // entries of the window the reader received
  LatencyHistogram append_latency;
  LatencyHistogram end_to_end_latency;
  std::string note;  // anything the reader of the table must know about this case
  CaseCpu cpu;
  // The WAL's tailing reader: where its time goes (a GET or a read per block, manifest reads,
  // metadata reloads after watch events). Zero for NATS.
  uint64_t reader_blocks_read = 0;
  uint64_t reader_manifest_reads = 0;
  uint64_t reader_metadata_reloads = 0;

  [[nodiscard]] double entries_per_second() const;
  [[nodiscard]] double mib_per_second() const;
};

class CaseRecorder {
 public:
  CaseRecorder(Steady::time_point window_start, Steady::time_point window_end);

  static constexpr size_t stamp_bytes = 8;
  // Writes `due` into the first stamp_bytes of `payload` (at least that long).
  static void stamp(std::span<std::byte> payload, Steady::time_point due);
  // The stamp of a received entry; nullopt when it is too short to hold one.
  [[nodiscard]] static std::optional<Steady::time_point> read_stamp(
      std::span<const std::byte> payload);

  void acknowledged(Steady::time_point due, Steady::time_point now);
  void failed(const std::string& error);
  void received(Steady::time_point due, Steady::time_point now);
  // Entries the reader should see in the end: every acknowledged one, in or out of the window.
  [[nodiscard]] uint64_t acknowledged_total() const;
  [[nodiscard]] uint64_t received_total() const;
  [[nodiscard]] bool in_window(Steady::time_point t) const {
    return t >= window_start_ && t < window_end_;
  }
  [[nodiscard]] Steady::time_point window_end() const { return window_end_; }

  // The case's numbers; `result` names the system and the workload point.
  void finish(CaseResult& result) const;

 private:
  const Steady::time_point window_start_;
  const Steady::time_point window_end_;
  mutable std::mutex mutex_;
  uint64_t acknowledged_in_window_ = 0;
  uint64_t acknowledged_total_ = 0;
  uint64_t received_total_ = 0;
  uint64_t received_of_window_ = 0;
  uint64_t failed_count_ = 0;
  std::string first_error_;
  LatencyHistogram append_latency_;
  LatencyHistogram end_to_end_latency_;
};

}  // namespace wal::bench
