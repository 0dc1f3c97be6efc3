// LogWriter lifecycle: open (epoch bump, recovery, first segment), segment rolls, checkpoints,
// tail publication, the age timer and close. The append path is in log_writer.cpp.
#include "wal/log/log_writer.h"
#include "wal/log/retry.h"
#include "wal/log/segment_recovery.h"
#include "wal/log/segment_txn.h"
#include "wal/log/writer_epoch.h"

namespace wal {

Task<Result<std::unique_ptr<LogWriter>>> LogWriter::open(Env& env, LogKeys keys,
                                                         WriterOptions options) {
  std::unique_ptr<LogWriter> writer(new LogWriter(env, std::move(keys), options));
  WAL_CO_TRY(co_await writer->bump_epoch());
  WAL_CO_TRY(co_await writer->recover_and_open_segment());
  co_return writer;
}

// Takes the next epoch (wal/log/writer_epoch.h): the newest opener wins, and the loser's later
// compares fail.
Task<Status> LogWriter::bump_epoch() {
  const Backoff backoff{options_.retry_backoff_min, options_.retry_backoff_max};
  Result<TakenEpoch> taken = co_await take_writer_epoch(env_, keys_, backoff);
  if (!taken.ok()) co_return std::move(taken).error();
  epoch_ = taken->epoch;
  epoch_mod_revision_ = taken->mod_revision;
  co_return Status{};
}

// Seals every segment a previous writer left open (at most one: rolls seal the old segment and
// create the next in one txn), then creates our first segment after the last one.
Task<Status> LogWriter::recover_and_open_segment() {
  MetaStore& meta = *env_.meta_store;
  const Backoff backoff{options_.retry_backoff_min, options_.retry_backoff_max};
  RangeRequest request;
  request.key = keys_.segment_prefix();
  request.range_end = prefix_end(keys_.segment_prefix());
  Result<RangeResponse> segments =
      co_await retry_read(env_, backoff, [&] { return meta.range(request); });
  if (!segments.ok()) co_return std::move(segments).error();
  SegmentId next_segment_id = 0;
  EntryId next_first_entry_id = 0;
  std::optional<SegmentMeta> previous;  // the last sealed segment before the one at hand
  bool producers_recovered = false;     // recovery of the last segment rebuilt producers_
  for (const KeyValue& kv : segments->kvs) {
    Result<SegmentMeta> segment = decode_segment(kv.key, kv.value);
    if (!segment.ok()) co_return std::move(segment).error();
    if (segment->epoch > epoch_) {
      co_return make_error(Errc::fenced, "segment " + std::to_string(segment->segment_id) +
                                             " belongs to a newer writer");
    }
    SegmentMeta sealed = *segment;
    producers_recovered = false;
    if (segment->state == SegmentState::open) {
      // Without a checkpoint, recovery starts from the table the segment started with.
      if (segment->checkpoint_block_count == 0) {
        WAL_CO_TRY(co_await load_producers_at_start(*segment, previous));
      }
      RecoveryContext context{env_, keys_, options_, epoch_, epoch_mod_revision_};
      Result<SealedSegment> recovered = co_await recover_and_seal(
          context, *segment, kv.mod_revision, producers_.snapshot());
      if (!recovered.ok()) co_return std::move(recovered).error();
      sealed = recovered->meta;
      producers_.load(recovered->producers);
      producers_recovered = true;
    }
    next_segment_id = sealed.segment_id + 1;
    next_first_entry_id = sealed.end_entry_id;
    previous = sealed;
  }
  if (!producers_recovered && previous) WAL_CO_TRY(co_await load_producers(*previous));
  co_return co_await create_segment(next_segment_id, next_first_entry_id);
}

// Loads the producer table from a sealed segment's footer; a footer without one (a log that
// never used keys, or a segment sealed before keys existed) leaves the table empty. One GET,
// and only for segments whose metadata says the footer has a table.
Task<Status> LogWriter::load_producers(const SegmentMeta& sealed) {
  WAL_ASSERT(sealed.state == SegmentState::sealed);
  if (!sealed.producer_table) {
    producers_.load({});
    co_return Status{};
  }
  const Backoff backoff{options_.retry_backoff_min, options_.retry_backoff_max};
  Result<SegmentManifest> footer =
      co_await read_manifest(env_, keys_, sealed.segment_id, sealed.block_count, backoff);
  if (!footer.ok()) co_return std::move(footer).error();
  producers_.load(footer->producers);
  co_return Status{};
}

// The table an open segment without checkpoint started with: its base manifest m0 when its
// metadata says it has one; otherwise (the table was empty, or the segment was created before
// base manifests existed) the previous segment's footer, if that segment still exists.
Task<Status> LogWriter::load_producers_at_start(const SegmentMeta& open,
                                                const std::optional<SegmentMeta>& previous) {
  WAL_ASSERT(open.state == SegmentState::open);
  WAL_ASSERT_EQ(open.checkpoint_block_count, 0u);
  if (!open.producer_table) {
    if (previous) co_return co_await load_producers(*previous);
    producers_.load({});
    co_return Status{};
  }
  const Backoff backoff{options_.retry_backoff_min, options_.retry_backoff_max};
  Result<SegmentManifest> base =
      co_await read_manifest(env_, keys_, open.segment_id, /*block_count=*/0, backoff);
  if (!base.ok()) co_return std::move(base).error();
  producers_.load(base->producers);
  co_return Status{};
}

// Before a segment is created with a non-empty producer table, that table is stored as the
// segment's base manifest m0, and the segment's metadata says so (`producer_table`). Keeping
// it only in the previous footer lost it when truncation let garbage collection delete that
// segment while this one had no checkpoint yet: the next writer appended retried keys again
// (wp-sim keyed seed 6000861). An empty table writes nothing.
Task<Status> LogWriter::write_base_manifest(SegmentMeta& segment) {
  WAL_ASSERT(segment.state == SegmentState::open);
  std::vector<ManifestProducer> table = producers_.snapshot();
  segment.producer_table = !table.empty();
  if (table.empty()) co_return Status{};
  SegmentManifest base;
  base.log_id = keys_.log_id;
  base.segment_id = segment.segment_id;
  base.first_entry_id = segment.first_entry_id;
  base.writer_epoch = epoch_;
  base.updated_unix_ms = env_.clock.unix_time_ms();
  base.producers = std::move(table);
  co_return co_await write_manifest(
      env_, keys_, base, {options_.retry_backoff_min, options_.retry_backoff_max});
}

Task<Status> LogWriter::create_segment(SegmentId segment_id, EntryId first_entry_id) {
  SegmentMeta segment;
  segment.segment_id = segment_id;
  segment.state = SegmentState::open;
  segment.epoch = epoch_;
  segment.first_entry_id = first_entry_id;
  segment.checkpoint_end_entry_id = first_entry_id;
  segment.created_unix_ms = env_.clock.unix_time_ms();
  WAL_CO_TRY(co_await write_base_manifest(segment));
  SegmentTxn txn;
  txn.create = segment;
  // Settled by reading (segment_txn.h): a create that landed is adopted only while its segment
  // is open; one a newer writer has sealed meanwhile fences this writer.
  Result<SegmentTxnResult> created = co_await commit_segment_txn(segment_txn_context(), txn);
  if (!created.ok()) co_return std::move(created).error();
  start_segment(created->created->meta, created->created->mod_revision);
  co_return Status{};
}

SegmentTxnContext LogWriter::segment_txn_context() {
  return SegmentTxnContext{env_, keys_, {options_.retry_backoff_min, options_.retry_backoff_max},
                           epoch_, epoch_mod_revision_};
}

void LogWriter::start_segment(SegmentMeta meta, int64_t mod_revision) {
  WAL_ASSERT(meta.state == SegmentState::open);
  WAL_ASSERT_EQ(meta.epoch, epoch_);
  segment_ = std::move(meta);
  segment_mod_revision_ = mod_revision;
  segment_blocks_.clear();
  segment_bytes_ = 0;
  next_block_index_ = 0;
  next_entry_id_ = std::max(next_entry_id_, segment_.first_entry_id);
  acknowledged_end_ = segment_.first_entry_id;
  if (tail_published_end_ == 0) tail_published_end_ = segment_.first_entry_id;
  segment_started_at_ = env_.clock.now();
  scope_.spawn(age_timer(segment_.segment_id, segment_started_at_ + options_.segment_age_max));
}

Task<void> LogWriter::wait_until_quiet() {
  while (!failure_ && (!inflight_.empty() || checkpoint_running_ || confirm_running_)) {
    co_await changed_.wait();
  }
}

Task<void> LogWriter::roll_segment() {
  WAL_ASSERT(rolling_);
  co_await wait_until_quiet();
  if (!failure_) {
    Status sealed = co_await seal_and_open_next(/*open_next=*/true);
    if (!sealed.ok()) fail_writer(sealed.error(), Outcome::unknown);
  }
  rolling_ = false;
  changed_.notify_all();
  maybe_flush();
}

// Seals the current segment at exactly acknowledged_end_ and, in the same txn, creates the
// next one. Precondition: nothing in flight, so every block sent is acknowledged.
Task<Status> LogWriter::seal_and_open_next(bool open_next) {
  WAL_ASSERT(inflight_.empty());
  WAL_ASSERT(!checkpoint_running_);
  const Backoff backoff{options_.retry_backoff_min, options_.retry_backoff_max};
  SegmentManifest footer;
  footer.log_id = keys_.log_id;
  footer.segment_id = segment_.segment_id;
  footer.first_entry_id = segment_.first_entry_id;
  footer.entry_count = acknowledged_end_ - segment_.first_entry_id;
  footer.writer_epoch = epoch_;
  footer.updated_unix_ms = env_.clock.unix_time_ms();
  footer.sealed = true;
  footer.blocks = segment_blocks_;
  footer.producers = producers_.snapshot();  // carried into the next segment's recovery base
  WAL_CO_TRY(co_await write_manifest(env_, keys_, footer, backoff));

  SegmentMeta sealed = segment_;
  sealed.state = SegmentState::sealed;
  sealed.end_entry_id = acknowledged_end_;
  sealed.block_count = segment_blocks_.size();
  sealed.size_bytes = segment_bytes_;
  sealed.sealed_unix_ms = env_.clock.unix_time_ms();
  sealed.sealed_by_epoch = epoch_;
  sealed.producer_table = !footer.producers.empty();
  SegmentMeta next;
  next.segment_id = segment_.segment_id + 1;
  next.state = SegmentState::open;
  next.epoch = epoch_;
  next.first_entry_id = acknowledged_end_;
  next.checkpoint_end_entry_id = acknowledged_end_;
  next.created_unix_ms = env_.clock.unix_time_ms();
  if (open_next) {
    WAL_CO_TRY(co_await write_base_manifest(next));
  }
  // One txn seals this segment and creates the next; settled by reading (segment_txn.h).
  SegmentTxn txn;
  txn.seal = sealed;
  txn.seal_mod_revision = segment_mod_revision_;
  if (open_next) txn.create = next;
  Result<SegmentTxnResult> done = co_await commit_segment_txn(segment_txn_context(), txn);
  if (!done.ok()) co_return std::move(done).error();
  ++stats_.segments_sealed;
  if (open_next) start_segment(done->created->meta, done->created->mod_revision);
  co_return Status{};
}

// Records a checkpoint: manifest m<blocks> for the acknowledged blocks, then the segment's
// checkpoint fields. Recovery then reads one manifest and probes only later blocks.
Task<void> LogWriter::write_checkpoint() {
  WAL_ASSERT(checkpoint_running_);
  const Backoff backoff{options_.retry_backoff_min, options_.retry_backoff_max};
  SegmentManifest manifest;
  manifest.log_id = keys_.log_id;
  manifest.segment_id = segment_.segment_id;
  manifest.first_entry_id = segment_.first_entry_id;
  manifest.blocks = segment_blocks_;
  manifest.producers = producers_.snapshot();  // as of the same acknowledged blocks
  for (const ManifestBlock& block : manifest.blocks) manifest.entry_count += block.entry_count;
  manifest.writer_epoch = epoch_;
  manifest.updated_unix_ms = env_.clock.unix_time_ms();
  Status written = co_await write_manifest(env_, keys_, manifest, backoff);
  if (written.ok() && !failure_ && !epoch_lost_ && segment_.segment_id == manifest.segment_id) {
    // Settled by reading (segment_txn.h): a checkpoint txn of ours that lands late moves the
    // segment key, and the next checkpoint goes on top of it instead of taking it for a newer
    // writer (which stopped checkpoints and tail publication for good).
    SegmentTxn txn;
    txn.checkpoint = segment_;
    txn.checkpoint->checkpoint_block_count = manifest.blocks.size();
    txn.checkpoint->checkpoint_end_entry_id = manifest.next_entry_id();
    txn.checkpoint_mod_revision = segment_mod_revision_;
    Result<SegmentTxnResult> done = co_await commit_segment_txn(segment_txn_context(), txn);
    if (done.ok()) {
      WAL_ASSERT_EQ(segment_.segment_id, done->checkpointed->meta.segment_id);  // rolls wait
      segment_ = done->checkpointed->meta;
      segment_mod_revision_ = done->checkpointed->mod_revision;
      ++stats_.checkpoints_written;
    } else if (done.error().code == Errc::fenced) {
      // A newer writer exists. Blocks in flight still resolve exactly through the data path
      // (below its fence: durable and visible; at the fence: fenced); nothing more is sent.
      lose_epoch("a checkpoint");
    } else {
      fail_writer(done.error(), Outcome::unknown);
    }
  }
  checkpoint_running_ = false;
  changed_.notify_all();
}

// Publishes the acknowledged end for readers in other processes; one publication in flight,
// at most one started per tail_publish_interval_min.
Task<void> LogWriter::publish_tail() {
  WAL_ASSERT(tail_publish_running_);
  for (uint32_t attempt = 0;
       !failure_ && !epoch_lost_ && acknowledged_end_ > tail_published_end_;) {
    if (tail_publish_started_at_ && options_.tail_publish_interval_min.count() > 0) {
      const TimePoint next_at = *tail_publish_started_at_ + options_.tail_publish_interval_min;
      if (env_.clock.now() < next_at) {
        co_await sleep_until(env_.clock, next_at);
        continue;  // the writer may have failed or been fenced meanwhile
      }
    }
    tail_publish_started_at_ = env_.clock.now();
    const TailRecord record{epoch_, segment_.segment_id, acknowledged_end_};
    TxnRequest request;
    request.compares = {Compare::mod_revision_is(keys_.epoch_key(), epoch_mod_revision_)};
    request.success = {PutOp{keys_.tail_key(), encode(record), 0}};
    Result<TxnResponse> response = co_await env_.meta_store->txn(std::move(request));
    if (response.ok() && response->succeeded) {
      tail_published_end_ = std::max(tail_published_end_, record.end_entry_id);
      attempt = 0;
      continue;
    }
    if (response.ok()) {
      lose_epoch("the tail publication");  // the data path settles what is in flight
      break;
    }
    if (!response.error().unknown() && !is_retryable(response.error())) {
      fail_writer(response.error(), Outcome::unknown);
      break;
    }
    co_await retry_pause(attempt++);  // re-putting the same record is harmless
  }
  tail_publish_running_ = false;
}

// Rolls an idle log too: Woodpecker rolled only on the write path (woodpecker#357).
Task<void> LogWriter::age_timer(SegmentId segment_id, TimePoint roll_at) {
  while (true) {
    co_await sleep_until(env_.clock, roll_at);
    if (segment_.segment_id != segment_id || closing_ || failure_) co_return;
    const bool has_entries = next_entry_id_ > segment_.first_entry_id;
    if (has_entries && !rolling_) {
      rolling_ = true;
      co_await roll_segment();  // starts the next segment's timer
      co_return;
    }
    roll_at = env_.clock.now() + options_.segment_age_max;
  }
}

Task<Status> LogWriter::close() {
  if (closing_) co_return make_error(Errc::closed, "close() called twice");
  closing_ = true;
  while (!failure_ && (rolling_ || !unsent_.empty() || !inflight_.empty() ||
                       checkpoint_running_ || confirm_running_)) {
    maybe_flush();
    co_await changed_.wait();
  }
  if (failure_) co_return *failure_;
  Status sealed = co_await seal_and_open_next(/*open_next=*/false);
  if (!sealed.ok()) fail_writer(sealed.error(), Outcome::unknown);
  co_return sealed;
}

}  // namespace wal
