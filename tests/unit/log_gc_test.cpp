// Truncation, garbage collection and orphan cleanup with no writer open; corrupted blocks.
#include <gtest/gtest.h>

#include "tests/support/wal_fixture.h"
#include "wal/async/scope.h"
#include "wal/log/fence_object.h"

namespace wal::testing {
namespace {

void fill(WalFixture& f, const std::string& name, uint64_t count, WriterOptions options) {
  auto writer = testing::append_and_wait(f, name, count, options);
  WAL_ASSERT(f.run(writer->close()).ok());
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
class DamagingObjectStore final : public ObjectStore {
 public:
  DamagingObjectStore(ObjectStore& inner, std::string prefix)
      : inner_(inner), prefix_(std::move(prefix)) {}
  uint64_t damaged_count = 0;

  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override {
    co_return co_await inner_.put(std::move(key), std::move(body), std::move(condition));
  }
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override {
    const bool damage = key.starts_with(prefix_);
    Result<ObjectData> read = co_await inner_.get(std::move(key), range);
    if (damage && read.ok() && !read->body.empty()) {
      read->body[0] ^= std::byte{0x01};
      ++damaged_count;
    }
    co_return read;
  }
  Task<Result<ObjectInfo>> head(std::string key) override {
    co_return co_await inner_.head(std::move(key));
  }
  Task<Result<ListPage>> list(std::string prefix, std::string token, size_t max_keys) override {
    co_return co_await inner_.list(std::move(prefix), std::move(token), max_keys);
  }
  Task<Status> remove(std::string key) override {
    co_return co_await inner_.remove(std::move(key));
  }
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override {
    co_return co_await inner_.remove_many(std::move(keys));
  }

 private:
  ObjectStore& inner_;
  std::string prefix_;
};

TEST(truncation, gc_deletes_whole_segments_below_the_point_with_no_writer_open) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("t")).ok());
  WriterOptions options;
  options.block_size_bytes_max = 300;
  options.segment_size_bytes_max = 1200;
  fill(f, "t", 200, options);  // several sealed segments; the writer is closed
  auto info = f.run(f.client.get_log("t"));
  const LogKeys keys = f.client.keys_for(*info);
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
  ASSERT_TRUE(f.run(f.client.create_log("k")).ok());
  WriterOptions options;
  options.block_size_bytes_max = 300;
  options.segment_size_bytes_max = 1200;
  fill(f, "k", 50, options);
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
