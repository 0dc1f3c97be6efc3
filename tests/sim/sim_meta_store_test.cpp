// The simulated etcd: round trips, partitions (requests, replies and watches), leader changes
// and lease TTLs, compaction of watches, random timeouts, crashes, races and determinism.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/sim_meta_store.h"
#include "sim/trace.h"

using namespace std::chrono_literals;

namespace wal::sim {
namespace {

template <typename T>
using Slot = std::shared_ptr<std::optional<T>>;

template <typename T>
Slot<T> start(NodeRuntime& runtime, Task<T> task) {
  auto slot = std::make_shared<std::optional<T>>();
  runtime.spawn([](Task<T> inner, Slot<T> out) -> Task<void> {
    out->emplace(co_await std::move(inner));
  }(std::move(task), slot));
  return slot;
}

MetaStoreFaults quiet() {
  MetaStoreFaults faults;
  faults.latency.base = 1ms;
  faults.request_timeout = 1s;
  faults.watch_unavailable_after = 3s;
  return faults;
}

TxnRequest put_request(std::string key, std::string value, LeaseId lease = 0) {
  TxnRequest request;
  request.success.push_back(PutOp{std::move(key), std::move(value), lease});
  return request;
}

TxnRequest create_request(std::string key, std::string value) {
  TxnRequest request = put_request(key, std::move(value));
  request.compares.push_back(Compare::absent(std::move(key)));
  return request;
}

void expect_error(const Error& error, Errc code, Outcome outcome) {
  EXPECT_EQ(error.code, code) << error.describe();
  EXPECT_EQ(error.outcome, outcome) << error.describe();
}

class SimMetaStoreTest : public ::testing::Test {
 protected:
  static constexpr NodeIndex node_count = 3;

  SimMetaStoreTest() : streams_(2024), etcd_(scheduler_, streams_, trace_, quiet()) {
    for (NodeIndex node = 1; node <= node_count; ++node) {
      runtimes_.push_back(std::make_unique<NodeRuntime>(scheduler_, node));
      views_.push_back(etcd_.client(node, runtime(node)));
    }
  }
  ~SimMetaStoreTest() override {
    for (auto& runtime : runtimes_) {
      if (runtime->alive()) runtime->crash();  // node frames die before the service
    }
    watches_.clear();
    views_.clear();
  }

  NodeRuntime& runtime(NodeIndex node) { return *runtimes_[node - 1]; }
  MetaStore& meta(NodeIndex node) { return *views_[node - 1]; }

  template <typename T>
  void run_until_done(const Slot<T>& slot, Duration budget = 60s) {
    scheduler_.run_while([&] { return !slot->has_value(); }, scheduler_.now() + budget);
    ASSERT_TRUE(slot->has_value()) << "call never completed";
  }
  template <typename T>
  T call(NodeIndex node, Task<T> task) {
    Slot<T> slot = start(runtime(node), std::move(task));
    run_until_done(slot);
    if (!slot->has_value()) std::abort();  // the assertion above already failed the test
    return std::move(**slot);
  }
  void run_for(Duration duration) { scheduler_.run_until(scheduler_.now() + duration); }

  Result<TxnResponse> txn(NodeIndex node, TxnRequest request) {
    return call(node, meta(node).txn(std::move(request)));
  }
  std::optional<std::string> value_of(const std::string& key) {
    RangeRequest request;
    request.key = key;
    const Result<RangeResponse> response = etcd_.state().apply_range(request);
    EXPECT_TRUE(response.ok());
    if (!response.ok() || response->kvs.empty()) return std::nullopt;
    return response->kvs[0].value;
  }
  // Opens a watch of prefix "w/" from `node` and keeps it in the fixture.
  Watch& watch(NodeIndex node, int64_t start_revision = 0) {
    Result<std::unique_ptr<Watch>> opened =
        call(node, meta(node).watch("w/", prefix_end("w/"), start_revision));
    EXPECT_TRUE(opened.ok()) << opened.error().describe();
    if (!opened.ok()) std::abort();
    watches_.push_back(std::move(*opened));
    return *watches_.back();
  }

