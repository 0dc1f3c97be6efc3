// QuorumWriter against real LogStore nodes on in-memory services: 2-of-3 acknowledgement in
// order, rolling past a failed replica, takeover recovery (maximum over known replies, unknown
// never counted as empty), fencing of the old writer.
#include <gtest/gtest.h>

#include "tests/support/quorum_fixture.h"
#include "tests/support/scripted_meta_store.h"
#include "wal/async/scope.h"
#include "wal/quorum/protocol.h"

using namespace std::chrono_literals;

namespace wal::testing {
namespace {

using quorum::QuorumWriter;

Bytes payload_for(uint64_t i) { return to_bytes("entry-" + std::to_string(i)); }

// Starts `count` appends at once and runs until all complete.
std::vector<Result<EntryId>> append_all(QuorumFixture& f, QuorumWriter& writer, uint64_t first,
                                        uint64_t count) {
  std::vector<std::optional<Result<EntryId>>> results(count);
  Scope scope(f.loop);
  for (uint64_t i = 0; i < count; ++i) {
    scope.spawn([](QuorumWriter& w, Bytes payload,
                   std::optional<Result<EntryId>>& out) -> Task<void> {
      out.emplace(co_await w.append(std::move(payload)));
    }(writer, payload_for(first + i), results[i]));
  }
  f.loop.run_until_condition([&] {
    for (auto& r : results) {
      if (!r) return false;
    }
    return true;
  });
  std::vector<Result<EntryId>> out;
  for (auto& r : results) out.push_back(std::move(*r));
  return out;
}

// What a LogStore reports for a segment (an ordinary read: no fence, no entries needed).
quorum::ReadReply ask(QuorumFixture& f, const std::string& node, const LogKeys& keys,
                      const SegmentMeta& segment) {
  quorum::ReadRequest request;
  request.segment = {keys.name, keys.log_id, segment.segment_id, segment.first_entry_id,
                     segment.create_revision};
  request.from = segment.first_entry_id;
  request.bytes_max = 1;
  Network& net = *f.client("probe").network;
  Result<Bytes> reply = f.run(net.call(node, std::string(quorum::method_read), encode(request),
                                       f.loop.now() + 1s));
  WAL_ASSERT(reply.ok());
  Result<quorum::ReadReply> decoded = quorum::decode_read_reply(*reply);
  WAL_ASSERT(decoded.ok());
  return *decoded;
}

std::vector<SegmentMeta> segments(QuorumFixture& f, const LogKeys& keys) {
  RangeRequest request;
  request.key = keys.segment_prefix();
  request.range_end = prefix_end(keys.segment_prefix());
  Result<RangeResponse> range = f.run(f.meta.range(request));
  WAL_ASSERT(range.ok());
  std::vector<SegmentMeta> out;
  for (const KeyValue& kv : range->kvs) {
    Result<SegmentMeta> meta = decode_segment(kv.key, kv.value);
    WAL_ASSERT(meta.ok());
    meta->create_revision = kv.create_revision;
    out.push_back(*meta);
  }
  return out;
}

TEST(quorum_writer, pipelined_appends_are_acknowledged_in_order_with_dense_ids) {
  QuorumFixture f;
  const LogKeys keys = f.create_log("q");
  auto writer = f.open_writer("w1", keys);
  ASSERT_TRUE(writer.ok()) << writer.error().describe();
  auto results = append_all(f, **writer, 0, 500);
  for (uint64_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].error().describe();
    EXPECT_EQ(*results[i], i);
  }
  EXPECT_EQ((*writer)->acknowledged_end(), 500u);
  // Group commit: far fewer adds than entries per replica.
  EXPECT_LT((*writer)->stats().adds_sent, 3u * 500u);
  // Every acknowledged entry is durable on at least 2 of the 3 replicas.
  const SegmentMeta segment = segments(f, keys).back();
  ASSERT_EQ(segment.ensemble.size(), 3u);
  int holders = 0;
  for (const std::string& node : segment.ensemble) {
    if (ask(f, node, keys, segment).durable_end >= 500) ++holders;
  }
  EXPECT_GE(holders, 2);
}

TEST(quorum_writer, close_seals_at_the_acknowledged_end_and_the_next_writer_continues) {
  QuorumFixture f;
  const LogKeys keys = f.create_log("q");
  auto first = f.open_writer("w1", keys);
  ASSERT_TRUE(first.ok());
  for (auto& r : append_all(f, **first, 0, 40)) ASSERT_TRUE(r.ok());
  ASSERT_TRUE(f.run((*first)->close()).ok());
  std::vector<SegmentMeta> segs = segments(f, keys);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].state, SegmentState::sealed);
  EXPECT_EQ(segs[0].end_entry_id, 40u);
  auto second = f.open_writer("w2", keys);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->next_entry_id(), 40u);
  EXPECT_EQ((*second)->stats().segments_recovered, 0u);  // nothing was left open
  auto more = append_all(f, **second, 40, 5);
  ASSERT_TRUE(more[0].ok());
  EXPECT_EQ(*more[0], 40u);
}

