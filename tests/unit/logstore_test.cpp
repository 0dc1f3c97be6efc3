// The LogStore node: durability of adds (group fsync, crashes), gaps, duplicates, fences across
// restarts, knowledge after a wipe or damage, reads bounded by the confirmed end, long polls.
#include <gtest/gtest.h>

#include "tests/unit/logstore_fixture.h"
#include "wal/async/scope.h"

using namespace std::chrono_literals;

namespace wal::quorum::testing {
namespace {

TEST(logstore, add_is_acknowledged_only_after_its_sync_and_adds_share_syncs) {
  LogStoreFixture f;
  f.start("a");
  f.node("a").slow_disk.sync_latency = 10ms;
  const uint64_t syncs_at_start = f.node("a").slow_disk.sync_calls;  // the disk marker's
  const uint64_t log_id = f.create_log("orders");
  const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
  // One add starts an fsync; the nine that arrive while it runs share the next one.
  std::vector<std::optional<Result<Bytes>>> replies(10);
  Scope scope(f.loop);
  auto send = [&](EntryId id) {
    scope.spawn([](LogStoreFixture& fx, AddRequest request,
                   std::optional<Result<Bytes>>& out) -> Task<void> {
      out.emplace(co_await fx.call("a", method_add, encode(request)));
    }(f, add_request(ref, id, id + 1), replies[id]));
  };
  send(0);
  f.loop.run_for(2ms);
  for (EntryId id = 1; id < 10; ++id) send(id);
  f.loop.run_for(5ms);
  for (auto& reply : replies) EXPECT_FALSE(reply.has_value()) << "acknowledged before the sync";
  f.loop.run_until_condition([&] {
    for (auto& reply : replies) {
      if (!reply) return false;
    }
    return true;
  });
  for (EntryId id = 0; id < 10; ++id) {
    ASSERT_TRUE(replies[id]->ok());
    auto decoded = decode_add_reply(**replies[id]);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->status, AddStatus::ok);
    EXPECT_GE(decoded->durable_end, id + 1);
  }
  EXPECT_EQ(f.store("a").stats().fsyncs, 2u);
  EXPECT_EQ(f.node("a").slow_disk.sync_calls - syncs_at_start, 2u);
}

// A crash while an fsync is running loses at most the unacknowledged entries, on every seed.
TEST(logstore, crash_before_sync_loses_only_unacknowledged_entries) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    LogStoreFixture f;
    f.random = Xoshiro256(seed);
    f.start("a");
    const uint64_t log_id = f.create_log("orders");
    const SegmentRef ref = f.create_segment("orders", log_id, 0, 0);
    auto acked = f.add("a", add_request(ref, 0, 5));
    ASSERT_TRUE(acked.ok());
    ASSERT_EQ(acked->status, AddStatus::ok);
    f.node("a").slow_disk.sync_latency = 10ms;
    std::optional<Result<Bytes>> late;
    Scope scope(f.loop);
    scope.spawn([](LogStoreFixture& fx, AddRequest request,
                   std::optional<Result<Bytes>>& out) -> Task<void> {
      out.emplace(co_await fx.call("a", method_add, encode(request)));
    }(f, add_request(ref, 5, 9), late));
    f.loop.run_for(5ms);  // appended, sync still running
    ASSERT_FALSE(late.has_value());
    f.crash("a");
    f.node("a").slow_disk.sync_latency = 0ms;
    f.start("a");
    auto fenced = f.fence("a", ref, 2);
    ASSERT_TRUE(fenced.ok());
    EXPECT_EQ(fenced->knowledge, Knowledge::known);
    EXPECT_GE(fenced->durable_end, 5u) << "seed " << seed << ": an acknowledged entry is gone";
    EXPECT_LE(fenced->durable_end, 9u);
    // Whatever survived reads back intact.
    ReadRequest read{ref, 0, 0, 2, 0};
    auto entries = f.read("a", read);
    ASSERT_TRUE(entries.ok());
    ASSERT_EQ(entries->payloads.size(), fenced->durable_end);
    for (EntryId id = 0; id < entries->payloads.size(); ++id) {
      EXPECT_EQ(entries->payloads[id], payload(id));
    }
  }
}