  Trace trace_;
  Scheduler scheduler_{trace_};
  RandomStreams streams_;
  SimMetaStore etcd_;
  std::vector<std::unique_ptr<NodeRuntime>> runtimes_;
  std::vector<std::unique_ptr<MetaStore>> views_;
  std::vector<std::unique_ptr<Watch>> watches_;
};

// ---- faults off --------------------------------------------------------------------------------

TEST_F(SimMetaStoreTest, calls_round_trip_in_one_drawn_latency_with_faults_off) {
  const Result<TxnResponse> put = txn(1, put_request("a", "1"));
  ASSERT_TRUE(put.ok()) << put.error().describe();
  EXPECT_TRUE(put->succeeded);
  EXPECT_EQ(put->revision, 2);
  EXPECT_EQ(scheduler_.now(), TimePoint(1ms));
  const Result<std::optional<KeyValue>> got = call(2, meta(2).get("a"));
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->value, "1");
  const Result<LeaseId> lease = call(3, meta(3).lease_grant(5));
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(*call(3, meta(3).lease_keep_alive(*lease)), 5);
  EXPECT_TRUE(call(3, meta(3).lease_revoke(*lease)).ok());
  EXPECT_EQ(call(3, meta(3).lease_keep_alive(*lease)).error().code, Errc::not_found);
  EXPECT_EQ(scheduler_.now(), TimePoint(6ms));
  EXPECT_EQ(etcd_.stats().of(MetaOp::txn).applied_count, 1u);
  EXPECT_EQ(etcd_.stats().of(MetaOp::lease_keep_alive).replied_count, 2u);
  EXPECT_EQ(etcd_.in_flight_count(), 0u);
}

TEST_F(SimMetaStoreTest, watch_delivers_each_revision_with_one_way_latency) {
  Watch& w = watch(2);
  const TimePoint sent = scheduler_.now();
  Slot<Result<std::vector<WatchEvent>>> first = start(runtime(2), w.next());
  ASSERT_TRUE(txn(1, put_request("w/x", "1")).ok());  // applied at sent + 0.5 ms
  run_until_done(first);
  ASSERT_TRUE((*first)->ok());
  ASSERT_EQ((**first)->size(), 1u);
  EXPECT_EQ((**first).value()[0].kv.key, "w/x");
  EXPECT_EQ(scheduler_.now() - sent, Duration(1ms));  // 0.5 ms in, 0.5 ms out to the watcher
  EXPECT_EQ(etcd_.stats().watch_batch_count, 1u);
  EXPECT_EQ(etcd_.watch_count(), 1u);
  watches_.clear();
  EXPECT_EQ(etcd_.watch_count(), 0u);  // closing the watch releases the server side
}

TEST_F(SimMetaStoreTest, watch_events_stay_in_revision_order_under_latency_tails) {
  MetaStoreFaults faults = quiet();
  faults.latency.tail_mean = 5ms;
  etcd_.set_faults(faults);
  Watch& w = watch(3);
  constexpr int revision_count = 30;
  for (int i = 0; i < revision_count; ++i) {
    start(runtime(1 + i % 2), meta(1 + i % 2).txn(put_request("w/" + std::to_string(i), "v")));
  }
  int64_t previous = 0;
  for (int i = 0; i < revision_count; ++i) {
    const Result<std::vector<WatchEvent>> events = call(3, w.next());
    ASSERT_TRUE(events.ok()) << events.error().describe();
    ASSERT_EQ(events->size(), 1u);
    const int64_t revision = (*events)[0].kv.mod_revision;
    if (previous != 0) {
      EXPECT_EQ(revision, previous + 1);  // no gap, no reordering
    }
    previous = revision;
  }
}

// ---- partitions --------------------------------------------------------------------------------

TEST_F(SimMetaStoreTest, a_txn_from_a_partitioned_node_times_out_unknown_and_is_not_applied) {
  etcd_.partition(1);
  const Result<TxnResponse> write = txn(1, put_request("p", "1"));
  ASSERT_FALSE(write.ok());
  expect_error(write.error(), Errc::timeout, Outcome::unknown);
  EXPECT_EQ(scheduler_.now(), TimePoint(1s));
  EXPECT_FALSE(value_of("p").has_value());
  const Result<RangeResponse> read = call(1, meta(1).range(RangeRequest{"p", {}, 0, 0}));
  ASSERT_FALSE(read.ok());
  expect_error(read.error(), Errc::timeout, Outcome::definite);
  EXPECT_TRUE(txn(2, put_request("q", "2")).ok());  // only node 1 is cut off
  etcd_.heal(1);
  EXPECT_TRUE(txn(1, put_request("p", "1")).ok());
}

TEST_F(SimMetaStoreTest, a_write_sent_just_before_a_partition_may_or_may_not_apply) {
  // Cut off before it arrives (arrival at 0.5 ms): never applied.
  Slot<Result<TxnResponse>> early = start(runtime(1), meta(1).txn(put_request("early", "v")));
  scheduler_.run_until(TimePoint(250us));
  etcd_.partition(1);
  run_until_done(early);
  expect_error((*early)->error(), Errc::timeout, Outcome::unknown);
  EXPECT_FALSE(value_of("early").has_value());
  etcd_.heal(1);
  // Cut off after it was applied, while the reply is on its way: applied.
  const TimePoint sent = scheduler_.now();
  Slot<Result<TxnResponse>> late = start(runtime(1), meta(1).txn(put_request("late", "v")));
  scheduler_.run_until(sent + 750us);
  etcd_.partition(1);
  run_until_done(late);
  expect_error((*late)->error(), Errc::timeout, Outcome::unknown);
  EXPECT_EQ(value_of("late"), "v");
  EXPECT_EQ(etcd_.stats().partition_lost_request_count, 1u);
  EXPECT_EQ(etcd_.stats().partition_lost_reply_count, 1u);
}

TEST_F(SimMetaStoreTest, a_partitioned_nodes_watch_stalls_then_fails_unavailable) {
  Watch& w = watch(1);
  const TimePoint cut = scheduler_.now();
  etcd_.partition(1);
  Slot<Result<std::vector<WatchEvent>>> next = start(runtime(1), w.next());
  ASSERT_TRUE(txn(2, put_request("w/a", "1")).ok());
  scheduler_.run_until(cut + 3s - 1ns);
  EXPECT_FALSE(next->has_value());  // stalled: the event does not reach the node
  run_until_done(next);
  ASSERT_FALSE((*next)->ok());
  expect_error((*next)->error(), Errc::unavailable, Outcome::definite);
  EXPECT_EQ(scheduler_.now(), cut + 3s);
  EXPECT_EQ(etcd_.stats().watch_unavailable_count, 1u);
  // The watch is over; the reader re-watches from the revision it has not seen, once healed.
  EXPECT_EQ(call(1, w.next()).error().code, Errc::unavailable);
  etcd_.heal(1);
  Watch& again = watch(1, 2);
  const Result<std::vector<WatchEvent>> replay = call(1, again.next());
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ((*replay)[0].kv.key, "w/a");
}

TEST_F(SimMetaStoreTest, a_watch_healed_in_time_resumes_in_order_without_gaps) {
  Watch& w = watch(1);
  etcd_.partition(1);
  for (const char* key : {"w/1", "w/2", "w/3"}) ASSERT_TRUE(txn(2, put_request(key, "v")).ok());
  Slot<Result<std::vector<WatchEvent>>> next = start(runtime(1), w.next());
  run_for(1s);
  EXPECT_FALSE(next->has_value());
  const TimePoint healed = scheduler_.now();
  etcd_.heal(1);
  run_until_done(next);
  EXPECT_GT(scheduler_.now(), healed);
  ASSERT_TRUE((*next)->ok()) << (*next)->error().describe();
  std::vector<std::string> keys{(**next).value()[0].kv.key};
  for (int i = 0; i < 2; ++i) {
    const Result<std::vector<WatchEvent>> events = call(1, w.next());
    ASSERT_TRUE(events.ok()) << events.error().describe();
    keys.push_back((*events)[0].kv.key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"w/1", "w/2", "w/3"}));
  run_for(10s);  // the stale unavailability timer of the healed partition does nothing
  EXPECT_EQ(etcd_.stats().watch_unavailable_count, 0u);
}