// A quiet log's segment rolls once it is segment_age_max old, so its LogStores can upload it and
// drop their journals; a segment with no entry does not roll.
TEST(quorum_writer, a_segment_rolls_by_age_also_when_the_log_goes_quiet) {
  QuorumFixture f;
  const LogKeys keys = f.create_log("q");
  f.writer_options.segment_age_max = 5s;
  auto writer = f.open_writer("w1", keys);
  ASSERT_TRUE(writer.ok()) << writer.error().describe();
  for (auto& r : append_all(f, **writer, 0, 10)) ASSERT_TRUE(r.ok()) << r.error().describe();
  f.loop.run_for(4s);
  EXPECT_EQ(segments(f, keys).size(), 1u) << "rolled before the segment was 5 s old";
  f.loop.run_for(2s);
  std::vector<SegmentMeta> segs = segments(f, keys);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].state, SegmentState::sealed);
  EXPECT_EQ(segs[0].end_entry_id, 10u);
  EXPECT_EQ(segs[1].state, SegmentState::open);
  EXPECT_EQ((*writer)->stats().rolls_by_age, 1u);
  f.loop.run_for(20s);  // the new segment stays empty: no more rolls
  segs = segments(f, keys);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_TRUE(segs[0].uploaded) << "the aged segment was not uploaded";
  // The writer goes on in the new segment with the next id.
  auto more = append_all(f, **writer, 10, 3);
  ASSERT_TRUE(more[0].ok());
  EXPECT_EQ(*more[0], 10u);
}

// LogStores checkpoint the open segment (a CAS on its key) while the writer appends; the writer's
// seal then compares against a changed key and must seal on top of the checkpoint, not give up.
TEST(quorum_writer, seals_on_top_of_a_checkpoint_the_logstores_recorded) {
  QuorumFixture f;
  f.writer_options.upload_block_bytes_max = 256;
  const LogKeys keys = f.create_log("q");
  auto writer = f.open_writer("w1", keys);
  ASSERT_TRUE(writer.ok());
  for (auto& r : append_all(f, **writer, 0, 60)) ASSERT_TRUE(r.ok());
  for (auto& r : append_all(f, **writer, 60, 1)) ASSERT_TRUE(r.ok());  // carries the LAC
  f.loop.run_for(1s);  // upload scans
  std::vector<SegmentMeta> open = segments(f, keys);
  ASSERT_EQ(open.size(), 1u);
  ASSERT_EQ(open[0].state, SegmentState::open);
  ASSERT_GT(open[0].checkpoint_block_count, 0u) << "the LogStores did not checkpoint";
  ASSERT_TRUE(f.run((*writer)->close()).ok());
  std::vector<SegmentMeta> sealed = segments(f, keys);
  ASSERT_EQ(sealed.size(), 1u);
  EXPECT_EQ(sealed[0].state, SegmentState::sealed);
  EXPECT_EQ(sealed[0].end_entry_id, 61u);
  EXPECT_EQ(sealed[0].checkpoint_block_count, open[0].checkpoint_block_count);
  f.loop.run_for(1s);
  sealed = segments(f, keys);
  EXPECT_TRUE(sealed[0].uploaded);
  auto reader = f.run(f.client("r").client->open_reader("q", ReadPosition::earliest()));
  ASSERT_TRUE(reader.ok());
  for (EntryId id = 0; id < 61; ++id) {
    auto entry = f.run((*reader)->try_next());
    ASSERT_TRUE(entry.ok() && entry->has_value()) << id;
    EXPECT_EQ((*entry)->payload, payload_for(id));
  }
}

