// A LogStore segment's state and its journal writer with group commit (logstore_segment.h).
#include "logstore_segment.h"

#include <algorithm>

namespace wal::quorum {

Segment::Segment(Env& env, Scope& scope, LogStoreStats& stats, EntryCache& cache, SegmentRef ref,
                 bool knowledge_lost)
    : env_(env),
      scope_(scope),
      stats_(stats),
      cache_(cache),
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
  WAL_ASSERT(locations_.empty());
  WAL_ASSERT(unsynced_.empty());
  locations_ = replay.entries;
  durable_end_ = first_entry_id() + locations_.size();
  // Planted bug quorum_fence_in_memory_only: the fence never reached the journal, so a restart
  // forgets it.
  fence_epoch_ = durable_fence_epoch_ =
      env_.faults.bug(SimBug::quorum_fence_in_memory_only) ? 0 : replay.fence_epoch;
  knowledge_lost_ = knowledge_lost_ || replay.knowledge_lost;
  header_appended_ = header_durable_ = true;
  durable_size_bytes_ = size_bytes;
  if (replay.sealed_end) set_sealed_end(*replay.sealed_end);
}

uint32_t Segment::entry_size_bytes(EntryId id) const {
  WAL_ASSERT_GE(id, first_entry_id());
  WAL_ASSERT_LT(id, appended_end());
  if (id < durable_end_) return locations_[id - first_entry_id()].payload_size_bytes;
  return static_cast<uint32_t>(unsynced_[id - durable_end_].payload->size());
}

Task<Result<std::vector<SharedBytes>>> Segment::read_entries(EntryId from, EntryId end,
                                                             CacheFill fill) {
  WAL_ASSERT_GE(from, first_entry_id());
  WAL_ASSERT_LE(from, end);
  WAL_ASSERT_LE(end, appended_end());
  std::shared_ptr<Segment> self = shared_from_this();  // alive across the disk reads
  std::vector<SharedBytes> payloads;
  payloads.reserve(end - from);
  EntryId id = from;
  // appended_end() is read again after every wait: a failed sync may roll unsynced entries back.
  while (id < std::min(end, appended_end())) {
    if (id >= durable_end_) {
      payloads.push_back(unsynced_[id - durable_end_].payload);
      ++id;
      continue;
    }
    if (SharedBytes cached = cache_.find(key(), id)) {
      payloads.push_back(std::move(cached));
      ++id;
      continue;
    }
    // One disk read for the whole run of uncached durable entries.
    EntryId run_end = id + 1;
    while (run_end < std::min(end, durable_end_) && !cache_.contains(key(), run_end)) {
      ++stats_.entry_cache_misses;  // find() counted the run's first
      ++run_end;
    }
    Result<std::vector<SharedBytes>> run = co_await read_from_journal(id, run_end, fill);
    if (!run.ok()) co_return std::move(run).error();
    for (SharedBytes& payload : *run) payloads.push_back(std::move(payload));
    id = run_end;
  }
  WAL_ASSERT_LE(payloads.size(), end - from);
  co_return payloads;
}