TEST(logstore, an_add_above_the_durable_end_is_a_gap) {
  LogStoreFixture f;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 3, 100);
  auto gap = f.add("a", add_request(ref, 102, 104));
  ASSERT_TRUE(gap.ok());
  EXPECT_EQ(gap->status, AddStatus::gap);
  EXPECT_EQ(gap->durable_end, 100u);
  auto ok = f.add("a", add_request(ref, 100, 102));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, AddStatus::ok);
  EXPECT_EQ(ok->durable_end, 102u);
  auto now_fits = f.add("a", add_request(ref, 102, 104));
  ASSERT_TRUE(now_fits.ok());
  EXPECT_EQ(now_fits->status, AddStatus::ok);
  EXPECT_EQ(now_fits->durable_end, 104u);
  EXPECT_EQ(f.store("a").stats().requests_rejected, 1u);
}

// A full disk fails the batch: the add gets an error (never an acknowledgement), the failure is
// counted for the metrics, and once there is space again the same entries go in.
TEST(logstore, a_full_disk_fails_the_add_unacknowledged_and_the_entries_go_in_later) {
  LogStoreFixture f;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 3, 0);
  ASSERT_TRUE(f.add("a", add_request(ref, 0, 2)).ok());
  f.node("a").disk.fail_next(Errc::no_space, 1);
  auto full = f.add("a", add_request(ref, 2, 4));
  ASSERT_FALSE(full.ok()) << "acknowledged although the journal write failed";
  EXPECT_EQ(f.store("a").stats().journal_write_errors, 1u);
  auto retried = f.add("a", add_request(ref, 2, 4));
  ASSERT_TRUE(retried.ok()) << retried.error().describe();
  EXPECT_EQ(retried->status, AddStatus::ok);
  EXPECT_EQ(retried->durable_end, 4u);
  EXPECT_EQ(f.store("a").stats().journal_write_errors, 1u);
}

TEST(logstore, a_repeated_or_overlapping_add_is_harmless) {
  LogStoreFixture f;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 3))->status, AddStatus::ok);
  auto again = f.add("a", add_request(ref, 0, 3));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, AddStatus::ok);
  EXPECT_EQ(again->durable_end, 3u);
  auto overlap = f.add("a", add_request(ref, 1, 5));
  ASSERT_TRUE(overlap.ok());
  EXPECT_EQ(overlap->durable_end, 5u);
  EXPECT_EQ(f.store("a").stats().entries_stored, 5u);
  // Other bytes under an id already held are refused loudly, and change nothing.
  AddRequest different = add_request(ref, 2, 3);
  different.payloads[0] = to_bytes("not entry 2");
  auto refused = f.add("a", different);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::corrupt);
  f.restart("a");
  auto read = f.read("a", ReadRequest{ref, 0, 0, 0, 0});
  ASSERT_TRUE(read.ok());  // ordinary read: nothing confirmed yet
  EXPECT_TRUE(read->payloads.empty());
  ASSERT_TRUE(f.fence("a", ref, 2).ok());
  auto all = f.read("a", ReadRequest{ref, 0, 0, 2, 0});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->payloads.size(), 5u);
  for (EntryId id = 0; id < 5; ++id) EXPECT_EQ(all->payloads[id], payload(id));
}