// A writer that no LogStore answers any more rolls to new ensembles, backing off, and fails with
// `unavailable` after fruitless_rolls_max rolls instead of creating segments forever.
TEST(quorum_writer, rolls_that_acknowledge_nothing_end_in_a_clear_failure) {
  QuorumFixture f;
  f.writer_options.fruitless_rolls_max = 4;
  f.writer_options.rpc_timeout = 200ms;
  const LogKeys keys = f.create_log("q");
  auto writer = f.open_writer("w1", keys);
  ASSERT_TRUE(writer.ok());
  for (auto& r : append_all(f, **writer, 0, 3)) ASSERT_TRUE(r.ok());
  for (const auto& store : f.stores) f.hub.set_link_up("w1", store->id, false);
  auto stuck = append_all(f, **writer, 3, 2);
  ASSERT_FALSE(stuck[0].ok());
  EXPECT_EQ(stuck[0].error().code, Errc::unavailable) << stuck[0].error().describe();
  EXPECT_NE(stuck[0].error().message.find("acknowledged nothing"), std::string::npos)
      << stuck[0].error().describe();
  EXPECT_TRUE(stuck[0].error().unknown()) << "the entry may have reached a LogStore";
  EXPECT_LE(segments(f, keys).size(), 6u);
  // The entries acknowledged before are still there for the next writer.
  for (const auto& store : f.stores) f.hub.set_link_up("w1", store->id, true);
  auto next = f.open_writer("w2", keys);
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_GE((*next)->next_entry_id(), 3u);
}

TEST(quorum_writer, a_crashed_replica_makes_the_writer_roll_without_losing_or_repeating_ids) {
  QuorumFixture f;
  const LogKeys keys = f.create_log("q");
  auto writer = f.open_writer("w1", keys);
  ASSERT_TRUE(writer.ok());
  for (auto& r : append_all(f, **writer, 0, 20)) ASSERT_TRUE(r.ok());
  // Crash one member of the current ensemble, then keep appending.
  const std::string victim = (*writer)->ensemble()[0];
  f.crash_store(static_cast<size_t>(victim[2] - '1'));
  auto results = append_all(f, **writer, 20, 50);
  for (uint64_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].error().describe();
    EXPECT_EQ(*results[i], 20 + i);
  }
  EXPECT_GE((*writer)->stats().replica_failures, 1u);
  EXPECT_GE((*writer)->stats().segments_sealed, 1u);
  std::vector<SegmentMeta> segs = segments(f, keys);
  ASSERT_GE(segs.size(), 2u);
  EXPECT_EQ(segs[0].state, SegmentState::sealed);
  EXPECT_EQ(segs[1].first_entry_id, segs[0].end_entry_id);  // dense across the roll
  for (const std::string& node : segs.back().ensemble) EXPECT_NE(node, victim);
}

TEST(quorum_writer, takeover_recovers_every_acknowledged_entry_and_fences_the_old_writer) {
  QuorumFixture f;
  const LogKeys keys = f.create_log("q");
  auto old_writer = f.open_writer("w1", keys);
  ASSERT_TRUE(old_writer.ok());
  for (auto& r : append_all(f, **old_writer, 0, 30)) ASSERT_TRUE(r.ok());
  auto new_writer = f.open_writer("w2", keys);
  ASSERT_TRUE(new_writer.ok()) << new_writer.error().describe();
  EXPECT_EQ((*new_writer)->stats().segments_recovered, 1u);
  EXPECT_GE((*new_writer)->next_entry_id(), 30u);  // the maximum, never below an acknowledged id
  const SegmentMeta recovered = segments(f, keys)[0];
  EXPECT_EQ(recovered.state, SegmentState::sealed);
  EXPECT_EQ(recovered.sealed_by_epoch, (*new_writer)->epoch());
  // The old writer can no longer get anything acknowledged.
  auto late = append_all(f, **old_writer, 1000, 1);
  ASSERT_FALSE(late[0].ok());
  EXPECT_EQ(late[0].error().code, Errc::fenced);
}

// Regression (wp-sim --mode quorum swarm seed 4582, traces/found-quorum-seed-4582.json): the
// opener's create txn landed with its reply lost, a newer writer recovered and sealed that
// segment meanwhile, and the settling read found it with our epoch: the writer adopted a sealed
// segment (an assertion aborted the process). It must be fenced, and the newer writer go on.
TEST(quorum_writer, an_opener_whose_new_segment_was_sealed_meanwhile_is_fenced) {
  QuorumFixture f;
  const LogKeys keys = f.create_log("q");
  ScriptedMetaStore partitioned(f.meta);
  partitioned.script(keys.segment_key(0), {ScriptedMetaStore::Fate::apply_then_timeout});
  std::unique_ptr<QuorumWriter> taker;
  partitioned.meanwhile = [&]() -> Task<void> {
    auto opened = co_await QuorumWriter::open(*f.client("w2").env, keys, f.writer_options);
    WAL_ASSERT(opened.ok());
    taker = std::move(opened).value();
  };
  auto stale = f.run(QuorumWriter::open(*f.client("w1", &partitioned).env, keys,
                                        f.writer_options));
  ASSERT_TRUE(taker != nullptr);  // the takeover happened while the create's reply was lost
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::fenced);
  const std::vector<SegmentMeta> segs = segments(f, keys);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].sealed_by_epoch, taker->epoch());
  auto after = append_all(f, *taker, 0, 3);
  for (auto& r : after) ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(*after[0], 0u);
}

