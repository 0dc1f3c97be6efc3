// The MetaStore contract (wal/env/meta_store.h, etcd v3 semantics), written once and run against
// every implementation in meta_store_factories(): in memory, SQLite, the simulator's etcd, and
// a real etcd (the CTest fixture `etcd`, tests/support/etcd_process.h). To add one, append a
// factory there.
//
// Tests only assume what etcd guarantees: revisions are compared as deltas, never absolute, and
// every key is under the factory's key_prefix so that a shared, long-lived store (real etcd)
// can be used as long as each run gets a fresh prefix.
// SQLite-only checks (durability across reopen, corrupt files) are at the end, outside the
// contract.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/contract/contract_support.h"
#include "tests/contract/sim_harness.h"
#include "tests/support/etcd_process.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"
#include "wal/env/meta_store.h"
#include "wal/mem/mem_meta_store.h"
#include "wal/real/etcd_meta_store.h"
#include "wal/real/sqlite_meta_store.h"

using namespace std::chrono_literals;

namespace wal::contract {
namespace {

// A watch that should have an event has it at once; one that waits this long is broken.
constexpr Duration watch_wait_max = 10s;

struct MetaStoreUnderTest {
  std::unique_ptr<Harness> harness;
  std::unique_ptr<TempDir> dir;  // for implementations with files
  std::unique_ptr<MetaStore> store;
  std::string key_prefix;
  // Members are destroyed bottom-up: the store before its directory and its loop.
};

struct MetaStoreFactory {
  std::string name;
  std::function<std::unique_ptr<MetaStoreUnderTest>()> make;
};
void PrintTo(const MetaStoreFactory& factory, std::ostream* out) { *out << factory.name; }

std::unique_ptr<MetaStoreUnderTest> make_mem_meta_store() {
  auto under_test = std::make_unique<MetaStoreUnderTest>();
  under_test->harness = std::make_unique<ManualHarness>();
  Harness& harness = *under_test->harness;
  under_test->store = std::make_unique<MemMetaStore>(harness.executor(), harness.clock());
  under_test->key_prefix = "contract/";
  return under_test;
}

Result<std::unique_ptr<SqliteMetaStore>> open_sqlite(Harness& harness, const std::string& path) {
  return harness.run(SqliteMetaStore::open(harness.executor(), harness.clock(), path));
}

std::unique_ptr<MetaStoreUnderTest> make_sqlite_meta_store() {
  auto under_test = std::make_unique<MetaStoreUnderTest>();
  under_test->harness = std::make_unique<RealHarness>();
  under_test->dir = std::make_unique<TempDir>();
  Result<std::unique_ptr<SqliteMetaStore>> store =
      open_sqlite(*under_test->harness, under_test->dir->path() + "/meta.db");
  if (!store.ok()) {
    ADD_FAILURE() << "open: " << store.error().describe();
    return nullptr;
  }
  under_test->store = std::move(*store);
  under_test->key_prefix = "contract/";
  return under_test;
}

// A real etcd shared by the suite's test processes: each run gets a prefix of its own.
std::unique_ptr<MetaStoreUnderTest> make_etcd_meta_store() {
  auto under_test = std::make_unique<MetaStoreUnderTest>();
  under_test->harness = std::make_unique<RealHarness>();
  Harness& harness = *under_test->harness;
  EtcdOptions options;
  options.endpoints = testing::shared_etcd_endpoints();
  Result<std::unique_ptr<EtcdMetaStore>> store =
      harness.run(EtcdMetaStore::open(harness.executor(), harness.clock(), options));
  if (!store.ok()) {
    ADD_FAILURE() << "open: " << store.error().describe();
    return nullptr;
  }
  under_test->store = std::move(*store);
  under_test->key_prefix = testing::unique_key_prefix("contract");
  return under_test;
}

std::vector<MetaStoreFactory> meta_store_factories() {
  return {
      {"mem", make_mem_meta_store},
      {"sqlite", make_sqlite_meta_store},
      {"sim", [] {
         auto under_test = std::make_unique<MetaStoreUnderTest>();
         auto harness = std::make_unique<SimHarness>();
         under_test->store = harness->meta_client();
         under_test->harness = std::move(harness);
         under_test->key_prefix = "contract/";
         return under_test;
       }},
      {"etcd", make_etcd_meta_store},
  };
}

TxnRequest put_request(std::string key, std::string value, LeaseId lease = 0) {
  TxnRequest request;
  request.success.push_back(PutOp{std::move(key), std::move(value), lease});
  return request;
}

RangeRequest range_request(std::string key, std::string range_end = {}, int64_t limit = 0,
                           int64_t revision = 0) {
  return RangeRequest{std::move(key), std::move(range_end), limit, revision};
}

std::vector<std::string> keys_of(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> keys;
  for (const KeyValue& kv : kvs) keys.push_back(kv.key);
  return keys;
}

Task<void> txn_later(Clock& clock, MetaStore& store, TxnRequest request) {
  co_await sleep_for(clock, 10ms);
  Result<TxnResponse> response = co_await store.txn(std::move(request));
  EXPECT_TRUE(response.ok()) << response.error().describe();
}

Task<void> close_later(Clock& clock, Watch& watch) {
  co_await sleep_for(clock, 10ms);
  watch.close();
}

// Harness::advance() would do, but EventLoop::run_once() blocks for the next timer or post
// after running due timers even when one of them finished the task being run (reported). A
// post after the sleep lets the loop see that the task is done.
Task<void> sleep_then_post(Executor& executor, Clock& clock, Duration duration) {
  co_await sleep_for(clock, duration);
  executor.post([] {});
}

Task<void> txn_into(MetaStore& store, TxnRequest request,
                    Completion<Result<TxnResponse>> done) {
  done.set(co_await store.txn(std::move(request)));
}

// Starts both txns before either completes, then waits for both.
Task<std::pair<Result<TxnResponse>, Result<TxnResponse>>> race(Executor& executor,
                                                                MetaStore& store, TxnRequest a,
                                                                TxnRequest b) {
  Scope scope(executor);
  Completion<Result<TxnResponse>> a_done(executor);
  Completion<Result<TxnResponse>> b_done(executor);
  scope.spawn(txn_into(store, std::move(a), a_done));
  scope.spawn(txn_into(store, std::move(b), b_done));
  Result<TxnResponse> a_result = co_await a_done.wait();
  Result<TxnResponse> b_result = co_await b_done.wait();
  co_return std::make_pair(std::move(a_result), std::move(b_result));
}

class MetaStoreContract : public ::testing::TestWithParam<MetaStoreFactory> {
 protected:
  void SetUp() override {
    under_test_ = GetParam().make();
    ASSERT_NE(under_test_, nullptr);
    scope_ = std::make_unique<Scope>(harness().executor());
  }
  void TearDown() override { scope_.reset(); }

