// The ObjectStore contract (wal/env/object_store.h, S3 semantics), run against every
// implementation: MemObjectStore on a ManualLoop, LocalObjectStore on the real EventLoop in a
// temporary directory, the simulator's S3, and S3ObjectStore on a real S3 server (Ceph RGW,
// started by the CTest fixture `rgw`; each test gets a bucket of its own). A factory returns
// nullptr when its backend is not available here (the S3 one when WAL_RGW_DIR is unset, as when
// the binary runs outside CTest), and the suite then skips it.
// Each implementation's own promises are the plain TESTs at the end: MemObjectStore's synchronous
// apply_*() calls, request counts and etags; LocalObjectStore's reopening, crash leftovers,
// corruption, and several instances on one directory (as separate processes would be).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <memory>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/contract/contract_support.h"
#include "tests/contract/sim_harness.h"
#include "tests/support/s3_test_bucket.h"
#include "wal/async/completion.h"
#include "wal/async/scope.h"
#include "wal/env/object_store.h"
#include "wal/mem/mem_object_store.h"
#include "wal/real/local_object_store.h"
#include "wal/real/s3_object_store.h"

namespace wal::contract {
namespace {

// ---- implementations under test ----------------------------------------------------------------

class ObjectStoreWorld {
 public:
  virtual ~ObjectStoreWorld() = default;
  virtual Harness& harness() = 0;
  virtual ObjectStore& store() = 0;
};

struct ObjectStoreFactory {
  std::string name;
  std::function<std::unique_ptr<ObjectStoreWorld>()> make;  // nullptr: not available here
  // The losers of a race of If-Match PUTs may fail with an unknown outcome (the interface
  // allows it for any mutation) instead of condition_failed. Ceph RGW answers them 500 (a
  // racing write it cancelled, docs/object-stores.md); the single winner is checked either way.
  bool if_match_losers_may_be_unknown = false;
};

void PrintTo(const ObjectStoreFactory& factory, std::ostream* out) { *out << factory.name; }

class MemWorld final : public ObjectStoreWorld {
 public:
  Harness& harness() override { return harness_; }
  ObjectStore& store() override { return store_; }

 private:
  ManualHarness harness_;
  MemObjectStore store_;
};

std::unique_ptr<LocalObjectStore> open_local_store(Harness& harness, BlockingPool& pool,
                                                   const std::string& root_dir) {
  Result<std::unique_ptr<LocalObjectStore>> opened =
      harness.run(LocalObjectStore::open(pool, root_dir));
  if (!opened) throw std::runtime_error("open " + root_dir + ": " + opened.error().describe());
  return std::move(*opened);
}

class LocalWorld final : public ObjectStoreWorld {
 public:
  Harness& harness() override { return harness_; }
  ObjectStore& store() override { return *store_; }

 private:
  // Destruction runs bottom-up: the store, the pool (finishing its jobs while the loop exists),
  // the directory, the loop.
  RealHarness harness_;
  TempDir dir_;
  BlockingPool pool_{harness_.loop(), 2};
  std::unique_ptr<LocalObjectStore> store_ =
      open_local_store(harness_, pool_, dir_.path() + "/objects");
};

// The simulator's S3 (faults off) on virtual time.
class SimWorld final : public ObjectStoreWorld {
 public:
  Harness& harness() override { return harness_; }
  ObjectStore& store() override { return *store_; }

 private:
  SimHarness harness_;
  std::unique_ptr<ObjectStore> store_ = harness_.object_client();
};

// S3ObjectStore on a fresh bucket of the fixture's RGW. Destruction runs bottom-up: the store,
// the bucket (emptied and deleted through the loop), the loop.
class S3World final : public ObjectStoreWorld {
 public:
  static std::unique_ptr<ObjectStoreWorld> make() {
    auto world = std::unique_ptr<S3World>(new S3World);
    world->bucket_ = testing::S3TestBucket::create(world->harness_.loop());
    if (world->bucket_ == nullptr) return nullptr;
    world->store_ = testing::open_s3_store(world->harness_.loop(), world->bucket_->options(),
                                           /*probe=*/true);
    return world;
  }
  Harness& harness() override { return harness_; }
  ObjectStore& store() override { return *store_; }

 private:
  S3World() = default;
  RealHarness harness_;
  std::unique_ptr<testing::S3TestBucket> bucket_;
  std::unique_ptr<S3ObjectStore> store_;
};

std::vector<ObjectStoreFactory> store_factories() {
  return {
      {"mem", [] { return std::make_unique<MemWorld>(); }},
      {"local", [] { return std::make_unique<LocalWorld>(); }},
      {"sim", [] { return std::make_unique<SimWorld>(); }},
      {"s3", [] { return S3World::make(); }, /*if_match_losers_may_be_unknown=*/true},
  };
}

// ---- helpers -----------------------------------------------------------------------------------

Bytes pattern_bytes(size_t size, uint8_t seed) {
  Bytes bytes(size);
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = std::byte{static_cast<uint8_t>(seed + i * 7 + (i >> 11))};
  }
  return bytes;
}

std::string code_of(const Error& error) { return "<" + std::string(errc_name(error.code)) + ">"; }

// Runs `tasks` concurrently on a Scope and returns their results in order.
template <typename T>
std::vector<T> run_concurrently(Harness& harness, std::vector<Task<T>> tasks) {
  WAL_ASSERT(!tasks.empty());
  std::vector<std::optional<T>> slots(tasks.size());
  harness.run_task([](Executor& executor, std::vector<Task<T>> all,
                      std::vector<std::optional<T>>& out) -> Task<void> {
    Scope scope(executor);
    Completion<bool> all_done(executor);
    size_t remaining = all.size();
    for (size_t i = 0; i < all.size(); ++i) {
      scope.spawn([](Task<T> task, std::optional<T>& slot, size_t& left,
                     Completion<bool> done) -> Task<void> {
        slot.emplace(co_await std::move(task));
        if (--left == 0) done.set(true);
      }(std::move(all[i]), out[i], remaining, all_done));
    }
    co_await all_done.wait();
  }(harness.executor(), std::move(tasks), slots));
  std::vector<T> results;
  for (std::optional<T>& slot : slots) results.push_back(std::move(slot).value());
  return results;
}

class ObjectStoreContract : public ::testing::TestWithParam<ObjectStoreFactory> {
 protected:
  void SetUp() override {
    world_ = GetParam().make();
    if (world_ == nullptr) GTEST_SKIP() << GetParam().name << " is not available here";
  }
  Harness& harness() { return world_->harness(); }
  ObjectStore& store() { return world_->store(); }
  template <typename T>
  T run(Task<T> task) {
    return harness().run(std::move(task));
  }