// ---- leases and leader changes -----------------------------------------------------------------

TEST_F(SimMetaStoreTest, a_lease_expires_on_virtual_time_after_its_ttl) {
  const Result<LeaseId> lease = call(1, meta(1).lease_grant(10));  // granted at 0.5 ms
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(txn(1, put_request("owned", "v", *lease)).ok());
  scheduler_.run_until(TimePoint(10s));
  EXPECT_TRUE(value_of("owned").has_value());
  scheduler_.run_until(TimePoint(10s + 1ms));
  EXPECT_FALSE(value_of("owned").has_value());
}

TEST_F(SimMetaStoreTest, leader_change_restarts_lease_ttls_so_keys_outlive_their_ttl) {
  const Result<LeaseId> lease = call(1, meta(1).lease_grant(10));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(txn(1, put_request("owned", "v", *lease)).ok());
  scheduler_.run_until(TimePoint(8s));
  etcd_.leader_change();
  scheduler_.run_until(TimePoint(12s));
  EXPECT_TRUE(value_of("owned").has_value());  // would have expired at 10 s
  scheduler_.run_until(TimePoint(18s) - 1ns);
  EXPECT_TRUE(value_of("owned").has_value());
  scheduler_.run_until(TimePoint(18s));
  EXPECT_FALSE(value_of("owned").has_value());  // 10 s after the leader change
  EXPECT_EQ(etcd_.stats().leader_change_count, 1u);
}

