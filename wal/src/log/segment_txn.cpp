// Segment creates and seals under the writer's epoch, settled by reading back (the header says
// what each read-back concludes, docs/protocol.md I8 and I13 why).
#include "wal/log/segment_txn.h"

#include <string>
#include <utility>

namespace wal {

namespace {

// One commit_segment_txn call: what it writes and what it has learnt so far (whether any
// attempt may have landed: MutationAttempts, wal/log/retry.h).
struct Settle : MutationAttempts {
  Settle(SegmentTxnContext& context, SegmentTxn& segment_txn) : c(context), txn(segment_txn) {}
  SegmentTxnContext& c;
  SegmentTxn& txn;
  void reached(CoverageMark mark) const { c.env.faults.reached(mark); }
};

enum class Next : uint8_t { done, retry_after_backoff, retry_at_once };

struct Step {
  Next next = Next::done;
  SegmentTxnResult result;  // for done
};

TxnRequest request_for(const Settle& s) {
  const LogKeys& keys = s.c.keys;
  TxnRequest request;
  request.compares = {Compare::mod_revision_is(keys.epoch_key(), s.c.epoch_mod_revision)};
  if (s.txn.seal) {
    const std::string key = keys.segment_key(s.txn.seal->segment_id);
    request.compares.push_back(Compare::mod_revision_is(key, s.txn.seal_mod_revision));
    request.success.push_back(PutOp{key, encode(*s.txn.seal), 0});
  }
  if (s.txn.create) {
    const std::string key = keys.segment_key(s.txn.create->segment_id);
    request.compares.push_back(Compare::absent(key));
    request.success.push_back(PutOp{key, encode(*s.txn.create), 0});
  }
  if (s.txn.checkpoint) {
    const std::string key = keys.segment_key(s.txn.checkpoint->segment_id);
    request.compares.push_back(Compare::mod_revision_is(key, s.txn.checkpoint_mod_revision));
    request.success.push_back(PutOp{key, encode(*s.txn.checkpoint), 0});
  }
  return request;
}

// What the txn wrote, when it succeeded at `revision`.
SegmentTxnResult applied(const SegmentTxn& txn, int64_t revision) {
  SegmentTxnResult result;
  if (txn.seal) result.sealed = StoredSegment{*txn.seal, revision};
  if (txn.create) {
    result.created = StoredSegment{*txn.create, revision};
    result.created->meta.create_revision = revision;
  }
  if (txn.checkpoint) result.checkpointed = StoredSegment{*txn.checkpoint, revision};
  return result;
}

// Whether `stored` is still the open segment `mine` describes, changed at most by a checkpoint.
bool same_open_segment(const SegmentMeta& mine, const SegmentMeta& stored) {
  return stored.state == SegmentState::open && stored.epoch == mine.epoch &&
         stored.first_entry_id == mine.first_entry_id && stored.ensemble == mine.ensemble &&
         stored.checkpoint_end_entry_id >= mine.checkpoint_end_entry_id;
}

struct Read {
  std::optional<KeyValue> kv;
  std::optional<SegmentMeta> meta;  // decoded, with create_revision; set when kv is
};

Task<Result<Read>> read_segment(Settle& s, const std::string& key) {
  Result<std::optional<KeyValue>> kv = co_await retry_read(
      s.c.env, s.c.backoff, [&] { return s.c.env.meta_store->get(key); });
  if (!kv.ok()) co_return s.fail(kv.error());
  Read read;
  if (!*kv) co_return read;
  Result<SegmentMeta> meta = decode_segment(key, (*kv)->value);
  if (!meta.ok()) co_return s.fail(meta.error());
  meta->create_revision = (*kv)->create_revision;
  read.kv = std::move(*kv);
  read.meta = std::move(meta).value();
  co_return read;
}

// A segment key holding our create's segment, read back: ours only while it is open.
Result<StoredSegment> adopt_created(const Settle& s, const std::string& key, const Read& read) {
  WAL_ASSERT(read.meta.has_value());
  const SegmentMeta& stored = *read.meta;
  const SegmentMeta& mine = *s.txn.create;
  if (stored.epoch != s.c.epoch) {
    return make_error(Errc::fenced,
                      key + " was created by epoch " + std::to_string(stored.epoch));
  }
  if (stored.state != SegmentState::open) {
    // Our create landed, and a newer writer has recovered and sealed the segment since. Writing
    // into it, or creating another segment in its place, would fork the newer writer's log.
    if (stored.sealed_by_epoch <= s.c.epoch) {
      return s.fail(Errc::corrupt, key + " holds our epoch's segment sealed by epoch " +
                                       std::to_string(stored.sealed_by_epoch) +
                                       ", which never sealed it");
    }
    // Our txn did land, so the error cannot say "did not happen": its outcome is unknown.
    s.reached(CoverageMark::create_refused_moved_on);
    return make_unknown(Errc::fenced, key + ", created by this writer, was sealed by epoch " +
                                          std::to_string(stored.sealed_by_epoch));
  }
  if (!same_open_segment(mine, stored)) {
    return s.fail(Errc::corrupt, key + " holds another open segment of our epoch");
  }
  return StoredSegment{stored, read.kv->mod_revision};
}

Task<Result<Step>> settle_create(Settle& s, bool compare_failed) {
  const std::string key = s.c.keys.segment_key(s.txn.create->segment_id);
  Result<Read> read = co_await read_segment(s, key);
  if (!read.ok()) co_return std::move(read).error();
  if (!read->kv) {
    // Absent after a failed compare: the epoch compare failed, so no attempt can ever land.
    if (compare_failed) {
      co_return make_error(Errc::fenced, "the epoch changed before " + key + " was created");
    }
    co_return Step{Next::retry_after_backoff, {}};
  }
  Result<StoredSegment> created = adopt_created(s, key, *read);
  if (!created.ok()) co_return std::move(created).error();
  if (s.may_have_landed) s.reached(CoverageMark::create_settled_as_ours);
  Step step;
  step.result.created = std::move(created).value();
  co_return step;
}

// The epoch key still has the revision the writer took it at.
Task<Result<bool>> epoch_is_ours(Settle& s) {
  Result<std::optional<KeyValue>> kv = co_await retry_read(
      s.c.env, s.c.backoff, [&] { return s.c.env.meta_store->get(s.c.keys.epoch_key()); });
  if (!kv.ok()) co_return s.fail(kv.error());
  co_return *kv && (*kv)->mod_revision == s.c.epoch_mod_revision;
}

// Our seal is there: in a roll, the next segment must be there too (the same txn wrote both).
Task<Result<Step>> settle_landed_seal(Settle& s, const Read& read) {
  Step step;
  step.result.sealed = StoredSegment{*read.meta, read.kv->mod_revision};
  if (!s.txn.create) co_return step;
  const std::string next_key = s.c.keys.segment_key(s.txn.create->segment_id);
  Result<Read> next = co_await read_segment(s, next_key);
  if (!next.ok()) co_return std::move(next).error();
  if (!next->kv) co_return s.fail(Errc::not_found, next_key + " vanished");
  Result<StoredSegment> created = adopt_created(s, next_key, *next);
  if (!created.ok()) co_return std::move(created).error();
  step.result.created = std::move(created).value();
  co_return step;
}

Task<Result<Step>> settle_seal(Settle& s, bool compare_failed) {
  SegmentMeta& mine = *s.txn.seal;
  const std::string key = s.c.keys.segment_key(mine.segment_id);
  Result<Read> read = co_await read_segment(s, key);
  if (!read.ok()) co_return std::move(read).error();
  if (!read->kv) co_return s.fail(Errc::not_found, key + " vanished while being sealed");
  const SegmentMeta& stored = *read->meta;
  if (stored.state == SegmentState::sealed) {
    if (stored.sealed_by_epoch != s.c.epoch) {
      if (s.may_have_landed) s.reached(CoverageMark::seal_settled_as_another);
      co_return make_error(Errc::fenced, key + " was sealed by epoch " +
                                             std::to_string(stored.sealed_by_epoch));
    }
    // Only this writer seals with its epoch, and only one seal of a segment at a time: the
    // seal is ours if any attempt may have landed, earlier ones included.
    if (!s.may_have_landed) {
      co_return make_error(Errc::fenced, key + " is sealed by this writer's epoch, though no "
                                               "attempt of this seal can have landed");
    }
    if (stored.end_entry_id != mine.end_entry_id) {
      co_return s.fail(Errc::corrupt, key + " is sealed by our epoch at another end");
    }
    s.reached(CoverageMark::seal_settled_as_ours);
    co_return co_await settle_landed_seal(s, *read);
  }
  if (read->kv->mod_revision == s.txn.seal_mod_revision) {
    // Nothing landed yet. After an error, try again; after a failed compare, the epoch changed
    // (a roll's next key is written only with its seal), so no attempt can land any more.
    if (compare_failed) {
      co_return make_error(Errc::fenced, "the epoch changed before " + key + " was sealed");
    }
    s.reached(CoverageMark::seal_retried_after_unknown);
    co_return Step{Next::retry_after_backoff, {}};
  }
  if (same_open_segment(mine, stored)) {
    // A checkpoint moved the key (a LogStore's, or a late txn of the writer's own): that alone
    // does not fence us. Seal on top of it if the epoch is still ours; the next compare checks
    // the epoch again.
    Result<bool> ours = co_await epoch_is_ours(s);
    if (!ours.ok()) co_return std::move(ours).error();
    if (*ours) {
      s.reached(CoverageMark::seal_on_top_of_checkpoint);
      s.txn.seal_mod_revision = read->kv->mod_revision;
      mine.checkpoint_block_count = stored.checkpoint_block_count;
      mine.checkpoint_end_entry_id = stored.checkpoint_end_entry_id;
      co_return Step{Next::retry_at_once, {}};
    }
  }
  // Every attempt compared an older revision of the key: none can land any more.
  co_return make_error(Errc::fenced, key + " changed under the writer before it was sealed");
}

// A checkpoint read back (see the header): ours, not landed yet, or on top of an earlier
// checkpoint of ours that landed late.
Task<Result<Step>> settle_checkpoint(Settle& s, bool compare_failed) {
  const SegmentMeta& mine = *s.txn.checkpoint;
  const std::string key = s.c.keys.segment_key(mine.segment_id);
  if (s.may_have_landed) s.reached(CoverageMark::checkpoint_settled_by_reading);
  Result<Read> read = co_await read_segment(s, key);
  if (!read.ok()) co_return std::move(read).error();
  if (!read->kv) co_return s.fail(Errc::fenced, key + " vanished while being checkpointed");
  const SegmentMeta& stored = *read->meta;
  if (stored.state != SegmentState::open || stored.epoch != mine.epoch ||
      stored.first_entry_id != mine.first_entry_id) {
    co_return s.fail(Errc::fenced, key + " was sealed or replaced under the writer");
  }
  if (stored.checkpoint_block_count == mine.checkpoint_block_count &&
      stored.checkpoint_end_entry_id == mine.checkpoint_end_entry_id) {
    Step step;
    step.result.checkpointed = StoredSegment{stored, read->kv->mod_revision};
    co_return step;
  }
  if (read->kv->mod_revision == s.txn.checkpoint_mod_revision) {
    // Nothing landed yet. After a failed compare the epoch changed: no attempt can land now.
    if (compare_failed) {
      co_return make_error(Errc::fenced, "the epoch changed before " + key + " was checkpointed");
    }
    co_return Step{Next::retry_after_backoff, {}};
  }
  if (stored.checkpoint_block_count > mine.checkpoint_block_count) {
    co_return s.fail(Errc::corrupt, key + " holds a later checkpoint than the writer's");
  }
  // An earlier checkpoint of ours landed late and moved the key: checkpoint on top of it while
  // the epoch is ours (the next compare checks the epoch again).
  Result<bool> ours = co_await epoch_is_ours(s);
  if (!ours.ok()) co_return std::move(ours).error();
  if (!*ours) {
    co_return s.fail(Errc::fenced, "the epoch changed before " + key + " was checkpointed");
  }
  s.txn.checkpoint_mod_revision = read->kv->mod_revision;
  co_return Step{Next::retry_at_once, {}};
}

}  // namespace

Task<Result<SegmentTxnResult>> commit_segment_txn(SegmentTxnContext context, SegmentTxn txn) {
  WAL_ASSERT(txn.seal.has_value() || txn.create.has_value() || txn.checkpoint.has_value());
  if (txn.checkpoint) WAL_ASSERT(!txn.seal.has_value() && !txn.create.has_value());
  if (txn.checkpoint) WAL_ASSERT(txn.checkpoint->state == SegmentState::open);
  if (txn.checkpoint) WAL_ASSERT_EQ(txn.checkpoint->epoch, context.epoch);
  if (txn.seal) WAL_ASSERT(txn.seal->state == SegmentState::sealed);
  if (txn.seal) WAL_ASSERT_EQ(txn.seal->sealed_by_epoch, context.epoch);
  if (txn.create) WAL_ASSERT(txn.create->state == SegmentState::open);
  if (txn.create) WAL_ASSERT_EQ(txn.create->epoch, context.epoch);
  if (txn.seal && txn.create) WAL_ASSERT_EQ(txn.create->segment_id, txn.seal->segment_id + 1);
  Settle s{context, txn};
  for (uint32_t attempt = 0; attempt < limits::read_attempts_max; ++attempt) {
    Result<TxnResponse> response = co_await context.env.meta_store->txn(request_for(s));
    if (response.ok() && response->succeeded) co_return applied(txn, response->revision);
    if (!response.ok()) {
      const Error& error = response.error();
      if (!error.unknown() && !is_retryable(error)) co_return s.fail(error);
      // Planted bug: a seal's error taken for "did not happen", so the read-back cannot know
      // that this attempt may have landed.
      const bool forget = txn.seal && context.env.faults.bug(SimBug::seal_unknown_as_failure);
      if (!forget) s.note_error();  // a MetaStore txn error leaves its outcome unknown
    }
    const bool compare_failed = response.ok();
    // Two statements, not one conditional expression: GCC 12 destroys a co_await's temporary
    // result twice when the co_await sits in a branch of `?:`.
    Result<Step> step = make_error(Errc::invalid_argument);
    if (txn.seal) {
      step = co_await settle_seal(s, compare_failed);
    } else if (txn.create) {
      step = co_await settle_create(s, compare_failed);
    } else {
      step = co_await settle_checkpoint(s, compare_failed);
    }
    if (!step.ok()) co_return std::move(step).error();
    switch (step->next) {
      case Next::done:
        if (txn.seal) WAL_ASSERT(step->result.sealed.has_value());
        if (txn.create) WAL_ASSERT(step->result.created.has_value());
        if (txn.checkpoint) WAL_ASSERT(step->result.checkpointed.has_value());
        co_return std::move(step->result);
      case Next::retry_at_once: break;
      case Next::retry_after_backoff:
        co_await backoff_sleep(context.env, context.backoff, std::min<uint32_t>(attempt, 6));
        break;
    }
  }
  const SegmentId segment_id = txn.seal     ? txn.seal->segment_id
                               : txn.create ? txn.create->segment_id
                                            : txn.checkpoint->segment_id;
  co_return s.fail(Errc::unavailable,
                   "could not settle the txn on segment " + std::to_string(segment_id));
}

}  // namespace wal