  Result<ObjectInfo> put(std::string key, std::string_view body,
                         PutCondition condition = PutCondition::none()) {
    return run(store().put(std::move(key), to_bytes(body), std::move(condition)));
  }
  Result<ObjectData> get(std::string key, std::optional<ByteRange> range = std::nullopt) {
    return run(store().get(std::move(key), range));
  }
  Result<ObjectInfo> head(std::string key) { return run(store().head(std::move(key))); }
  // The object's content as text, or "<code>" on error.
  std::string read(const std::string& key, std::optional<ByteRange> range = std::nullopt) {
    Result<ObjectData> data = get(key, range);
    if (!data) return code_of(data.error());
    return to_string(data->body);
  }
  // Every key under `prefix`, walked page by page; adds a failure on an error, an oversized
  // page, a repeated key or keys out of order. (The interface allows a short or even empty page
  // before the last, so this does not check page sizes from below.)
  std::vector<std::string> list_all(const std::string& prefix, size_t page_keys) {
    std::vector<std::string> keys;
    std::string token;
    for (int page_index = 0; page_index < 10'000; ++page_index) {
      Result<ListPage> page = run(store().list(prefix, token, page_keys));
      if (!page) {
        ADD_FAILURE() << "list: " << page.error().describe();
        return keys;
      }
      EXPECT_LE(page->objects.size(), page_keys);
      for (const ObjectInfo& info : page->objects) {
        if (!keys.empty()) {
          EXPECT_LT(keys.back(), info.key) << "out of order or repeated";
        }
        keys.push_back(info.key);
      }
      if (page->next_token.empty()) return keys;
      token = page->next_token;
    }
    ADD_FAILURE() << "list never ended";
    return keys;
  }
  void put_all(const std::vector<std::string>& keys) {
    for (const std::string& key : keys) {
      Result<ObjectInfo> info = put(key, "body of " + key);
      ASSERT_TRUE(info.ok()) << key << ": " << info.error().describe();
    }
  }

 private:
  std::unique_ptr<ObjectStoreWorld> world_;
};

// ---- put / get / head --------------------------------------------------------------------------

TEST_P(ObjectStoreContract, put_then_get_and_head_round_trip) {
  Result<ObjectInfo> stored = put("logs/one", "hello object");
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->key, "logs/one");
  EXPECT_EQ(stored->size_bytes, 12u);
  EXPECT_FALSE(stored->etag.empty());

  Result<ObjectData> data = get("logs/one");
  ASSERT_TRUE(data.ok()) << data.error().describe();
  EXPECT_EQ(to_string(data->body), "hello object");
  EXPECT_EQ(data->info.key, "logs/one");
  EXPECT_EQ(data->info.size_bytes, 12u);
  EXPECT_EQ(data->info.etag, stored->etag);

  Result<ObjectInfo> info = head("logs/one");
  ASSERT_TRUE(info.ok()) << info.error().describe();
  EXPECT_EQ(info->key, "logs/one");
  EXPECT_EQ(info->size_bytes, 12u);
  EXPECT_EQ(info->etag, stored->etag);
}

TEST_P(ObjectStoreContract, empty_object_round_trips) {
  Result<ObjectInfo> stored = put("empty", "");
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->size_bytes, 0u);
  EXPECT_EQ(read("empty"), "");
  EXPECT_EQ(head("empty")->size_bytes, 0u);
  // Offset 0 of an empty object is the one range that may start at the end.
  EXPECT_EQ(read("empty", ByteRange{0, 10}), "");
  EXPECT_EQ(read("empty", ByteRange{1, 10}), "<out_of_range>");
}

TEST_P(ObjectStoreContract, binary_body_round_trips_every_byte_value) {
  Bytes body;
  for (int round = 0; round < 4; ++round) {
    for (int value = 0; value < 256; ++value) {
      body.push_back(std::byte{static_cast<uint8_t>(value)});
    }
  }
  ASSERT_TRUE(run(store().put("binary", body, PutCondition::none())).ok());
  Result<ObjectData> data = get("binary");
  ASSERT_TRUE(data.ok()) << data.error().describe();
  EXPECT_EQ(data->body, body);
}