TEST_F(SimMetaStoreTest, leader_change_fails_requests_in_flight_with_either_outcome) {
  MetaStoreFaults faults = quiet();
  faults.leader_change_fail_ppm = 1'000'000;
  faults.leader_change_applied_ppm = 500'000;
  etcd_.set_faults(faults);
  constexpr int write_count = 60;
  std::vector<Slot<Result<TxnResponse>>> writes;
  for (int i = 0; i < write_count; ++i) {
    const NodeIndex node = 1 + i % node_count;
    writes.push_back(start(runtime(node), meta(node).txn(put_request("l" + std::to_string(i),
                                                                     "v"))));
  }
  Slot<Result<RangeResponse>> read = start(runtime(1), meta(1).range(RangeRequest{"l0"}));
  scheduler_.run_until(TimePoint(250us));  // all sent, none arrived
  etcd_.leader_change();
  run_for(2s);
  int applied = 0;
  for (int i = 0; i < write_count; ++i) {
    ASSERT_TRUE(writes[i]->has_value());
    ASSERT_FALSE((*writes[i])->ok());
    expect_error((*writes[i])->error(), Errc::unavailable, Outcome::unknown);
    if (value_of("l" + std::to_string(i)).has_value()) ++applied;
  }
  EXPECT_GT(applied, 0);
  EXPECT_LT(applied, write_count);
  EXPECT_EQ(static_cast<uint64_t>(applied), etcd_.stats().leader_change_applied_count);
  ASSERT_TRUE(read->has_value());
  expect_error((*read)->error(), Errc::unavailable, Outcome::definite);
}

TEST_F(SimMetaStoreTest, requests_wait_for_the_election_after_a_leader_change) {
  MetaStoreFaults faults = quiet();
  faults.leader_change_fail_ppm = 0;
  faults.election_time = 400ms;
  etcd_.set_faults(faults);
  etcd_.leader_change();
  const Result<TxnResponse> write = txn(1, put_request("e", "v"));
  ASSERT_TRUE(write.ok());
  EXPECT_EQ(scheduler_.now(), TimePoint(400ms + 500us));
  EXPECT_EQ(etcd_.stats().election_wait_count, 1u);
}

// ---- compaction --------------------------------------------------------------------------------

TEST_F(SimMetaStoreTest, a_watch_from_a_compacted_revision_fails_with_compacted) {
  for (const char* value : {"1", "2", "3"}) ASSERT_TRUE(txn(1, put_request("w/k", value)).ok());
  ASSERT_TRUE(etcd_.compact(3).ok());
  const Result<std::unique_ptr<Watch>> gone = call(2, meta(2).watch("w/", prefix_end("w/"), 2));
  ASSERT_FALSE(gone.ok());
  expect_error(gone.error(), Errc::compacted, Outcome::definite);
  const Result<RangeResponse> old = call(2, meta(2).range(RangeRequest{"w/k", {}, 0, 2}));
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, Errc::compacted);
}