  MetaStore& store() { return *under_test_->store; }
  Harness& harness() { return *under_test_->harness; }
  std::string key(const std::string& name) { return under_test_->key_prefix + name; }
  template <typename T>
  T run(Task<T> task) {
    return harness().run(std::move(task));
  }

  Result<TxnResponse> txn(TxnRequest request) { return run(store().txn(std::move(request))); }
  // Puts and returns the revision, or -1 (and a failure) if the put failed.
  int64_t put(const std::string& name, std::string value, LeaseId lease = 0) {
    Result<TxnResponse> response = txn(put_request(key(name), std::move(value), lease));
    EXPECT_TRUE(response.ok()) << response.error().describe();
    if (!response.ok()) return -1;
    EXPECT_TRUE(response->succeeded);
    return response->revision;
  }
  // Deletes [key(name), range_end) and returns the revision after.
  int64_t remove(const std::string& name, std::string range_end = {}) {
    TxnRequest request;
    request.success.push_back(DeleteOp{key(name), std::move(range_end)});
    Result<TxnResponse> response = txn(std::move(request));
    EXPECT_TRUE(response.ok()) << response.error().describe();
    return response.ok() ? response->revision : -1;
  }
  std::optional<KeyValue> get(const std::string& name) {
    Result<std::optional<KeyValue>> kv = run(store().get(key(name)));
    EXPECT_TRUE(kv.ok()) << kv.error().describe();
    return kv.ok() ? *kv : std::nullopt;
  }
  RangeResponse range_ok(RangeRequest request) {
    Result<RangeResponse> response = run(store().range(std::move(request)));
    EXPECT_TRUE(response.ok()) << response.error().describe();
    return response.ok() ? *response : RangeResponse{};
  }
  int64_t current_revision() { return range_ok(range_request(key("?revision"))).revision; }
  std::unique_ptr<Watch> watch_prefix(const std::string& name, int64_t start_revision) {
    Result<std::unique_ptr<Watch>> watch =
        run(store().watch(key(name), prefix_end(key(name)), start_revision));
    EXPECT_TRUE(watch.ok()) << watch.error().describe();
    return watch.ok() ? std::move(*watch) : nullptr;
  }
  Result<std::vector<WatchEvent>> next_events(Watch& watch) {
    Clock& clock = harness().clock();
    return run(with_deadline(*scope_, clock, clock.now() + watch_wait_max, watch.next(),
                             "watch next"));
  }
  void pass_time(Duration duration) {
    harness().run_task(sleep_then_post(harness().executor(), harness().clock(), duration));
  }
  Result<LeaseId> grant(int64_t ttl_seconds) { return run(store().lease_grant(ttl_seconds)); }
  Result<int64_t> keep_alive(LeaseId lease) { return run(store().lease_keep_alive(lease)); }

  std::unique_ptr<MetaStoreUnderTest> under_test_;
  std::unique_ptr<Scope> scope_;  // with_deadline's and background txns' tasks
};

// ---- keys, values and ranges ----

TEST_P(MetaStoreContract, put_then_get_returns_value_and_metadata) {
  const int64_t before = current_revision();
  const int64_t revision = put("a", "one");
  EXPECT_EQ(revision, before + 1);
  const std::optional<KeyValue> kv = get("a");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->key, key("a"));
  EXPECT_EQ(kv->value, "one");
  EXPECT_EQ(kv->create_revision, revision);
  EXPECT_EQ(kv->mod_revision, revision);
  EXPECT_EQ(kv->version, 1);
  EXPECT_EQ(kv->lease, 0);
  EXPECT_FALSE(get("b").has_value());
  EXPECT_EQ(current_revision(), revision);
}

TEST_P(MetaStoreContract, values_are_bytes_including_empty_and_zero_bytes) {
  const std::string binary("\0\xff\x01zero", 7);
  put("binary", binary);
  put("empty", "");
  const std::optional<KeyValue> stored = get("binary");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->value, binary);
  const std::optional<KeyValue> empty = get("empty");
  ASSERT_TRUE(empty.has_value());  // an empty value is still a key
  EXPECT_EQ(empty->value, "");
}

TEST_P(MetaStoreContract, prefix_range_returns_its_keys_in_byte_order_only) {
  for (const char* name : {"p/b", "p/a", "p/", "p/c\xff", "p.", "p0", "q", "p"}) put(name, name);
  const RangeResponse response = range_ok(range_request(key("p/"), prefix_end(key("p/"))));
  EXPECT_EQ(keys_of(response.kvs),
            (std::vector<std::string>{key("p/"), key("p/a"), key("p/b"), key("p/c\xff")}));
  EXPECT_FALSE(response.more);
  EXPECT_EQ(response.kvs[1].value, "p/a");
}

TEST_P(MetaStoreContract, range_with_empty_end_selects_one_key_and_zero_end_reads_to_the_end) {
  put("k", "1");
  put("k2", "2");
  put("z", "3");
  EXPECT_EQ(keys_of(range_ok(range_request(key("k"))).kvs), std::vector<std::string>{key("k")});
  const RangeResponse tail = range_ok(range_request(key("k2"), std::string(1, '\0')));
  ASSERT_GE(tail.kvs.size(), 2u);
  EXPECT_EQ(tail.kvs[0].key, key("k2"));
  EXPECT_EQ(tail.kvs[1].key, key("z"));
  EXPECT_TRUE(range_ok(range_request(key("z"), key("k"))).kvs.empty());  // end before start
}

TEST_P(MetaStoreContract, range_limit_cuts_in_key_order_and_reports_more) {
  for (const char* name : {"l/c", "l/a", "l/b"}) put(name, "v");
  const std::string end = prefix_end(key("l/"));
  const RangeResponse two = range_ok(range_request(key("l/"), end, 2));
  EXPECT_EQ(keys_of(two.kvs), (std::vector<std::string>{key("l/a"), key("l/b")}));
  EXPECT_TRUE(two.more);
  const RangeResponse three = range_ok(range_request(key("l/"), end, 3));
  EXPECT_EQ(three.kvs.size(), 3u);
  EXPECT_FALSE(three.more);
  EXPECT_FALSE(range_ok(range_request(key("l/"), end, 10)).more);
}

// ---- revisions ----

