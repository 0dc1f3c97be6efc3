// commit_segment_txn (wal/log/segment_txn.h): creates and seals under the writer's epoch, and
// how each unknown outcome is settled by reading back. Txns meet their fates through a
// ScriptedMetaStore (lost replies, lost requests, requests that land late) while a newer writer
// may take over in between.
#include <gtest/gtest.h>

#include "tests/support/scripted_meta_store.h"
#include "wal/log/segment_txn.h"
#include "wal/mem/manual_loop.h"
#include "wal/mem/mem_meta_store.h"

namespace wal::testing {
namespace {

using Fate = ScriptedMetaStore::Fate;

struct SegmentTxnFixture {
  SegmentTxnFixture() { epoch_mod_revision = put(keys.epoch_key(), "epoch 1"); }

  // Writes `value` at `key` directly (another process's write); returns its mod revision.
  int64_t put(const std::string& key, const std::string& value) {
    TxnRequest request;
    request.success = {PutOp{key, value, 0}};
    Result<TxnResponse> response = meta.apply_txn(request);
    WAL_ASSERT(response.ok());
    return response->revision;
  }
  int64_t put(const SegmentMeta& segment) {
    return put(keys.segment_key(segment.segment_id), encode(segment));
  }
  SegmentMeta open_segment(SegmentId id, EntryId first) const {
    SegmentMeta segment;
    segment.segment_id = id;
    segment.epoch = epoch;
    segment.first_entry_id = first;
    segment.checkpoint_end_entry_id = first;
    return segment;
  }
  static SegmentMeta sealed_at(SegmentMeta segment, EntryId end, Epoch by) {
    segment.state = SegmentState::sealed;
    segment.end_entry_id = end;
    segment.sealed_by_epoch = by;
    return segment;
  }
  // Stores `open` and returns the txn that seals it at `end`, compared at the stored revision.
  SegmentTxn seal_of(const SegmentMeta& open, EntryId end) {
    SegmentTxn txn;
    txn.seal = sealed_at(open, end, epoch);
    txn.seal_mod_revision = put(open);
    return txn;
  }
  std::optional<SegmentMeta> stored(SegmentId id) {
    Result<RangeResponse> read = meta.apply_range(RangeRequest{keys.segment_key(id), "", 0, 0});
    WAL_ASSERT(read.ok());
    if (read->kvs.empty()) return std::nullopt;
    Result<SegmentMeta> decoded = decode_segment(read->kvs[0].key, read->kvs[0].value);
    WAL_ASSERT(decoded.ok());
    return *decoded;
  }
  // A newer writer (epoch 2) takes the epoch and seals `segment` at its first entry.
  void take_over_and_seal(const SegmentMeta& segment) {
    (void)put(keys.epoch_key(), "epoch 2");
    (void)put(sealed_at(segment, segment.first_entry_id, epoch + 1));
  }
  // The newer writer takes over while a scripted txn's reply is lost.
  void take_over_meanwhile(const SegmentMeta& segment) {
    scripted.meanwhile = [this, segment]() -> Task<void> {
      take_over_and_seal(segment);
      co_return;
    };
  }
  Result<SegmentTxnResult> commit(SegmentTxn txn) {
    return loop.run(commit_segment_txn(
        SegmentTxnContext{env, keys, Backoff{}, epoch, epoch_mod_revision}, std::move(txn)));
  }