TEST_F(SimMetaStoreTest, a_stalled_watch_overtaken_by_compaction_gets_compacted) {
  Watch& w = watch(1);
  etcd_.partition(1);
  for (const char* key : {"w/1", "w/2", "w/3"}) ASSERT_TRUE(txn(2, put_request(key, "v")).ok());
  ASSERT_TRUE(etcd_.compact(etcd_.state().revision()).ok());
  etcd_.heal(1);
  // The pump had already read revision 2 when the partition stalled it; the rest is gone.
  const Result<std::vector<WatchEvent>> held = call(1, w.next());
  ASSERT_TRUE(held.ok()) << held.error().describe();
  EXPECT_EQ((*held)[0].kv.key, "w/1");
  const Result<std::vector<WatchEvent>> compacted = call(1, w.next());
  ASSERT_FALSE(compacted.ok());
  EXPECT_EQ(compacted.error().code, Errc::compacted);
  EXPECT_EQ(call(1, w.next()).error().code, Errc::compacted);  // and it stays over
  EXPECT_EQ(etcd_.stats().watch_compacted_count, 1u);
}

// ---- random timeouts, crashes, races, determinism ----------------------------------------------

TEST_F(SimMetaStoreTest, random_timeouts_are_unknown_and_applied_or_not) {
  MetaStoreFaults faults = quiet();
  faults.timeout_ppm = 1'000'000;
  etcd_.set_faults(faults);
  constexpr int write_count = 100;
  int applied = 0;
  for (int i = 0; i < write_count; ++i) {
    const std::string key = "r" + std::to_string(i);
    const Result<TxnResponse> write = txn(2, put_request(key, "v"));
    ASSERT_FALSE(write.ok());
    expect_error(write.error(), Errc::timeout, Outcome::unknown);
    if (value_of(key).has_value()) ++applied;
  }
  EXPECT_GT(applied, 0);
  EXPECT_LT(applied, write_count);
  EXPECT_EQ(static_cast<uint64_t>(applied), etcd_.stats().random_lost_reply_count);
  TxnRequest read_only;
  read_only.success.push_back(RangeRequest{"r0"});
  expect_error(txn(2, std::move(read_only)).error(), Errc::timeout, Outcome::definite);
}

TEST_F(SimMetaStoreTest, an_aimed_loss_takes_the_next_matching_txn_of_its_node_only) {
  auto creates = [](const TxnRequest& request) { return !request.compares.empty(); };
  etcd_.lose_next_txn(2, creates, scheduler_.now() + 10s, /*request_side=*/false);
  // Another node's txn and a non-matching txn of node 2 go through.
  EXPECT_TRUE(txn(1, create_request("a", "1")).ok());
  EXPECT_TRUE(txn(2, put_request("b", "1")).ok());
  // The matching one is applied, and its caller times out: outcome unknown.
  const Result<TxnResponse> lost = txn(2, create_request("c", "1"));
  ASSERT_FALSE(lost.ok());
  expect_error(lost.error(), Errc::timeout, Outcome::unknown);
  EXPECT_EQ(value_of("c"), "1");
  // One aim, one loss.
  EXPECT_TRUE(txn(2, create_request("d", "1")).ok());
  EXPECT_EQ(etcd_.stats().aimed_loss_count, 1u);
  // Request side: never applied.
  etcd_.lose_next_txn(2, creates, scheduler_.now() + 10s, /*request_side=*/true);
  const Result<TxnResponse> dropped = txn(2, create_request("e", "1"));
  ASSERT_FALSE(dropped.ok());
  expect_error(dropped.error(), Errc::timeout, Outcome::unknown);
  EXPECT_EQ(value_of("e"), std::nullopt);
  // An aim whose window closed before a matching txn came takes nothing.
  etcd_.lose_next_txn(2, creates, scheduler_.now() + 1ms, /*request_side=*/false);
  run_for(10ms);
  EXPECT_TRUE(txn(2, create_request("f", "1")).ok());
  EXPECT_EQ(etcd_.stats().aimed_loss_count, 2u);
}

