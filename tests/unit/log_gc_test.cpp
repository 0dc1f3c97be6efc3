// Truncation, garbage collection and orphan cleanup with no writer open; corrupted blocks.
#include <gtest/gtest.h>

#include "tests/support/forwarding_stores.h"
#include "tests/support/wal_fixture.h"
#include "wal/async/scope.h"
#include "wal/log/fence_object.h"

namespace wal::testing {
namespace {

void fill(WalFixture& f, const std::string& name, uint64_t count, WriterOptions options) {
  auto writer = testing::append_and_wait(f, name, count, options);
  WAL_ASSERT(f.run(writer->close()).ok());
}

// Log `name` holding `count` entries in sealed segments of about four small blocks each; the
// writer is closed and nothing is swept yet. Returns the log's keys.
LogKeys make_segmented_log(WalFixture& f, const std::string& name, uint64_t count) {
  WAL_ASSERT(f.run(f.client.create_log(name)).ok());
  WriterOptions options;
  options.block_size_bytes_max = 300;
  options.segment_size_bytes_max = 1200;
  fill(f, name, count, options);
  auto info = f.run(f.client.get_log(name));
  WAL_ASSERT(info.ok());
  return f.client.keys_for(*info);
}

size_t objects_of_segment(WalFixture& f, const LogKeys& keys, SegmentId segment) {
  size_t count = 0;
  for (const auto& key : f.objects.keys()) {
    if (key.starts_with(keys.segment_object_prefix(segment))) ++count;
  }
  return count;
}

// Flips one bit in the first byte of every GET body under `prefix`: damage in transit, as the
// simulator's s3_get_corruption does it. What is stored stays intact.
class DamagingObjectStore final : public ForwardingObjectStore {
 public:
  DamagingObjectStore(ObjectStore& inner, std::string prefix)
      : ForwardingObjectStore(inner), prefix_(std::move(prefix)) {}
  uint64_t damaged_count = 0;

  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override {
    const bool damage = key.starts_with(prefix_);
    Result<ObjectData> read = co_await inner_.get(std::move(key), range);
    if (damage && read.ok() && !read->body.empty()) {
      read->body[0] ^= std::byte{0x01};
      ++damaged_count;
    }
    co_return read;
  }

 private:
  std::string prefix_;
};

// Delays every txn by `txn_delay` (reads are not delayed): a GC pass then takes its snapshot at
// once and sends its first delete long after, as a pass slowed by etcd would.
class DelayedTxnMetaStore final : public ForwardingMetaStore {
 public:
  DelayedTxnMetaStore(MetaStore& inner, Clock& clock, Duration txn_delay)
      : ForwardingMetaStore(inner), clock_(clock), txn_delay_(txn_delay) {}

  Task<Result<TxnResponse>> txn(TxnRequest request) override {
    co_await sleep_for(clock_, txn_delay_);
    co_return co_await inner_.txn(std::move(request));
  }

 private:
  Clock& clock_;
  Duration txn_delay_;
};

// Answers a batch delete with `refusal` for every key under `prefix` (the other keys are
// deleted), `refusals_left` times: S3's DeleteObjects reports errors per key in a 200 response.
class RefusingObjectStore final : public ForwardingObjectStore {
 public:
  RefusingObjectStore(ObjectStore& inner, std::string prefix, Error refusal, int refusals_left)
      : ForwardingObjectStore(inner), prefix_(std::move(prefix)), refusal_(std::move(refusal)),
        refusals_left_(refusals_left) {}
  uint64_t refused_count = 0;

  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override {
    std::vector<std::string> passed;
    for (const std::string& key : keys) {
      if (!refused(key)) passed.push_back(key);
    }
    Result<std::vector<Status>> inner = co_await inner_.remove_many(passed);
    if (!inner.ok()) co_return inner;
    std::vector<Status> statuses;
    size_t next_inner = 0;
    for (const std::string& key : keys) {
      if (refused(key)) {
        statuses.push_back(Status(refusal_));
        ++refused_count;
      } else {
        statuses.push_back((*inner)[next_inner++]);
      }
    }
    if (refused_count > 0 && refusals_left_ > 0) --refusals_left_;
    co_return statuses;
  }

