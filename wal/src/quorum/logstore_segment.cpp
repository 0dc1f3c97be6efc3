// A LogStore segment's state and its journal writer with group commit (logstore_segment.h).
#include "logstore_segment.h"

#include <algorithm>

namespace wal::quorum {

Segment::Segment(Env& env, Scope& scope, LogStoreStats& stats, SegmentRef ref,
                 bool knowledge_lost)
    : env_(env),
      scope_(scope),
      stats_(stats),
      ref_(std::move(ref)),
      path_(journal::journal_path(ref_.log_id, ref_.segment_id)),
      durable_end_(ref_.first_entry_id),
      confirmed_end_(ref_.first_entry_id),
      knowledge_lost_(knowledge_lost) {
  WAL_ASSERT(env.disk != nullptr);
}

void Segment::restore(const journal::JournalReplay& replay, uint64_t size_bytes) {
  WAL_ASSERT(replay.segment.has_value());
  WAL_ASSERT(*replay.segment == ref_);
  WAL_ASSERT(entries_.empty());
  entries_ = replay.entries;
  for (const Bytes& payload : entries_) entry_bytes_ += payload.size();
  durable_end_ = appended_end();
  // Planted bug quorum_fence_in_memory_only: the fence never reached the journal, so a restart
  // forgets it.
  fence_epoch_ = durable_fence_epoch_ =
      env_.faults.bug(SimBug::quorum_fence_in_memory_only) ? 0 : replay.fence_epoch;
  knowledge_lost_ = knowledge_lost_ || replay.knowledge_lost;
  header_appended_ = header_durable_ = true;
  durable_size_bytes_ = size_bytes;
  if (replay.sealed_end) set_sealed_end(*replay.sealed_end);
}

const Bytes& Segment::entry(EntryId id) const {
  WAL_ASSERT_GE(id, first_entry_id());
  WAL_ASSERT_LT(id, appended_end());
  return entries_[id - first_entry_id()];
}

void Segment::set_sealed_end(EntryId end) {
  sealed_end_ = end;
  // Everything below a sealed end is acknowledged, whatever the last add said.
  note_confirmed_end(end);
}

void Segment::note_confirmed_end(EntryId end) {
  if (end <= confirmed_end_) return;
  confirmed_end_ = end;
  notify_change();
}

void Segment::ensure_journal_header() {
  if (header_appended_) return;
  WAL_ASSERT(pending_.records.empty());
  journal::append_header_record(pending_.records, ref_);
  if (knowledge_lost_) {
    journal::append_knowledge_lost_record(
        pending_.records, journal::KnowledgeLostReason::disk_initialised_after_segment);
  }
  header_appended_ = true;
}

void Segment::append_entries(std::span<const Bytes> payloads) {
  WAL_ASSERT(!dropped_);
  if (payloads.empty()) return;
  ensure_journal_header();
  for (const Bytes& payload : payloads) {
    journal::append_entry_record(pending_.records, appended_end(), payload);
    entries_.push_back(payload);
    entry_bytes_ += payload.size();
  }
  stats_.entries_stored += payloads.size();
}

Task<Status> Segment::mark_repaired(EntryId sealed_end, Epoch seal_epoch) {
  WAL_ASSERT(!dropped_);
  WAL_ASSERT_GE(appended_end(), sealed_end);
  if (seal_epoch > fence_epoch_) append_fence(seal_epoch);
  ensure_journal_header();
  journal::append_repaired_record(pending_.records, sealed_end);
  // Waits for the batch holding the record (wait_durable alone could return at once when the
  // entries and the fence were durable already).
  Completion<Status> done(env_.executor);
  pending_.waiters.push_back(done);
  start_flush();
  Status synced = co_await done.wait();
  if (!synced.ok()) co_return synced;
  if (durable_end_ < sealed_end) co_return make_error(Errc::io_error, "repair entries not durable");
  knowledge_lost_ = false;
  set_sealed_end(sealed_end);
  co_return Status{};
}

void Segment::append_fence(Epoch epoch) {
  WAL_ASSERT(!dropped_);
  WAL_ASSERT_GT(epoch, fence_epoch_);
  ensure_journal_header();
  journal::append_fence_record(pending_.records, epoch);
  fence_epoch_ = epoch;
}

Task<Status> Segment::wait_durable(EntryId end, Epoch fence) {
  WAL_ASSERT_LE(end, appended_end());
  WAL_ASSERT_LE(fence, fence_epoch_);
  if (durable_end_ >= end && durable_fence_epoch_ >= fence) co_return Status{};
  if (dropped_) co_return make_error(Errc::closed, "the segment's journal was dropped");
  if (broken_) co_return make_error(Errc::io_error, "the segment's journal cannot be written");
  Completion<Status> done(env_.executor);
  if (inflight_ && inflight_->end >= end && inflight_->fence_epoch >= fence) {
    inflight_->waiters.push_back(done);
  } else {
    pending_.waiters.push_back(done);
    start_flush();
  }
  co_return co_await done.wait();
}

void Segment::start_flush() {
  if (flushing_) return;
  flushing_ = true;
  scope_.spawn(flush_loop(shared_from_this()));
}

// One batch at a time: append, sync, complete its waiters; repeat while more collected.
Task<void> Segment::flush_loop(std::shared_ptr<Segment> self) {
  while (!self->pending_.waiters.empty() || !self->pending_.records.empty()) {
    if (self->dropped_) break;
    Batch batch = std::exchange(self->pending_, Batch{});
    batch.end = self->appended_end();
    batch.fence_epoch = self->fence_epoch_;
    Bytes records = std::move(batch.records);
    self->inflight_ = std::move(batch);
    Status status = co_await self->write_batch(std::move(records));
    Batch done = std::move(*self->inflight_);
    self->inflight_.reset();
    if (status.ok()) {
      self->durable_end_ = std::max(self->durable_end_, done.end);
      self->durable_fence_epoch_ = std::max(self->durable_fence_epoch_, done.fence_epoch);
      if (self->header_appended_) self->header_durable_ = true;
    } else {
      self->roll_back_to_durable(status);
      // Cut the unsynced bytes off, so later records follow the durable prefix directly.
      Status truncated = co_await self->env_.disk->truncate(self->path_, self->durable_size_bytes_);
      if (truncated.ok()) truncated = co_await self->env_.disk->sync(self->path_);
      if (!truncated.ok() && truncated.error().code != Errc::not_found) self->broken_ = true;
    }
    for (Completion<Status>& waiter : done.waiters) waiter.set(status);
    self->notify_change();
  }
  self->flushing_ = false;
  if (self->dropped_) {
    for (Completion<Status>& waiter : self->pending_.waiters) {
      waiter.set(make_error(Errc::closed, "the segment's journal was dropped"));
    }
    self->pending_ = Batch{};
  }
}

Task<Status> Segment::write_batch(Bytes records) {
  if (records.empty()) co_return Status{};
  const uint64_t size_bytes = records.size();
  Result<uint64_t> offset = co_await env_.disk->append(path_, std::move(records));
  if (!offset.ok()) co_return std::move(offset).error();
  ++stats_.fsyncs;
  Status synced = co_await env_.disk->sync(path_);
  if (!synced.ok()) co_return synced;
  durable_size_bytes_ = *offset + size_bytes;
  co_return Status{};
}

// After a failed write nothing past the durable state was acknowledged: forget it, and fail the
// requests that were waiting on top of it.
void Segment::roll_back_to_durable(const Status& failure) {
  const size_t kept = durable_end_ - first_entry_id();
  for (size_t i = kept; i < entries_.size(); ++i) entry_bytes_ -= entries_[i].size();
  entries_.resize(kept);
  fence_epoch_ = durable_fence_epoch_;
  header_appended_ = header_durable_;
  for (Completion<Status>& waiter : pending_.waiters) waiter.set(failure);
  pending_ = Batch{};
}

Task<void> Segment::wait_change(TimePoint deadline) {
  Completion<bool> woken(env_.executor);
  change_waiters_.push_back(woken);
  const TimerId timer = env_.clock.call_at(deadline, [woken]() mutable { woken.set(false); });
  (void)co_await woken.wait();
  env_.clock.cancel(timer);
}

void Segment::notify_change() {
  std::vector<Completion<bool>> waiters = std::move(change_waiters_);
  change_waiters_.clear();
  for (Completion<bool>& waiter : waiters) waiter.set(true);
}

void Segment::drop() {
  dropped_ = true;
  for (Completion<Status>& waiter : pending_.waiters) {
    waiter.set(make_error(Errc::closed, "the segment's journal was dropped"));
  }
  pending_ = Batch{};
  notify_change();
}

}  // namespace wal::quorum