TEST_P(MetaStoreContract, a_txn_with_many_writes_is_one_revision) {
  const int64_t before = current_revision();
  TxnRequest request;
  for (const char* name : {"m/a", "m/b", "m/c"}) request.success.push_back(PutOp{key(name), "v"});
  const Result<TxnResponse> response = txn(std::move(request));
  ASSERT_TRUE(response.ok()) << response.error().describe();
  EXPECT_EQ(response->revision, before + 1);
  for (const char* name : {"m/a", "m/b", "m/c"}) {
    const std::optional<KeyValue> kv = get(name);
    ASSERT_TRUE(kv.has_value());
    EXPECT_EQ(kv->mod_revision, before + 1);
  }
  EXPECT_EQ(put("m/a", "again"), before + 2);
}

TEST_P(MetaStoreContract, version_counts_puts_and_restarts_after_delete) {
  const int64_t created = put("v", "1");
  put("v", "2");
  const int64_t third = put("v", "3");
  std::optional<KeyValue> kv = get("v");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->version, 3);
  EXPECT_EQ(kv->create_revision, created);
  EXPECT_EQ(kv->mod_revision, third);
  const int64_t deleted = remove("v");
  EXPECT_EQ(deleted, third + 1);
  EXPECT_FALSE(get("v").has_value());
  const int64_t recreated = put("v", "new");
  kv = get("v");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->version, 1);
  EXPECT_EQ(kv->create_revision, recreated);
}

TEST_P(MetaStoreContract, txns_that_write_nothing_keep_the_revision) {
  put("r", "v");
  const int64_t before = current_revision();
  TxnRequest read_only;
  read_only.success.push_back(range_request(key("r")));
  Result<TxnResponse> response = txn(std::move(read_only));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->revision, before);
  ASSERT_EQ(response->results.size(), 1u);
  EXPECT_EQ(response->results[0].range.kvs.size(), 1u);

  TxnRequest failed;
  failed.compares.push_back(Compare::value_is(key("r"), "other"));
  failed.success.push_back(PutOp{key("r"), "written"});
  failed.failure.push_back(range_request(key("r")));
  response = txn(std::move(failed));
  ASSERT_TRUE(response.ok());
  EXPECT_FALSE(response->succeeded);
  EXPECT_EQ(response->revision, before);

  TxnRequest delete_missing;
  delete_missing.success.push_back(DeleteOp{key("absent"), {}});
  response = txn(std::move(delete_missing));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->results[0].deleted, 0);
  EXPECT_EQ(response->revision, before);
  EXPECT_EQ(current_revision(), before);
  EXPECT_EQ(get("r")->value, "v");
}

TEST_P(MetaStoreContract, delete_range_deletes_each_key_in_one_revision) {
  for (const char* name : {"d/a", "d/b", "d/c", "e"}) put(name, "v");
  const int64_t before = current_revision();
  TxnRequest request;
  request.success.push_back(DeleteOp{key("d/"), prefix_end(key("d/"))});
  const Result<TxnResponse> response = txn(std::move(request));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->results[0].deleted, 3);
  EXPECT_EQ(response->revision, before + 1);
  EXPECT_TRUE(range_ok(range_request(key("d/"), prefix_end(key("d/")))).kvs.empty());
  EXPECT_TRUE(get("e").has_value());
}

// ---- txn compares ----

TEST_P(MetaStoreContract, create_if_absent_runs_success_once_then_failure) {
  auto create = [&] {
    TxnRequest request;
    request.compares.push_back(Compare::absent(key("c")));
    request.success.push_back(PutOp{key("c"), "mine"});
    request.failure.push_back(range_request(key("c")));
    return txn(std::move(request));
  };
  const Result<TxnResponse> first = create();
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->succeeded);
  const Result<TxnResponse> second = create();
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->succeeded);
  EXPECT_EQ(second->revision, first->revision);
  ASSERT_EQ(second->results.size(), 1u);
  ASSERT_EQ(second->results[0].range.kvs.size(), 1u);
  EXPECT_EQ(second->results[0].range.kvs[0].value, "mine");
}

TEST_P(MetaStoreContract, compares_on_revisions_version_and_lease_pick_the_branch) {
  const int64_t created = put("x", "1");
  const int64_t modified = put("x", "2");
  auto holds = [&](Compare compare) {
    TxnRequest request;
    request.compares.push_back(std::move(compare));
    const Result<TxnResponse> response = txn(std::move(request));
    EXPECT_TRUE(response.ok());
    return response.ok() && response->succeeded;
  };
  using T = Compare::Target;
  using O = Compare::Op;
  EXPECT_TRUE(holds(Compare::mod_revision_is(key("x"), modified)));
  EXPECT_FALSE(holds(Compare::mod_revision_is(key("x"), created)));
  EXPECT_TRUE(holds(Compare{key("x"), T::create_revision, O::equal, created, {}}));
  EXPECT_TRUE(holds(Compare::version_is(key("x"), 2)));
  EXPECT_TRUE(holds(Compare{key("x"), T::version, O::less, 3, {}}));
  EXPECT_FALSE(holds(Compare{key("x"), T::version, O::less, 2, {}}));
  EXPECT_TRUE(holds(Compare{key("x"), T::mod_revision, O::greater, created, {}}));
  EXPECT_TRUE(holds(Compare{key("x"), T::create_revision, O::not_equal, modified, {}}));
  EXPECT_TRUE(holds(Compare{key("x"), T::lease, O::equal, 0, {}}));
  // A missing key has zeros everywhere.
  EXPECT_TRUE(holds(Compare{key("none"), T::mod_revision, O::equal, 0, {}}));
  EXPECT_TRUE(holds(Compare{key("none"), T::create_revision, O::less, 1, {}}));
  EXPECT_FALSE(holds(Compare::version_is(key("x"), 0)));
}

TEST_P(MetaStoreContract, value_compares_are_bytewise_and_false_on_missing_keys) {
  put("val", "b\x80");
  auto holds = [&](Compare::Op op, std::string name, std::string value) {
    TxnRequest request;
    request.compares.push_back(Compare{key(name), Compare::Target::value, op, 0,
                                       std::move(value)});
    const Result<TxnResponse> response = txn(std::move(request));
    EXPECT_TRUE(response.ok());
    return response.ok() && response->succeeded;
  };
  using O = Compare::Op;
  EXPECT_TRUE(holds(O::equal, "val", "b\x80"));
  EXPECT_TRUE(holds(O::greater, "val", "b\x7f"));  // bytes are unsigned
  EXPECT_TRUE(holds(O::less, "val", "c"));
  EXPECT_TRUE(holds(O::not_equal, "val", "b"));
  EXPECT_FALSE(holds(O::equal, "missing", ""));
  EXPECT_FALSE(holds(O::not_equal, "missing", "anything"));
}

