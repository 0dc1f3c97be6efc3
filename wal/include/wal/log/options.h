#pragma once
// Tunables of the MemoryBuffer WAL, with the reason for each default. Every queue, batch and
// retry loop has a named limit here.

#include <chrono>
#include <cstdint>
#include <string>

#include "wal/core/result.h"
#include "wal/env/object_store.h"

namespace wal {

using EntryId = uint64_t;     // dense per log, from 0, never restarting per segment
using SegmentId = uint64_t;   // dense per log, from 0
using Epoch = uint64_t;       // the writer fencing token; 0 = no writer ever opened

namespace limits {
// Log names become etcd key segments; short names keep keys well under etcd's limits.
inline constexpr size_t log_name_bytes_max = 200;
}  // namespace limits

// How a writer makes sure a fenced (stale) writer can never make an entry visible.
enum class FencingMode : uint8_t {
  // The new writer puts a fence object, create-only, at the first missing block key of the open
  // segment; the old writer's create-only PUT of that key fails. Needs If-None-Match: *.
  fence_object,
  // For stores without conditional PUT: the writer re-reads its epoch in the MetaStore after its
  // PUTs land and before it acknowledges; readers never read past the published tail.
  meta_confirm,
};

struct WriterOptions {
  // A block is one object. 4 MiB: at S3 prices $0.0013/GiB of PUTs, and large enough to reach
  // the store's bandwidth (research/peers.md section 3).
  uint64_t block_size_bytes_max = 4ull << 20;
  // PUTs in flight at once. With none in flight a block is sent at once (no timer); under load
  // entries collect while these are busy, which is the group commit.
  uint32_t inflight_blocks_max = 4;
  // Blocks sent and not yet acknowledged: running PUTs plus durable blocks waiting for an
  // earlier one (acknowledgements are in order). A durable block frees its PUT slot, so one slow
  // PUT does not idle the other slots; this bounds how far they run ahead of it, and with it
  // how many landed blocks recovery may probe past the last checkpoint. 16: four times
  // inflight_blocks_max, about three round trips of the other slots while one PUT straggles.
  // At least inflight_blocks_max. Memory stays bounded by inflight_bytes_max.
  uint32_t unacknowledged_blocks_max = 16;
  // Back-pressure: append() waits while this many bytes are buffered or uploading.
  uint64_t inflight_bytes_max = 64ull << 20;
  // Segment roll triggers (also for an idle log: a timer checks the age).
  uint64_t segment_size_bytes_max = 256ull << 20;
  std::chrono::milliseconds segment_age_max{10 * 60 * 1000};
  // Every this many blocks the writer records a checkpoint so recovery probes a bounded tail.
  uint32_t checkpoint_interval_blocks = 32;
  FencingMode fencing = FencingMode::fence_object;
  // Unknown PUT outcomes and 503s are settled and retried with capped exponential backoff.
  std::chrono::milliseconds retry_backoff_min{20};
  std::chrono::milliseconds retry_backoff_max{2000};
  // Publishing the tail (last acknowledged id) to the MetaStore wakes readers in other
  // processes; one publication is in flight at a time.
  bool publish_tail = true;
  // A publication starts at once if the previous one started at least this long ago, otherwise
  // when this much time has passed since it did. An idle log's first acknowledgement is
  // published at once; a busy log costs at most 1 s / interval etcd writes per second (20 at
  // this default) instead of one per round trip (about 70 per second measured with SQLite under
  // a 1 MiB-entry load: 90% of all MetaStore commits, each an fsync on the disk the blocks go
  // to). The price: readers in other processes see a busy log up to this much later. 0: publish
  // after every round trip.
  std::chrono::milliseconds tail_publish_interval_min{50};
  // Idempotent appends: producers whose last (sequence, entry id) the writer remembers. When a
  // new producer would exceed it, the producer whose last entry is oldest is forgotten, and
  // loses the at-most-once guarantee (a retry of its last append would be appended again). The
  // table is stored in every checkpoint and footer manifest (24 bytes per producer: 96 KiB at
  // this default), at most limits::manifest_producer_count_max.
  uint32_t producers_max = 4096;
};

// invalid_argument (definite) naming the field, for options a writer cannot work with: no PUT
// slot, fewer unacknowledged blocks than PUT slots, a block larger than an object, a producer
// table larger than a manifest holds, no room in flight, a segment age of zero (it would roll
// without pause), or a backoff range that is empty or upside down. LogClient::open_writer
// checks it; tools check their own, tighter ranges first (docs/cli.md).
[[nodiscard]] Status validate(const WriterOptions& options);

struct ReaderOptions {
  // Blocks fetched ahead of the one being consumed (catch-up reads).
  uint32_t prefetch_blocks = 4;
  // QuorumBuffer tails: how long one long poll on a LogStore waits for a new confirmed entry.
  uint32_t tail_poll_ms = 1000;
  // QuorumBuffer: bytes one LogStore read returns at most.
  uint64_t logstore_read_bytes_max = 1ull << 20;
  std::chrono::milliseconds retry_backoff_min{20};
  std::chrono::milliseconds retry_backoff_max{2000};
};

}  // namespace wal