// A roll's seal txn times out and lands only after the writer read the segment back and found it
// still open; the retry's compare fails. The seal is the writer's own: it goes on in the next
// segment instead of failing as if a newer writer had sealed it.
TEST(quorum_writer, a_roll_whose_seal_lands_late_goes_on_in_the_next_segment) {
  QuorumFixture f;
  f.writer_options.segment_entries_max = 10;
  const LogKeys keys = f.create_log("q");
  ScriptedMetaStore slow(f.meta);
  auto writer = f.run(QuorumWriter::open(*f.client("w1", &slow).env, keys, f.writer_options));
  ASSERT_TRUE(writer.ok());
  slow.script(keys.segment_key(0), {ScriptedMetaStore::Fate::hold_then_timeout});
  for (auto& r : append_all(f, **writer, 0, 12)) ASSERT_TRUE(r.ok()) << r.error().describe();
  // These wait for the roll the first batch started, and go into the next segment.
  for (auto& r : append_all(f, **writer, 12, 5)) ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(slow.held_landed_count, 1u);
  EXPECT_EQ((*writer)->stats().segments_sealed, 1u);
  const std::vector<SegmentMeta> segs = segments(f, keys);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].sealed_by_epoch, (*writer)->epoch());
  EXPECT_EQ(segs[0].end_entry_id, 12u);
  EXPECT_EQ(segs[1].first_entry_id, 12u);
  EXPECT_EQ(segs[1].state, SegmentState::open);
}

TEST(quorum_writer, recovery_goes_on_with_two_of_three_replicas) {
  QuorumFixture f;
  const LogKeys keys = f.create_log("q");
  auto old_writer = f.open_writer("w1", keys);
  ASSERT_TRUE(old_writer.ok());
  for (auto& r : append_all(f, **old_writer, 0, 10)) ASSERT_TRUE(r.ok());
  const std::string down = (*old_writer)->ensemble()[1];
  old_writer->reset();  // the old writer crashes
  f.crash_store(static_cast<size_t>(down[2] - '1'));
  auto new_writer = f.open_writer("w2", keys);
  ASSERT_TRUE(new_writer.ok()) << new_writer.error().describe();
  EXPECT_EQ(segments(f, keys)[0].end_entry_id, 10u);
}

TEST(quorum_writer, an_unknown_reply_is_never_counted_as_empty) {
  QuorumFixture f;
  f.writer_options.fence_rounds_max = 3;
  const LogKeys keys = f.create_log("q");
  auto old_writer = f.open_writer("w1", keys);
  ASSERT_TRUE(old_writer.ok());
  for (auto& r : append_all(f, **old_writer, 0, 10)) ASSERT_TRUE(r.ok());
  const std::vector<std::string> ensemble = (*old_writer)->ensemble();
  old_writer->reset();
  // One replica loses its disk, another is down: only one known reply is possible, so recovery
  // must not choose an end (an empty wiped journal would say "nothing here").
  const size_t wiped = static_cast<size_t>(ensemble[0][2] - '1');
  const size_t down = static_cast<size_t>(ensemble[1][2] - '1');
  f.wipe_store(wiped);
  f.start_store(wiped);
  f.crash_store(down);
  auto blocked = f.open_writer("w2", keys);
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, Errc::unavailable);
  // The down replica returns: two known replies, and nothing acknowledged is lost.
  f.start_store(down);
  auto recovered = f.open_writer("w3", keys);
  ASSERT_TRUE(recovered.ok()) << recovered.error().describe();
  EXPECT_GE(segments(f, keys)[0].end_entry_id, 10u);
}

}  // namespace
}  // namespace wal::testing