TEST_P(ObjectStoreContract, five_mib_object_round_trips_whole_and_in_ranges) {
  const Bytes body = pattern_bytes(5u << 20, 3);
  Result<ObjectInfo> stored = run(store().put("big/block", body, PutCondition::none()));
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  EXPECT_EQ(stored->size_bytes, body.size());
  Result<ObjectData> whole = get("big/block");
  ASSERT_TRUE(whole.ok()) << whole.error().describe();
  EXPECT_TRUE(whole->body == body);
  const uint64_t offset = (2u << 20) + 12345;
  Result<ObjectData> middle = get("big/block", ByteRange{offset, 1u << 20});
  ASSERT_TRUE(middle.ok()) << middle.error().describe();
  EXPECT_EQ(middle->info.size_bytes, body.size());
  EXPECT_TRUE(std::equal(middle->body.begin(), middle->body.end(),
                         body.begin() + static_cast<ptrdiff_t>(offset)));
  EXPECT_EQ(middle->body.size(), 1u << 20);
}

TEST_P(ObjectStoreContract, missing_key_is_not_found) {
  EXPECT_EQ(read("never/written"), "<not_found>");
  EXPECT_EQ(read("never/written", ByteRange{0, 1}), "<not_found>");
  Result<ObjectInfo> info = head("never/written");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, Errc::not_found);
  EXPECT_FALSE(info.error().unknown());
}

TEST_P(ObjectStoreContract, overwrite_replaces_content_and_changes_etag) {
  Result<ObjectInfo> first = put("object", "version one");
  Result<ObjectInfo> second = put("object", "version two, longer");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(first->etag, second->etag);
  EXPECT_EQ(read("object"), "version two, longer");
  EXPECT_EQ(head("object")->etag, second->etag);
  EXPECT_EQ(head("object")->size_bytes, 19u);
}

TEST_P(ObjectStoreContract, etag_is_the_same_in_put_get_head_and_list) {
  Result<ObjectInfo> stored = put("tagged/object", "content");
  ASSERT_TRUE(stored.ok());
  Result<ListPage> page = run(store().list("tagged/", "", 10));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].etag, stored->etag);
  EXPECT_EQ(page->objects[0].size_bytes, 7u);
  EXPECT_EQ(get("tagged/object")->info.etag, stored->etag);
  EXPECT_EQ(head("tagged/object")->etag, stored->etag);
}

// ---- conditional puts --------------------------------------------------------------------------

TEST_P(ObjectStoreContract, create_only_put_succeeds_once_then_already_exists) {
  Result<ObjectInfo> first = put("fence", "first writer", PutCondition::create_only());
  ASSERT_TRUE(first.ok()) << first.error().describe();
  Result<ObjectInfo> second = put("fence", "second writer", PutCondition::create_only());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::already_exists);
  EXPECT_FALSE(second.error().unknown());
  EXPECT_EQ(read("fence"), "first writer");
  EXPECT_EQ(head("fence")->etag, first->etag);
}

TEST_P(ObjectStoreContract, if_match_with_the_current_etag_replaces) {
  Result<ObjectInfo> first = put("manifest", "v1");
  ASSERT_TRUE(first.ok());
  Result<ObjectInfo> second = put("manifest", "v2", PutCondition::match(first->etag));
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_EQ(read("manifest"), "v2");
  Result<ObjectInfo> third = put("manifest", "v3", PutCondition::match(second->etag));
  ASSERT_TRUE(third.ok()) << third.error().describe();
  EXPECT_EQ(read("manifest"), "v3");
}

TEST_P(ObjectStoreContract, if_match_with_a_stale_etag_fails_and_changes_nothing) {
  Result<ObjectInfo> first = put("manifest", "v1");
  Result<ObjectInfo> second = put("manifest", "v2");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  Result<ObjectInfo> stale = put("manifest", "lost update", PutCondition::match(first->etag));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::condition_failed);
  EXPECT_FALSE(stale.error().unknown());
  Result<ObjectInfo> made_up = put("manifest", "lost update", PutCondition::match("0123abcd"));
  ASSERT_FALSE(made_up.ok());
  EXPECT_EQ(made_up.error().code, Errc::condition_failed);
  EXPECT_EQ(read("manifest"), "v2");
  EXPECT_EQ(head("manifest")->etag, second->etag);
}

TEST_P(ObjectStoreContract, if_match_on_a_missing_key_is_not_found_and_creates_nothing) {
  Result<ObjectInfo> stored = put("elsewhere", "x");
  ASSERT_TRUE(stored.ok());
  Result<ObjectInfo> missing = put("absent", "y", PutCondition::match(stored->etag));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_EQ(read("absent"), "<not_found>");
}

TEST_P(ObjectStoreContract, if_match_with_an_empty_etag_is_invalid) {
  ASSERT_TRUE(put("object", "x").ok());
  Result<ObjectInfo> result = put("object", "y", PutCondition::match(""));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::invalid_argument);
  EXPECT_EQ(read("object"), "x");
}

TEST_P(ObjectStoreContract, concurrent_create_only_puts_have_exactly_one_winner) {
  constexpr size_t writer_count = 8;
  std::vector<Task<Result<ObjectInfo>>> puts;
  for (size_t i = 0; i < writer_count; ++i) {
    puts.push_back(store().put("race/fence", to_bytes("writer " + std::to_string(i)),
                               PutCondition::create_only()));
  }
  std::vector<Result<ObjectInfo>> results = run_concurrently(harness(), std::move(puts));
  size_t winner = writer_count;
  for (size_t i = 0; i < writer_count; ++i) {
    if (results[i].ok()) {
      EXPECT_EQ(winner, writer_count) << "second winner: writer " << i;
      winner = i;
    } else {
      EXPECT_EQ(results[i].error().code, Errc::already_exists) << results[i].error().describe();
    }
  }
  ASSERT_LT(winner, writer_count);
  EXPECT_EQ(read("race/fence"), "writer " + std::to_string(winner));
}

