// MeteredDisk (wal/metrics/metered_stores.h): every call forwarded, then counted; syncs also
// feed the journal fsync latency and the group-commit batch size (bytes since the last sync).
#include <chrono>

#include "wal/metrics/metered_stores.h"

namespace wal::metrics {

MeteredDisk::MeteredDisk(Disk& inner, Registry& registry, Clock& clock)
    : inner_(inner),
      meter_(registry, clock, "woodpecker_logstore_disk", "Local disk (journals)"),
      flush_latency_(registry.histogram("woodpecker_file_flush_latency_seconds",
                                        "Journal fsync latency", latency_buckets_seconds())),
      flush_bytes_(registry.histogram("woodpecker_flush_block_bytes",
                                      "Bytes made durable by one journal fsync (group commit)",
                                      size_buckets_bytes())) {}

Task<Status> MeteredDisk::write(std::string path, uint64_t offset, Bytes bytes) {
  const TimePoint started = meter_.start();
  const uint64_t size = bytes.size();
  Status result = co_await inner_.write(path, offset, std::move(bytes));
  meter_.finish("write", started, result);
  if (result.ok()) {
    meter_.add_bytes("write", size);
    unsynced_bytes_[path] += size;
  }
  co_return result;
}

Task<Result<uint64_t>> MeteredDisk::append(std::string path, Bytes bytes) {
  const TimePoint started = meter_.start();
  const uint64_t size = bytes.size();
  Result<uint64_t> result = co_await inner_.append(path, std::move(bytes));
  meter_.finish("append", started, result);
  if (result.ok()) {
    meter_.add_bytes("append", size);
    unsynced_bytes_[path] += size;
  }
  co_return result;
}

Task<Status> MeteredDisk::sync(std::string path) {
  const TimePoint started = meter_.start();
  Status result = co_await inner_.sync(path);
  meter_.finish("sync", started, result);
  if (result.ok()) {
    flush_latency_.observe(
        std::chrono::duration<double>(meter_.clock().now() - started).count());
    auto it = unsynced_bytes_.find(path);
    flush_bytes_.observe(it == unsynced_bytes_.end() ? 0.0 : static_cast<double>(it->second));
    if (it != unsynced_bytes_.end()) unsynced_bytes_.erase(it);
  }
  co_return result;
}

Task<Result<Bytes>> MeteredDisk::read(std::string path, uint64_t offset, uint64_t length) {
  const TimePoint started = meter_.start();
  Result<Bytes> result = co_await inner_.read(std::move(path), offset, length);
  meter_.finish("read", started, result);
  if (result.ok()) meter_.add_bytes("read", result->size());
  co_return result;
}

Task<Result<uint64_t>> MeteredDisk::size(std::string path) {
  return meter_.timed("size", inner_.size(std::move(path)));
}

Task<Status> MeteredDisk::truncate(std::string path, uint64_t length) {
  return meter_.timed("truncate", inner_.truncate(std::move(path), length));
}

Task<Result<std::vector<std::string>>> MeteredDisk::list(std::string prefix) {
  return meter_.timed("list", inner_.list(std::move(prefix)));
}

Task<Status> MeteredDisk::rename(std::string from, std::string to) {
  const TimePoint started = meter_.start();
  Status result = co_await inner_.rename(from, to);
  meter_.finish("rename", started, result);
  if (result.ok()) {
    // The unsynced bytes of `from` now belong to `to`; those of the old `to` are gone.
    uint64_t moved = 0;
    if (auto it = unsynced_bytes_.find(from); it != unsynced_bytes_.end()) {
      moved = it->second;
      unsynced_bytes_.erase(it);
    }
    unsynced_bytes_.erase(to);
    if (moved > 0) unsynced_bytes_[to] = moved;
  }
  co_return result;
}

Task<Status> MeteredDisk::remove(std::string path) {
  const TimePoint started = meter_.start();
  Status result = co_await inner_.remove(path);
  meter_.finish("remove", started, result);
  if (result.ok()) unsynced_bytes_.erase(path);
  co_return result;
}

}  // namespace wal::metrics