TEST(logstore, a_fence_survives_restarts_and_rejects_older_epochs) {
  LogStoreFixture f;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 2, 4))->status, AddStatus::ok);
  auto fenced = f.fence("a", ref, 5);
  ASSERT_TRUE(fenced.ok());
  EXPECT_TRUE(fenced->fenced);
  EXPECT_EQ(fenced->fence_epoch, 5u);
  EXPECT_EQ(fenced->durable_end, 2u);
  EXPECT_EQ(fenced->knowledge, Knowledge::known);
  f.restart("a");
  auto stale = f.add("a", add_request(ref, 2, 3, 4));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->status, AddStatus::fenced);
  EXPECT_EQ(stale->fence_epoch, 5u);
  auto older_fence = f.fence("a", ref, 3);
  ASSERT_TRUE(older_fence.ok());
  EXPECT_FALSE(older_fence->fenced);
  EXPECT_EQ(older_fence->fence_epoch, 5u);
  auto same_fence = f.fence("a", ref, 5);
  ASSERT_TRUE(same_fence.ok());
  EXPECT_TRUE(same_fence->fenced);
  // Recovery adds only at exactly the fence epoch.
  AddRequest recovery = add_request(ref, 2, 3, 6);
  recovery.recovery = true;
  EXPECT_EQ(f.add("a", recovery)->status, AddStatus::fenced);
  recovery.epoch = 5;
  EXPECT_EQ(f.add("a", recovery)->status, AddStatus::ok);
}

TEST(logstore, after_a_wipe_older_segments_are_unknown_and_newer_ones_known_empty) {
  LogStoreFixture f;
  f.start("a");
  const uint64_t log_id = f.create_log("orders");
  const SegmentRef old_segment = f.create_segment("orders", log_id, 0, 0);
  ASSERT_EQ(f.add("a", add_request(old_segment, 0, 4))->status, AddStatus::ok);
  auto before = f.fence("a", old_segment, 2);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->knowledge, Knowledge::known);
  EXPECT_EQ(before->durable_end, 4u);

  f.crash("a");
  f.node("a").disk.wipe();
  LogStoreNode& wiped = f.start("a");
  EXPECT_GT(wiped.init_revision(), old_segment.create_revision);
  const SegmentRef new_segment = f.create_segment("orders", log_id, 1, 4);
  auto old_fence = f.fence("a", old_segment, 3);
  ASSERT_TRUE(old_fence.ok());
  EXPECT_EQ(old_fence->knowledge, Knowledge::unknown);
  EXPECT_TRUE(old_fence->fenced);
  auto new_fence = f.fence("a", new_segment, 3);
  ASSERT_TRUE(new_fence.ok());
  EXPECT_EQ(new_fence->knowledge, Knowledge::known);
  EXPECT_EQ(new_fence->durable_end, 4u);
  // The old segment's journal now exists (the fence made it) and still says unknown.
  f.restart("a");
  auto again = f.fence("a", old_segment, 3);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->knowledge, Knowledge::unknown);
  EXPECT_EQ(f.fence("a", new_segment, 3)->knowledge, Knowledge::known);
}

// A wiped node may have forgotten a fence on an older segment, so it must not help anyone but a
// recovering writer there (bookkeeper#544): ordinary adds, whatever their epoch, are refused.
TEST(logstore, a_wiped_node_takes_only_recovery_adds_for_older_segments) {
  LogStoreFixture f;
  f.start("a");
  const uint64_t log_id = f.create_log("orders");
  const SegmentRef old_segment = f.create_segment("orders", log_id, 0, 0);
  ASSERT_EQ(f.add("a", add_request(old_segment, 0, 4))->status, AddStatus::ok);
  f.crash("a");
  f.node("a").disk.wipe();
  f.start("a");
  // The old writer (epoch 1, say) would otherwise write ids 0.. again on an empty journal.
  AddRequest stale = add_request(old_segment, 0, 2);
  stale.epoch = 1;
  EXPECT_EQ(f.add("a", stale)->status, AddStatus::fenced);
  stale.epoch = 9;
  EXPECT_EQ(f.add("a", stale)->status, AddStatus::fenced);
  // A recovering writer fences it and copies entries in.
  ASSERT_TRUE(f.fence("a", old_segment, 5).ok());
  AddRequest recovery = add_request(old_segment, 0, 4);
  recovery.epoch = 5;
  recovery.recovery = true;
  EXPECT_EQ(f.add("a", recovery)->status, AddStatus::ok);
}