TEST_P(MetaStoreContract, all_compares_must_hold) {
  const int64_t revision = put("all", "v");
  TxnRequest request;
  request.compares.push_back(Compare::mod_revision_is(key("all"), revision));
  request.compares.push_back(Compare::value_is(key("all"), "not v"));
  request.success.push_back(PutOp{key("all"), "success"});
  request.failure.push_back(PutOp{key("all"), "failure"});
  const Result<TxnResponse> response = txn(std::move(request));
  ASSERT_TRUE(response.ok());
  EXPECT_FALSE(response->succeeded);
  EXPECT_EQ(response->revision, revision + 1);  // the failure branch wrote
  EXPECT_EQ(get("all")->value, "failure");
}

TEST_P(MetaStoreContract, txn_ops_see_the_writes_of_earlier_ops) {
  TxnRequest request;
  request.success.push_back(PutOp{key("own/a"), "1"});
  request.success.push_back(range_request(key("own/"), prefix_end(key("own/"))));
  request.success.push_back(PutOp{key("own/b"), "2"});
  request.success.push_back(range_request(key("own/"), prefix_end(key("own/"))));
  const Result<TxnResponse> response = txn(std::move(request));
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->results.size(), 4u);
  EXPECT_EQ(keys_of(response->results[1].range.kvs), std::vector<std::string>{key("own/a")});
  EXPECT_EQ(keys_of(response->results[3].range.kvs),
            (std::vector<std::string>{key("own/a"), key("own/b")}));
  EXPECT_EQ(response->results[3].range.kvs[1].mod_revision, response->revision);
}

TEST_P(MetaStoreContract, concurrent_cas_on_one_mod_revision_has_exactly_one_winner) {
  const int64_t revision = put("cas", "start");
  auto cas = [&](std::string value) {
    TxnRequest request;
    request.compares.push_back(Compare::mod_revision_is(key("cas"), revision));
    request.success.push_back(PutOp{key("cas"), std::move(value)});
    return request;
  };
  auto [a, b] = run(race(harness().executor(), store(), cas("a"), cas("b")));
  ASSERT_TRUE(a.ok()) << a.error().describe();
  ASSERT_TRUE(b.ok()) << b.error().describe();
  EXPECT_NE(a->succeeded, b->succeeded);
  const std::optional<KeyValue> kv = get("cas");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, a->succeeded ? "a" : "b");
  EXPECT_EQ(kv->version, 2);
  EXPECT_EQ(current_revision(), revision + 1);
}

// ---- history and compaction ----

TEST_P(MetaStoreContract, range_at_an_old_revision_returns_the_state_then) {
  const int64_t first = put("h/a", "1");
  const int64_t second = put("h/a", "2");
  const int64_t third = put("h/b", "b");
  const int64_t fourth = remove("h/a");
  put("h/c", "later");
  const std::string end = prefix_end(key("h/"));
  auto at = [&](int64_t revision) { return range_ok(range_request(key("h/"), end, 0, revision)); };
  RangeResponse response = at(first);
  ASSERT_EQ(keys_of(response.kvs), std::vector<std::string>{key("h/a")});
  EXPECT_EQ(response.kvs[0].value, "1");
  EXPECT_EQ(response.kvs[0].version, 1);
  response = at(second);
  ASSERT_EQ(response.kvs.size(), 1u);
  EXPECT_EQ(response.kvs[0].value, "2");
  EXPECT_EQ(response.kvs[0].mod_revision, second);
  EXPECT_EQ(keys_of(at(third).kvs), (std::vector<std::string>{key("h/a"), key("h/b")}));
  EXPECT_EQ(keys_of(at(fourth).kvs), std::vector<std::string>{key("h/b")});
  response = range_ok(range_request(key("h/"), end, 1, third));
  EXPECT_EQ(keys_of(response.kvs), std::vector<std::string>{key("h/a")});
  EXPECT_TRUE(response.more);
}

TEST_P(MetaStoreContract, compaction_forgets_older_revisions_but_keeps_its_own) {
  const int64_t first = put("cp/a", "1");
  const int64_t second = put("cp/a", "2");
  put("cp/b", "b");
  remove("cp/b");
  const int64_t last = put("cp/c", "c");
  ASSERT_TRUE(run(store().compact(second)).ok());
  const std::string end = prefix_end(key("cp/"));
  const Result<RangeResponse> old = run(store().range(range_request(key("cp/"), end, 0, first)));
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, Errc::compacted);
  const RangeResponse at_compaction = range_ok(range_request(key("cp/"), end, 0, second));
  ASSERT_EQ(keys_of(at_compaction.kvs), std::vector<std::string>{key("cp/a")});
  EXPECT_EQ(at_compaction.kvs[0].value, "2");
  EXPECT_EQ(keys_of(range_ok(range_request(key("cp/"), end, 0, last - 1)).kvs),
            std::vector<std::string>{key("cp/a")});
  EXPECT_EQ(keys_of(range_ok(range_request(key("cp/"), end)).kvs),
            (std::vector<std::string>{key("cp/a"), key("cp/c")}));
  const Status again = run(store().compact(second));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::compacted);
  // Compacting past a delete: the deleted key must not come back at the compaction point.
  ASSERT_TRUE(run(store().compact(last)).ok());
  const RangeResponse at_last = range_ok(range_request(key("cp/"), end, 0, last));
  EXPECT_EQ(keys_of(at_last.kvs), (std::vector<std::string>{key("cp/a"), key("cp/c")}));
  EXPECT_EQ(at_last.kvs[0].value, "2");
  EXPECT_EQ(run(store().range(range_request(key("cp/"), end, 0, last - 1))).error().code,
            Errc::compacted);
}

TEST_P(MetaStoreContract, future_revisions_are_out_of_range) {
  const int64_t revision = put("f", "v");
  const Result<RangeResponse> read = run(store().range(range_request(key("f"), {}, 0,
                                                                     revision + 1000)));
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, Errc::out_of_range);
  const Status compacted = run(store().compact(revision + 1000));
  ASSERT_FALSE(compacted.ok());
  EXPECT_EQ(compacted.error().code, Errc::out_of_range);
}

// ---- leases ----

