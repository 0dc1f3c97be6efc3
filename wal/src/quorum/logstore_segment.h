#pragma once
// One segment on a LogStore node: its entry index, its fence epoch, what is durable, and the
// journal writer with group commit.
//
// Memory: payloads live in the journal, not in memory. The segment keeps, per durable entry,
// where its record sits in the journal (an EntryLocation, 16 bytes), and keeps in memory only the
// payloads accepted but not yet synced (at most two batches: the one being written and the one
// collecting). Reads of durable entries go through the node's EntryCache (logstore_cache.h) and,
// on a miss, read the records back from the journal and check their CRCs. So a node's memory is
// bounded by the cache budget and the requests in flight, whatever the segment sizes.
//
// Group commit: records (entries, fences) are appended to an in-memory batch at once, so a later
// request sees them (ids are accepted in order, a fence rejects lower epochs at once). A single
// flusher per segment writes the batch with one Disk::append and one Disk::sync, then completes
// every waiter of that batch; requests arriving meanwhile collect in the next batch and share
// the next sync. So at most one append is unsynced at any time, which is what lets replay tell a
// torn tail from damage (logstore_journal.h).
//
// A failed append or sync fails the waiters of that batch and of the next one (built on top of
// it), rolls the in-memory state back to what is durable, and cuts the file back to its durable
// size. If even that fails the segment is broken: every later write fails with io_error until the
// node restarts and replays the journal.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wal/async/completion.h"
#include "wal/async/scope.h"
#include "wal/core/bytes.h"
#include "wal/env/env.h"
#include "wal/quorum/logstore.h"
#include "wal/quorum/protocol.h"

#include "logstore_cache.h"
#include "logstore_journal.h"
#include "logstore_key.h"

namespace wal::quorum {

// Whether entries read back from the journal are put into the cache: yes for client reads (the
// tail is read again by the next reader), no for bulk passes (an upload reads a segment once and
// would evict the tail).
enum class CacheFill : uint8_t { fill, bypass };

class Segment : public std::enable_shared_from_this<Segment> {
 public:
  // A segment without a journal yet. `knowledge_lost`: see journal::KnowledgeLostReason.
  Segment(Env& env, Scope& scope, LogStoreStats& stats, EntryCache& cache, SegmentRef ref,
          bool knowledge_lost);
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // Adopts a replayed journal whose valid prefix is `size_bytes` long and durable.
  void restore(const journal::JournalReplay& replay, uint64_t size_bytes);

  [[nodiscard]] const SegmentRef& ref() const { return ref_; }
  [[nodiscard]] SegmentKey key() const { return {ref_.log_id, ref_.segment_id}; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] EntryId first_entry_id() const { return ref_.first_entry_id; }
  // Entries below are accepted (in the journal or its pending batch, perhaps not yet synced).
  [[nodiscard]] EntryId appended_end() const { return durable_end_ + unsynced_.size(); }
  // Entries below are synced: durable on this node.
  [[nodiscard]] EntryId durable_end() const { return durable_end_; }
  [[nodiscard]] EntryId confirmed_end() const { return confirmed_end_; }
  // The fence epoch adds are checked against (accepted; durable once durable_fence_epoch()).
  [[nodiscard]] Epoch fence_epoch() const { return fence_epoch_; }
  [[nodiscard]] Epoch durable_fence_epoch() const { return durable_fence_epoch_; }
  [[nodiscard]] bool knowledge_lost() const { return knowledge_lost_; }
  [[nodiscard]] bool has_journal() const { return header_appended_; }
  [[nodiscard]] bool flushing() const { return flushing_; }
  [[nodiscard]] bool broken() const { return broken_; }
  // The payload size of entry `id`, from the index. Precondition: first <= id < appended_end().
  [[nodiscard]] uint32_t entry_size_bytes(EntryId id) const;
  // The payloads of [from, end), in order: accepted-but-unsynced ones from memory, durable ones
  // from the cache or, on a miss, read back from the journal (consecutive misses in one read).
  // Precondition: first_entry_id() <= from <= end <= appended_end(). ok: the payloads, perhaps
  // fewer than asked when a failed sync rolled unsynced entries back meanwhile. corrupt: a
  // journal record fails its checks (the disk changed synced bytes). not_found: the journal was
  // dropped meanwhile. Other errors: the Disk's.
  Task<Result<std::vector<SharedBytes>>> read_entries(EntryId from, EntryId end, CacheFill fill);
  // Entries accepted but not yet synced: the only payloads a segment keeps in memory itself.
  [[nodiscard]] uint64_t unsynced_entry_count() const { return unsynced_.size(); }
  [[nodiscard]] uint64_t unsynced_entry_bytes() const { return unsynced_bytes_; }

