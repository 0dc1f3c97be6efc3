#include "sim/sim_disk.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "wal/async/sleep.h"

namespace wal::sim {

namespace {

constexpr Site site_issue = "disk.issue";
constexpr Site site_delay = "disk.delay";
constexpr Site site_apply = "disk.apply";
constexpr Site site_io_error = "disk.io_error";
constexpr Site site_reset = "disk.reset_failed";
constexpr Site site_bit_flip = "disk.bit_flip";
constexpr Site site_misdirect = "disk.misdirect";
constexpr Site site_crash = "disk.crash";
constexpr Site site_wipe = "disk.wipe";

uint64_t crash_digest(const MemDiskCrashSummary& summary) {
  uint64_t digest = summary.files_vanished_count;
  for (const uint64_t count : {summary.writes_kept_count, summary.writes_lost_count,
                               summary.writes_torn_count, summary.truncates_applied_count,
                               summary.truncates_lost_count}) {
    digest = mix64(digest ^ count);
  }
  return digest;
}

}  // namespace

std::string_view disk_op_name(DiskOp op) {
  switch (op) {
    case DiskOp::write: return "write";
    case DiskOp::append: return "append";
    case DiskOp::sync: return "sync";
    case DiskOp::read: return "read";
    case DiskOp::size: return "size";
    case DiskOp::truncate: return "truncate";
    case DiskOp::list: return "list";
    case DiskOp::rename: return "rename";
    case DiskOp::remove: return "remove";
  }
  WAL_UNREACHABLE();
}

SimDisk::SimDisk(NodeRuntime& runtime, const RandomStreams& streams, Trace& trace,
                 DiskFaults faults, uint64_t sector_size_bytes)
    : runtime_(runtime),
      trace_(trace),
      state_(sector_size_bytes),
      latency_random_(streams.stream("disk.latency", runtime.node())),
      spike_random_(streams.stream("disk.spike", runtime.node())),
      io_error_random_(streams.stream("disk.io_error", runtime.node())),
      bit_flip_random_(streams.stream("disk.bit_flip", runtime.node())),
      misdirect_random_(streams.stream("disk.misdirect", runtime.node())),
      crash_random_(streams.stream("disk.crash", runtime.node())) {
  set_faults(faults);
}

void SimDisk::set_faults(const DiskFaults& faults) {
  check_latency_spec(faults.read_latency);
  check_latency_spec(faults.write_latency);
  check_latency_spec(faults.sync_latency);
  WAL_ASSERT_LE(faults.io_error_ppm, uint32_t{1'000'000});
  WAL_ASSERT_LE(faults.bit_flip_ppm, uint32_t{1'000'000});
  WAL_ASSERT_LE(faults.misdirected_write_ppm, uint32_t{1'000'000});
  faults_ = faults;
}

const LatencySpec& SimDisk::latency_of(DiskOp op) const {
  switch (op) {
    case DiskOp::read:
    case DiskOp::size:
    case DiskOp::list: return faults_.read_latency;
    case DiskOp::write:
    case DiskOp::append:
    case DiskOp::truncate: return faults_.write_latency;
    case DiskOp::sync:
    case DiskOp::rename:
    case DiskOp::remove: return faults_.sync_latency;
  }
  WAL_UNREACHABLE();
}

// ---- one call ----------------------------------------------------------------------------------

template <typename R>
Task<R> SimDisk::operate(DiskOp op, uint64_t digest, std::function<R()> apply) {
  WAL_ASSERT(runtime_.alive());  // a node that is down runs no code
  WAL_ASSERT(apply);
  const NodeIndex node = runtime_.node();
  const uint64_t epoch = epoch_;
  ServiceOpCounts& counts = stats_.ops[static_cast<size_t>(op)];
  ++counts.sent_count;
  trace_.decision(site_issue, node, mix64(digest ^ static_cast<uint64_t>(op)));
  const LatencySpec& spec = latency_of(op);
  const LatencyDraw draw = draw_latency(spec, latency_random_, spike_random_);
  if (draw.spiked) {
    ++stats_.spike_count;
    if (&spec == &faults_.sync_latency) ++stats_.slow_sync_count;
  }
  trace_.decision(site_delay, node, static_cast<uint64_t>(draw.delay.count()));
  const Duration before = draw.delay / 2;
  const TimePoint apply_at = std::max(runtime_.now() + before, last_apply_at_);
  last_apply_at_ = apply_at;
  // On the node's own timer: if the node crashes now, the call never happens.
  co_await sleep_until(runtime_, apply_at);
  R result = make_error(Errc::io_error, "disk: not applied");
  if (epoch != epoch_) {
    ++stats_.reset_failed_count;
    trace_.decision(site_reset, node, static_cast<uint64_t>(op));
    result = make_error(Errc::io_error, "disk was reset under the call");
  } else if (faults_.io_error_ppm > 0 && io_error_random_.chance_ppm(faults_.io_error_ppm)) {
    ++stats_.io_error_count;
    trace_.decision(site_io_error, node, static_cast<uint64_t>(op));
    result = make_error(Errc::io_error, "disk: injected I/O error");
  } else {
    ++counts.applied_count;
    result = apply();
    trace_.decision(site_apply, node, result_digest(result));
  }
  co_await sleep_for(runtime_, draw.delay - before);
  ++counts.replied_count;
  WAL_ASSERT_LE(counts.replied_count, counts.sent_count);
  co_return result;
}

Status SimDisk::apply_write(const std::string& path, uint64_t offset, const Bytes& bytes) {
  uint64_t target = offset;
  if (faults_.misdirected_write_ppm > 0 && !bytes.empty() &&
      misdirect_random_.chance_ppm(faults_.misdirected_write_ppm)) {
    const uint64_t sector = state_.sector_size_bytes();
    const bool backward = offset >= sector && misdirect_random_.below(2) == 0;
    target = backward ? offset - sector : offset + sector;
    ++stats_.misdirected_write_count;
    trace_.decision(site_misdirect, runtime_.node(), mix64(fnv1a64(path) ^ offset) ^ target);
  }
  Status status = state_.apply_write(path, target, bytes);
  if (status.ok()) maybe_flip_bit(path, target, bytes.size());
  return status;
}

Result<uint64_t> SimDisk::apply_append(const std::string& path, const Bytes& bytes) {
  Result<uint64_t> offset = state_.apply_append(path, bytes);
  if (offset.ok()) maybe_flip_bit(path, *offset, bytes.size());
  return offset;
}

void SimDisk::maybe_flip_bit(const std::string& path, uint64_t offset, uint64_t size_bytes) {
  if (faults_.bit_flip_ppm == 0 || size_bytes == 0) return;
  if (!bit_flip_random_.chance_ppm(faults_.bit_flip_ppm)) return;
  corrupt_bit(path, offset * 8 + bit_flip_random_.below(size_bytes * 8));
}

void SimDisk::corrupt_bit(const std::string& path, uint64_t bit_index) {
  state_.corrupt_bit(path, bit_index);  // asserts that the file and the bit exist
  ++stats_.bit_flip_count;
  trace_.decision(site_bit_flip, runtime_.node(), mix64(fnv1a64(path)) ^ bit_index);
}

// ---- crash and wipe ----------------------------------------------------------------------------

MemDiskCrashSummary SimDisk::crash(Random& random) {
  ++epoch_;
  ++stats_.crash_count;
  const MemDiskCrashSummary summary = state_.crash(random);
  const std::string detail =
      trace_.jsonl_enabled()
          ? fmt::format("vanished={} kept={} lost={} torn={}", summary.files_vanished_count,
                        summary.writes_kept_count, summary.writes_lost_count,
                        summary.writes_torn_count)
          : std::string();
  trace_.decision(site_crash, runtime_.node(), crash_digest(summary), detail);
  WAL_ASSERT_GT(epoch_, uint64_t{0});
  return summary;
}

MemDiskCrashSummary SimDisk::crash() { return crash(crash_random_); }

void SimDisk::wipe() {
  ++epoch_;
  ++stats_.wipe_count;
  state_.wipe();
  trace_.decision(site_wipe, runtime_.node(), stats_.wipe_count);
  WAL_ASSERT_EQ(state_.used_bytes(), uint64_t{0});
}

// ---- the calls ---------------------------------------------------------------------------------

Task<Status> SimDisk::write(std::string path, uint64_t offset, Bytes bytes) {
  const uint64_t digest = mix64(fnv1a64(path) ^ offset) ^ hash_bytes(bytes);
  std::function<Status()> apply = [this, path = std::move(path), offset,
                                   bytes = std::move(bytes)] {
    return apply_write(path, offset, bytes);
  };
  return operate<Status>(DiskOp::write, digest, std::move(apply));
}

Task<Result<uint64_t>> SimDisk::append(std::string path, Bytes bytes) {
  const uint64_t digest = mix64(fnv1a64(path)) ^ hash_bytes(bytes);
  std::function<Result<uint64_t>()> apply = [this, path = std::move(path),
                                             bytes = std::move(bytes)] {
    return apply_append(path, bytes);
  };
  return operate<Result<uint64_t>>(DiskOp::append, digest, std::move(apply));
}

Task<Status> SimDisk::sync(std::string path) {
  const uint64_t digest = fnv1a64(path);
  std::function<Status()> apply = [this, path = std::move(path)] {
    return state_.apply_sync(path);
  };
  return operate<Status>(DiskOp::sync, digest, std::move(apply));
}

Task<Result<Bytes>> SimDisk::read(std::string path, uint64_t offset, uint64_t length) {
  const uint64_t digest = mix64(fnv1a64(path) ^ offset) ^ length;
  std::function<Result<Bytes>()> apply = [this, path = std::move(path), offset, length] {
    return state_.apply_read(path, offset, length);
  };
  return operate<Result<Bytes>>(DiskOp::read, digest, std::move(apply));
}

Task<Result<uint64_t>> SimDisk::size(std::string path) {
  const uint64_t digest = fnv1a64(path);
  std::function<Result<uint64_t>()> apply = [this, path = std::move(path)] {
    return state_.apply_size(path);
  };
  return operate<Result<uint64_t>>(DiskOp::size, digest, std::move(apply));
}

Task<Status> SimDisk::truncate(std::string path, uint64_t length) {
  const uint64_t digest = mix64(fnv1a64(path)) ^ length;
  std::function<Status()> apply = [this, path = std::move(path), length] {
    return state_.apply_truncate(path, length);
  };
  return operate<Status>(DiskOp::truncate, digest, std::move(apply));
}

Task<Result<std::vector<std::string>>> SimDisk::list(std::string prefix) {
  const uint64_t digest = fnv1a64(prefix);
  std::function<Result<std::vector<std::string>>()> apply = [this, prefix = std::move(prefix)] {
    return state_.apply_list(prefix);
  };
  return operate<Result<std::vector<std::string>>>(DiskOp::list, digest, std::move(apply));
}

Task<Status> SimDisk::rename(std::string from, std::string to) {
  const uint64_t digest = mix64(fnv1a64(from)) ^ fnv1a64(to);
  std::function<Status()> apply = [this, from = std::move(from), to = std::move(to)] {
    return state_.apply_rename(from, to);
  };
  return operate<Status>(DiskOp::rename, digest, std::move(apply));
}

Task<Status> SimDisk::remove(std::string path) {
  const uint64_t digest = fnv1a64(path);
  std::function<Status()> apply = [this, path = std::move(path)] {
    return state_.apply_remove(path);
  };
  return operate<Status>(DiskOp::remove, digest, std::move(apply));
}

}  // namespace wal::sim