TEST_F(SimMetaStoreTest, a_crashed_nodes_txn_on_the_wire_applies_but_never_completes) {
  Slot<Result<TxnResponse>> slot = start(runtime(1), meta(1).txn(put_request("orphan", "v")));
  scheduler_.run_until(TimePoint(250us));
  runtime(1).crash();
  runtime(1).restart();
  run_for(5s);
  EXPECT_EQ(value_of("orphan"), "v");
  EXPECT_FALSE(slot->has_value());
  EXPECT_EQ(etcd_.stats().reply_to_gone_node_count, 1u);
}

TEST_F(SimMetaStoreTest, create_if_absent_race_between_nodes_has_exactly_one_winner) {
  MetaStoreFaults faults = quiet();
  faults.latency.tail_mean = 3ms;
  etcd_.set_faults(faults);
  std::set<NodeIndex> winners_seen;
  for (int round = 0; round < 20; ++round) {
    const std::string key = "fence/" + std::to_string(round);
    std::vector<Slot<Result<TxnResponse>>> slots;
    for (NodeIndex node = 1; node <= node_count; ++node) {
      slots.push_back(start(runtime(node), meta(node).txn(create_request(key,
                                                                         std::to_string(node)))));
    }
    run_for(1s);
    int winners = 0;
    for (NodeIndex node = 1; node <= node_count; ++node) {
      ASSERT_TRUE(slots[node - 1]->has_value());
      const Result<TxnResponse>& result = **slots[node - 1];
      ASSERT_TRUE(result.ok()) << result.error().describe();
      if (!result->succeeded) continue;
      ++winners;
      winners_seen.insert(node);
      EXPECT_EQ(value_of(key), std::to_string(node));
    }
    EXPECT_EQ(winners, 1);
  }
  EXPECT_GT(winners_seen.size(), 1u);
}

struct RunSummary {
  TraceHash hash;
  int64_t revision = 0;
  std::vector<std::string> results;
};

RunSummary run_faulty_workload(uint64_t seed) {
  Trace trace;
  Scheduler scheduler(trace);
  RandomStreams streams(seed);
  MetaStoreFaults faults = quiet();
  faults.latency.tail_mean = 2ms;
  faults.latency.spike_ppm = 50'000;
  faults.timeout_ppm = 100'000;
  SimMetaStore etcd(scheduler, streams, trace, faults);
  std::vector<std::unique_ptr<NodeRuntime>> runtimes;
  std::vector<std::unique_ptr<MetaStore>> views;
  std::vector<Slot<Result<TxnResponse>>> slots;
  for (NodeIndex node = 1; node <= 3; ++node) {
    runtimes.push_back(std::make_unique<NodeRuntime>(scheduler, node));
    views.push_back(etcd.client(node, *runtimes.back()));
  }
  for (int i = 0; i < 40; ++i) {
    const NodeIndex node = 1 + i % 3;
    slots.push_back(start(*runtimes[node - 1],
                          views[node - 1]->txn(create_request("k" + std::to_string(i % 9),
                                                              std::to_string(node)))));
  }
  scheduler.schedule_at(TimePoint(1ms), world_owner, "test.partition", [&] { etcd.partition(2); });
  scheduler.schedule_at(TimePoint(2ms), world_owner, "test.leader", [&] { etcd.leader_change(); });
  scheduler.run_until(TimePoint(30s));
  RunSummary summary;
  for (const auto& slot : slots) {
    summary.results.push_back(!slot->has_value() ? "pending"
                              : (*slot)->ok()    ? ((**slot)->succeeded ? "won" : "lost")
                                                 : (*slot)->error().describe());
  }
  summary.revision = etcd.state().revision();
  summary.hash = trace.hash();
  for (auto& runtime : runtimes) runtime->crash();
  views.clear();
  return summary;
}

TEST(sim_meta_store, same_seed_gives_the_same_trace_and_results) {
  const RunSummary a = run_faulty_workload(5);
  const RunSummary b = run_faulty_workload(5);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.results, b.results);
  EXPECT_EQ(a.revision, b.revision);
  EXPECT_NE(a.hash, run_faulty_workload(6).hash);
}

}  // namespace
}  // namespace wal::sim
