#pragma once
// LogReader: reads one log in id order, from any position, and waits at the tail.
//
// Guarantees: entries come in strictly increasing id order with no gaps and no duplicates, and
// every reader sees the same bytes for the same id. A reader never returns an entry that is not
// acknowledged (open segments are read only up to the writer's published tail; sealed segments up
// to their sealed end), so what it returns can never disappear in a later recovery.
//
// Tail waits use a MetaStore watch on the log's keys (new tail, new segment, seal, truncation):
// no polling sleep. Catch-up reads of sealed segments prefetch `prefetch_blocks` blocks ahead.
//
// QuorumBuffer segments not yet uploaded are read from their LogStores through the
// SegmentReplicas given to open() (wal/log/segment_replicas.h), which returns only entries below
// the writer's last-add-confirmed; at the tail the reader long-polls a LogStore, and re-reads the
// log's metadata when a poll ends empty (the segment may have been sealed or rolled). Without
// one it reads such a segment up to its last checkpoint and then waits for the upload.
//
// next() errors:
//   out_of_range  the next entry was truncated (the message names the first entry still kept);
//                 reopen at ReadPosition::earliest() to skip ahead deliberately.
//   corrupt       a block failed its checksum, is misdirected, or a block the metadata promises
//                 is missing. Nothing is returned from it; the position does not move.
//   closed        close() was called.
//   the stores' errors once retries are exhausted (the position does not move; call again).
// Threading: the Env's executor. One next() at a time.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "wal/async/completion.h"
#include "wal/async/scope.h"
#include "wal/env/env.h"
#include "wal/format/block_codec.h"
#include "wal/format/segment_manifest.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"
#include "wal/log/options.h"
#include "wal/log/retry.h"
#include "wal/log/segment_replicas.h"

namespace wal {

struct ReadPosition {
  enum class Kind : uint8_t { earliest, latest, at };
  Kind kind = Kind::earliest;
  EntryId id = 0;
  static ReadPosition earliest() { return {Kind::earliest, 0}; }
  static ReadPosition latest() { return {Kind::latest, 0}; }
  static ReadPosition at(EntryId id) { return {Kind::at, id}; }
};

struct LogEntry {
  EntryId id = 0;
  Bytes payload;
};

struct ReaderStats {
  uint64_t blocks_read = 0;
  uint64_t manifest_reads = 0;
  uint64_t header_probes = 0;
  uint64_t metadata_reloads = 0;
};

class LogReader {
 public:
  static Task<Result<std::unique_ptr<LogReader>>> open(Env& env, LogKeys keys,
                                                       ReadPosition position,
                                                       ReaderOptions options = {},
                                                       SegmentReplicas* replicas = nullptr);
  ~LogReader();
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // The next entry, waiting for the writer if the reader is at the tail.
  Task<Result<LogEntry>> next();
  // The next entry if one is readable now; std::nullopt at the tail (never waits for a writer).
  Task<Result<std::optional<LogEntry>>> try_next();
  void close();

  [[nodiscard]] EntryId position() const { return next_id_; }
  // Entries below this were truncated, as last seen.
  [[nodiscard]] EntryId first_kept() const { return truncation_.first_kept_entry_id; }
  // First id not yet readable (the end of what is acknowledged), as last seen. For an open
  // QuorumBuffer segment not yet uploaded only its LogStores know that end: this is then
  // unbounded (entries are read from the LogStores as far as they are confirmed).
  [[nodiscard]] EntryId visible_end() const;
  // The acknowledged end now: visible_end(), except that for an open QuorumBuffer segment not yet
  // uploaded it asks the segment's LogStores for their confirmed end (the highest any known
  // replica reports; ordinary reads report only what the writer confirmed). With no LogStore
  // answering, the segment's checkpointed end: a lower bound. Never fails.
  Task<EntryId> acknowledged_end();
  [[nodiscard]] const ReaderStats& stats() const { return stats_; }

 private:
  LogReader(Env& env, LogKeys keys, ReaderOptions options, SegmentReplicas* replicas);
  Task<Status> load_metadata();
  Status apply(const KeyValue& kv);
  void apply_delete(const std::string& key);
  Task<Status> wait_for_change();
  // ok(true): block_ now holds next_id_; ok(false): nothing readable yet.
  Task<Result<bool>> load_block_for_next();
  Task<Result<uint64_t>> find_block_index(const SegmentMeta& segment, EntryId id);
  Task<Result<DecodedBlock>> fetch_block(const SegmentMeta& segment, uint64_t block_index,
                                         std::optional<EntryId> expected_first);
  void start_prefetch(const SegmentMeta& segment, uint64_t block_index);
  [[nodiscard]] const SegmentMeta* segment_for(EntryId id) const;
  [[nodiscard]] EntryId segment_visible_end(const SegmentMeta& segment) const;
  // QuorumBuffer (log_reader_quorum.cpp): entries from a LogStore into quorum_buffer_.
  // ok(true): the buffer now starts at next_id_; ok(false): nothing readable (after waiting up
  // to wait_ms for a writer).
  Task<Result<bool>> load_from_logstores(const SegmentMeta& segment, uint32_t wait_ms);
  [[nodiscard]] std::optional<LogEntry> take_buffered();
  [[nodiscard]] const SegmentMeta* unuploaded_quorum_segment_at_next() const;

  Env& env_;
  LogKeys keys_;
  ReaderOptions options_;
  SegmentReplicas* replicas_;  // null: QuorumBuffer segments are read from object storage only
  Backoff backoff_;
  std::map<SegmentId, SegmentMeta> segments_;
  TailRecord tail_;
  TruncationRecord truncation_;
  int64_t seen_revision_ = 0;
  std::unique_ptr<Watch> watch_;
  bool closed_ = false;

  EntryId next_id_ = 0;
  std::optional<DecodedBlock> block_;  // holds next_id_ when set
  std::deque<Bytes> quorum_buffer_;    // entries from a LogStore, ids quorum_buffer_first_...
  EntryId quorum_buffer_first_ = 0;
  size_t quorum_replica_ = 0;          // the ensemble member read last (tried first next time)
  SegmentId block_segment_id_ = 0;
  uint64_t block_index_ = 0;
  std::map<uint64_t, Completion<Result<ObjectData>>> prefetched_;  // of prefetch_segment_id_
  SegmentId prefetch_segment_id_ = 0;
  ReaderStats stats_;
  Scope scope_;  // last: prefetch tasks die before the members they use
};

}  // namespace wal