 private:
  bool refused(const std::string& key) const {
    return refusals_left_ > 0 && key.starts_with(prefix_);
  }
  std::string prefix_;
  Error refusal_;
  int refusals_left_;
};

// Every segment whose metadata exists still has every object it owns: its blocks below
// block_count and its footer (sealed), or at least one object (open).
void expect_segments_whole(WalFixture& f, const LogKeys& keys) {
  RangeRequest request;
  request.key = keys.segment_prefix();
  request.range_end = prefix_end(keys.segment_prefix());
  auto segments = f.run(f.meta.range(request));
  ASSERT_TRUE(segments.ok());
  for (const KeyValue& kv : segments->kvs) {
    auto meta = decode_segment(kv.key, kv.value);
    ASSERT_TRUE(meta.ok());
    SCOPED_TRACE("segment " + std::to_string(meta->segment_id));
    if (meta->state != SegmentState::sealed) {
      EXPECT_GT(objects_of_segment(f, keys, meta->segment_id), 0u);
      continue;
    }
    for (uint64_t block = 0; block < meta->block_count; ++block) {
      EXPECT_TRUE(f.objects.find(keys.block_key(meta->segment_id, block)).has_value())
          << "block " << block << " of " << meta->block_count << " is gone";
    }
    EXPECT_TRUE(f.objects.find(keys.manifest_key(meta->segment_id, meta->block_count)))
        << "the footer is gone";
  }
}

TEST(truncation, gc_deletes_whole_segments_below_the_point_with_no_writer_open) {
  WalFixture f;
  const LogKeys keys = make_segmented_log(f, "t", 200);  // the writer is closed
  ASSERT_GT(objects_of_segment(f, keys, 0), 0u);
  ASSERT_TRUE(f.run(f.client.truncate("t", 100)).ok());
  // Readers stop returning truncated entries at once.
  auto reader = f.open_reader("t", ReadPosition::at(5));
  auto gone = f.run(reader->next());
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, Errc::out_of_range);
  EXPECT_NE(gone.error().message.find("first entry kept is 100"), std::string::npos);
  auto report = f.run(f.client.collect_garbage("t"));
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_GT(report->segments_deleted, 0u);
  EXPECT_EQ(objects_of_segment(f, keys, 0), 0u);
  auto entries = f.read_all("t");
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.front().id, 100u);  // earliest = the truncation point
  EXPECT_EQ(entries.back().id, 199u);
  // A smaller truncation point never moves it back.
  ASSERT_TRUE(f.run(f.client.truncate("t", 10)).ok());
  EXPECT_EQ(f.read_all("t").front().id, 100u);
}

// Regression (found by the rapidcheck schedule property): truncating past the end must not let
// GC delete every segment, or the next writer restarts segment and entry ids at 0.
TEST(truncation, gc_keeps_the_last_segment_so_ids_never_restart) {
  WalFixture f;
  (void)make_segmented_log(f, "k", 50);
  ASSERT_TRUE(f.run(f.client.truncate("k", 50)).ok());  // every entry
  ASSERT_TRUE(f.run(f.client.collect_garbage("k")).ok());
  auto writer = f.open_writer("k");
  auto id = f.run(writer->append(to_bytes("after")));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 50u);  // continues, never 0 again
}