TEST_P(MetaStoreContract, revoke_deletes_the_attached_keys_in_one_revision) {
  const Result<LeaseId> lease = grant(30);
  ASSERT_TRUE(lease.ok()) << lease.error().describe();
  EXPECT_NE(*lease, 0);
  put("lr/a", "1", *lease);
  put("lr/b", "2", *lease);
  put("lr/free", "3");
  const std::optional<KeyValue> attached = get("lr/a");
  ASSERT_TRUE(attached.has_value());
  EXPECT_EQ(attached->lease, *lease);
  const int64_t before = current_revision();
  std::unique_ptr<Watch> watch = watch_prefix("lr/", before + 1);
  ASSERT_NE(watch, nullptr);
  ASSERT_TRUE(run(store().lease_revoke(*lease)).ok());
  EXPECT_EQ(current_revision(), before + 1);
  EXPECT_FALSE(get("lr/a").has_value());
  EXPECT_FALSE(get("lr/b").has_value());
  EXPECT_TRUE(get("lr/free").has_value());
  const Result<std::vector<WatchEvent>> events = next_events(*watch);
  ASSERT_TRUE(events.ok()) << events.error().describe();
  ASSERT_EQ(events->size(), 2u);
  for (const WatchEvent& event : *events) {
    EXPECT_EQ(event.type, WatchEvent::Type::remove);
    EXPECT_EQ(event.kv.mod_revision, before + 1);
  }
  EXPECT_EQ(keep_alive(*lease).error().code, Errc::not_found);
  EXPECT_EQ(run(store().lease_revoke(*lease)).error().code, Errc::not_found);
}

TEST_P(MetaStoreContract, put_with_an_unknown_lease_is_not_found_and_writes_nothing) {
  const int64_t before = current_revision();
  TxnRequest request;
  request.success.push_back(PutOp{key("ul/ok"), "v", 0});
  request.success.push_back(PutOp{key("ul/bad"), "v", 987'654'321});
  const Result<TxnResponse> response = txn(std::move(request));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::not_found);
  EXPECT_FALSE(response.error().unknown());
  EXPECT_FALSE(get("ul/ok").has_value());
  EXPECT_EQ(current_revision(), before);
  EXPECT_EQ(keep_alive(987'654'321).error().code, Errc::not_found);
}

TEST_P(MetaStoreContract, a_put_without_lease_detaches_the_key) {
  const Result<LeaseId> lease = grant(30);
  ASSERT_TRUE(lease.ok());
  put("det", "leased", *lease);
  put("det", "kept");
  EXPECT_EQ(get("det")->lease, 0);
  ASSERT_TRUE(run(store().lease_revoke(*lease)).ok());
  ASSERT_TRUE(get("det").has_value());
  EXPECT_EQ(get("det")->value, "kept");
}

TEST_P(MetaStoreContract, short_ttls_are_rounded_up_to_the_minimum) {
  const Result<LeaseId> lease = grant(1);
  ASSERT_TRUE(lease.ok());
  const Result<int64_t> ttl = keep_alive(*lease);
  ASSERT_TRUE(ttl.ok()) << ttl.error().describe();
  EXPECT_GE(*ttl, limits::meta_lease_ttl_seconds_min);
  const Result<LeaseId> longer = grant(40);
  ASSERT_TRUE(longer.ok());
  EXPECT_NE(*longer, *lease);
  EXPECT_EQ(*keep_alive(*longer), 40);
}

// The one test that waits for real on real stores (about 5 s).
TEST_P(MetaStoreContract, lease_expiry_deletes_keys_and_keep_alive_postpones_it) {
  const Result<LeaseId> lease = grant(2);
  ASSERT_TRUE(lease.ok());
  const Result<LeaseId> idle = grant(2);
  ASSERT_TRUE(idle.ok());
  put("le/kept-alive", "v", *lease);
  put("le/idle", "v", *idle);
  pass_time(1s);
  ASSERT_TRUE(keep_alive(*lease).ok());
  pass_time(1500ms);  // 2.5 s after the grant, 1.5 s after the keep-alive
  EXPECT_TRUE(get("le/kept-alive").has_value());
  EXPECT_FALSE(get("le/idle").has_value());
  EXPECT_EQ(keep_alive(*idle).error().code, Errc::not_found);
  pass_time(2500ms);  // 4 s after the keep-alive
  EXPECT_FALSE(get("le/kept-alive").has_value());
  EXPECT_EQ(keep_alive(*lease).error().code, Errc::not_found);
}

// ---- watches ----

TEST_P(MetaStoreContract, watch_replays_each_revision_in_order_from_its_start) {
  const int64_t first = put("w/a", "1");
  TxnRequest two_puts;
  two_puts.success.push_back(PutOp{key("w/c"), "3"});
  two_puts.success.push_back(PutOp{key("w/b"), "2"});
  ASSERT_TRUE(txn(std::move(two_puts)).ok());
  put("elsewhere", "not watched");
  const int64_t deleted = remove("w/a");
  std::unique_ptr<Watch> watch = watch_prefix("w/", first);
  ASSERT_NE(watch, nullptr);

  Result<std::vector<WatchEvent>> events = next_events(*watch);
  ASSERT_TRUE(events.ok()) << events.error().describe();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, WatchEvent::Type::put);
  EXPECT_EQ((*events)[0].kv.key, key("w/a"));
  EXPECT_EQ((*events)[0].kv.value, "1");
  EXPECT_EQ((*events)[0].kv.mod_revision, first);

  events = next_events(*watch);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);  // one revision, in op order
  EXPECT_EQ((*events)[0].kv.key, key("w/c"));
  EXPECT_EQ((*events)[1].kv.key, key("w/b"));
  EXPECT_EQ((*events)[0].kv.mod_revision, first + 1);
  EXPECT_EQ((*events)[1].kv.version, 1);

  events = next_events(*watch);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, WatchEvent::Type::remove);
  EXPECT_EQ((*events)[0].kv.key, key("w/a"));
  EXPECT_EQ((*events)[0].kv.mod_revision, deleted);
}

TEST_P(MetaStoreContract, watch_from_zero_sees_only_later_commits_and_wakes_for_them) {
  put("wz/old", "1");
  std::unique_ptr<Watch> watch = watch_prefix("wz/", 0);
  ASSERT_NE(watch, nullptr);
  // next() starts waiting before the txn commits.
  scope_->spawn(txn_later(harness().clock(), store(), put_request(key("wz/new"), "2")));
  const Result<std::vector<WatchEvent>> events = next_events(*watch);
  ASSERT_TRUE(events.ok()) << events.error().describe();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kv.key, key("wz/new"));
  const int64_t later = put("wz/old", "3");
  const Result<std::vector<WatchEvent>> after = next_events(*watch);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u);
  EXPECT_EQ((*after)[0].kv.mod_revision, later);
  EXPECT_EQ((*after)[0].kv.version, 2);
}

