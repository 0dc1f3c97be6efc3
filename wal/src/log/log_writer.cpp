// LogWriter: the append path. Entries -> blocks -> create-only PUTs -> in-order acknowledgement.
// Lifecycle (open, roll, seal, checkpoints, tail publication): log_writer_lifecycle.cpp.
#include "wal/log/log_writer.h"

#include "wal/format/block_codec.h"
#include "wal/log/fence_object.h"
#include "wal/log/retry.h"

namespace wal {

namespace {

// The error of a block whose PUT failed limits::block_put_attempts_max times. Unknown when any
// attempt may have landed: the next writer's recovery then finds the block, or not.
Error put_attempts_exhausted(const std::string& key, const Error& last, bool may_have_landed) {
  WAL_ASSERT(last.unknown() || is_retryable(last));  // anything else ends the loop at once
  if (last.unknown()) WAL_ASSERT(may_have_landed);
  return Error{last.code, may_have_landed ? Outcome::unknown : Outcome::definite,
               key + ": PUT failed " + std::to_string(limits::block_put_attempts_max) +
                   " times, giving up (last: " + last.message + ")"};
}

}  // namespace

LogWriter::LogWriter(Env& env, LogKeys keys, WriterOptions options)
    : env_(env),
      keys_(std::move(keys)),
      options_(options),
      producers_(options.producers_max),
      changed_(env.executor),
      scope_(env.executor) {
  WAL_ASSERT(env.object_store != nullptr);
  WAL_ASSERT(env.meta_store != nullptr);
  WAL_ASSERT(options_.inflight_blocks_max > 0);
  WAL_ASSERT(options_.unacknowledged_blocks_max >= options_.inflight_blocks_max);
  WAL_ASSERT(options_.block_size_bytes_max <= limits::block_size_bytes_max);
}

LogWriter::~LogWriter() = default;

Status LogWriter::writer_status() const {
  if (failure_) return *failure_;
  if (closing_) return make_error(Errc::closed, "writer is closing");
  if (epoch_lost_) {
    return Error{Errc::fenced, Outcome::definite,
                 "a writer with a newer epoch than " + std::to_string(epoch_) + " took the log"};
  }
  return Status{};
}

LogWriter::KeyCheck LogWriter::check_key(const AppendKey& key) const {
  WAL_ASSERT_NE(key.producer_id, 0u);
  // Planted bug: no deduplication; a retried key is appended again.
  if (env_.faults.bug(SimBug::append_key_ignored)) return KeyCheck{};
  const std::string who = "producer " + std::to_string(key.producer_id) + " sequence " +
                          std::to_string(key.sequence);
  const auto pending = pending_keys_.find({key.producer_id, key.sequence});
  if (pending != pending_keys_.end()) {
    return KeyCheck{KeyCheck::Kind::pending, pending->second.id, {}};
  }
  // In-flight sequences of a producer are all above its acknowledged ones, so the highest
  // in-flight one, if any, is its last.
  const auto above = pending_keys_.lower_bound({key.producer_id + 1, 0});
  if (above != pending_keys_.begin()) {
    const auto& [last_key, last] = *std::prev(above);
    if (last_key.first == key.producer_id && last_key.second > key.sequence) {
      return KeyCheck{KeyCheck::Kind::stale, 0,
                      make_error(Errc::invalid_argument,
                                 who + " is below its sequence " + std::to_string(last_key.second) +
                                     " in flight as entry " + std::to_string(last.id))};
    }
  }
  const std::optional<ProducerTable::Last> last = producers_.find(key.producer_id);
  if (!last || last->sequence < key.sequence) return KeyCheck{};
  if (last->sequence == key.sequence) {
    return KeyCheck{KeyCheck::Kind::duplicate, last->entry_id, {}};
  }
  return KeyCheck{KeyCheck::Kind::stale, 0,
                  make_error(Errc::invalid_argument,
                             who + " is below its last sequence " + std::to_string(last->sequence) +
                                 " (entry " + std::to_string(last->entry_id) +
                                 "): not appended; if appended before, it is below that entry")};
}

// Hands `result` to every duplicate waiting on `key` and forgets the key as pending.
void LogWriter::settle_key(const AppendKey& key, const Result<EntryId>& result) {
  const auto pending = pending_keys_.find({key.producer_id, key.sequence});
  WAL_ASSERT(pending != pending_keys_.end());
  if (result.ok()) WAL_ASSERT_EQ(*result, pending->second.id);
  for (Completion<Result<EntryId>>& joiner : pending->second.joiners) joiner.set(result);
  pending_keys_.erase(pending);
}

void LogWriter::settle_keys(const InflightBlock& block, size_t entry_index,
                            const Result<EntryId>& result) {
  if (block.keys.empty()) return;
  WAL_ASSERT_LT(entry_index, block.keys.size());
  const AppendKey& key = block.keys[entry_index];
  if (key.producer_id != 0) settle_key(key, result);
}

// Answers an append whose key is not fresh. A pending key registers its joiner before this
// coroutine first suspends, so the original's settle_key cannot be missed.
Task<Result<EntryId>> LogWriter::answer_duplicate(AppendKey key, KeyCheck check) {
  switch (check.kind) {
    case KeyCheck::Kind::duplicate:
      ++stats_.duplicate_appends;
      co_return check.id;
    case KeyCheck::Kind::stale: co_return std::move(*check.error);
    case KeyCheck::Kind::pending: {
      ++stats_.duplicate_appends;
      Completion<Result<EntryId>> joined(env_.executor);
      pending_keys_.at({key.producer_id, key.sequence}).joiners.push_back(joined);
      co_return co_await joined.wait();
    }
    case KeyCheck::Kind::fresh: break;
  }
  WAL_ASSERT(false);  // callers pass only keys that are not fresh
  co_return make_error(Errc::invalid_argument, "fresh key");
}

Task<Result<EntryId>> LogWriter::append(Bytes payload, std::optional<AppendKey> key) {
  if (payload.size() > limits::entry_size_bytes_max) {
    co_return make_error(Errc::too_large, "entry of " + std::to_string(payload.size()) +
                                              " bytes exceeds the limit of " +
                                              std::to_string(limits::entry_size_bytes_max));
  }
  if (key && key->producer_id == 0) {
    co_return make_error(Errc::invalid_argument, "producer id 0 is reserved for 'no key'");
  }
  // A duplicate is answered before the writer's state is looked at: an acknowledged key stays
  // acknowledged on a failed or closing writer, and saying `closed` (definite) would be false.
  if (key) {
    KeyCheck check = check_key(*key);
    if (check.kind != KeyCheck::Kind::fresh) {
      co_return co_await answer_duplicate(*key, std::move(check));
    }
  }
  WAL_CO_TRY(writer_status());
  // Back-pressure, first come first served: appends take tickets and pass in ticket order, so a
  // small later entry never overtakes a large waiting one and ids follow call order.
  // Only the holder of the serving ticket is woken (waking every waiter on each freed byte is
  // quadratic in the queue length, which an S3 outage makes long).
  const uint64_t ticket = next_append_ticket_++;
  while (
      !failure_ && !epoch_lost_ &&
      (ticket != serving_append_ticket_ ||
       (inflight_bytes_ > 0 && inflight_bytes_ + payload.size() > options_.inflight_bytes_max))) {
    Completion<bool> turn(env_.executor);
    append_waiters_.insert_or_assign(ticket, AppendWaiter{turn, payload.size()});
    (void)co_await turn.wait();
  }
  ++serving_append_ticket_;
  wake_next_append();  // the next ticket may fit too
  if (key) {
    // Checked again: the same key may have been accepted (or acknowledged) while we waited.
    KeyCheck check = check_key(*key);
    if (check.kind != KeyCheck::Kind::fresh) {
      co_return co_await answer_duplicate(*key, std::move(check));
    }
  }
  WAL_CO_TRY(writer_status());
  const EntryId id = next_entry_id_++;
  if (key) {
    const bool inserted =
        pending_keys_.emplace(std::pair{key->producer_id, key->sequence}, PendingKey{id, {}})
            .second;
    WAL_ASSERT(inserted);  // check_key found it fresh, with no suspension since
  }
  inflight_bytes_ += payload.size();
  // (No structured binding: GCC 12 mishandles them across a co_await.)
  std::pair<BlockOutcome, uint32_t> accepted = add_to_unsent(id, payload, key);
  // The bytes are in the block now. Freed at once rather than when the append completes, the
  // allocator hands them to the next payload (a cache-hot reuse) instead of holding thousands
  // of them until the block is acknowledged (bench/README.md, allocator churn).
  payload = Bytes{};
  maybe_flush();
  co_return co_await accepted.first.wait(accepted.second);
}

std::pair<BlockOutcome, uint32_t> LogWriter::add_to_unsent(EntryId id, ByteView payload,
                                                           const std::optional<AppendKey>& key) {
  const bool keyed = key.has_value();
  bool fits = false;
  if (!unsent_.empty()) {
    const BlockBuilder& open = unsent_.back().builder;
    WAL_ASSERT_GT(open.entry_count(), 0u);
    // Blocks stay within block_size_bytes_max, except that a block always takes its first
    // entry (an entry may exceed the block size; it is never split).
    fits = open.size_bytes_with(payload.size(), keyed) <= options_.block_size_bytes_max &&
           open.entry_count() < limits::block_entry_count_max;
  }
  if (!fits) {
    // Reserved whole: under load the block fills, and growing it would copy it again. Memory:
    // only unsent and uploading blocks hold a buffer (a durable one releases it).
    const uint64_t first_block_bytes = block_format::header_size_bytes +
                                       block_format::entry_length_size_bytes +
                                       block_format::entry_key_size_bytes + payload.size();
    unsent_.emplace_back(env_.executor, id,
                         std::max(options_.block_size_bytes_max, first_block_bytes),
                         take_spare_buffer());
  }
  UnsentBlock& block = unsent_.back();
  WAL_ASSERT_EQ(block.first_entry_id + block.outcome.entry_count(), id);
  // The block's first key gives every entry a key slot (producer 0: none), as encode_block does.
  if (keyed || block.builder.entry_keys()) {
    if (block.keys.empty()) block.keys.assign(block.outcome.entry_count(), AppendKey{});
    block.keys.push_back(key.value_or(AppendKey{}));
  }
  block.builder.add(payload, key);
  const uint32_t entry_index = block.outcome.add_entry();
  block.payload_bytes += payload.size();
  WAL_ASSERT_EQ(block.builder.entry_count(), block.outcome.entry_count());
  WAL_ASSERT_EQ(block.builder.entry_keys(), !block.keys.empty());
  return {block.outcome, entry_index};
}

void LogWriter::maybe_flush() {
  while (!unsent_.empty() && !rolling_ && !failure_ && !epoch_lost_ &&
         puts_running_ < options_.inflight_blocks_max &&
         inflight_.size() < options_.unacknowledged_blocks_max) {
    if (segment_bytes_ >= options_.segment_size_bytes_max) {
      rolling_ = true;
      scope_.spawn(roll_segment());
      return;
    }
    start_block();
  }
}

// Sends the oldest unsent block (the open one if no full one waits): stamps its header, which
// names the current segment and time, and starts its upload.
void LogWriter::start_block() {
  WAL_ASSERT(!unsent_.empty());
  UnsentBlock unsent = std::move(unsent_.front());
  unsent_.pop_front();
  const uint32_t entry_count = unsent.builder.entry_count();
  WAL_ASSERT_GT(entry_count, 0u);
  WAL_ASSERT_EQ(unsent.outcome.entry_count(), entry_count);
  WAL_ASSERT_EQ(unsent.first_entry_id, acknowledged_end_ + unacknowledged_entry_count());
  InflightBlock block{.outcome = std::move(unsent.outcome)};
  block.block_index = next_block_index_++;
  block.first_entry_id = unsent.first_entry_id;
  block.payload_bytes = unsent.payload_bytes;
  block.keys = std::move(unsent.keys);
  BlockHeader header;
  header.log_id = keys_.log_id;
  header.segment_id = segment_.segment_id;
  header.first_entry_id = block.first_entry_id;
  header.entry_count = entry_count;
  header.writer_epoch = epoch_;
  header.created_unix_ms = env_.clock.unix_time_ms();
  header.entry_keys = unsent.builder.entry_keys();
  block.encoded = std::make_shared<Bytes>(std::move(unsent.builder).finish(header));
  Result<BlockFrame> frame = decode_block_frame(*block.encoded);
  WAL_ASSERT(frame.ok());  // we just encoded it
  WAL_ASSERT_EQ(frame->size_bytes(), block.encoded->size());
  block.record = manifest_block_for(static_cast<uint32_t>(block.block_index), *frame);
  segment_bytes_ += block.encoded->size();
  const uint64_t block_index = block.block_index;
  inflight_.push_back(std::move(block));
  ++puts_running_;
  WAL_ASSERT_LE(puts_running_, options_.inflight_blocks_max);
  scope_.spawn(upload(block_index));
}

// Entries in blocks sent and not yet acknowledged.
uint64_t LogWriter::unacknowledged_entry_count() const {
  uint64_t count = 0;
  for (const InflightBlock& block : inflight_) count += block.outcome.entry_count();
  return count;
}

LogWriter::InflightBlock* LogWriter::find_block(uint64_t block_index) {
  for (InflightBlock& block : inflight_) {
    if (block.block_index == block_index) return &block;
  }
  return nullptr;
}

// Settles an already_exists: is the object at our key the block we sent (an earlier attempt
// that landed after an unknown outcome), a fence, or something else? What is read is verified
// first: a body damaged in transit must not pass for another writer's block.
Task<Status> LogWriter::settle_existing(uint64_t block_index) {
  const std::string key = keys_.block_key(segment_.segment_id, block_index);
  const Backoff backoff{options_.retry_backoff_min, options_.retry_backoff_max};
  struct Found {
    bool absent = false;
    bool fence = false;
    Epoch fencer = 0;
    Bytes body;
  };
  Result<Found> found = co_await retry_verified_read(env_, backoff, [&]() -> Task<Result<Found>> {
    Result<ObjectData> read = co_await env_.object_store->get(key, std::nullopt);
    if (!read.ok()) {
      if (read.error().code == Errc::not_found) co_return Found{true, false, 0, {}};
      co_return std::move(read).error();
    }
    if (looks_like_fence(read->body)) {
      Result<Epoch> fencer = decode_fence(read->body);
      if (!fencer.ok()) {
        env_.faults.reached(CoverageMark::fence_damaged_in_transit);  // read again (retry)
        co_return std::move(fencer).error();
      }
      co_return Found{false, true, *fencer, {}};
    }
    Result<DecodedBlock> block = decode_block_view(read->body, BlockExpectation{});
    if (!block.ok()) co_return std::move(block).error();
    co_return Found{false, false, 0, std::move(read->body)};
  });
  if (!found.ok()) co_return std::move(found).error();
  if (found->absent) {
    // Something stood at our key and is gone: only garbage collection deletes objects, and it
    // deletes only segments another writer sealed, so we are fenced. Our block may have been
    // the object (an earlier PUT that landed) and been recovered before it went: unknown.
    co_return make_unknown(Errc::fenced, key + " vanished while settling: taken over");
  }
  if (found->fence) {
    env_.faults.reached(CoverageMark::block_put_met_fence);
    co_return make_error(Errc::fenced, "fenced at " + key + " by epoch " +
                                           std::to_string(found->fencer));
  }
  const InflightBlock* block = find_block(block_index);
  if (block == nullptr) co_return make_error(Errc::closed, "writer failed while settling " + key);
  WAL_ASSERT(block->encoded != nullptr);  // kept while uploading
  if (found->body == *block->encoded) co_return Status{};
  co_return make_error(Errc::fenced, key + " holds another writer's block");
}

Task<void> LogWriter::upload(uint64_t block_index) {
  const std::string key = keys_.block_key(segment_.segment_id, block_index);
  // Whether an earlier PUT of ours may have landed at `key` (its outcome was unknown; it may
  // land even after we give up). Then an object found there later proves nothing about our
  // block: ours may have landed, been sealed into the segment by a recoverer, truncated and
  // collected, and a stale recoverer's fence put at the freed key (swarm seed 1007025;
  // docs/architecture.md, "Data flow of an append").
  bool earlier_put_may_have_landed = false;
  for (uint32_t attempt = 0;; ++attempt) {
    InflightBlock* block = find_block(block_index);
    if (block == nullptr || block->state != BlockState::uploading) co_return;
    if (env_.faults.bug(SimBug::ack_before_put) && attempt == 0) {
      // Planted bug: acknowledge first, upload later.
      SharedBytes bytes = std::move(block->encoded);
      WAL_ASSERT_GT(puts_running_, 0u);
      --puts_running_;
      block->state = BlockState::durable;
      advance_acknowledgements();
      scope_.spawn([](ObjectStore& store, std::string k, SharedBytes body) -> Task<void> {
        (void)co_await store.put_shared(std::move(k), std::move(body),
                                        PutCondition::create_only());
      }(*env_.object_store, key, std::move(bytes)));
      co_return;
    }
    ++stats_.put_attempts;
    Result<ObjectInfo> put = co_await env_.object_store->put_shared(key, block->encoded,
                                                                    PutCondition::create_only());
    block = find_block(block_index);
    if (block == nullptr || block->state != BlockState::uploading) co_return;
    if (put.ok()) {
      on_block_done(block_index, Status{});
      co_return;
    }
    const Error& error = put.error();
    if (error.unknown() && env_.faults.bug(SimBug::unknown_as_success)) {
      on_block_done(block_index, Status{});  // planted bug: the PUT may never have landed
      co_return;
    }
    if (error.unknown() && env_.faults.bug(SimBug::retry_blindly_after_unknown)) {
      // Planted bug: give up on this key and send the same entries again as a new block, which
      // duplicates them if the first PUT did land.
      fail_writer(make_error(Errc::closed, "planted bug: resend after unknown outcome"),
                  Outcome::definite);
      co_return;
    }
    if (error.code == Errc::already_exists) {
      Status ours = co_await settle_existing(block_index);
      if (!ours.ok()) {
        Error settled = ours.error();
        // Only a fence or another writer's block at our key proves ours is not there, and only
        // if no earlier PUT of ours may have landed at it before that object took the key.
        if (settled.code != Errc::fenced || earlier_put_may_have_landed) {
          settled.outcome = Outcome::unknown;
        }
        on_block_done(block_index, std::move(settled));
        co_return;
      }
      ++stats_.unknown_outcomes_settled;
      env_.faults.reached(CoverageMark::block_put_settled_as_ours);
      on_block_done(block_index, Status{});
      co_return;
    }
    if (!error.unknown() && !is_retryable(error)) {
      on_block_done(block_index, error);
      co_return;
    }
    if (error.unknown()) earlier_put_may_have_landed = true;
    if (attempt + 1 >= limits::block_put_attempts_max) {
      on_block_done(block_index, put_attempts_exhausted(key, error, earlier_put_may_have_landed));
      co_return;
    }
    // Unknown outcome or a retryable failure: put again, create-only. If the first PUT landed,
    // the retry gets already_exists and settle_existing recognises our own block.
    co_await retry_pause(attempt);
  }
}

Task<void> LogWriter::retry_pause(uint32_t attempt) {
  co_await backoff_sleep(env_, {options_.retry_backoff_min, options_.retry_backoff_max}, attempt);
}

void LogWriter::on_block_done(uint64_t block_index, Status status) {
  InflightBlock* block = find_block(block_index);
  if (block == nullptr || block->state != BlockState::uploading) return;
  WAL_ASSERT_GT(puts_running_, 0u);
  --puts_running_;  // its slot is free even while it waits for an earlier block
  if (status.ok()) {
    block->state = BlockState::durable;
    recycle_buffer(std::move(block->encoded));  // durable: no retry or settle reads it again
    ++stats_.blocks_put;
    // The freed slot takes the next ready block now, so its upload is queued on the executor
    // ahead of the appenders the acknowledgements below wake (each of which copies its entry
    // first). Started after them, the slot idled for their copies: with 1 MiB entries the
    // store averaged 3.80 PUTs in flight of 4; with this, 3.95 (bench/README.md).
    maybe_flush();
  } else {
    block->state = BlockState::failed;
    block->error = status.error();
  }
  advance_acknowledgements();
}

// Acknowledges durable blocks from the front, strictly in order; a failed block fails itself and
// everything after it (nothing after a gap can ever be visible).
void LogWriter::advance_acknowledgements() {
  while (!inflight_.empty()) {
    InflightBlock& front = inflight_.front();
    if (front.state == BlockState::failed) {
      const Error error = *front.error;
      fail_writer(error, error.outcome);
      return;
    }
    if (front.state != BlockState::durable) break;
    if (options_.fencing == FencingMode::meta_confirm &&
        !env_.faults.bug(SimBug::fence_by_lease_only)) {
      if (!confirm_running_) {
        confirm_running_ = true;
        scope_.spawn(confirm_epoch_then_acknowledge());
      }
      return;
    }
    acknowledge_front_block();
  }
  changed_.notify_all();
  maybe_flush();
}

void LogWriter::acknowledge_front_block() {
  InflightBlock block = std::move(inflight_.front());
  inflight_.pop_front();
  WAL_ASSERT(block.state == BlockState::durable);
  WAL_ASSERT_EQ(block.first_entry_id, acknowledged_end_);
  const uint64_t payload_bytes = block.payload_bytes;
  const uint32_t entry_count = block.outcome.entry_count();
  WAL_ASSERT_EQ(block.outcome.first_entry_id(), block.first_entry_id);
  // Every appender of the block is woken from one post_each (resumes run later, so the keys
  // recorded below are in place before anyone is answered).
  const bool settled = block.outcome.settle(std::nullopt);
  WAL_ASSERT(settled);
  for (uint32_t i = 0; i < entry_count && !block.keys.empty(); ++i) {
    if (block.keys[i].producer_id == 0) continue;
    const EntryId id = block.first_entry_id + i;
    // Recorded before anyone is answered, so a retry arriving next finds the key acknowledged.
    producers_.record(block.keys[i], id);
    settle_key(block.keys[i], id);
  }
  acknowledged_end_ += entry_count;
  segment_blocks_.push_back(block.record);
  WAL_ASSERT_GE(inflight_bytes_, payload_bytes);
  inflight_bytes_ -= payload_bytes;
  stats_.bytes_acknowledged += payload_bytes;
  wake_next_append();
  if (options_.checkpoint_interval_blocks > 0 &&
      segment_blocks_.size() % options_.checkpoint_interval_blocks == 0 && !checkpoint_running_) {
    checkpoint_running_ = true;
    scope_.spawn(write_checkpoint());
  }
  if (options_.publish_tail && !tail_publish_running_) {
    tail_publish_running_ = true;
    scope_.spawn(publish_tail());
  }
}

// meta_confirm mode: the blocks at the front landed; before acknowledging them, prove that our
// epoch is still current. Everything acknowledged landed before this read, and a new writer bumps
// the epoch before probing, so its probe sees every block we acknowledge.
Task<void> LogWriter::confirm_epoch_then_acknowledge() {
  size_t confirmable = 0;
  for (const InflightBlock& block : inflight_) {
    if (block.state != BlockState::durable) break;
    ++confirmable;
  }
  WAL_ASSERT(confirmable > 0);
  const Backoff backoff{options_.retry_backoff_min, options_.retry_backoff_max};
  Result<std::optional<KeyValue>> epoch_kv = co_await retry_read(
      env_, backoff, [&] { return env_.meta_store->get(keys_.epoch_key()); });
  confirm_running_ = false;
  if (failure_) co_return;
  if (!epoch_kv.ok() || !*epoch_kv || (*epoch_kv)->mod_revision != epoch_mod_revision_) {
    // The blocks landed, so a new writer's recovery may or may not include them.
    env_.faults.reached(CoverageMark::meta_confirm_epoch_changed);
    Error error = epoch_kv.ok() ? make_unknown(Errc::fenced, "epoch changed before acknowledging")
                                : make_unknown(Errc::fenced, "could not confirm epoch: " +
                                                                 epoch_kv.error().describe());
    fail_writer(error, Outcome::unknown);
    co_return;
  }
  for (size_t i = 0; i < confirmable && !inflight_.empty(); ++i) acknowledge_front_block();
  advance_acknowledgements();
}

void LogWriter::fail_from(size_t inflight_index, const Error& error) {
  for (size_t i = inflight_index; i < inflight_.size(); ++i) {
    InflightBlock& block = inflight_[i];
    (void)block.outcome.settle(error);
    for (size_t entry = 0; entry < block.keys.size(); ++entry) settle_keys(block, entry, error);
    if (block.state == BlockState::uploading) {
      WAL_ASSERT_GT(puts_running_, 0u);
      --puts_running_;  // its upload task sees the block gone and stops
    }
    block.state = BlockState::failed;
  }
  inflight_.erase(inflight_.begin() + static_cast<std::ptrdiff_t>(inflight_index),
                  inflight_.end());
}

// Fails every pending append and every later one. Entries whose blocks were sent get
// `in_flight_outcome`: unknown unless the failure proves those blocks can never be visible (the
// front block's own PUT definitely failed, so everything from it on sits past a gap). Buffered
// entries were never sent, so theirs is definite.
void LogWriter::fail_writer(const Error& error, Outcome in_flight_outcome) {
  if (!failure_) failure_ = Error{error.code, Outcome::definite, error.message};
  fail_from(0, Error{error.code, in_flight_outcome, error.message});
  fail_unsent(*failure_);
  inflight_bytes_ = 0;
  release_append_waiters();  // each sees failure_, returns
}

void LogWriter::fail_unsent(const Error& error) {
  WAL_ASSERT(!error.unknown());  // never sent: nothing of theirs can be visible
  for (UnsentBlock& block : unsent_) {
    (void)block.outcome.settle(error);
    for (const AppendKey& key : block.keys) {
      if (key.producer_id != 0) settle_key(key, error);
    }
    WAL_ASSERT_GE(inflight_bytes_, block.payload_bytes);
    inflight_bytes_ -= block.payload_bytes;
  }
  unsent_.clear();
}

void LogWriter::release_append_waiters() {
  std::map<uint64_t, AppendWaiter> waiters = std::move(append_waiters_);
  append_waiters_.clear();
  for (auto& [ticket, waiter] : waiters) waiter.turn.set(true);
  changed_.notify_all();
}

void LogWriter::lose_epoch(const std::string& where) {
  if (epoch_lost_) return;
  epoch_lost_ = true;
  env_.faults.reached(CoverageMark::writer_stopped_on_newer_epoch);
  // Without this, a writer that keeps appending keeps putting blocks, and the newer writer's
  // recovery, probing them one by one from the last checkpoint, may never reach the end.
  const Status fenced = writer_status();
  WAL_ASSERT(!fenced.ok());
  fail_unsent(
      Error{Errc::fenced, Outcome::definite, fenced.error().message + " (seen at " + where + ")"});
  release_append_waiters();  // each sees epoch_lost_, returns
}

// Wakes the serving ticket, and with it the tickets right after it whose entries fit into the
// space left too, all from one executor turn: when a block is acknowledged, the thousands of
// appends it frees room for pass in one go instead of waking each other one post at a time.
// Each woken append checks again; one that does not fit waits again under its ticket.
void LogWriter::wake_next_append() {
  std::vector<Completion<bool>> wake;
  uint64_t woken_count = 0;
  uint64_t bytes_after = inflight_bytes_;
  for (auto next = append_waiters_.find(serving_append_ticket_);
       next != append_waiters_.end() && next->first == serving_append_ticket_ + woken_count;) {
    const uint64_t payload_bytes = next->second.payload_bytes;
    const bool fits = bytes_after == 0 || bytes_after + payload_bytes <= options_.inflight_bytes_max;
    if (woken_count > 0 && !fits) break;  // the serving ticket is woken anyway, as before
    bytes_after += payload_bytes;
    ++woken_count;
    Completion<bool> turn = std::move(next->second.turn);
    next = append_waiters_.erase(next);
    if (turn.set_without_resume(true)) wake.push_back(std::move(turn));
  }
  WAL_ASSERT_LE(wake.size(), woken_count);
  if (wake.empty()) return;  // the usual case for an append that just passed: nothing to post
  const size_t wake_count = wake.size();  // read before the lambda takes the vector
  env_.executor.post_each(wake_count, [wake = std::move(wake)](size_t index) mutable {
    wake[index].resume_waiter();
  });
}

void LogWriter::recycle_buffer(std::shared_ptr<Bytes> encoded) {
  WAL_ASSERT(encoded != nullptr);
  // Stores release their reference before a PUT completes (ObjectStore::put_shared), so this
  // holds unless a planted-bug path still sends it.
  if (encoded.use_count() != 1 || spare_buffers_.size() >= spare_buffers_max) return;
  spare_buffers_.push_back(std::move(*encoded));
  WAL_ASSERT_LE(spare_buffers_.size(), spare_buffers_max);
}

Bytes LogWriter::take_spare_buffer() {
  if (spare_buffers_.empty()) return {};
  Bytes buffer = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  return buffer;
}

}  // namespace wal
