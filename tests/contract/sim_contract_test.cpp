// The simulated services (sim/sim_object_store.h, sim_meta_store.h, sim_disk.h) with faults off,
// on a contract Harness: SimHarness runs tasks on node 1 of a one-node simulated world.
//
// How the contract suites pick the simulator up. The suites (object_store_contract_test.cpp,
// meta_store_contract_test.cpp, disk_contract_test.cpp) keep their fixtures and factory lists in
// an anonymous namespace, and each *_test.cpp is its own executable, so the suites cannot be
// instantiated from here. Each suite needs this small change (nothing else in it moves):
//   1. Move the "SimHarness" section below, verbatim, into a header-only
//      tests/contract/sim_harness.h (it depends only on contract_support.h and sim/).
//   2. In each suite: #include "tests/contract/sim_harness.h" and add one factory:
//      object_store_contract_test.cpp, next to MemWorld:
//        class SimWorld final : public ObjectStoreWorld {
//         public:
//          Harness& harness() override { return harness_; }
//          ObjectStore& store() override { return *store_; }
//         private:
//          SimHarness harness_;
//          std::unique_ptr<ObjectStore> store_ = harness_.object_client();
//        };
//        ... and {"sim", [] { return std::make_unique<SimWorld>(); }} in store_factories().
//      disk_contract_test.cpp: the same with DiskWorld, `Disk& disk() override { return
//        harness_.disk(); }`, and {"sim", ...} in disk_factories().
//      meta_store_contract_test.cpp, a factory in meta_store_factories():
//        {"sim", [] {
//           auto under_test = std::make_unique<MetaStoreUnderTest>();
//           auto harness = std::make_unique<SimHarness>();
//           under_test->store = harness->meta_client();
//           under_test->harness = std::move(harness);
//           under_test->key_prefix = "contract/";
//           return under_test;
//         }},
// The three suites pass unchanged against these factories (checked by building patched copies
// outside the tree). Until the change lands, the tests below run the same kinds of calls through
// SimHarness so the harness itself stays exercised.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/sim_disk.h"
#include "sim/sim_meta_store.h"
#include "sim/sim_object_store.h"
#include "sim/trace.h"
#include "tests/contract/contract_support.h"
#include "tests/contract/sim_harness.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"

using namespace std::chrono_literals;

namespace wal::contract {

// ---- tests of the harness with each service ----------------------------------------------------

namespace {

TEST(sim_harness, run_returns_the_result_and_advance_moves_virtual_time) {
  SimHarness harness;
  const TimePoint before = harness.clock().now();
  harness.advance(90s);
  EXPECT_EQ(harness.clock().now() - before, Duration(90s));
  const int value = harness.run([](Clock& clock) -> Task<int> {
    co_await sleep_for(clock, 5ms);
    co_return 42;
  }(harness.clock()));
  EXPECT_EQ(value, 42);
  EXPECT_EQ(harness.clock().now() - before, Duration(90s + 5ms));
}

TEST(sim_harness, object_store_round_trips_with_faults_off) {
  SimHarness harness;
  std::unique_ptr<ObjectStore> store = harness.object_client();
  const Result<ObjectInfo> stored =
      harness.run(store->put("k", to_bytes("body"), PutCondition::create_only()));
  ASSERT_TRUE(stored.ok()) << stored.error().describe();
  const Result<ObjectInfo> again =
      harness.run(store->put("k", to_bytes("other"), PutCondition::create_only()));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  const Result<ObjectData> data = harness.run(store->get("k", ByteRange{1, 2}));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(to_string(data->body), "od");
  EXPECT_EQ(data->info.size_bytes, 4u);
  EXPECT_EQ(harness.objects().stats().timeout_count, 0u);
}

TEST(sim_harness, meta_store_round_trips_and_watches_with_faults_off) {
  SimHarness harness;
  std::unique_ptr<MetaStore> meta = harness.meta_client();
  Result<std::unique_ptr<Watch>> watch = harness.run(meta->watch("a", "", 0));
  ASSERT_TRUE(watch.ok()) << watch.error().describe();
  TxnRequest request;
  request.success.push_back(PutOp{"a", "1", 0});
  const Result<TxnResponse> response = harness.run(meta->txn(std::move(request)));
  ASSERT_TRUE(response.ok());
  const Result<std::vector<WatchEvent>> events = harness.run((*watch)->next());
  ASSERT_TRUE(events.ok()) << events.error().describe();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kv.mod_revision, response->revision);
  const Result<LeaseId> lease = harness.run(meta->lease_grant(2));
  ASSERT_TRUE(lease.ok());
  harness.advance(3s);  // expiry runs on the world's virtual clock
  EXPECT_EQ(harness.run(meta->lease_keep_alive(*lease)).error().code, Errc::not_found);
}

TEST(sim_harness, disk_round_trips_with_faults_off) {
  SimHarness harness;
  Disk& disk = harness.disk();
  ASSERT_TRUE(harness.run(disk.write("f", 0, to_bytes("abc"))).ok());
  const Result<uint64_t> offset = harness.run(disk.append("f", to_bytes("def")));
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, 3u);
  ASSERT_TRUE(harness.run(disk.sync("f")).ok());
  const Result<Bytes> read = harness.run(disk.read("f", 0, 100));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(to_string(*read), "abcdef");
  EXPECT_EQ(harness.run(disk.size("missing")).error().code, Errc::not_found);
}

TEST(sim_harness, background_tasks_on_the_harness_executor_run_between_calls) {
  SimHarness harness;
  std::unique_ptr<ObjectStore> store = harness.object_client();
  auto scope = std::make_unique<Scope>(harness.executor());
  scope->spawn([](Clock& clock, ObjectStore& objects) -> Task<void> {
    co_await sleep_for(clock, 10ms);
    const Result<ObjectInfo> put = co_await objects.put("late", to_bytes("x"),
                                                        PutCondition::none());
    WAL_ASSERT(put.ok());
  }(harness.clock(), *store));
  harness.advance(50ms);
  EXPECT_TRUE(harness.objects().state().find("late").has_value());
  scope.reset();
}

}  // namespace
}  // namespace wal::contract
