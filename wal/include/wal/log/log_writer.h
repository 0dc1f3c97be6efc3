#pragma once
// LogWriter: the single writer of a MemoryBuffer log. Entries are buffered and flushed as block
// objects straight to the ObjectStore; there are no LogStore nodes.
//
// Guarantees:
//  - append() completes, in call order, with the entry's id once the entry is durable in object
//    storage (its block and every earlier block of the log are stored). Ids are dense per log.
//  - Opening a writer fences the previous one by token, never by timing (FencingMode). A fenced
//    writer's appends fail with Errc::fenced; nothing it sends after the fence becomes visible.
//  - Group commit without a timer: with fewer than inflight_blocks_max PUTs in flight a block is
//    sent at once; under load entries collect into larger blocks. append() waits (back-pressure)
//    while inflight_bytes_max bytes are buffered or uploading.
//  - Segments roll by size and by age (a timer, so an idle log rolls too); rolling seals the old
//    segment with its exact end and creates the next one in one MetaStore transaction.
//
// Idempotent appends: append(payload, AppendKey{producer_id, sequence}). A producer (any id but
// 0, stable across its restarts) numbers its appends with strictly increasing sequences (gaps
// allowed) and, after an unknown outcome, retries with the same key, through this writer or a
// later one. Each key is applied at most once:
//   - the key is the producer's last one in the log (acknowledged here, or recovered from
//     storage by this writer's open): returns the id it already has; nothing is added. This
//     holds even on a writer that has failed or is closing. The payload is not compared: the
//     key alone identifies the append.
//   - the key is accepted but not acknowledged yet (in flight here): waits for that append and
//     returns its result; no second entry is written.
//   - the sequence is below the producer's last one (acknowledged or in flight): invalid_argument,
//     definite; nothing is added. The lower sequence is either in the log already (below the last
//     one's id: a producer that never skips a sequence after an unknown outcome knows it is) or
//     was never appended; the writer keeps only the last sequence per producer.
//   - otherwise: a new entry, as for an append without key.
// The key is stored with the entry (docs/format.md "Entry keys"); readers never see it. The
// producer table travels in checkpoint and footer manifests, so the next writer rebuilds it in
// O(1) reads (the last manifest plus the blocks its recovery probes anyway); each segment
// created with a non-empty table stores it as its base manifest, so truncation and garbage
// collection of earlier segments never lose it. Limit: at most WriterOptions::producers_max
// producers are remembered (the one whose last entry is oldest is forgotten first); a
// forgotten key is appended again.
//
// append() errors:
//   too_large    the entry exceeds limits::entry_size_bytes_max (definite; writer unaffected).
//   invalid_argument  key.producer_id is 0, or the sequence is below the producer's last one
//                (definite; writer unaffected).
//   fenced       a newer writer took over. Definite (the entry will never be visible) in
//                fence_object mode; in meta_confirm mode an entry whose block had already landed
//                fails with Outcome::unknown (the new writer's recovery may have included it),
//                and so it does in either mode when the object at the block's key vanished
//                while being settled (the segment was taken over and garbage-collected).
//   closed       close() was called or the writer failed (definite: never acknowledged and never
//                visible, because the next writer fences at the first unacknowledged block).
//   other        a non-retryable store error (permission_denied, ...), definite as for closed.
// A duplicate that joined an in-flight append gets exactly that append's result, error included.
// Retryable store errors and unknown PUT outcomes are settled and retried internally (the PUT is
// create-only, so a retry can never duplicate an entry); appends wait meanwhile.
//
// Threading: all calls on the Env's executor. The writer owns its background tasks; destroying
// it without close() abandons pending appends (as a crash would) and is safe.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "wal/async/completion.h"
#include "wal/async/notify.h"
#include "wal/async/scope.h"
#include "wal/env/env.h"
#include "wal/format/append_key.h"
#include "wal/format/block_builder.h"
#include "wal/format/segment_manifest.h"
#include "wal/log/block_outcome.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"
#include "wal/log/options.h"
#include "wal/log/producer_table.h"
#include "wal/log/segment_txn.h"

namespace wal {

struct WriterStats {
  uint64_t blocks_put = 0;
  uint64_t put_attempts = 0;
  uint64_t unknown_outcomes_settled = 0;
  uint64_t segments_sealed = 0;
  uint64_t checkpoints_written = 0;
  uint64_t bytes_acknowledged = 0;
  uint64_t duplicate_appends = 0;  // keyed appends answered without a new entry
};

class LogWriter {
 public:
  // Bumps the log's epoch (fencing any previous writer), recovers and seals a segment a previous
  // writer left open, and opens a new segment. Errors: not_found (no such log), fenced (another
  // writer opened concurrently and won), corrupt (metadata or a block is malformed), and the
  // stores' errors (an unknown MetaStore outcome is settled by reading before returning).
  static Task<Result<std::unique_ptr<LogWriter>>> open(Env& env, LogKeys keys,
                                                       WriterOptions options);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // See the top of this header. `key`: optional; with one the append is idempotent.
  Task<Result<EntryId>> append(Bytes payload, std::optional<AppendKey> key = {});