namespace wal::testing {
namespace {

// Readers of a QuorumBuffer log read a segment's LogStores before it is uploaded, only up to the
// acknowledged end, and wake from a long poll when the writer acknowledges more.
TEST(quorum_reader, reads_acknowledged_entries_from_logstores_before_the_upload) {
  QuorumFixture f;
  f.store_options.upload_scan_interval = std::chrono::hours(1);  // no upload during the test
  for (size_t i = 0; i < f.stores.size(); ++i) {
    f.crash_store(i);
    f.start_store(i);
  }
  const LogKeys keys = f.create_log("q");
  auto writer = f.open_writer("w1", keys);
  ASSERT_TRUE(writer.ok());
  for (auto& r : append_all(f, **writer, 0, 25)) ASSERT_TRUE(r.ok());
  f.loop.run_for(10ms);  // the idle writer sends its last-add-confirmed
  EXPECT_TRUE(f.objects.keys().empty()) << "nothing may be in object storage yet";
  auto reader = f.run(f.client("r").client->open_reader("q", ReadPosition::earliest()));
  ASSERT_TRUE(reader.ok()) << reader.error().describe();
  for (uint64_t i = 0; i < 25; ++i) {
    auto entry = f.run((*reader)->try_next());
    ASSERT_TRUE(entry.ok()) << entry.error().describe();
    ASSERT_TRUE(entry->has_value()) << "entry " << i << " not readable";
    EXPECT_EQ((*entry)->id, i);
    EXPECT_EQ((*entry)->payload, payload_for(i));
  }
  auto at_tail = f.run((*reader)->try_next());
  ASSERT_TRUE(at_tail.ok());
  EXPECT_FALSE(at_tail->has_value());
  // A waiting reader wakes when the next entry is acknowledged, well before its poll expires.
  std::optional<Result<LogEntry>> woken;
  Scope scope(f.loop);
  scope.spawn([](LogReader& r, std::optional<Result<LogEntry>>& out) -> Task<void> {
    out.emplace(co_await r.next());
  }(**reader, woken));
  f.loop.run_for(50ms);
  EXPECT_FALSE(woken.has_value());
  const TimePoint appended_at = f.loop.now();
  auto more = append_all(f, **writer, 25, 1);
  ASSERT_TRUE(more[0].ok());
  f.loop.run_until_condition([&] { return woken.has_value(); });
  ASSERT_TRUE(woken->ok()) << woken->error().describe();
  EXPECT_EQ((**woken).id, 25u);
  EXPECT_LT(f.loop.now() - appended_at, 100ms);
}

}  // namespace
}  // namespace wal::testing