TEST_P(ObjectStoreContract, concurrent_if_match_puts_on_one_version_have_exactly_one_winner) {
  constexpr size_t writer_count = 8;
  Result<ObjectInfo> base = put("race/manifest", "base");
  ASSERT_TRUE(base.ok());
  std::vector<Task<Result<ObjectInfo>>> puts;
  for (size_t i = 0; i < writer_count; ++i) {
    puts.push_back(store().put("race/manifest", to_bytes("writer " + std::to_string(i)),
                               PutCondition::match(base->etag)));
  }
  std::vector<Result<ObjectInfo>> results = run_concurrently(harness(), std::move(puts));
  size_t winner = writer_count;
  for (size_t i = 0; i < writer_count; ++i) {
    if (results[i].ok()) {
      EXPECT_EQ(winner, writer_count) << "second winner: writer " << i;
      winner = i;
    } else if (!(GetParam().if_match_losers_may_be_unknown && results[i].error().unknown())) {
      EXPECT_EQ(results[i].error().code, Errc::condition_failed) << results[i].error().describe();
    }
  }
  ASSERT_LT(winner, writer_count);
  // Also proves no loser with an unknown outcome landed after the winner.
  EXPECT_EQ(read("race/manifest"), "writer " + std::to_string(winner));
}

// ---- ranged gets -------------------------------------------------------------------------------

TEST_P(ObjectStoreContract, ranged_get_returns_the_slice_and_the_whole_size) {
  ASSERT_TRUE(put("digits", "0123456789").ok());
  Result<ObjectData> middle = get("digits", ByteRange{2, 3});
  ASSERT_TRUE(middle.ok()) << middle.error().describe();
  EXPECT_EQ(to_string(middle->body), "234");
  EXPECT_EQ(middle->info.size_bytes, 10u);
  EXPECT_EQ(read("digits", ByteRange{7, 3}), "789");  // exactly to the end
  EXPECT_EQ(read("digits", ByteRange{9, 1}), "9");    // the last byte
  EXPECT_EQ(read("digits", ByteRange{0, 10}), "0123456789");
}

TEST_P(ObjectStoreContract, range_past_the_end_is_cut_short) {
  ASSERT_TRUE(put("digits", "0123456789").ok());
  EXPECT_EQ(read("digits", ByteRange{7, 100}), "789");
  EXPECT_EQ(read("digits", ByteRange{0, UINT64_MAX}), "0123456789");
  EXPECT_EQ(read("digits", ByteRange{5, UINT64_MAX - 2}), "56789");
}

TEST_P(ObjectStoreContract, range_starting_at_or_past_the_end_is_out_of_range) {
  ASSERT_TRUE(put("digits", "0123456789").ok());
  EXPECT_EQ(read("digits", ByteRange{10, 1}), "<out_of_range>");
  EXPECT_EQ(read("digits", ByteRange{11, 5}), "<out_of_range>");
  EXPECT_EQ(read("digits", ByteRange{UINT64_MAX, 1}), "<out_of_range>");
}

TEST_P(ObjectStoreContract, zero_length_range_is_invalid) {
  ASSERT_TRUE(put("digits", "0123456789").ok());
  EXPECT_EQ(read("digits", ByteRange{3, 0}), "<invalid_argument>");
}

// ---- list --------------------------------------------------------------------------------------

TEST_P(ObjectStoreContract, list_pages_through_25_keys_7_at_a_time) {
  std::vector<std::string> keys;
  for (int i = 0; i < 25; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "page/key-%02d", i);
    keys.emplace_back(name);
  }
  // Written out of order: the order of the listing must not come from the order of writing.
  std::vector<std::string> shuffled = keys;
  std::reverse(shuffled.begin(), shuffled.end());
  put_all(shuffled);
  std::vector<size_t> page_sizes;
  std::vector<std::string> listed;
  std::string token;
  do {
    Result<ListPage> page = run(store().list("page/", token, 7));
    ASSERT_TRUE(page.ok()) << page.error().describe();
    page_sizes.push_back(page->objects.size());
    for (const ObjectInfo& info : page->objects) listed.push_back(info.key);
    token = page->next_token;
  } while (!token.empty() && page_sizes.size() < 10);
  EXPECT_EQ(page_sizes, (std::vector<size_t>{7, 7, 7, 4}));
  EXPECT_EQ(listed, keys);
}

TEST_P(ObjectStoreContract, list_is_in_byte_order_across_shared_prefixes) {
  const std::vector<std::string> keys = {
      "a",    "a/b",  "ab",  "a0",    "a/",   "a//b", "a/b/c",  "a/b0", "a-",     "a.o",
      "a.d",  "A",    "b",   ".tmp-x", "~",   "a b",  "a%2F",   "x/y",  "\xc3\xa9", "\x7f",
      "a/\xe6\x97\xa5", std::string(70, 'k'), std::string(70, 'k') + "/z",
      std::string(64, 'k'), std::string(64, 'k') + "/", std::string(63, 'k') + "/",
      std::string(63, 'k') + "/x", std::string(130, 'k'), std::string(64, 'k') + "!",
  };
  put_all(keys);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(list_all("", 1000), sorted);
  EXPECT_EQ(list_all("", 3), sorted);
  EXPECT_EQ(list_all("", 1), sorted);
  const std::vector<std::string> prefixes = {"a", "a/", "a/b", "k", std::string(64, 'k'), "x/"};
  for (const std::string& prefix : prefixes) {
    std::vector<std::string> expected;
    for (const std::string& key : sorted) {
      if (key.rfind(prefix, 0) == 0) expected.push_back(key);
    }
    EXPECT_EQ(list_all(prefix, 2), expected) << "prefix " << prefix;
  }
}