  // The segment's sealed end, once the uploader saw the seal in the MetaStore.
  [[nodiscard]] std::optional<EntryId> sealed_end() const { return sealed_end_; }
  void set_sealed_end(EntryId end);
  // Raises the confirmed end (last-add-confirmed) and wakes long-polling readers.
  void note_confirmed_end(EntryId end);

  // Accepts entries [appended_end(), appended_end() + payloads.size()).
  void append_entries(std::span<const Bytes> payloads);
  // Raises the fence epoch. Precondition: epoch > fence_epoch().
  void append_fence(Epoch epoch);
  // Waits until entries below `end` and fence epoch `fence` are durable. ok: they are. An error
  // (the Disk's, or closed after drop()): they may not be; nothing was acknowledged.
  Task<Status> wait_durable(EntryId end, Epoch fence);

  // Repair (logstore_repair.cpp): the segment is sealed at `sealed_end`, which the node now holds
  // entirely (precondition: appended_end() >= sealed_end). Journals a fence at `seal_epoch` if
  // higher than the node's, and a repaired record, syncs them, and only then answers "known"
  // again. ok: repaired. An error: nothing changed (the records may or may not be on disk; a
  // restart then finds the segment repaired or still in limbo, both true).
  Task<Status> mark_repaired(EntryId sealed_end, Epoch seal_epoch);

  // Waits until `deadline` or the next change of the durable or confirmed end.
  Task<void> wait_change(TimePoint deadline);

  // Block counts of the checkpoint manifests this node wrote (logstore_checkpoint.cpp): once the
  // segment is uploaded they are garbage, and this node deletes them before it forgets the segment
  // (a checkpoint overtaken by the seal may have written one after GC swept the segment).
  void note_checkpoint_manifest(uint64_t block_count) { checkpoint_manifests_.insert(block_count); }
  [[nodiscard]] const std::set<uint64_t>& checkpoint_manifests() const {
    return checkpoint_manifests_;
  }

  // The uploader dropped the journal: fail waiters, never write again.
  void drop();
  [[nodiscard]] bool dropped() const { return dropped_; }

 private:
  struct Batch {
    Bytes records;
    std::vector<Completion<Status>> waiters;
    EntryId end = 0;
    Epoch fence_epoch = 0;
  };
  // An entry accepted into the collecting batch: its payload until the batch is synced, and
  // where its record starts in that batch.
  struct UnsyncedEntry {
    SharedBytes payload;
    uint64_t batch_offset_bytes = 0;
  };
  void ensure_journal_header();
  void start_flush();
  static Task<void> flush_loop(std::shared_ptr<Segment> self);
  // ok: the offset in the file at which the batch landed, now synced.
  Task<Result<uint64_t>> write_batch(Bytes records);
  // The batch ending at `end` landed at `file_offset`: index its entries, cache their payloads.
  void index_synced_entries(EntryId end, uint64_t file_offset);
  Task<Result<std::vector<SharedBytes>>> read_from_journal(EntryId from, EntryId end,
                                                           CacheFill fill);
  void roll_back_to_durable(const Status& failure);
  void notify_change();

  Env& env_;
  Scope& scope_;
  LogStoreStats& stats_;
  EntryCache& cache_;
  SegmentRef ref_;
  std::string path_;
  // Durable entries [first_entry_id(), durable_end_): where each record sits in the journal.
  std::vector<journal::EntryLocation> locations_;
  // Accepted entries [durable_end_, appended_end()), in the batch being written or collecting.
  std::deque<UnsyncedEntry> unsynced_;
  uint64_t unsynced_bytes_ = 0;  // their payload bytes
  EntryId durable_end_;
  EntryId confirmed_end_;
  Epoch fence_epoch_ = 0;
  Epoch durable_fence_epoch_ = 0;
  bool knowledge_lost_;
  bool header_appended_ = false;
  bool header_durable_ = false;
  uint64_t durable_size_bytes_ = 0;  // the journal's synced length
  std::optional<EntryId> sealed_end_;
  std::set<uint64_t> checkpoint_manifests_;
  Batch pending_;
  std::optional<Batch> inflight_;
  bool flushing_ = false;
  bool broken_ = false;
  bool dropped_ = false;
  std::vector<Completion<bool>> change_waiters_;
};

}  // namespace wal::quorum