namespace wal::testing {
namespace {

size_t store_index(const std::string& node) { return static_cast<size_t>(node[2] - '1'); }

// Recovery branch: the maximum is on one replica only, so recovery reads the missing entries
// from it and copies them to a lagging replica before it seals (I7 in docs/protocol.md).
TEST(quorum_recovery, copies_entries_to_a_lagging_replica_before_sealing) {
  QuorumFixture f;
  const LogKeys keys = f.create_log("q");
  auto old_writer = f.open_writer("w1", keys);
  ASSERT_TRUE(old_writer.ok());
  for (auto& r : append_all(f, **old_writer, 0, 10)) ASSERT_TRUE(r.ok());
  const std::vector<std::string> ensemble = (*old_writer)->ensemble();
  // Replica 2 stops hearing from the writer; entries 10..19 are acknowledged by replicas 0, 1.
  f.hub.set_link_up("w1", ensemble[2], false);
  f.writer_options.rpc_timeout = std::chrono::hours(1);  // (the old writer keeps its options)
  std::vector<std::optional<Result<EntryId>>> results(10);
  Scope scope(f.loop);
  for (uint64_t i = 0; i < 10; ++i) {
    scope.spawn([](QuorumWriter& w, Bytes p, std::optional<Result<EntryId>>& out) -> Task<void> {
      out.emplace(co_await w.append(std::move(p)));
    }(**old_writer, payload_for(10 + i), results[i]));
  }
  f.loop.run_until_condition([&] { return (*old_writer)->acknowledged_end() == 20; });
  old_writer->reset();  // the writer dies before its lagging replica times out
  f.hub.set_link_up("w1", ensemble[2], true);
  f.crash_store(store_index(ensemble[1]));  // the only other full copy is gone
  auto new_writer = f.open_writer("w2", keys);
  ASSERT_TRUE(new_writer.ok()) << new_writer.error().describe();
  const SegmentMeta sealed = segments(f, keys)[0];
  EXPECT_EQ(sealed.end_entry_id, 20u);
  EXPECT_EQ((*new_writer)->stats().entries_rereplicated, 10u);
  // The lagging replica now holds everything the seal covers.
  quorum::ReadRequest request;
  request.segment = {keys.name, keys.log_id, 0, 0, sealed.create_revision};
  request.bytes_max = 1;
  request.recovery_epoch = (*new_writer)->epoch();
  Result<Bytes> reply = f.run(f.client("probe").network->call(
      ensemble[2], std::string(quorum::method_read), encode(request), f.loop.now() + 1s));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(quorum::decode_read_reply(*reply)->durable_end, 20u);
}

// Recovery branch: a replica already fenced by a newer epoch means a newer writer is recovering:
// this open fails fenced rather than racing it.
TEST(quorum_recovery, a_replica_fenced_by_a_newer_epoch_fences_the_opener) {
  QuorumFixture f;
  const LogKeys keys = f.create_log("q");
  auto old_writer = f.open_writer("w1", keys);
  ASSERT_TRUE(old_writer.ok());
  for (auto& r : append_all(f, **old_writer, 0, 3)) ASSERT_TRUE(r.ok());
  const std::string node = (*old_writer)->ensemble()[0];
  const SegmentMeta open = segments(f, keys)[0];
  quorum::FenceRequest newer;
  newer.segment = {keys.name, keys.log_id, 0, 0, open.create_revision};
  newer.epoch = 100;
  ASSERT_TRUE(f.run(f.client("probe").network->call(node, std::string(quorum::method_fence),
                                                    encode(newer), f.loop.now() + 1s))
                  .ok());
  auto opener = f.open_writer("w2", keys);
  ASSERT_FALSE(opener.ok());
  EXPECT_EQ(opener.error().code, Errc::fenced);
}

// Kills the writer after every few scheduler steps of a workload that rolls segments (a replica
// crash mid-way), then recovers with a new writer: every acknowledged entry is in the sealed
// range, with its bytes, and ids stay dense.
TEST(quorum_recovery, a_writer_killed_at_any_step_loses_no_acknowledged_entry) {
  for (uint64_t steps = 0; steps < 600; steps += 7) {
    SCOPED_TRACE("killed after " + std::to_string(steps) + " steps");
    QuorumFixture f;
    f.writer_options.segment_entries_max = 8;  // rolls within the workload
    const LogKeys keys = f.create_log("q");
    auto writer = f.open_writer("w1", keys);
    ASSERT_TRUE(writer.ok());
    std::vector<std::optional<Result<EntryId>>> results(30);
    {
      Scope scope(f.loop);
      for (uint64_t i = 0; i < results.size(); ++i) {
        scope.spawn([](QuorumWriter& w, Bytes p,
                       std::optional<Result<EntryId>>& out) -> Task<void> {
          out.emplace(co_await w.append(std::move(p)));
        }(**writer, payload_for(i), results[i]));
      }
      for (uint64_t i = 0; i < steps && f.loop.run_one(); ++i) {
        if (i == steps / 2) f.crash_store(store_index((*writer)->ensemble()[0]));
      }
      writer->reset();  // the writer process dies here, with its appends
    }
    for (size_t i = 0; i < f.stores.size(); ++i) {
      if (!f.stores[i]->store) f.start_store(i);
    }
    auto recovered = f.open_writer("w2", keys);
    ASSERT_TRUE(recovered.ok()) << recovered.error().describe();
    ASSERT_TRUE(f.run((*recovered)->close()).ok());
    // Every sealed segment's range, read back through the LogStores' uploads.
    f.loop.run_for(2s);
    auto reader = f.run(f.client("r").client->open_reader("q", ReadPosition::earliest()));
    ASSERT_TRUE(reader.ok());
    std::map<EntryId, Bytes> log;
    while (true) {
      auto entry = f.run((*reader)->try_next());
      ASSERT_TRUE(entry.ok()) << entry.error().describe();
      if (!entry->has_value()) break;
      log[(*entry)->id] = (*entry)->payload;
    }
    for (uint64_t i = 0; i < results.size(); ++i) {
      if (!results[i] || !results[i]->ok()) continue;
      const EntryId id = **results[i];
      ASSERT_TRUE(log.contains(id)) << "acknowledged id " << id << " lost";
      EXPECT_EQ(log[id], payload_for(i));
    }
    EntryId expected = 0;
    for (const auto& [id, payload] : log) EXPECT_EQ(id, expected++);
  }
}

}  // namespace
}  // namespace wal::testing