TEST_P(ObjectStoreContract, list_with_no_match_is_one_empty_page) {
  put_all({"present/a", "present/b"});
  Result<ListPage> page = run(store().list("absent/", "", 10));
  ASSERT_TRUE(page.ok()) << page.error().describe();
  EXPECT_TRUE(page->objects.empty());
  EXPECT_TRUE(page->next_token.empty());
}

TEST_P(ObjectStoreContract, list_reports_sizes_and_skips_removed_keys) {
  ASSERT_TRUE(put("dir/one", "1").ok());
  ASSERT_TRUE(put("dir/three", "333").ok());
  ASSERT_TRUE(put("dir/two", "22").ok());
  ASSERT_TRUE(run(store().remove("dir/three")).ok());
  Result<ListPage> page = run(store().list("dir/", "", 10));
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].key, "dir/one");
  EXPECT_EQ(page->objects[0].size_bytes, 1u);
  EXPECT_EQ(page->objects[1].key, "dir/two");
  EXPECT_EQ(page->objects[1].size_bytes, 2u);
}

TEST_P(ObjectStoreContract, pages_neither_repeat_nor_skip_keys_changed_between_pages) {
  put_all({"k/1", "k/2", "k/3", "k/4", "k/5", "k/6"});
  Result<ListPage> first = run(store().list("k/", "", 2));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->objects.size(), 2u);
  // The token's own key goes away and new keys appear on both sides of the position.
  ASSERT_TRUE(run(store().remove("k/2")).ok());
  put_all({"k/0", "k/25"});
  std::vector<std::string> rest;
  std::string token = first->next_token;
  while (!token.empty()) {
    Result<ListPage> page = run(store().list("k/", token, 2));
    ASSERT_TRUE(page.ok()) << page.error().describe();
    for (const ObjectInfo& info : page->objects) rest.push_back(info.key);
    token = page->next_token;
  }
  EXPECT_EQ(rest, (std::vector<std::string>{"k/25", "k/3", "k/4", "k/5", "k/6"}));
}

TEST_P(ObjectStoreContract, list_rejects_page_sizes_outside_1_to_1000) {
  Result<ListPage> zero = run(store().list("", "", 0));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, Errc::invalid_argument);
  Result<ListPage> over = run(store().list("", "", limits::list_page_keys_max + 1));
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, Errc::invalid_argument);
  EXPECT_TRUE(run(store().list("", "", limits::list_page_keys_max)).ok());
}

// ---- remove ------------------------------------------------------------------------------------

TEST_P(ObjectStoreContract, remove_deletes_and_removing_a_missing_key_succeeds) {
  ASSERT_TRUE(put("doomed/object", "x").ok());
  Status removed = run(store().remove("doomed/object"));
  ASSERT_TRUE(removed.ok()) << removed.error().describe();
  EXPECT_EQ(read("doomed/object"), "<not_found>");
  EXPECT_EQ(head("doomed/object").error().code, Errc::not_found);
  EXPECT_TRUE(list_all("doomed/", 10).empty());
  EXPECT_TRUE(run(store().remove("doomed/object")).ok());  // a retried delete
  EXPECT_TRUE(run(store().remove("never/existed")).ok());
  // The key can be created again, create-only, after its deletion.
  EXPECT_TRUE(put("doomed/object", "again", PutCondition::create_only()).ok());
  EXPECT_EQ(read("doomed/object"), "again");
}

TEST_P(ObjectStoreContract, remove_keeps_neighbours_that_share_a_prefix) {
  put_all({"n", "n/a", "n/a/b", "na"});
  ASSERT_TRUE(run(store().remove("n/a")).ok());
  EXPECT_EQ(list_all("", 10), (std::vector<std::string>{"n", "n/a/b", "na"}));
  ASSERT_TRUE(run(store().remove("n/a/b")).ok());
  EXPECT_EQ(list_all("", 10), (std::vector<std::string>{"n", "na"}));
  EXPECT_TRUE(put("n/a/b", "back").ok());
  EXPECT_EQ(read("n/a/b"), "back");
}

TEST_P(ObjectStoreContract, remove_many_reports_per_key_and_tolerates_missing_keys) {
  put_all({"m/1", "m/2", "m/3"});
  Result<std::vector<Status>> statuses =
      run(store().remove_many({"m/1", "m/missing", "m/3", "", "m/1"}));
  ASSERT_TRUE(statuses.ok()) << statuses.error().describe();
  ASSERT_EQ(statuses->size(), 5u);
  EXPECT_TRUE((*statuses)[0].ok());
  EXPECT_TRUE((*statuses)[1].ok());
  EXPECT_TRUE((*statuses)[2].ok());
  ASSERT_FALSE((*statuses)[3].ok());
  EXPECT_EQ((*statuses)[3].error().code, Errc::invalid_argument);
  EXPECT_TRUE((*statuses)[4].ok());
  EXPECT_EQ(list_all("m/", 10), (std::vector<std::string>{"m/2"}));
}