TEST(orphans, blocks_past_a_sealed_end_are_deleted_but_the_fence_is_kept) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("o")).ok());
  {
    auto writer = f.open_writer("o");
    ASSERT_TRUE(f.run(writer->append(to_bytes("kept"))).ok());
  }  // crash; the next writer fences block 1 and seals segment 0
  auto next = f.open_writer("o");
  auto info = f.run(f.client.get_log("o"));
  const LogKeys keys = f.client.keys_for(*info);
  // A zombie's late block beyond the fence, and a stale checkpoint.
  ASSERT_TRUE(f.objects.apply_put(keys.block_key(0, 2), to_bytes("zombie"), {}).ok());
  ASSERT_TRUE(f.objects.apply_put(keys.manifest_key(0, 7), to_bytes("stale"), {}).ok());
  auto report = f.run(f.client.collect_garbage("o"));
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_EQ(report->orphans_deleted, 2u);
  EXPECT_FALSE(f.objects.find(keys.block_key(0, 2)).has_value());
  EXPECT_FALSE(f.objects.find(keys.manifest_key(0, 7)).has_value());
  auto fence = f.objects.find(keys.block_key(0, 1));
  ASSERT_TRUE(fence.has_value());
  EXPECT_TRUE(looks_like_fence(fence->body));
  EXPECT_TRUE(f.objects.find(keys.block_key(0, 0)).has_value());
  EXPECT_EQ(f.read_all("o").size(), 1u);
}

// Regression (rapidcheck schedule property, seed 101): two writers open, the second seals the
// first one's empty segment behind a fence; GC of that segment read the fence with a bit flipped
// in transit, took it for an ordinary object and deleted it, and the stale writer's re-PUT of the
// key then landed and was acknowledged in a deleted segment (lost_write).
TEST(orphans, a_fence_read_damaged_is_kept_when_its_segment_is_collected) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("g")).ok());
  auto stale = f.open_writer("g");  // segment 0, nothing written
  auto fresh = f.open_writer("g");  // fences block 0 of segment 0, seals it empty
  auto info = f.run(f.client.get_log("g"));
  const LogKeys keys = f.client.keys_for(*info);
  ASSERT_TRUE(f.objects.find(keys.block_key(0, 0)).has_value());
  DamagingObjectStore damaging(f.objects, keys.log_object_prefix());
  Env damaged_env{f.loop, f.loop, f.random, f.faults, &damaging, &f.meta, nullptr, nullptr};
  LogClient gc(damaged_env);
  auto report = f.run(gc.collect_garbage("g"));
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_EQ(report->segments_deleted, 1u);  // segment 0: sealed, empty, below the point
  EXPECT_GT(damaging.damaged_count, 0u);    // GC did read the fence, damaged
  auto fence = f.objects.find(keys.block_key(0, 0));
  ASSERT_TRUE(fence.has_value());
  EXPECT_TRUE(decode_fence(fence->body).ok());
  auto late = f.run(stale->append(to_bytes("stale")));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Errc::fenced);
  EXPECT_FALSE(late.error().unknown());  // it hit the fence: definitely never visible
  ASSERT_TRUE(f.run(fresh->append(to_bytes("fresh"))).ok());
  auto entries = f.read_all("g");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(to_string(entries[0].payload), "fresh");
}

// The same damage on the sweep of a live sealed segment: the object at its fence position is
// kept unless it verifiably is a data block.
TEST(orphans, a_fence_read_damaged_is_kept_by_the_sweep_of_a_sealed_segment) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("h")).ok());
  {
    auto writer = f.open_writer("h");
    ASSERT_TRUE(f.run(writer->append(to_bytes("kept"))).ok());
  }  // crash; the next writer fences block 1 and seals segment 0
  auto next = f.open_writer("h");
  auto info = f.run(f.client.get_log("h"));
  const LogKeys keys = f.client.keys_for(*info);
  ASSERT_TRUE(f.objects.apply_put(keys.block_key(0, 2), to_bytes("zombie"), {}).ok());
  DamagingObjectStore damaging(f.objects, keys.log_object_prefix());
  Env damaged_env{f.loop, f.loop, f.random, f.faults, &damaging, &f.meta, nullptr, nullptr};
  LogClient gc(damaged_env);
  auto report = f.run(gc.collect_garbage("h"));
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_GT(damaging.damaged_count, 0u);
  EXPECT_FALSE(f.objects.find(keys.block_key(0, 2)).has_value());  // past the fence: deleted
  auto fence = f.objects.find(keys.block_key(0, 1));
  ASSERT_TRUE(fence.has_value());
  EXPECT_TRUE(decode_fence(fence->body).ok());
  EXPECT_EQ(f.read_all("h").size(), 1u);
}

