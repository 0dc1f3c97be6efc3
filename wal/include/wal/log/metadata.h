#pragma once
// The records a log keeps in the MetaStore (keys in wal/log/keys.h), and their encoding.
// Values are JSON so `wp inspect` and etcdctl show them as they are. Decoding validates every
// field: a malformed value is Errc::corrupt naming the key, never a crash or a default.
// Entry ranges are half-open: [first, end), so an empty segment needs no -1.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wal/core/result.h"
#include "wal/log/options.h"

namespace wal {

struct LogMeta {
  uint64_t log_id = 0;
  int64_t created_unix_ms = 0;
};

// The current writer's fencing token. Opening a writer bumps `epoch` with a compare on the
// key's mod_revision; `writer_instance` (random) lets a writer recognise its own bump after an
// unknown txn outcome.
struct EpochRecord {
  Epoch epoch = 0;
  uint64_t writer_instance = 0;
  int64_t opened_unix_ms = 0;
};

// Everything below `end_entry_id` is acknowledged; readers of an open segment read up to here.
// Written by the writer with a compare on the epoch, so a fenced writer cannot move it.
struct TailRecord {
  Epoch epoch = 0;
  SegmentId segment_id = 0;
  EntryId end_entry_id = 0;
};

struct TruncationRecord {
  EntryId first_kept_entry_id = 0;  // entries below are gone (or going) for readers
};

enum class SegmentState : uint8_t { open, sealed };

struct SegmentMeta {
  SegmentId segment_id = 0;
  SegmentState state = SegmentState::open;
  Epoch epoch = 0;                 // the writer that created it
  EntryId first_entry_id = 0;
  int64_t created_unix_ms = 0;
  // Open segments: blocks [0, checkpoint_block_count) are described by manifest
  // m<checkpoint_block_count> and end at checkpoint_end_entry_id (= first_entry_id when no
  // checkpoint exists yet). Recovery probes only the blocks after the checkpoint.
  uint64_t checkpoint_block_count = 0;
  EntryId checkpoint_end_entry_id = 0;
  // Sealed segments: the exact contents.
  EntryId end_entry_id = 0;        // exclusive
  uint64_t block_count = 0;
  uint64_t size_bytes = 0;
  int64_t sealed_unix_ms = 0;
  Epoch sealed_by_epoch = 0;       // the writer that sealed it: tells our seal from another's
  bool orphans_collected = false;  // objects past block_count were deleted after sealing
  // Sealed segments: the footer manifest carries a producer table (idempotent appends), so the
  // next writer reads it on open. Open segments: the base manifest m0 carries the table the
  // segment started with, which recovery starts from when there is no checkpoint yet (the
  // previous segment, and its footer, may be garbage-collected by then). False for logs that
  // never used keys: no extra read or write for them.
  bool producer_table = false;
  // QuorumBuffer segments only (docs/protocol.md): the three LogStore nodes holding its entries,
  // in ensemble order. Empty for MemoryBuffer segments, whose blocks go straight to the store.
  std::vector<std::string> ensemble;
  // The segment's entries are in object storage (blocks [0, block_count)). Always true for
  // MemoryBuffer segments; a sealed quorum segment becomes uploaded once a LogStore has stored
  // and verified [first_entry_id, end_entry_id) in blocks.
  bool uploaded = true;
  // QuorumBuffer: the size limit of the uploaded block objects, chosen by the writer that created
  // the segment, so every LogStore cuts the same blocks whatever its own configuration (0: not
  // recorded; the LogStore's upload_block_bytes_max applies).
  uint64_t upload_block_bytes = 0;
  // etcd create_revision of this key, filled in by decoders that know it (not stored in the
  // value): a LogStore whose disk was initialised after it may have lost the segment's data.
  int64_t create_revision = 0;

  [[nodiscard]] bool quorum() const { return !ensemble.empty(); }
};

[[nodiscard]] std::string_view segment_state_name(SegmentState state);

[[nodiscard]] std::string encode(const LogMeta& meta);
[[nodiscard]] std::string encode(const EpochRecord& record);
[[nodiscard]] std::string encode(const TailRecord& record);
[[nodiscard]] std::string encode(const TruncationRecord& record);
[[nodiscard]] std::string encode(const SegmentMeta& meta);

// `key` only names the source in error messages.
[[nodiscard]] Result<LogMeta> decode_log_meta(std::string_view key, std::string_view value);
[[nodiscard]] Result<EpochRecord> decode_epoch(std::string_view key, std::string_view value);
[[nodiscard]] Result<TailRecord> decode_tail(std::string_view key, std::string_view value);
[[nodiscard]] Result<TruncationRecord> decode_truncation(std::string_view key,
                                                         std::string_view value);
[[nodiscard]] Result<SegmentMeta> decode_segment(std::string_view key, std::string_view value);

}  // namespace wal