TEST_P(ObjectStoreContract, remove_many_accepts_1000_keys_and_rejects_more) {
  put_all({"bulk/kept"});
  std::vector<std::string> keys(limits::list_page_keys_max + 1, "bulk/kept");
  Result<std::vector<Status>> too_many = run(store().remove_many(keys));
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, Errc::invalid_argument);
  EXPECT_EQ(read("bulk/kept"), "body of bulk/kept");
  keys.pop_back();
  Result<std::vector<Status>> most = run(store().remove_many(keys));
  ASSERT_TRUE(most.ok()) << most.error().describe();
  EXPECT_EQ(most->size(), limits::list_page_keys_max);
  EXPECT_EQ(read("bulk/kept"), "<not_found>");
  Result<std::vector<Status>> none = run(store().remove_many({}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// ---- validation --------------------------------------------------------------------------------

TEST_P(ObjectStoreContract, malformed_keys_are_invalid_for_every_call) {
  const std::vector<std::string> bad_keys = {
      "",
      std::string(limits::object_key_bytes_max + 1, 'k'),
      std::string("nul\0inside", 10),
      "..",
      ".",
      "a/../b",
      "a/./b",
      "trailing/..",
      "\xff",
      "\xc0\xaf",          // overlong '/'
      "\xed\xa0\x80",      // a UTF-16 surrogate
      "cut \xe6\x97",      // a sequence cut short
  };
  for (const std::string& key : bad_keys) {
    SCOPED_TRACE("key of " + std::to_string(key.size()) + " bytes");
    Result<ObjectInfo> stored = put(key, "x");
    ASSERT_FALSE(stored.ok());
    EXPECT_EQ(stored.error().code, Errc::invalid_argument);
    EXPECT_EQ(read(key), "<invalid_argument>");
    EXPECT_EQ(head(key).error().code, Errc::invalid_argument);
    Status removed = run(store().remove(key));
    ASSERT_FALSE(removed.ok());
    EXPECT_EQ(removed.error().code, Errc::invalid_argument);
  }
  EXPECT_TRUE(list_all("", 100).empty());
}

TEST_P(ObjectStoreContract, unusual_but_valid_keys_round_trip) {
  const std::vector<std::string> keys = {
      std::string(limits::object_key_bytes_max, 'k'),
      std::string(100, '/') + "x",  // every byte a separator (deeper costs time, not coverage)
      [] {  // 1024 bytes of separators and bytes a file name cannot hold as they are
        std::string key;
        while (key.size() < limits::object_key_bytes_max) key += "%~:*\x01\x7f/";
        return key.substr(0, limits::object_key_bytes_max);
      }(),
      "a..b", ".hidden", "...", "a/.b/c..", "/leading", "trailing/", "//",
      "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87/\xe6\x97\xa5\xe6\x9c\xac/\xf0\x9f\x98\x80",
      "spaces and\ttabs", "back\\slash", "colon:star*question?",
  };
  for (const std::string& key : keys) {
    SCOPED_TRACE("key " + key.substr(0, 40));
    Result<ObjectInfo> stored = put(key, "value:" + key);
    ASSERT_TRUE(stored.ok()) << stored.error().describe();
    EXPECT_EQ(read(key), "value:" + key);
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(list_all("", 5), sorted);
  for (const std::string& key : keys) EXPECT_TRUE(run(store().remove(key)).ok());
  EXPECT_TRUE(list_all("", 5).empty());
}

TEST_P(ObjectStoreContract, body_over_the_size_limit_is_too_large) {
  Bytes body(limits::object_size_bytes_max + 1, std::byte{0x5A});
  Result<ObjectInfo> stored = run(store().put("huge", std::move(body), PutCondition::none()));
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().code, Errc::too_large);
  EXPECT_FALSE(stored.error().unknown());
  EXPECT_EQ(read("huge"), "<not_found>");
}

INSTANTIATE_TEST_SUITE_P(all, ObjectStoreContract, ::testing::ValuesIn(store_factories()),
                         [](const auto& test) { return test.param.name; });

// ---- MemObjectStore only -----------------------------------------------------------------------

TEST(mem_object_store, apply_calls_take_effect_at_once_and_are_counted_by_kind) {
  MemObjectStore store;
  ASSERT_TRUE(store.apply_put("a/1", to_bytes("one"), PutCondition::none()).ok());
  ASSERT_TRUE(store.apply_put("a/2", to_bytes("two"), PutCondition::none()).ok());
  EXPECT_EQ(store.apply_put("a/1", to_bytes("x"), PutCondition::create_only()).error().code,
            Errc::already_exists);  // a failed request is still a request
  EXPECT_EQ(store.keys(), (std::vector<std::string>{"a/1", "a/2"}));
  ASSERT_TRUE(store.find("a/2").has_value());
  EXPECT_EQ(to_string(store.find("a/2")->body), "two");
  EXPECT_FALSE(store.find("a/3").has_value());
  EXPECT_TRUE(store.apply_get("a/1", ByteRange{1, 2}).ok());
  EXPECT_TRUE(store.apply_head("a/2").ok());
  EXPECT_TRUE(store.apply_list("a/", "", 10).ok());
  EXPECT_TRUE(store.apply_remove("a/1").ok());
  EXPECT_TRUE(store.apply_remove_many({"a/2", "a/9"}).ok());
  EXPECT_EQ(store.object_count(), 0u);
  const ObjectStoreOpCounts& counts = store.op_counts();
  EXPECT_EQ(counts.put_count, 3u);
  EXPECT_EQ(counts.get_count, 1u);
  EXPECT_EQ(counts.head_count, 1u);
  EXPECT_EQ(counts.list_count, 1u);
  EXPECT_EQ(counts.delete_count, 2u);
  EXPECT_EQ(counts.request_count(), 8u);
  EXPECT_EQ(counts.put_body_bytes, 7u);
  EXPECT_EQ(counts.get_body_bytes, 2u);
  store.reset_op_counts();
  EXPECT_EQ(store.op_counts().request_count(), 0u);
}

TEST(mem_object_store, async_calls_count_like_apply_calls) {
  ManualLoop loop;
  MemObjectStore store;
  ASSERT_TRUE(loop.run(store.put("k", to_bytes("v"), PutCondition::none())).ok());
  ASSERT_TRUE(loop.run(store.get("k", std::nullopt)).ok());
  ASSERT_TRUE(loop.run(store.head("k")).ok());
  EXPECT_EQ(store.op_counts().put_count, 1u);
  EXPECT_EQ(store.op_counts().get_count, 1u);
  EXPECT_EQ(store.op_counts().head_count, 1u);
  EXPECT_EQ(store.op_counts().request_count(), 3u);
}

TEST(mem_object_store, etag_is_xxh64_of_the_content_only) {
  MemObjectStore store;
  // Reference values from libxxhash's XXH64 with seed 0.
  EXPECT_EQ(MemObjectStore::etag_for(to_bytes("")), "ef46db3751d8e999");
  EXPECT_EQ(MemObjectStore::etag_for(to_bytes("abc")), "44bc2cf5ad770999");
  Result<ObjectInfo> first = store.apply_put("x", to_bytes("hello object"), PutCondition::none());
  Result<ObjectInfo> again = store.apply_put("y", to_bytes("hello object"), PutCondition::none());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(first->etag, "7899bd06d5da7342");
  EXPECT_EQ(again->etag, first->etag);  // as with S3's MD5: same bytes, same etag
}

// ---- LocalObjectStore only ---------------------------------------------------------------------

namespace fs = std::filesystem;

// One LocalObjectStore with its own loop and pool, as a separate process would have.
class LocalStoreInstance {
 public:
  explicit LocalStoreInstance(const std::string& root_dir)
      : store_(open_local_store(harness_, pool_, root_dir)) {}
  template <typename T>
  T run(Task<T> task) {
    return harness_.run(std::move(task));
  }
  LocalObjectStore& store() { return *store_; }

 private:
  RealHarness harness_;
  BlockingPool pool_{harness_.loop(), 1};
  std::unique_ptr<LocalObjectStore> store_;
};

std::string read_text(LocalStoreInstance& instance, const std::string& key) {
  Result<ObjectData> data = instance.run(instance.store().get(key, std::nullopt));
  if (!data) return code_of(data.error());
  return to_string(data->body);
}

std::vector<std::string> list_keys(LocalStoreInstance& instance, const std::string& prefix) {
  Result<ListPage> page = instance.run(instance.store().list(prefix, "", 1000));
  if (!page) return {code_of(page.error())};
  std::vector<std::string> keys;
  for (const ObjectInfo& info : page->objects) keys.push_back(info.key);
  return keys;
}

void flip_byte(const fs::path& file, uint64_t offset) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(stream.good()) << file;
  stream.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  stream.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x40);
  stream.seekp(static_cast<std::streamoff>(offset));
  stream.write(&byte, 1);
}