// Regression (keyed seed 19094): two passes overlap, here from two clients as from two
// machines. Pass A reads truncation point 0, so every sealed segment is live for it, and sweeps
// and marks them slowly (S3 is slow for it). The point then moves past them and pass B, whose
// txns are slow, snapshots them as below the point; A's marks change their mod revisions, so
// every delete of B fails its compare. B's leftover sweep then deleted every object below the
// last segment, whose metadata still pointed at them. G1 (docs/protocol.md): objects go only
// once the pass has seen their segment's metadata gone. Shown to fail with the old bound (the
// first segment the loop found live), which the planted bug gc_sweeps_undeleted_segment keeps.
TEST(overlapping_gc, a_delete_that_lost_its_compare_keeps_the_segments_objects) {
  WalFixture f;
  const LogKeys keys = make_segmented_log(f, "v", 200);  // none swept yet
  SlowObjectStore slow_for_a(f.objects, f.loop);
  slow_for_a.latency = std::chrono::seconds(1);
  Env env_a{f.loop, f.loop, f.random, f.faults, &slow_for_a, &f.meta, nullptr, nullptr};
  LogClient client_a(env_a);
  DelayedTxnMetaStore slow_for_b(f.meta, f.loop, std::chrono::seconds(1000));
  Env env_b{f.loop, f.loop, f.random, f.faults, &f.objects, &slow_for_b, nullptr, nullptr};
  LogClient client_b(env_b);
  std::optional<Result<GcReport>> report_a;
  std::optional<Result<GcReport>> report_b;
  Scope scope(f.loop);
  auto pass = [](LogClient& client, std::optional<Result<GcReport>>& out) -> Task<void> {
    out = co_await client.collect_garbage("v");
  };
  scope.spawn(pass(client_a, report_a));
  f.loop.run_for(std::chrono::milliseconds(500));  // A has its snapshot and is sweeping
  ASSERT_FALSE(report_a.has_value());
  ASSERT_TRUE(f.run(f.client.truncate("v", 190)).ok());
  scope.spawn(pass(client_b, report_b));
  f.loop.run_until_condition([&] { return report_a && report_b; });
  ASSERT_TRUE(report_a->ok()) << (*report_a).error().describe();
  ASSERT_TRUE(report_b->ok()) << (*report_b).error().describe();
  EXPECT_EQ((*report_a)->segments_deleted, 0u);  // nothing was below its point
  EXPECT_EQ((*report_b)->segments_deleted, 0u);  // every delete lost its compare to A's marks
  expect_segments_whole(f, keys);
  // The next pass finishes the work: the segments below the point go, the log reads from it.
  auto report = f.run(f.client.collect_garbage("v"));
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_GT(report->segments_deleted, 0u);
  expect_segments_whole(f, keys);
  EXPECT_EQ(objects_of_segment(f, keys, 0), 0u);
  auto entries = f.read_all("v");
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.front().id, 190u);
  EXPECT_EQ(entries.back().id, 199u);
}