  ManualLoop loop;
  MemMetaStore meta{loop, loop};
  ScriptedMetaStore scripted{meta};
  Xoshiro256 random{7};
  NoFaults faults;
  Env env{loop, loop, random, faults, nullptr, &scripted, nullptr, nullptr};
  LogKeys keys{"/wal/", "wal/", "t", 1};
  Epoch epoch = 1;
  int64_t epoch_mod_revision = 0;
};

// The #17 case: the first seal times out and lands only after the read-back found the segment
// still open; the retry's compare then fails. The seal is ours, not "a newer writer's".
TEST(segment_txn, a_seal_that_lands_after_its_read_back_is_settled_as_ours) {
  SegmentTxnFixture f;
  const SegmentMeta open = f.open_segment(0, 0);
  f.scripted.script(f.keys.segment_key(0), {Fate::hold_then_timeout});
  SegmentTxn txn = f.seal_of(open, 0);
  Result<SegmentTxnResult> done = f.commit(txn);
  EXPECT_EQ(f.scripted.held_landed_count, 1u);  // it did land late, under the second attempt
  ASSERT_TRUE(done.ok()) << done.error().describe();
  EXPECT_EQ(done->sealed->meta.sealed_by_epoch, f.epoch);
  EXPECT_EQ(f.stored(0)->state, SegmentState::sealed);
}

TEST(segment_txn, a_roll_that_lands_late_adopts_the_next_segment_it_created) {
  SegmentTxnFixture f;
  const SegmentMeta open = f.open_segment(0, 0);
  f.scripted.script(f.keys.segment_key(0), {Fate::hold_then_timeout});
  SegmentTxn txn = f.seal_of(open, 5);
  txn.create = f.open_segment(1, 5);
  Result<SegmentTxnResult> done = f.commit(txn);
  ASSERT_TRUE(done.ok()) << done.error().describe();
  ASSERT_TRUE(done->created.has_value());
  EXPECT_EQ(done->created->meta.first_entry_id, 5u);
  EXPECT_EQ(done->created->meta.state, SegmentState::open);
  EXPECT_GT(done->created->meta.create_revision, txn.seal_mod_revision);
}

// The #19 case: our create landed, and a newer writer recovered and sealed the segment before
// we read it back. We are fenced; the segment is not ours to write into.
TEST(segment_txn, a_created_segment_sealed_by_a_newer_writer_fences_instead_of_being_adopted) {
  SegmentTxnFixture f;
  const SegmentMeta segment = f.open_segment(3, 40);
  f.scripted.script(f.keys.segment_key(3), {Fate::apply_then_timeout});
  f.take_over_meanwhile(segment);
  SegmentTxn txn;
  txn.create = segment;
  Result<SegmentTxnResult> done = f.commit(txn);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, Errc::fenced);
  EXPECT_TRUE(done.error().unknown());  // our create did land
  EXPECT_NE(done.error().message.find("sealed by epoch 2"), std::string::npos);
  EXPECT_EQ(f.stored(3)->sealed_by_epoch, 2u);  // nothing written over the newer writer's seal
}

TEST(segment_txn, a_roll_whose_next_segment_was_sealed_by_a_newer_writer_fences) {
  SegmentTxnFixture f;
  const SegmentMeta open = f.open_segment(0, 0);
  const SegmentMeta next = f.open_segment(1, 7);
  f.scripted.script(f.keys.segment_key(0), {Fate::apply_then_timeout});
  f.take_over_meanwhile(next);
  SegmentTxn txn = f.seal_of(open, 7);
  txn.create = next;
  Result<SegmentTxnResult> done = f.commit(txn);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, Errc::fenced);
  EXPECT_NE(done.error().message.find("created by this writer"), std::string::npos);
}

TEST(segment_txn, a_lost_create_is_sent_again_and_lands_once) {
  SegmentTxnFixture f;
  f.scripted.script(f.keys.segment_key(0), {Fate::lose_then_timeout, Fate::lose_then_timeout});
  SegmentTxn txn;
  txn.create = f.open_segment(0, 0);
  Result<SegmentTxnResult> done = f.commit(txn);
  ASSERT_TRUE(done.ok()) << done.error().describe();
  EXPECT_EQ(f.scripted.scripted_count, 2u);
  Result<RangeResponse> read = f.meta.apply_range(RangeRequest{f.keys.segment_key(0), "", 0, 0});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->kvs.at(0).version, 1);  // written once
  EXPECT_EQ(done->created->mod_revision, read->kvs.at(0).mod_revision);
}

TEST(segment_txn, a_seal_raced_by_a_newer_writer_is_fenced_definitely) {
  SegmentTxnFixture f;
  const SegmentMeta open = f.open_segment(0, 0);
  f.scripted.script(f.keys.segment_key(0), {Fate::lose_then_timeout});
  f.take_over_meanwhile(open);
  SegmentTxn txn = f.seal_of(open, 3);
  Result<SegmentTxnResult> done = f.commit(txn);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, Errc::fenced);
  EXPECT_FALSE(done.error().unknown());  // the newer writer's seal proves ours did not land
}

TEST(segment_txn, a_compare_that_failed_on_the_epoch_alone_is_fenced_definitely) {
  SegmentTxnFixture f;
  const SegmentMeta open = f.open_segment(0, 0);
  (void)f.put(f.keys.epoch_key(), "epoch 2");
  SegmentTxn seal = f.seal_of(open, 0);
  Result<SegmentTxnResult> sealed = f.commit(seal);
  ASSERT_FALSE(sealed.ok());
  EXPECT_EQ(sealed.error().code, Errc::fenced);
  EXPECT_FALSE(sealed.error().unknown());
  SegmentTxn create;
  create.create = f.open_segment(1, 0);
  Result<SegmentTxnResult> created = f.commit(create);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, Errc::fenced);
  EXPECT_FALSE(f.stored(1).has_value());
}