TEST(logstore, damage_in_the_middle_of_a_journal_makes_the_segment_unknown) {
  LogStoreFixture f;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 0, 0);
  for (EntryId id = 0; id < 6; id += 2) {
    ASSERT_EQ(f.add("a", add_request(ref, id, id + 2))->status, AddStatus::ok);
  }
  const std::string path = journal::journal_path(ref.log_id, ref.segment_id);
  auto bytes = f.node("a").disk.contents(path);
  ASSERT_TRUE(bytes.has_value());
  auto clean = journal::replay_journal(*bytes);
  ASSERT_EQ(clean.end, journal::JournalEnd::clean);
  ASSERT_EQ(clean.entries.size(), 6u);
  // Flip a bit inside entry 3's payload, synced long ago.
  const std::string needle = "entry-3";
  auto at = std::search(bytes->begin(), bytes->end(), needle.begin(), needle.end(),
                        [](std::byte b, char c) { return b == static_cast<std::byte>(c); });
  ASSERT_NE(at, bytes->end());
  f.node("a").disk.corrupt_bit(path, static_cast<uint64_t>(at - bytes->begin()) * 8 + 1);
  f.restart("a");
  auto fenced = f.fence("a", ref, 2);
  ASSERT_TRUE(fenced.ok());
  EXPECT_EQ(fenced->knowledge, Knowledge::unknown);
  EXPECT_EQ(fenced->durable_end, 3u);  // the valid prefix
  f.restart("a");
  EXPECT_EQ(f.fence("a", ref, 2)->knowledge, Knowledge::unknown) << "forgotten after a restart";
}

TEST(logstore, a_torn_tail_is_cut_off_and_the_segment_stays_known) {
  LogStoreFixture f;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 3))->status, AddStatus::ok);
  const std::string path = journal::journal_path(ref.log_id, ref.segment_id);
  const Bytes acked = *f.node("a").disk.contents(path);
  f.crash("a");
  // A record of entry 3 cut short, as a crash in the middle of its append leaves it.
  Bytes record;
  journal::append_entry_record(record, 3, payload(3));
  record.resize(record.size() - 5);
  ASSERT_TRUE(f.node("a").disk.apply_append(path, record).ok());
  ASSERT_TRUE(f.node("a").disk.apply_sync(path).ok());
  f.start("a");
  EXPECT_EQ(*f.node("a").disk.synced_contents(path), acked);
  auto fenced = f.fence("a", ref, 2);
  ASSERT_TRUE(fenced.ok());
  EXPECT_EQ(fenced->knowledge, Knowledge::known);
  EXPECT_EQ(fenced->durable_end, 3u);
  // Appends continue right after the cut.
  AddRequest recovery = add_request(ref, 3, 4, 2);
  recovery.recovery = true;
  ASSERT_EQ(f.add("a", recovery)->status, AddStatus::ok);
  f.restart("a");
  auto again = f.fence("a", ref, 2);
  EXPECT_EQ(again->knowledge, Knowledge::known);
  EXPECT_EQ(again->durable_end, 4u);
}

TEST(logstore, ordinary_reads_stop_at_the_confirmed_end_recovery_reads_at_the_durable_end) {
  LogStoreFixture f;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 0, 10);
  ASSERT_EQ(f.add("a", add_request(ref, 10, 15, 1, 10))->status, AddStatus::ok);
  ASSERT_EQ(f.add("a", add_request(ref, 15, 16, 1, 13))->status, AddStatus::ok);
  auto ordinary = f.read("a", ReadRequest{ref, 10, 0, 0, 0});
  ASSERT_TRUE(ordinary.ok());
  EXPECT_EQ(ordinary->confirmed_end, 13u);
  EXPECT_EQ(ordinary->durable_end, 16u);
  EXPECT_EQ(ordinary->first_entry_id, 10u);
  ASSERT_EQ(ordinary->payloads.size(), 3u);
  EXPECT_EQ(ordinary->payloads[2], payload(12));
  // A recovery epoch the node was not fenced with reads like anyone else.
  auto unfenced = f.read("a", ReadRequest{ref, 10, 0, 7, 0});
  ASSERT_TRUE(unfenced.ok());
  EXPECT_EQ(unfenced->payloads.size(), 3u);
  ASSERT_TRUE(f.fence("a", ref, 7)->fenced);
  auto recovery = f.read("a", ReadRequest{ref, 12, 0, 7, 0});
  ASSERT_TRUE(recovery.ok());
  EXPECT_EQ(recovery->first_entry_id, 12u);
  ASSERT_EQ(recovery->payloads.size(), 4u);
  EXPECT_EQ(recovery->payloads[3], payload(15));
  // bytes_max cuts the reply, but never below one entry.
  auto small = f.read("a", ReadRequest{ref, 10, 1, 7, 0});
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->payloads.size(), 1u);
}