// issue 17: a key the store refused to delete (its own status in the batch answer) is reported
// and never counted; the pass fails, and a later pass deletes it as a leftover. Shown to fail
// with the old loops, which ignored per-key statuses: the pass succeeded and counted the key.
TEST(gc_deletes, a_key_the_store_refused_to_delete_is_reported_not_counted) {
  WalFixture f;
  const LogKeys keys = make_segmented_log(f, "r", 200);
  ASSERT_TRUE(f.run(f.client.truncate("r", 100)).ok());
  const std::string refused_key = keys.block_key(0, 0);
  RefusingObjectStore refusing(f.objects, refused_key,
                               make_error(Errc::permission_denied, "AccessDenied"), 1);
  Env refusing_env{f.loop, f.loop, f.random, f.faults, &refusing, &f.meta, nullptr, nullptr};
  LogClient gc(refusing_env);
  auto failed = f.run(gc.collect_garbage("r"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, Errc::permission_denied);
  EXPECT_NE(failed.error().message.find(refused_key), std::string::npos)
      << failed.error().describe();
  EXPECT_EQ(refusing.refused_count, 1u);
  EXPECT_TRUE(f.objects.find(refused_key).has_value());
  // Segment 0's metadata went first; the object is a leftover the next pass deletes.
  auto report = f.run(f.client.collect_garbage("r"));
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_FALSE(f.objects.find(refused_key).has_value());
  EXPECT_GE(report->orphans_deleted, 1u);
  expect_segments_whole(f, keys);
  EXPECT_EQ(f.read_all("r").front().id, 100u);
}

// A key refused with a retryable error (SlowDown, InternalError) is sent again, alone, and
// counted once when it is deleted.
TEST(gc_deletes, a_key_refused_with_a_retryable_error_is_sent_again) {
  WalFixture f;
  const LogKeys keys = make_segmented_log(f, "s", 200);
  ASSERT_TRUE(f.run(f.client.truncate("s", 100)).ok());
  auto whole = f.run(f.client.collect_garbage("s"));  // the reference: nothing refused
  ASSERT_TRUE(whole.ok());
  ASSERT_TRUE(f.run(f.client.truncate("s", 150)).ok());
  const uint64_t segment = objects_of_segment(f, keys, 1) > 0 ? 1 : 2;
  const std::string refused_key = keys.block_key(segment, 0);
  ASSERT_TRUE(f.objects.find(refused_key).has_value());
  RefusingObjectStore refusing(f.objects, refused_key,
                               make_error(Errc::unavailable, "SlowDown"), 2);
  Env refusing_env{f.loop, f.loop, f.random, f.faults, &refusing, &f.meta, nullptr, nullptr};
  LogClient gc(refusing_env);
  const size_t objects_before = f.objects.object_count();
  auto report = f.run(gc.collect_garbage("s"));
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_EQ(refusing.refused_count, 2u);
  EXPECT_FALSE(f.objects.find(refused_key).has_value());
  EXPECT_EQ(report->objects_deleted + report->orphans_deleted,
            objects_before - f.objects.object_count());
  expect_segments_whole(f, keys);
}

TEST(corruption, a_corrupted_block_is_a_clear_error_and_never_garbage) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("c")).ok());
  fill(f, "c", 10, WriterOptions{});
  auto info = f.run(f.client.get_log("c"));
  const LogKeys keys = f.client.keys_for(*info);
  auto block = f.objects.find(keys.block_key(0, 0));
  ASSERT_TRUE(block.has_value());
  Bytes damaged = block->body;
  damaged[damaged.size() - 3] ^= std::byte{0x10};  // one bit in the last entry's payload
  ASSERT_TRUE(f.objects.apply_put(keys.block_key(0, 0), damaged, {}).ok());
  auto reader = f.open_reader("c");
  auto entry = f.run(reader->next());
  ASSERT_FALSE(entry.ok());
  EXPECT_EQ(entry.error().code, Errc::corrupt);
  EXPECT_NE(entry.error().message.find(keys.block_key(0, 0)), std::string::npos);
  EXPECT_EQ(reader->position(), 0u);  // nothing consumed
}

TEST(delete_log, removes_metadata_and_objects) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("d")).ok());
  fill(f, "d", 20, WriterOptions{});
  ASSERT_GT(f.objects.object_count(), 0u);
  ASSERT_TRUE(f.run(f.client.delete_log("d")).ok());
  EXPECT_EQ(f.objects.object_count(), 0u);
  EXPECT_EQ(f.run(f.client.get_log("d")).error().code, Errc::not_found);
}

}  // namespace
}  // namespace wal::testing