TEST_P(MetaStoreContract, watch_from_a_compacted_revision_fails_with_compacted) {
  const int64_t first = put("wc/a", "1");
  const int64_t second = put("wc/a", "2");
  put("wc/a", "3");
  ASSERT_TRUE(run(store().compact(second)).ok());
  const Result<std::unique_ptr<Watch>> gone =
      run(store().watch(key("wc/"), prefix_end(key("wc/")), first));
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, Errc::compacted);
  std::unique_ptr<Watch> watch = watch_prefix("wc/", second);
  ASSERT_NE(watch, nullptr);
  const Result<std::vector<WatchEvent>> events = next_events(*watch);
  ASSERT_TRUE(events.ok()) << events.error().describe();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kv.mod_revision, second);
}

// Behaviours first checked against a real etcd 3.4 (each passes there): leases live outside
// the revision history, branches are checked for duplicate keys separately, a txn that reads
// the future fails whole, and a watch may start ahead of the store.
TEST_P(MetaStoreContract, granting_and_revoking_an_empty_lease_keeps_the_revision) {
  const int64_t before = current_revision();
  const Result<LeaseId> lease = grant(30);
  ASSERT_TRUE(lease.ok()) << lease.error().describe();
  EXPECT_EQ(current_revision(), before);
  ASSERT_TRUE(run(store().lease_revoke(*lease)).ok());
  EXPECT_EQ(current_revision(), before);
}

TEST_P(MetaStoreContract, both_branches_may_put_the_same_key) {
  TxnRequest request;
  request.compares.push_back(Compare::absent(key("branches")));
  request.success.push_back(PutOp{key("branches"), "success"});
  request.failure.push_back(PutOp{key("branches"), "failure"});
  TxnRequest again = request;
  Result<TxnResponse> first = txn(std::move(request));
  ASSERT_TRUE(first.ok()) << first.error().describe();
  EXPECT_TRUE(first->succeeded);
  Result<TxnResponse> second = txn(std::move(again));
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_FALSE(second->succeeded);
  EXPECT_EQ(get("branches")->value, "failure");
}

TEST_P(MetaStoreContract, a_txn_reading_a_future_revision_fails_whole) {
  const int64_t before = put("future/a", "1");
  TxnRequest request;
  request.success.push_back(PutOp{key("future/b"), "2"});
  request.success.push_back(range_request(key("future/a"), {}, 0, before + 1000));
  const Result<TxnResponse> response = txn(std::move(request));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, Errc::out_of_range) << response.error().describe();
  EXPECT_FALSE(response.error().unknown());
  EXPECT_FALSE(get("future/b").has_value());
  EXPECT_EQ(current_revision(), before);
}

TEST_P(MetaStoreContract, a_watch_from_a_future_revision_starts_there) {
  const int64_t now = put("wf/a", "1");
  std::unique_ptr<Watch> watch = watch_prefix("wf/", now + 2);
  ASSERT_NE(watch, nullptr);
  put("wf/skipped", "2");                  // now + 1: before the start
  const int64_t third = put("wf/b", "3");  // now + 2
  const Result<std::vector<WatchEvent>> events = next_events(*watch);
  ASSERT_TRUE(events.ok()) << events.error().describe();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kv.key, key("wf/b"));
  EXPECT_EQ((*events)[0].kv.mod_revision, third);
}

TEST_P(MetaStoreContract, closed_watch_returns_closed_even_while_waiting) {
  std::unique_ptr<Watch> watch = watch_prefix("wcl/", 0);
  ASSERT_NE(watch, nullptr);
  scope_->spawn(close_later(harness().clock(), *watch));
  const Result<std::vector<WatchEvent>> waiting = next_events(*watch);
  ASSERT_FALSE(waiting.ok());
  EXPECT_EQ(waiting.error().code, Errc::closed);
  put("wcl/after", "v");
  const Result<std::vector<WatchEvent>> after = next_events(*watch);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, Errc::closed);
}

// ---- invalid arguments ----

TEST_P(MetaStoreContract, malformed_requests_are_invalid_argument_and_change_nothing) {
  put("inv", "v");
  const int64_t before = current_revision();
  auto expect_invalid = [&](TxnRequest request, const char* what) {
    const Result<TxnResponse> response = txn(std::move(request));
    ASSERT_FALSE(response.ok()) << what;
    EXPECT_EQ(response.error().code, Errc::invalid_argument) << what;
  };
  expect_invalid(put_request("", "v"), "empty put key");
  TxnRequest empty_delete;
  empty_delete.success.push_back(DeleteOp{"", {}});
  expect_invalid(std::move(empty_delete), "empty delete key");
  TxnRequest empty_compare = put_request(key("inv"), "w");
  empty_compare.compares.push_back(Compare::absent(""));
  expect_invalid(std::move(empty_compare), "empty compare key");
  expect_invalid(put_request(key("big"), std::string(limits::meta_value_bytes_max + 1, 'x')),
                 "value too large");
  TxnRequest too_many;
  for (size_t i = 0; i <= limits::meta_txn_ops_max; ++i) {
    too_many.success.push_back(PutOp{key("many/" + std::to_string(i)), "v"});
  }
  expect_invalid(std::move(too_many), "too many ops");
  TxnRequest twice = put_request(key("inv"), "1");
  twice.success.push_back(PutOp{key("inv"), "2"});
  expect_invalid(std::move(twice), "key put twice");
  TxnRequest put_and_delete = put_request(key("inv/x"), "1");
  put_and_delete.failure.push_back(PutOp{key("inv/y"), "1"});
  put_and_delete.failure.push_back(DeleteOp{key("inv/"), prefix_end(key("inv/"))});
  expect_invalid(std::move(put_and_delete), "put inside a delete range");

  const Result<RangeResponse> range = run(store().range(range_request("")));
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.error().code, Errc::invalid_argument);
  const Result<std::unique_ptr<Watch>> watch = run(store().watch("", {}, 0));
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.error().code, Errc::invalid_argument);
  EXPECT_EQ(current_revision(), before);
  EXPECT_EQ(get("inv")->value, "v");
  // The biggest allowed value is fine.
  EXPECT_GT(put("big", std::string(limits::meta_value_bytes_max, 'x')), before);
}