TEST(local_object_store, data_survives_reopening_the_directory) {
  TempDir dir;
  const std::string root = dir.path() + "/objects";
  const std::vector<std::string> keys = {"wal/log-1/block-1", "wal/log-1/block-2", "top",
                                         std::string(150, 'z') + "/tail"};
  std::string etag;
  {
    LocalStoreInstance first(root);
    for (const std::string& key : keys) {
      Result<ObjectInfo> stored =
          first.run(first.store().put(key, to_bytes("v:" + key), PutCondition::none()));
      ASSERT_TRUE(stored.ok()) << stored.error().describe();
      etag = stored->etag;
    }
  }
  LocalStoreInstance second(root);
  for (const std::string& key : keys) EXPECT_EQ(read_text(second, key), "v:" + key);
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(list_keys(second, ""), sorted);
  Result<ObjectInfo> info = second.run(second.store().head(keys.back()));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->etag, etag);  // etags are stored, not a property of one instance
}

TEST(local_object_store, keys_map_to_readable_paths_and_empty_directories_go_away) {
  TempDir dir;
  const fs::path root = fs::path(dir.path()) / "objects";
  LocalStoreInstance instance(root.string());
  ASSERT_TRUE(instance.run(instance.store().put("wal/log-7/block-3", to_bytes("x"),
                                                PutCondition::none())).ok());
  EXPECT_TRUE(fs::is_regular_file(root / "wal.d" / "log-7.d" / "block-3.o"));
  ASSERT_TRUE(instance.run(instance.store().remove("wal/log-7/block-3")).ok());
  EXPECT_FALSE(fs::exists(root / "wal.d"));
}