// A LogStore recorded a checkpoint of the open segment after we read it: the seal is redone on
// top of it while the epoch is ours, and keeps the checkpoint; once the epoch moved, fenced.
TEST(segment_txn, a_seal_goes_on_top_of_a_checkpoint_only_while_the_epoch_is_ours) {
  for (const bool epoch_moved : {false, true}) {
    SCOPED_TRACE(epoch_moved ? "epoch moved" : "epoch ours");
    SegmentTxnFixture f;
    const SegmentMeta open = f.open_segment(0, 10);
    SegmentTxn txn = f.seal_of(open, 35);
    SegmentMeta checkpointed = open;
    checkpointed.checkpoint_block_count = 2;
    checkpointed.checkpoint_end_entry_id = 30;
    (void)f.put(checkpointed);
    if (epoch_moved) (void)f.put(f.keys.epoch_key(), "epoch 2");
    Result<SegmentTxnResult> done = f.commit(txn);
    if (epoch_moved) {
      ASSERT_FALSE(done.ok());
      EXPECT_EQ(done.error().code, Errc::fenced);
      EXPECT_EQ(f.stored(0)->state, SegmentState::open);
      continue;
    }
    ASSERT_TRUE(done.ok()) << done.error().describe();
    EXPECT_EQ(done->sealed->meta.checkpoint_block_count, 2u);
    EXPECT_EQ(f.stored(0)->checkpoint_end_entry_id, 30u);
    EXPECT_EQ(f.stored(0)->end_entry_id, 35u);
  }
}

// A writer's checkpoint at `blocks` blocks, ending at `end`, compared at `revision`.
SegmentTxn checkpoint_of(const SegmentMeta& open, uint64_t blocks, EntryId end,
                         int64_t revision) {
  SegmentTxn txn;
  txn.checkpoint = open;
  txn.checkpoint->checkpoint_block_count = blocks;
  txn.checkpoint->checkpoint_end_entry_id = end;
  txn.checkpoint_mod_revision = revision;
  return txn;
}

// Checkpoint 1 times out and lands late, under checkpoint 2's attempt, whose compare then
// fails: checkpoint 2 goes on top of it while the epoch is ours; once the epoch moved, fenced.
TEST(segment_txn, a_checkpoint_goes_on_top_of_our_late_checkpoint_only_while_the_epoch_is_ours) {
  for (const bool epoch_moved : {false, true}) {
    SCOPED_TRACE(epoch_moved ? "epoch moved" : "epoch ours");
    SegmentTxnFixture f;
    const SegmentMeta open = f.open_segment(0, 10);
    const int64_t revision = f.put(open);
    f.scripted.script(f.keys.segment_key(0), {Fate::hold_then_timeout, Fate::lose_then_timeout});
    Result<SegmentTxnResult> first = f.commit(checkpoint_of(open, 1, 20, revision));
    ASSERT_TRUE(first.ok()) << first.error().describe();  // settled when it landed, late
    EXPECT_EQ(f.scripted.held_landed_count, 1u);
    EXPECT_EQ(first->checkpointed->meta.checkpoint_block_count, 1u);
    // Checkpoint 2 still compares the revision before checkpoint 1 (the writer's view if the
    // first had been settled as not landed).
    if (epoch_moved) (void)f.put(f.keys.epoch_key(), "epoch 2");
    Result<SegmentTxnResult> second = f.commit(checkpoint_of(open, 2, 30, revision));
    if (epoch_moved) {
      ASSERT_FALSE(second.ok());
      EXPECT_EQ(second.error().code, Errc::fenced);
      EXPECT_EQ(f.stored(0)->checkpoint_block_count, 1u);
      continue;
    }
    ASSERT_TRUE(second.ok()) << second.error().describe();
    EXPECT_EQ(f.stored(0)->checkpoint_block_count, 2u);
    EXPECT_EQ(second->checkpointed->meta.checkpoint_end_entry_id, 30u);
  }
}

TEST(segment_txn, attempts_that_never_answer_end_unavailable_with_an_unknown_outcome) {
  SegmentTxnFixture f;
  f.scripted.script(f.keys.segment_key(0),
                    std::vector<Fate>(limits::read_attempts_max, Fate::lose_then_timeout));
  SegmentTxn txn;
  txn.create = f.open_segment(0, 0);
  Result<SegmentTxnResult> done = f.commit(txn);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, Errc::unavailable);
  EXPECT_TRUE(done.error().unknown());  // never rounded to "did not happen"
  EXPECT_EQ(f.scripted.scripted_count, limits::read_attempts_max);
}

}  // namespace
}  // namespace wal::testing