  // Waits for every accepted append, then seals the current segment so the next writer has
  // nothing to recover. Later appends fail with closed. ok, or the first error met.
  Task<Status> close();

  [[nodiscard]] Epoch epoch() const { return epoch_; }
  [[nodiscard]] EntryId next_entry_id() const { return next_entry_id_; }
  [[nodiscard]] EntryId acknowledged_end() const { return acknowledged_end_; }
  [[nodiscard]] SegmentId segment_id() const { return segment_.segment_id; }
  [[nodiscard]] const WriterStats& stats() const { return stats_; }
  // Acknowledged or recovered keys: each producer's last sequence and its entry.
  [[nodiscard]] const ProducerTable& producers() const { return producers_; }

 private:
  // Accepted entries not sent yet, already encoded (BlockBuilder): blocks that are full and wait
  // for a PUT slot, then at the back the open block, which takes new entries. Entries are
  // packed greedily in id order, so blocks are cut where cutting a queue of entries would cut.
  struct UnsentBlock {
    UnsentBlock(Executor& executor, EntryId first, uint64_t capacity_bytes, Bytes recycled)
        : first_entry_id(first),
          builder(capacity_bytes, std::move(recycled)),
          outcome(executor, first) {}
    EntryId first_entry_id = 0;
    BlockBuilder builder;
    BlockOutcome outcome;  // what its appends wait for, one slot per entry
    std::vector<AppendKey> keys;  // as InflightBlock::keys
    uint64_t payload_bytes = 0;
  };
  // A keyed append accepted but not acknowledged; duplicates wait on `joiners`.
  struct PendingKey {
    EntryId id = 0;
    std::vector<Completion<Result<EntryId>>> joiners;
  };
  // What an append's key means right now (check_key).
  struct KeyCheck {
    enum class Kind : uint8_t { fresh, duplicate, pending, stale } kind = Kind::fresh;
    EntryId id = 0;              // duplicate: the entry holding the key
    std::optional<Error> error;  // stale
  };
  enum class BlockState : uint8_t { uploading, durable, failed };
  struct InflightBlock {
    BlockOutcome outcome;  // what its appends wait for, one slot per entry
    uint64_t block_index = 0;
    EntryId first_entry_id = 0;
    std::vector<AppendKey> keys;  // one per entry (producer 0: none), or empty: no keyed entry
    uint64_t payload_bytes = 0;   // the entries as appended, for back-pressure accounting
    // The block as stored; shared with the store while a PUT runs, so it is never copied.
    // Released once durable (only retries and settle_existing read it), to spare_buffers_.
    std::shared_ptr<Bytes> encoded;
    ManifestBlock record;
    BlockState state = BlockState::uploading;
    std::optional<Error> error;  // when failed
  };

  LogWriter(Env& env, LogKeys keys, WriterOptions options);

  Task<Status> bump_epoch();
  Task<Status> recover_and_open_segment();
  Task<Status> create_segment(SegmentId segment_id, EntryId first_entry_id);
  // For commit_segment_txn (wal/log/segment_txn.h): the epoch and backoff of this writer.
  [[nodiscard]] SegmentTxnContext segment_txn_context();
  void start_segment(SegmentMeta meta, int64_t mod_revision);

  [[nodiscard]] KeyCheck check_key(const AppendKey& key) const;
  Task<Result<EntryId>> answer_duplicate(AppendKey key, KeyCheck check);
  void settle_key(const AppendKey& key, const Result<EntryId>& result);
  void settle_keys(const InflightBlock& block, size_t entry_index, const Result<EntryId>& result);
  Task<Status> load_producers(const SegmentMeta& sealed);
  Task<Status> load_producers_at_start(const SegmentMeta& open,
                                       const std::optional<SegmentMeta>& previous);
  Task<Status> write_base_manifest(SegmentMeta& segment);  // sets segment.producer_table