INSTANTIATE_TEST_SUITE_P(all, MetaStoreContract, ::testing::ValuesIn(meta_store_factories()),
                         [](const ::testing::TestParamInfo<MetaStoreFactory>& param_info) {
                           return param_info.param.name;
                         });

// ---- MemMetaStore only: the synchronous face the simulator's etcd uses ----

TEST(mem_meta_store, synchronous_calls_change_state_at_once) {
  ManualLoop loop;
  MemMetaStore store(loop, loop);
  EXPECT_EQ(store.revision(), 1);  // as in etcd
  const Result<TxnResponse> put = store.apply_txn(put_request("k", "v"));
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->revision, 2);
  EXPECT_EQ(store.revision(), 2);
  const Result<RangeResponse> read = store.apply_range(range_request("k"));
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].value, "v");
  ASSERT_TRUE(store.apply_compact(2).ok());
  EXPECT_EQ(store.compacted_revision(), 2);
}

TEST(mem_meta_store, restart_lease_timers_restarts_every_deadline_from_now) {
  ManualLoop loop;
  MemMetaStore store(loop, loop);
  const Result<LeaseId> lease = store.apply_lease_grant(10);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(store.apply_txn(put_request("k", "v", *lease)).ok());
  loop.run_for(8s);
  store.restart_lease_timers();  // a new leader: the deadline is now 18 s
  loop.run_for(9s);
  EXPECT_EQ(store.lease_ids(), std::vector<LeaseId>{*lease});
  EXPECT_EQ(store.apply_range(range_request("k"))->kvs.size(), 1u);
  loop.run_for(2s);
  EXPECT_TRUE(store.lease_ids().empty());
  EXPECT_TRUE(store.apply_range(range_request("k"))->kvs.empty());
}

TEST(mem_meta_store, expire_lease_now_deletes_its_keys_in_one_revision) {
  ManualLoop loop;
  MemMetaStore store(loop, loop);
  const Result<LeaseId> lease = store.apply_lease_grant(60);
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(store.apply_txn(put_request("a", "1", *lease)).ok());
  ASSERT_TRUE(store.apply_txn(put_request("b", "2", *lease)).ok());
  const int64_t before = store.revision();
  ASSERT_TRUE(store.expire_lease_now(*lease).ok());
  EXPECT_EQ(store.revision(), before + 1);
  EXPECT_TRUE(store.apply_range(range_request("a", std::string(1, '\0')))->kvs.empty());
  EXPECT_EQ(store.expire_lease_now(*lease).error().code, Errc::not_found);
  EXPECT_EQ(store.apply_lease_keep_alive(*lease).error().code, Errc::not_found);
  EXPECT_EQ(loop.pending_timer_count(), 0u);  // the lease's timer went with it
}

TEST(mem_meta_store, a_watch_outliving_its_store_is_closed) {
  ManualLoop loop;
  auto store = std::make_unique<MemMetaStore>(loop, loop);
  Result<std::unique_ptr<Watch>> watch = store->open_watch("w", {}, 0);
  ASSERT_TRUE(watch.ok());
  store.reset();
  const Result<std::vector<WatchEvent>> events = loop.run((*watch)->next());
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.error().code, Errc::closed);
}

// ---- SQLite only: files ----

class SqliteMetaStoreFiles : public ::testing::Test {
 protected:
  std::string path() const { return dir_.path() + "/meta.db"; }
  Result<std::unique_ptr<SqliteMetaStore>> open() { return open_sqlite(harness_, path()); }
  void write_file_bytes(uint64_t offset, const std::string& bytes) {
    std::fstream file(path(), std::ios::in | std::ios::out | std::ios::binary);
    if (!file) file.open(path(), std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.good());
    file.seekp(static_cast<std::streamoff>(offset));
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(file.good());
  }

  RealHarness harness_;
  TempDir dir_;
};

TEST_F(SqliteMetaStoreFiles, data_revisions_history_and_leases_survive_reopen) {
  int64_t revision = 0;
  int64_t first = 0;
  LeaseId lease = 0;
  {
    Result<std::unique_ptr<SqliteMetaStore>> store = open();
    ASSERT_TRUE(store.ok()) << store.error().describe();
    MetaStore& meta = **store;
    first = harness_.run(meta.txn(put_request("a", "1")))->revision;
    Result<LeaseId> granted = harness_.run(meta.lease_grant(60));
    ASSERT_TRUE(granted.ok());
    lease = *granted;
    ASSERT_TRUE(harness_.run(meta.txn(put_request("leased", "x", lease))).ok());
    revision = harness_.run(meta.txn(put_request("a", "2")))->revision;
    ASSERT_TRUE(harness_.run(meta.compact(first + 1)).ok());
  }
  Result<std::unique_ptr<SqliteMetaStore>> reopened = open();
  ASSERT_TRUE(reopened.ok()) << reopened.error().describe();
  MetaStore& meta = **reopened;
  const Result<std::optional<KeyValue>> a = harness_.run(meta.get("a"));
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->value, "2");
  EXPECT_EQ((*a)->version, 2);
  EXPECT_EQ((*a)->create_revision, first);
  EXPECT_EQ((*a)->mod_revision, revision);
  EXPECT_EQ(harness_.run(meta.range(range_request("a")))->revision, revision);
  EXPECT_EQ(harness_.run(meta.range(range_request("a", {}, 0, first))).error().code,
            Errc::compacted);
  const Result<RangeResponse> past = harness_.run(meta.range(range_request("a", {}, 0,
                                                                           first + 1)));
  ASSERT_TRUE(past.ok());
  EXPECT_EQ(past->kvs.at(0).value, "1");  // history below the newest write survived
  EXPECT_EQ(harness_.run(meta.txn(put_request("b", "3")))->revision, revision + 1);
  EXPECT_EQ(*harness_.run(meta.lease_keep_alive(lease)), 60);
  const Result<LeaseId> next_lease = harness_.run(meta.lease_grant(60));
  ASSERT_TRUE(next_lease.ok());
  EXPECT_NE(*next_lease, lease);  // ids are not reused after a restart
  ASSERT_TRUE(harness_.run(meta.lease_revoke(lease)).ok());
  EXPECT_FALSE(harness_.run(meta.get("leased"))->has_value());
}

TEST_F(SqliteMetaStoreFiles, a_file_that_is_not_a_database_is_corrupt) {
  write_file_bytes(0, std::string(8192, '\xab'));
  const Result<std::unique_ptr<SqliteMetaStore>> store = open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::corrupt) << store.error().describe();
  EXPECT_NE(store.error().message.find("sqlite"), std::string::npos);
}