Task<Result<std::vector<SharedBytes>>> Segment::read_from_journal(EntryId from, EntryId end,
                                                                  CacheFill fill) {
  WAL_ASSERT_LT(from, end);
  WAL_ASSERT_LE(end, durable_end_);
  const journal::EntryLocation first = locations_[from - first_entry_id()];
  const journal::EntryLocation last = locations_[end - 1 - first_entry_id()];
  const uint64_t length = last.record_offset +
                          journal::entry_record_size_bytes(last.payload_size_bytes) -
                          first.record_offset;
  ++stats_.journal_reads;
  Result<Bytes> bytes = co_await env_.disk->read(path_, first.record_offset, length);
  if (!bytes.ok()) co_return std::move(bytes).error();
  if (bytes->size() != length) {
    co_return make_error(Errc::corrupt, path_ + " is shorter than the entries it holds");
  }
  std::vector<SharedBytes> payloads;
  payloads.reserve(end - from);
  for (EntryId id = from; id < end; ++id) {
    // Durable entries are never rolled back, so their locations still hold after the wait.
    const journal::EntryLocation at = locations_[id - first_entry_id()];
    const ByteView record =
        ByteView(*bytes).subspan(at.record_offset - first.record_offset,
                                 journal::entry_record_size_bytes(at.payload_size_bytes));
    Result<ByteView> payload = journal::decode_entry_record(record, id, at.payload_size_bytes);
    if (!payload.ok()) co_return make_error(Errc::corrupt, path_ + ": " + payload.error().message);
    payloads.push_back(std::make_shared<const Bytes>(payload->begin(), payload->end()));
    // A dropped segment's entries left the cache for good (drop()).
    if (fill == CacheFill::fill && !dropped_) cache_.insert(key(), id, payloads.back());
  }
  WAL_ASSERT_EQ(payloads.size(), end - from);
  co_return payloads;
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
    const uint64_t batch_offset_bytes = pending_.records.size();
    journal::append_entry_record(pending_.records, appended_end(), payload);
    unsynced_.push_back(UnsyncedEntry{std::make_shared<const Bytes>(payload), batch_offset_bytes});
    unsynced_bytes_ += payload.size();
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
    Result<uint64_t> written = co_await self->write_batch(std::move(records));
    const Status status = written.ok() ? Status{} : Status(written.error());
    Batch done = std::move(*self->inflight_);
    self->inflight_.reset();
    if (status.ok()) {
      self->index_synced_entries(done.end, *written);
      self->durable_fence_epoch_ = std::max(self->durable_fence_epoch_, done.fence_epoch);
      if (self->header_appended_) self->header_durable_ = true;
    } else {
      ++self->stats_.journal_write_errors;
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

Task<Result<uint64_t>> Segment::write_batch(Bytes records) {
  if (records.empty()) co_return durable_size_bytes_;
  const uint64_t size_bytes = records.size();
  Result<uint64_t> offset = co_await env_.disk->append(path_, std::move(records));
  if (!offset.ok()) co_return std::move(offset).error();
  ++stats_.fsyncs;
  Status synced = co_await env_.disk->sync(path_);
  if (!synced.ok()) co_return synced.error();
  durable_size_bytes_ = *offset + size_bytes;
  co_return *offset;
}

void Segment::index_synced_entries(EntryId end, uint64_t file_offset) {
  WAL_ASSERT_EQ(durable_end_, first_entry_id() + locations_.size());
  while (durable_end_ < end) {
    WAL_ASSERT(!unsynced_.empty());
    UnsyncedEntry entry = std::move(unsynced_.front());
    unsynced_.pop_front();
    const uint32_t size_bytes = static_cast<uint32_t>(entry.payload->size());
    WAL_ASSERT_GE(unsynced_bytes_, size_bytes);
    unsynced_bytes_ -= size_bytes;
    const uint64_t record_offset = file_offset + entry.batch_offset_bytes;
    WAL_ASSERT_LE(record_offset + journal::entry_record_size_bytes(size_bytes),
                  durable_size_bytes_);
    locations_.push_back(journal::EntryLocation{record_offset, size_bytes});
    // Just durable: the tail, which tailing readers ask for next.
    cache_.insert(key(), durable_end_, std::move(entry.payload));
    ++durable_end_;
  }
  WAL_ASSERT_EQ(durable_end_, first_entry_id() + locations_.size());
}

// After a failed write nothing past the durable state was acknowledged: forget it, and fail the
// requests that were waiting on top of it.
void Segment::roll_back_to_durable(const Status& failure) {
  unsynced_.clear();
  unsynced_bytes_ = 0;
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
  cache_.erase_segment(key());
  for (Completion<Status>& waiter : pending_.waiters) {
    waiter.set(make_error(Errc::closed, "the segment's journal was dropped"));
  }
  pending_ = Batch{};
  notify_change();
}

}  // namespace wal::quorum