  // Encodes an accepted entry into the open block (opening one when it would not fit).
  // Returns the block's outcome and the entry's index in it, for the append to wait on.
  std::pair<BlockOutcome, uint32_t> add_to_unsent(EntryId id, ByteView payload,
                                                  const std::optional<AppendKey>& key);
  void maybe_flush();
  void start_block();
  Task<void> upload(uint64_t block_index);
  Task<Status> settle_existing(uint64_t block_index);  // ok: our block is there
  void on_block_done(uint64_t block_index, Status status);
  void advance_acknowledgements();
  Task<void> confirm_epoch_then_acknowledge();
  void acknowledge_front_block();
  void fail_from(size_t inflight_index, const Error& error);
  void fail_writer(const Error& error, Outcome in_flight_outcome);
  // A MetaStore compare showed a newer epoch: stop metadata updates, fail the appends not yet
  // sent (definitely: they never will be) and refuse new ones, so the newer writer's recovery
  // has a bounded tail to probe. Blocks in flight still resolve through the data path.
  void lose_epoch(const std::string& where);
  // Settles every unsent block's appends (and keys) with `error`, which must be definite: they
  // were never put. Frees their bytes.
  void fail_unsent(const Error& error);
  // Wakes every append waiting for its turn; each then sees the writer's state and returns.
  void release_append_waiters();
  void wake_next_append();
  // A durable block's buffer, for the next block to reuse (when nobody else holds it).
  void recycle_buffer(std::shared_ptr<Bytes> encoded);
  [[nodiscard]] Bytes take_spare_buffer();
  Task<void> roll_segment();
  Task<Status> seal_and_open_next(bool open_next);
  Task<void> write_checkpoint();
  Task<void> publish_tail();
  Task<void> age_timer(SegmentId segment_id, TimePoint roll_at);
  Task<void> wait_until_quiet();  // no block in flight and no checkpoint running
  Task<void> retry_pause(uint32_t attempt);
  [[nodiscard]] Status writer_status() const;
  InflightBlock* find_block(uint64_t block_index);
  [[nodiscard]] uint64_t unacknowledged_entry_count() const;

  Env& env_;
  LogKeys keys_;
  WriterOptions options_;
  Epoch epoch_ = 0;
  int64_t epoch_mod_revision_ = 0;  // compares on it prove we still hold the epoch

  SegmentMeta segment_;
  int64_t segment_mod_revision_ = 0;
  std::vector<ManifestBlock> segment_blocks_;  // acknowledged blocks of the current segment
  uint64_t segment_bytes_ = 0;                 // encoded bytes sent to the current segment

  EntryId next_entry_id_ = 0;      // the id the next append gets
  EntryId acknowledged_end_ = 0;   // every id below is acknowledged
  EntryId tail_published_end_ = 0;
  std::optional<TimePoint> tail_publish_started_at_;  // of the latest publication, if any
  std::deque<UnsentBlock> unsent_;  // accepted, not yet sent; the back one is open
  std::deque<InflightBlock> inflight_;  // in block order
  uint64_t next_block_index_ = 0;
  // PUTs running: a slot is free while this is below inflight_blocks_max. A durable block that
  // waits for an earlier one to be acknowledged no longer holds a slot.
  uint32_t puts_running_ = 0;
  uint64_t inflight_bytes_ = 0;  // buffered + uploading
  ProducerTable producers_;      // acknowledged and recovered keys
  std::map<std::pair<uint64_t, uint64_t>, PendingKey> pending_keys_;  // (producer, sequence)

  TimePoint segment_started_at_{};
  bool rolling_ = false;
  bool closing_ = false;
  bool confirm_running_ = false;
  bool checkpoint_running_ = false;
  bool tail_publish_running_ = false;
  bool epoch_lost_ = false;       // a MetaStore compare showed a newer epoch (lose_epoch)
  std::optional<Error> failure_;  // sticky: once set, every append fails with it
  uint64_t next_append_ticket_ = 0;     // back-pressure queue: tickets handed out
  uint64_t serving_append_ticket_ = 0;  // the ticket that may go next
  struct AppendWaiter {
    Completion<bool> turn;
    uint64_t payload_bytes = 0;  // what it will add to inflight_bytes_
  };
  std::map<uint64_t, AppendWaiter> append_waiters_;  // by ticket: appends waiting for space
  // Buffers of durable blocks, reused by the next blocks. Two: a block is cut about when an
  // earlier one turns durable, so the pool rarely runs dry, and a writer keeps at most two
  // blocks' worth of memory it is not using.
  static constexpr size_t spare_buffers_max = 2;
  std::vector<Bytes> spare_buffers_;
  Notify changed_;  // a block was acknowledged or failed, a checkpoint or roll finished
  WriterStats stats_;
  Scope scope_;  // last: destroyed first, so background tasks never outlive the members
};

}  // namespace wal