TEST(local_object_store, stray_temp_file_is_invisible_and_removed_on_open) {
  TempDir dir;
  const fs::path root = fs::path(dir.path()) / "objects";
  const fs::path stray = root / ".tmp-crashed-writer";
  const fs::path live = root / ".tmp-live-writer";
  int live_fd = -1;
  {
    LocalStoreInstance instance(root.string());
    ASSERT_TRUE(instance.run(instance.store().put("kept", to_bytes("k"),
                                                  PutCondition::none())).ok());
    // A writer that died after writing half an object, and one still writing (it holds the
    // temp file's lock, as LocalObjectStore's own writers do).
    std::ofstream(stray, std::ios::binary) << "walobj1\nhalf an object";
    std::ofstream(live, std::ios::binary) << "walobj1\nstill writing";
    live_fd = ::open(live.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(live_fd, 0);
    ASSERT_EQ(::flock(live_fd, LOCK_EX | LOCK_NB), 0);
    EXPECT_EQ(list_keys(instance, ""), (std::vector<std::string>{"kept"}));
  }
  LocalStoreInstance reopened(root.string());
  EXPECT_FALSE(fs::exists(stray));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_EQ(list_keys(reopened, ""), (std::vector<std::string>{"kept"}));
  EXPECT_EQ(read_text(reopened, "kept"), "k");
  ::close(live_fd);
}

TEST(local_object_store, damaged_object_is_corrupt_not_wrong_data) {
  TempDir dir;
  const fs::path root = fs::path(dir.path()) / "objects";
  LocalStoreInstance instance(root.string());
  ASSERT_TRUE(instance.run(instance.store().put("body", to_bytes("0123456789"),
                                                PutCondition::none())).ok());
  ASSERT_TRUE(instance.run(instance.store().put("header", to_bytes("0123456789"),
                                                PutCondition::none())).ok());
  flip_byte(root / "body.o", 32 + 4);   // a body byte: the header is 32 bytes
  flip_byte(root / "header.o", 10);     // the size field
  EXPECT_EQ(read_text(instance, "body"), "<corrupt>");
  // Metadata is intact, and a range is not checked against the whole-object hash.
  EXPECT_TRUE(instance.run(instance.store().head("body")).ok());
  Result<ObjectData> range = instance.run(instance.store().get("body", ByteRange{0, 3}));
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(to_string(range->body), "012");
  EXPECT_EQ(read_text(instance, "header"), "<corrupt>");
  Result<ObjectInfo> head = instance.run(instance.store().head("header"));
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.error().code, Errc::corrupt);
}

// Four instances on one directory, each with its own loop and pool thread, as separate
// processes would be: exactly one create-only put per key wins.
TEST(local_object_store, create_only_race_across_instances_has_one_winner_per_key) {
  TempDir dir;
  const std::string root = dir.path() + "/objects";
  constexpr int thread_count = 4;
  constexpr int key_count = 40;
  std::vector<std::vector<int>> wins(thread_count);
  std::vector<std::string> failures;
  std::mutex failures_mutex;
  std::atomic<int> ready_count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      LocalStoreInstance instance(root);
      ready_count.fetch_add(1);
      while (ready_count.load() < thread_count) std::this_thread::yield();
      for (int k = 0; k < key_count; ++k) {
        Result<ObjectInfo> stored = instance.run(instance.store().put(
            "race/" + std::to_string(k), to_bytes("thread " + std::to_string(t)),
            PutCondition::create_only()));
        if (stored.ok()) {
          wins[t].push_back(k);
        } else if (stored.error().code != Errc::already_exists) {
          std::lock_guard lock(failures_mutex);
          failures.push_back(stored.error().describe());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(failures.empty()) << failures.front();
  std::vector<int> winner_of(key_count, -1);
  for (int t = 0; t < thread_count; ++t) {
    for (int k : wins[t]) {
      EXPECT_EQ(winner_of[k], -1) << "key " << k << " has two winners";
      winner_of[k] = t;
    }
  }
  LocalStoreInstance checker(root);
  for (int k = 0; k < key_count; ++k) {
    ASSERT_NE(winner_of[k], -1) << "key " << k << " has no winner";
    EXPECT_EQ(read_text(checker, "race/" + std::to_string(k)),
              "thread " + std::to_string(winner_of[k]));
  }
}

// Read-modify-write with If-Match from four instances: no increment is lost, which holds only
// if the etag check and the replacement are one atomic step across instances.
TEST(local_object_store, if_match_increments_across_instances_are_never_lost) {
  TempDir dir;
  const std::string root = dir.path() + "/objects";
  constexpr int thread_count = 4;
  constexpr int increments_per_thread = 15;
  {
    LocalStoreInstance setup(root);
    ASSERT_TRUE(setup.run(setup.store().put("counter", to_bytes("0"), PutCondition::none())).ok());
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t) {
    threads.emplace_back([&] {
      LocalStoreInstance instance(root);
      for (int done = 0, attempt = 0; done < increments_per_thread && attempt < 10'000;
           ++attempt) {
        Result<ObjectData> current = instance.run(instance.store().get("counter", std::nullopt));
        if (!current) {
          failures.fetch_add(1);
          return;
        }
        const int value = std::stoi(to_string(current->body));
        Result<ObjectInfo> stored = instance.run(instance.store().put(
            "counter", to_bytes(std::to_string(value + 1)),
            PutCondition::match(current->info.etag)));
        if (stored.ok()) {
          ++done;
        } else if (stored.error().code != Errc::condition_failed) {
          failures.fetch_add(1);
          return;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  LocalStoreInstance checker(root);
  EXPECT_EQ(read_text(checker, "counter"), std::to_string(thread_count * increments_per_thread));
}

}  // namespace
}  // namespace wal::contract