TEST_F(SqliteMetaStoreFiles, an_overwritten_header_is_corrupt) {
  {
    Result<std::unique_ptr<SqliteMetaStore>> store = open();
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE(harness_.run((*store)->txn(put_request("a", "1"))).ok());
  }
  write_file_bytes(0, std::string(100, '\x5a'));
  const Result<std::unique_ptr<SqliteMetaStore>> store = open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::corrupt) << store.error().describe();
}

// Two stores on one file stand for two processes (each has its own connection and pool).
TEST_F(SqliteMetaStoreFiles, a_second_store_on_the_same_file_shares_it) {
  Result<std::unique_ptr<SqliteMetaStore>> first = open();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(harness_.run((*first)->txn(put_request("a", "1"))).ok());
  Result<std::unique_ptr<SqliteMetaStore>> second = open();
  ASSERT_TRUE(second.ok()) << second.error().describe();
  const Result<std::optional<KeyValue>> a = harness_.run((*second)->get("a"));
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->value, "1");
  const Result<TxnResponse> b = harness_.run((*second)->txn(put_request("b", "2")));
  ASSERT_TRUE(b.ok());
  const Result<TxnResponse> c = harness_.run((*first)->txn(put_request("c", "3")));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->revision, b->revision + 1);  // one revision counter for both
  const Result<std::optional<KeyValue>> seen = harness_.run((*first)->get("b"));
  ASSERT_TRUE(seen.ok() && seen->has_value());
  EXPECT_EQ((*seen)->mod_revision, b->revision);
}

// A watch waiting in one store wakes for another store's commit: nothing in its own process
// commits, so only the revision poll can wake it (shown to fail with the poll timer disabled).
TEST_F(SqliteMetaStoreFiles, a_watch_wakes_for_a_commit_of_another_store) {
  Result<std::unique_ptr<SqliteMetaStore>> writer = open();
  Result<std::unique_ptr<SqliteMetaStore>> watcher = open();
  ASSERT_TRUE(writer.ok() && watcher.ok());
  Result<std::unique_ptr<Watch>> watch = harness_.run((*watcher)->watch("k", {}, 0));
  ASSERT_TRUE(watch.ok());
  std::optional<Result<std::vector<WatchEvent>>> got;
  Scope scope(harness_.executor());
  scope.spawn([](Watch& w, std::optional<Result<std::vector<WatchEvent>>>& out) -> Task<void> {
    out.emplace(co_await w.next());
  }(**watch, got));
  harness_.advance(std::chrono::milliseconds(100));
  EXPECT_FALSE(got.has_value());  // nothing committed yet
  const Result<TxnResponse> put = harness_.run((*writer)->txn(put_request("k", "v")));
  ASSERT_TRUE(put.ok());
  for (int step = 0; step < 100 && !got; ++step) harness_.advance(std::chrono::milliseconds(20));
  ASSERT_TRUE(got.has_value()) << "the watch never woke";
  ASSERT_TRUE(got->ok()) << got->error().describe();
  ASSERT_EQ((*got)->size(), 1u);
  EXPECT_EQ((*got)->front().kv.value, "v");
  EXPECT_EQ((*got)->front().kv.mod_revision, put->revision);
}

TEST_F(SqliteMetaStoreFiles, a_read_only_store_reads_beside_a_writer_and_refuses_writes) {
  Result<std::unique_ptr<SqliteMetaStore>> writer = open();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(harness_.run((*writer)->txn(put_request("a", "1"))).ok());
  SqliteMetaOptions options;
  options.read_only = true;
  Result<std::unique_ptr<SqliteMetaStore>> reader =
      harness_.run(SqliteMetaStore::open(harness_.executor(), harness_.clock(), path(), options));
  ASSERT_TRUE(reader.ok()) << reader.error().describe();
  ASSERT_TRUE(harness_.run((*writer)->txn(put_request("a", "2"))).ok());
  const Result<std::optional<KeyValue>> a = harness_.run((*reader)->get("a"));
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->value, "2");  // sees the writer's later commit
  const Result<TxnResponse> refused = harness_.run((*reader)->txn(put_request("b", "1")));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::permission_denied) << refused.error().describe();
  EXPECT_FALSE(refused.error().unknown());
}

TEST_F(SqliteMetaStoreFiles, a_missing_file_is_not_found_without_create) {
  SqliteMetaOptions options;
  options.create = false;
  const Result<std::unique_ptr<SqliteMetaStore>> store =
      harness_.run(SqliteMetaStore::open(harness_.executor(), harness_.clock(), path(), options));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::not_found);
  options.create = true;
  options.read_only = true;
  const Result<std::unique_ptr<SqliteMetaStore>> read_only =
      harness_.run(SqliteMetaStore::open(harness_.executor(), harness_.clock(), path(), options));
  ASSERT_FALSE(read_only.ok());
  EXPECT_EQ(read_only.error().code, Errc::not_found);  // read-only never creates
}

// Without automatic compaction the history table keeps every change for ever (shown to fail
// with history_revisions_kept = 0: revision 2 stays readable).
TEST_F(SqliteMetaStoreFiles, history_is_compacted_automatically) {
  SqliteMetaOptions options;
  options.history_revisions_kept = 10;
  options.history_compaction_step_revisions = 5;
  Result<std::unique_ptr<SqliteMetaStore>> store =
      harness_.run(SqliteMetaStore::open(harness_.executor(), harness_.clock(), path(), options));
  ASSERT_TRUE(store.ok());
  MetaStore& meta = **store;
  int64_t revision = 0;
  for (int i = 0; i < 40; ++i) {
    revision = harness_.run(meta.txn(put_request("k", std::to_string(i))))->revision;
  }
  const Result<RangeResponse> old = harness_.run(meta.range(range_request("k", {}, 0, 2)));
  ASSERT_FALSE(old.ok()) << "revision 2 is still readable: the history was not compacted";
  EXPECT_EQ(old.error().code, Errc::compacted);
  const Result<RangeResponse> recent =
      harness_.run(meta.range(range_request("k", {}, 0, revision - 9)));
  ASSERT_TRUE(recent.ok()) << recent.error().describe();  // the last 10 revisions stay
  EXPECT_EQ(recent->kvs.at(0).value, "30");
}

TEST_F(SqliteMetaStoreFiles, a_missing_directory_is_an_io_error_not_a_crash) {
  const Result<std::unique_ptr<SqliteMetaStore>> store =
      open_sqlite(harness_, dir_.path() + "/no/such/dir/meta.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::io_error) << store.error().describe();
}

}  // namespace
}  // namespace wal::contract
