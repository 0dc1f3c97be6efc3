#pragma once
// One segment on a LogStore node: its entries (kept in memory for reads), its fence epoch, what
// is durable, and the journal writer with group commit.
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

#include "logstore_journal.h"

namespace wal::quorum {

struct SegmentKey {
  uint64_t log_id = 0;
  SegmentId segment_id = 0;
  auto operator<=>(const SegmentKey&) const = default;
};

class Segment : public std::enable_shared_from_this<Segment> {
 public:
  // A segment without a journal yet. `knowledge_lost`: see journal::KnowledgeLostReason.
  Segment(Env& env, Scope& scope, LogStoreStats& stats, SegmentRef ref, bool knowledge_lost);
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // Adopts a replayed journal whose valid prefix is `size_bytes` long and durable.
  void restore(const journal::JournalReplay& replay, uint64_t size_bytes);

  [[nodiscard]] const SegmentRef& ref() const { return ref_; }
  [[nodiscard]] SegmentKey key() const { return {ref_.log_id, ref_.segment_id}; }
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] EntryId first_entry_id() const { return ref_.first_entry_id; }
  // Entries below are accepted (in memory and in the journal, perhaps not yet synced).
  [[nodiscard]] EntryId appended_end() const { return ref_.first_entry_id + entries_.size(); }
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
  // Precondition: first_entry_id() <= id < appended_end().
  [[nodiscard]] const Bytes& entry(EntryId id) const;
  // Payload bytes of the entries kept in memory (all of [first_entry_id(), appended_end())).
  [[nodiscard]] uint64_t entry_bytes_in_memory() const { return entry_bytes_; }

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
  void ensure_journal_header();
  void start_flush();
  static Task<void> flush_loop(std::shared_ptr<Segment> self);
  Task<Status> write_batch(Bytes records);
  void roll_back_to_durable(const Status& failure);
  void notify_change();

  Env& env_;
  Scope& scope_;
  LogStoreStats& stats_;
  SegmentRef ref_;
  std::string path_;
  std::vector<Bytes> entries_;  // ids first_entry_id() + index
  uint64_t entry_bytes_ = 0;    // sum of their sizes
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
