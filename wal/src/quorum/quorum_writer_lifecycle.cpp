// QuorumWriter lifecycle: open (epoch, recovery of the open segment, first segment), ensemble
// choice, rolls and close. The append path is in quorum_writer.cpp.
#include <algorithm>

#include <fmt/format.h>

#include "wal/async/sleep.h"
#include "wal/log/segment_txn.h"
#include "wal/log/writer_epoch.h"
#include "wal/quorum/logstore.h"
#include "wal/quorum/quorum_recovery.h"
#include "wal/quorum/quorum_writer.h"

namespace wal::quorum {

Task<Result<std::unique_ptr<QuorumWriter>>> QuorumWriter::open(Env& env, LogKeys keys,
                                                               QuorumWriterOptions options) {
  std::unique_ptr<QuorumWriter> writer(new QuorumWriter(env, std::move(keys), options));
  Result<TakenEpoch> taken = co_await take_writer_epoch(env, writer->keys_, options.backoff);
  if (!taken.ok()) co_return std::move(taken).error();
  writer->epoch_ = taken->epoch;
  writer->epoch_mod_revision_ = taken->mod_revision;
  WAL_CO_TRY(co_await writer->recover_and_open_segment());
  co_return writer;
}

// Seals the segment a previous writer left open (rolls seal the old segment and create the next
// in one txn, so there is at most one), then creates our first segment after the last one.
Task<Status> QuorumWriter::recover_and_open_segment() {
  MetaStore& meta = *env_.meta_store;
  RangeRequest request;
  request.key = keys_.segment_prefix();
  request.range_end = prefix_end(keys_.segment_prefix());
  Result<RangeResponse> segments =
      co_await retry_read(env_, options_.backoff, [&] { return meta.range(request); });
  if (!segments.ok()) co_return std::move(segments).error();
  SegmentId next_segment_id = 0;
  EntryId next_first_entry_id = 0;
  for (const KeyValue& kv : segments->kvs) {
    Result<SegmentMeta> segment = decode_segment(kv.key, kv.value);
    if (!segment.ok()) co_return std::move(segment).error();
    segment->create_revision = kv.create_revision;
    if (segment->epoch > epoch_) {
      co_return make_error(Errc::fenced, fmt::format("segment {} belongs to a newer writer",
                                                     segment->segment_id));
    }
    SegmentMeta sealed = *segment;
    if (segment->state == SegmentState::open) {
      if (!segment->quorum()) {
        co_return make_error(Errc::unsupported,
                             fmt::format("segment {} of log '{}' is an open MemoryBuffer segment; "
                                         "open the log with a MemoryBuffer writer",
                                         segment->segment_id, keys_.name));
      }
      QuorumRecoveryContext context{env_, keys_, options_, epoch_, epoch_mod_revision_, scope_,
                                    stats_};
      Result<SegmentMeta> recovered =
          co_await recover_quorum_segment(context, *segment, kv.mod_revision);
      if (!recovered.ok()) co_return std::move(recovered).error();
      sealed = *recovered;
    }
    next_segment_id = sealed.segment_id + 1;
    next_first_entry_id = sealed.end_entry_id;
  }
  next_entry_id_ = next_first_entry_id;
  acknowledged_end_ = next_first_entry_id;
  co_return co_await create_segment(next_segment_id, next_first_entry_id);
}

// Three distinct registered LogStores, drawn with the writer's random stream; nodes that failed
// this writer are avoided while enough others are registered.
Task<Result<std::vector<std::string>>> QuorumWriter::choose_ensemble() {
  MetaStore& meta = *env_.meta_store;
  const std::string prefix = logstore_registry_prefix(keys_.meta_root);
  for (uint32_t attempt = 0; attempt < limits::read_attempts_max; ++attempt) {
    RangeRequest request;
    request.key = prefix;
    request.range_end = prefix_end(prefix);
    Result<RangeResponse> nodes =
        co_await retry_read(env_, options_.backoff, [&] { return meta.range(request); });
    if (!nodes.ok()) co_return std::move(nodes).error();
    std::vector<std::string> fresh;
    std::vector<std::string> all;
    for (const KeyValue& kv : nodes->kvs) {
      std::string node = kv.key.substr(prefix.size());
      if (node.empty()) continue;
      all.push_back(node);
      if (!failed_nodes_.contains(node)) fresh.push_back(node);
    }
    std::vector<std::string>& pool = fresh.size() >= 3 ? fresh : all;
    if (pool.size() >= 3) {
      for (size_t i = pool.size() - 1; i > 0; --i) {  // Fisher-Yates with the env's stream
        std::swap(pool[i], pool[env_.random.between(0, i)]);
      }
      pool.resize(3);
      if (fresh.size() >= 3) failed_nodes_.clear();
      co_return pool;
    }
    co_await backoff_sleep(env_, options_.backoff, std::min<uint32_t>(attempt, 6));
  }
  co_return make_error(Errc::unavailable, "fewer than 3 LogStores are registered");
}

Task<Status> QuorumWriter::create_segment(SegmentId segment_id, EntryId first_entry_id) {
  Result<std::vector<std::string>> ensemble = co_await choose_ensemble();
  if (!ensemble.ok()) co_return std::move(ensemble).error();
  SegmentMeta segment;
  segment.segment_id = segment_id;
  segment.state = SegmentState::open;
  segment.epoch = epoch_;
  segment.first_entry_id = first_entry_id;
  segment.checkpoint_end_entry_id = first_entry_id;
  segment.created_unix_ms = env_.clock.unix_time_ms();
  segment.ensemble = *ensemble;
  segment.uploaded = false;
  segment.upload_block_bytes = options_.upload_block_bytes_max;
  SegmentTxn txn;
  txn.create = segment;
  // Settled by reading (wal/log/segment_txn.h): a create that landed is adopted only while its
  // segment is open; one a newer writer has sealed meanwhile fences this writer.
  Result<SegmentTxnResult> created = co_await commit_segment_txn(
      SegmentTxnContext{env_, keys_, options_.backoff, epoch_, epoch_mod_revision_}, txn);
  if (!created.ok()) co_return std::move(created).error();
  start_segment(created->created->meta, created->created->mod_revision);
  co_return Status{};
}

void QuorumWriter::start_segment(SegmentMeta meta, int64_t mod_revision) {
  WAL_ASSERT(meta.state == SegmentState::open);
  WAL_ASSERT_EQ(meta.epoch, epoch_);
  WAL_ASSERT_EQ(meta.ensemble.size(), size_t{3});
  segment_ = std::move(meta);
  segment_mod_revision_ = mod_revision;
  segment_bytes_ = 0;
  ++generation_;
  replicas_.clear();
  const EntryId first = segment_.first_entry_id;
  for (const std::string& node : segment_.ensemble) {
    replicas_.push_back(Replica{node, first, first, first, false});
  }
  // Entries of the old segment at or above `first` are re-sent here with the same ids.
  while (!pending_.empty() && pending_.front().id < first) {
    pending_bytes_ -= pending_.front().payload.size();
    pending_.pop_front();
  }
  for (size_t i = 0; i < replicas_.size(); ++i) scope_.spawn(replica_sender(i, generation_));
  scope_.spawn(age_timer(generation_, env_.clock.now() + options_.segment_age_max));
}

// Rolls a segment that reached segment_age_max with an entry in it, also on an idle log:
// Woodpecker rolled only on the write path (woodpecker#357), so a quiet log's last segment
// stayed open, and on its LogStores' disks, indefinitely.
Task<void> QuorumWriter::age_timer(uint64_t generation, TimePoint roll_at) {
  WAL_ASSERT(options_.segment_age_max > Duration::zero());
  while (true) {
    co_await sleep_until(env_.clock, roll_at);
    if (generation != generation_ || closing_ || failure_) co_return;
    const bool has_entries = next_entry_id_ > segment_.first_entry_id;
    if (has_entries && !rolling_) {
      ++stats_.rolls_by_age;
      request_roll();  // the next segment's start_segment arms its own timer
      co_return;
    }
    roll_at = env_.clock.now() + options_.segment_age_max;
  }
}

// Seals the current segment at its acknowledged end once no add is in flight, and continues in
// a new segment on a new ensemble. Entries not acknowledged yet are re-sent there.
Task<void> QuorumWriter::roll_segment() {
  WAL_ASSERT(rolling_);
  while (senders_running_ > 0 && !failure_) co_await changed_.wait();
  // No add is in flight and none starts while rolling_: the end cannot move from here on.
  const EntryId end = quorum_end();
  if (!failure_) {
    WAL_ASSERT(end >= acknowledged_end_);
    complete_acknowledged();
    // A roll while appends wait that acknowledged nothing since the previous roll: back off, and
    // give up after fruitless_rolls_max of them rather than create segments forever.
    const bool appends_waiting = next_entry_id_ > acknowledged_end_;
    if (appends_waiting && acknowledged_end_ == acknowledged_at_last_roll_) {
      ++fruitless_rolls_;
      env_.faults.reached(CoverageMark::quorum_fruitless_roll);
    } else if (acknowledged_end_ != acknowledged_at_last_roll_) {
      fruitless_rolls_ = 0;
    }
    acknowledged_at_last_roll_ = acknowledged_end_;
    if (fruitless_rolls_ >= options_.fruitless_rolls_max && !closing_) {
      fail_writer(make_error(
          Errc::unavailable,
          fmt::format("{} segment rolls in a row acknowledged nothing; the last replica error: {}",
                      fruitless_rolls_,
                      last_replica_error_ ? last_replica_error_->describe() : "none")));
    } else if (fruitless_rolls_ > 1) {
      co_await backoff_sleep(env_, options_.backoff, std::min<uint32_t>(fruitless_rolls_ - 2, 6));
    }
  }
  if (!failure_) {
    SegmentMeta next;
    Result<std::vector<std::string>> ensemble = co_await choose_ensemble();
    if (!ensemble.ok()) {
      fail_writer(ensemble.error());
    } else {
      next.segment_id = segment_.segment_id + 1;
      next.state = SegmentState::open;
      next.epoch = epoch_;
      next.first_entry_id = end;
      next.checkpoint_end_entry_id = end;
      next.created_unix_ms = env_.clock.unix_time_ms();
      next.ensemble = *ensemble;
      next.uploaded = false;
      next.upload_block_bytes = options_.upload_block_bytes_max;
      const bool open_next = !closing_;
      Result<SealResult> sealed = co_await seal_quorum_segment(
          env_, keys_, options_.backoff, epoch_, epoch_mod_revision_, segment_,
          segment_mod_revision_, end, open_next ? &next : nullptr);
      if (!sealed.ok()) {
        fail_writer(sealed.error());
      } else {
        ++stats_.segments_sealed;
        if (open_next) {
          WAL_ASSERT(sealed->next.has_value());
          rolling_ = false;
          start_segment(sealed->next->meta, sealed->next->mod_revision);
        } else {
          segment_ = sealed->sealed;
        }
      }
    }
  }
  rolling_ = false;
  changed_.notify_all();
}

Task<Status> QuorumWriter::close() {
  if (closing_) co_return make_error(Errc::closed, "close() was already called");
  while (!failure_ && (acknowledged_end_ < next_entry_id_ || rolling_)) co_await changed_.wait();
  closing_ = true;
  if (failure_) co_return *failure_;
  // Seal where we are: the roll path without a next segment.
  rolling_ = true;
  changed_.notify_all();
  co_await roll_segment();
  if (failure_) co_return *failure_;
  failure_ = make_error(Errc::closed, "the writer is closed");
  changed_.notify_all();
  co_return Status{};
}

}  // namespace wal::quorum