TEST(logstore, a_long_poll_wakes_on_a_newly_confirmed_entry_and_expires_otherwise) {
  LogStoreFixture f;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 2))->status, AddStatus::ok);
  std::optional<Result<Bytes>> polled;
  Scope scope(f.loop);
  const TimePoint start = f.loop.now();
  scope.spawn([](LogStoreFixture& fx, ReadRequest request,
                 std::optional<Result<Bytes>>& out) -> Task<void> {
    out.emplace(co_await fx.call("a", method_read, encode(request)));
  }(f, ReadRequest{ref, 0, 0, 0, 1000}, polled));
  f.loop.run_for(20ms);
  EXPECT_FALSE(polled.has_value()) << "nothing was readable yet";
  ASSERT_EQ(f.add("a", add_request(ref, 2, 3, 1, 2))->status, AddStatus::ok);
  f.loop.run_until_condition([&] { return polled.has_value(); });
  EXPECT_LT(f.loop.now() - start, 100ms);
  ASSERT_TRUE(polled->ok());
  auto reply = decode_read_reply(**polled);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->payloads.size(), 2u);

  const TimePoint quiet = f.loop.now();
  auto expired = f.read("a", ReadRequest{ref, 2, 0, 0, 50});
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(expired->payloads.empty());
  EXPECT_GE(f.loop.now() - quiet, 50ms);
}

TEST(logstore, malformed_requests_get_protocol_errors_and_are_counted) {
  LogStoreFixture f;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 0, 0);
  Bytes truncated = encode(add_request(ref, 0, 2));
  truncated.pop_back();
  for (std::string_view method : {method_add, method_fence, method_read}) {
    auto reply = f.run(f.call("a", method, truncated));
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code, Errc::protocol);
  }
  auto unknown = f.run(f.call("a", "logstore.nothing", {}));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::protocol);
  EXPECT_EQ(f.store("a").stats().requests_rejected, 4u);
  // A request naming a held segment with another identity is refused, not merged.
  ASSERT_EQ(f.add("a", add_request(ref, 0, 1))->status, AddStatus::ok);
  SegmentRef other = ref;
  other.first_entry_id = 50;
  auto mismatch = f.add("a", add_request(other, 50, 51));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().code, Errc::invalid_argument);
}

TEST(logstore, a_crashed_node_answers_nothing_and_its_disk_keeps_the_journal) {
  LogStoreFixture f;
  f.start("a");
  const SegmentRef ref = f.create_segment("orders", f.create_log("orders"), 0, 0);
  ASSERT_EQ(f.add("a", add_request(ref, 0, 1))->status, AddStatus::ok);
  f.crash("a");
  auto down = f.run(f.call("a", method_read, encode(ReadRequest{ref, 0, 0, 0, 0})));
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().code, Errc::unavailable);
  f.start("a");
  const Segment* segment = f.store("a").find_segment(ref.log_id, ref.segment_id);
  ASSERT_NE(segment, nullptr);
  EXPECT_EQ(segment->durable_end(), 1u);
}

}  // namespace
}  // namespace wal::quorum::testing
