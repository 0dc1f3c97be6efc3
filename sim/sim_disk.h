#pragma once
// SimDisk: one node's simulated local disk. A wal::Disk over a MemDisk (the state, exposed as
// state(); its crash model is described in wal/mem/mem_disk.h), with time and faults:
//
//   SimDisk disk(runtime_1, streams, trace);        // faults off: 20 us writes, 200 us syncs
//   co_await disk.append("journal", bytes);         // on node 1's executor
//   runtime_1.crash(); disk.crash();                // unsynced writes kept, lost or torn
//
// Time: each call draws a delay (faults().read_latency for read/size/list, write_latency for
// write/append/truncate, sync_latency for sync/rename/remove, which sync the directory). It
// waits half of it, is applied to the MemDisk at one instant, then waits the other half and
// completes. Calls are applied in the order they were made (one submission queue per disk), so
// a read made after a write completed sees it. Everything happens on the node's own timers:
//   a call not yet applied when the node crashes is lost (it never happens);
//   a call applied but not completed happened, unacknowledged: its bytes are unsynced (unless
//   it was a sync) and the crash model decides what survives.
// Call crash() or wipe() after crashing the node (NodeRuntime::crash). If the node is still up,
// its calls not yet applied fail with io_error instead (the device was reset under them).
//
// Faults (DiskFaults in service_faults.h; all off by default):
//   io_error_ppm          a call fails with io_error and has no effect (definite);
//   slow fsync            sync_latency spikes;
//   bit_flip_ppm          after a write/append lands, one bit inside it flips (silently);
//   misdirected_write_ppm a write() lands one sector away and reports success;
//   set_capacity_bytes    no_space once the files would exceed it (MemDisk's rule);
//   corrupt_bit           flip one bit now, on demand.
// Every draw comes from this node's own streams ("disk.*", index = node) and enters the Trace.
//
// Lifetimes: the runtime must outlive the SimDisk; the SimDisk must outlive every frame of the
// node suspended in one of its calls (crash or destroy the runtime first).

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/service_faults.h"
#include "sim/service_support.h"
#include "sim/trace.h"
#include "wal/env/disk.h"
#include "wal/mem/mem_disk.h"

namespace wal::sim {

enum class DiskOp : uint8_t { write, append, sync, read, size, truncate, list, rename, remove };
inline constexpr size_t disk_op_count = 9;
[[nodiscard]] std::string_view disk_op_name(DiskOp op);

struct SimDiskStats {
  // sent = calls made, applied = calls that took effect (or failed with their own error),
  // replied = calls that completed back to the caller.
  std::array<ServiceOpCounts, disk_op_count> ops{};
  uint64_t io_error_count = 0;           // injected io_errors
  uint64_t reset_failed_count = 0;       // calls failed because the disk crashed under them
  uint64_t bit_flip_count = 0;           // bits flipped by bit_flip_ppm or corrupt_bit()
  uint64_t misdirected_write_count = 0;
  uint64_t spike_count = 0;              // latency spikes of any kind
  uint64_t slow_sync_count = 0;          // ... of which on sync/rename/remove
  uint64_t crash_count = 0;
  uint64_t wipe_count = 0;

  [[nodiscard]] const ServiceOpCounts& of(DiskOp op) const {
    return ops[static_cast<size_t>(op)];
  }
};

class SimDisk final : public Disk {
 public:
  SimDisk(NodeRuntime& runtime, const RandomStreams& streams, Trace& trace,
          DiskFaults faults = {}, uint64_t sector_size_bytes = 512);
  SimDisk(const SimDisk&) = delete;
  SimDisk& operator=(const SimDisk&) = delete;

  // Disk (wal/env/disk.h), with the timing above. Calls on the node's executor while it is up.
  Task<Status> write(std::string path, uint64_t offset, Bytes bytes) override;
  Task<Result<uint64_t>> append(std::string path, Bytes bytes) override;
  Task<Status> sync(std::string path) override;
  Task<Result<Bytes>> read(std::string path, uint64_t offset, uint64_t length) override;
  Task<Result<uint64_t>> size(std::string path) override;
  Task<Status> truncate(std::string path, uint64_t length) override;
  Task<Result<std::vector<std::string>>> list(std::string prefix) override;
  Task<Status> rename(std::string from, std::string to) override;
  Task<Status> remove(std::string path) override;

  void set_faults(const DiskFaults& faults);
  [[nodiscard]] const DiskFaults& faults() const { return faults_; }

  // MemDisk's crash model over everything not synced, drawing from `random`; the overload
  // without one draws from this disk's own "disk.crash" stream.
  MemDiskCrashSummary crash(Random& random);
  MemDiskCrashSummary crash();
  // Every file is gone (a replaced disk). Fault knobs and capacity are kept.
  void wipe();
  void set_capacity_bytes(uint64_t capacity_bytes) { state_.set_capacity_bytes(capacity_bytes); }
  // Flips bit `bit_index` of `path` now (the file must exist and be long enough).
  void corrupt_bit(const std::string& path, uint64_t bit_index);

  [[nodiscard]] MemDisk& state() { return state_; }
  [[nodiscard]] const MemDisk& state() const { return state_; }
  [[nodiscard]] const SimDiskStats& stats() const { return stats_; }
  [[nodiscard]] NodeIndex node() const { return runtime_.node(); }

 private:
  template <typename R>
  Task<R> operate(DiskOp op, uint64_t digest, std::function<R()> apply);
  [[nodiscard]] const LatencySpec& latency_of(DiskOp op) const;
  [[nodiscard]] Status apply_write(const std::string& path, uint64_t offset, const Bytes& bytes);
  [[nodiscard]] Result<uint64_t> apply_append(const std::string& path, const Bytes& bytes);
  void maybe_flip_bit(const std::string& path, uint64_t offset, uint64_t size_bytes);

  NodeRuntime& runtime_;
  Trace& trace_;
  DiskFaults faults_;
  MemDisk state_;
  Xoshiro256 latency_random_;
  Xoshiro256 spike_random_;
  Xoshiro256 io_error_random_;
  Xoshiro256 bit_flip_random_;
  Xoshiro256 misdirect_random_;
  Xoshiro256 crash_random_;
  TimePoint last_apply_at_{};  // calls apply in call order: never before the previous one
  uint64_t epoch_ = 0;         // bumped by crash() and wipe(): calls queued before fail
  SimDiskStats stats_;
};

}  // namespace wal::sim
