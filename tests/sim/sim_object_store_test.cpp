// The simulated S3: round trips, each fault kind with its documented error and outcome, crashes,
// races, and determinism.
#include <gtest/gtest.h>

#include <bit>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/sim_object_store.h"
#include "sim/trace.h"

using namespace std::chrono_literals;

namespace wal::sim {
namespace {

template <typename T>
using Slot = std::shared_ptr<std::optional<T>>;

// Runs `task` on `runtime`; its result lands in the returned slot when it completes.
template <typename T>
Slot<T> start(NodeRuntime& runtime, Task<T> task) {
  auto slot = std::make_shared<std::optional<T>>();
  runtime.spawn([](Task<T> inner, Slot<T> out) -> Task<void> {
    out->emplace(co_await std::move(inner));
  }(std::move(task), slot));
  return slot;
}

ObjectStoreFaults quiet() {
  ObjectStoreFaults faults;
  faults.latency.base = 2ms;
  faults.request_timeout = 1s;
  return faults;
}

class SimObjectStoreTest : public ::testing::Test {
 protected:
  static constexpr NodeIndex node_count = 3;

  explicit SimObjectStoreTest(uint64_t seed = 77) : streams_(seed), s3_(scheduler_, streams_,
                                                                        trace_, quiet()) {
    for (NodeIndex node = 1; node <= node_count; ++node) {
      runtimes_.push_back(std::make_unique<NodeRuntime>(scheduler_, node));
      views_.push_back(s3_.client(node, runtime(node)));
    }
  }
  ~SimObjectStoreTest() override {
    for (auto& runtime : runtimes_) {
      if (runtime->alive()) runtime->crash();  // node frames die before the service
    }
    views_.clear();
  }

  NodeRuntime& runtime(NodeIndex node) { return *runtimes_[node - 1]; }
  ObjectStore& store(NodeIndex node) { return *views_[node - 1]; }

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
  void run_all(Duration budget = 60s) { scheduler_.run_until(scheduler_.now() + budget); }

  Result<ObjectInfo> put(NodeIndex node, std::string key, std::string body,
                         PutCondition condition = PutCondition::none()) {
    return call(node, store(node).put(std::move(key), to_bytes(body), std::move(condition)));
  }
  std::optional<std::string> stored(const std::string& key) const {
    const std::optional<ObjectData> object = s3_.state().find(key);
    if (!object) return std::nullopt;
    return to_string(object->body);
  }

  Trace trace_;
  Scheduler scheduler_{trace_};
  RandomStreams streams_;
  SimObjectStore s3_;
  std::vector<std::unique_ptr<NodeRuntime>> runtimes_;
  std::vector<std::unique_ptr<ObjectStore>> views_;
};

void expect_error(const Error& error, Errc code, Outcome outcome) {
  EXPECT_EQ(error.code, code) << error.describe();
  EXPECT_EQ(error.outcome, outcome) << error.describe();
}

// ---- faults off --------------------------------------------------------------------------------

TEST_F(SimObjectStoreTest, calls_round_trip_in_one_drawn_latency_with_faults_off) {
  const Result<ObjectInfo> stored_info = put(1, "logs/a", "alpha");
  ASSERT_TRUE(stored_info.ok()) << stored_info.error().describe();
  EXPECT_EQ(scheduler_.now(), TimePoint(2ms));  // one 2 ms round trip, no tail
  EXPECT_EQ(stored_info->size_bytes, 5u);
  const Result<ObjectData> data = call(2, store(2).get("logs/a", std::nullopt));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(to_string(data->body), "alpha");
  EXPECT_EQ(data->info.etag, stored_info->etag);
  const Result<ObjectInfo> head = call(3, store(3).head("logs/a"));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->etag, stored_info->etag);
  const Result<ListPage> page = call(1, store(1).list("logs/", "", 10));
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "logs/a");
  ASSERT_TRUE(call(1, store(1).remove("logs/a")).ok());
  EXPECT_FALSE(stored("logs/a").has_value());
  EXPECT_EQ(call(2, store(2).get("logs/a", std::nullopt)).error().code, Errc::not_found);
  EXPECT_EQ(scheduler_.now(), TimePoint(12ms));
  EXPECT_EQ(s3_.stats().of(ObjectOp::put).sent_count, 1u);
  EXPECT_EQ(s3_.stats().of(ObjectOp::get).replied_count, 2u);
  EXPECT_EQ(s3_.stats().of(ObjectOp::remove).applied_count, 1u);
  EXPECT_EQ(s3_.stats().timeout_count, 0u);
  EXPECT_EQ(s3_.in_flight_count(), 0u);
}

TEST_F(SimObjectStoreTest, request_is_applied_halfway_through_the_round_trip) {
  Slot<Result<ObjectInfo>> slot = start(runtime(1), store(1).put("k", to_bytes("v"),
                                                                  PutCondition::none()));
  scheduler_.run_until(TimePoint(1ms) - 1ns);
  EXPECT_FALSE(stored("k").has_value());
  scheduler_.run_until(TimePoint(1ms));
  EXPECT_EQ(stored("k"), "v");  // at the server, the caller does not know yet
  EXPECT_FALSE(slot->has_value());
  run_until_done(slot);
  EXPECT_EQ(scheduler_.now(), TimePoint(2ms));
}

// ---- injected errors ---------------------------------------------------------------------------

TEST_F(SimObjectStoreTest, slow_down_is_definite_quick_and_never_applied) {
  ObjectStoreFaults faults = quiet();
  faults.latency.tail_mean = 50ms;  // a refusal does not wait for the tail
  faults.slow_down_ppm = 1'000'000;
  s3_.set_faults(faults);
  const Result<ObjectInfo> stored_info = put(1, "k", "v");
  ASSERT_FALSE(stored_info.ok());
  expect_error(stored_info.error(), Errc::unavailable, Outcome::definite);
  EXPECT_EQ(scheduler_.now(), TimePoint(2ms));
  run_all();
  EXPECT_FALSE(stored("k").has_value());
  EXPECT_EQ(s3_.stats().slow_down_count, 1u);
  EXPECT_EQ(s3_.stats().of(ObjectOp::put).applied_count, 0u);
}

TEST_F(SimObjectStoreTest, internal_error_on_a_mutation_is_unknown_and_applied_or_not) {
  ObjectStoreFaults faults = quiet();
  faults.internal_error_ppm = 1'000'000;
  s3_.set_faults(faults);
  constexpr int put_count = 200;
  int applied = 0;
  for (int i = 0; i < put_count; ++i) {
    const std::string key = "k" + std::to_string(i);
    const Result<ObjectInfo> result = put(1 + i % 3, key, "v");
    ASSERT_FALSE(result.ok());
    expect_error(result.error(), Errc::unavailable, Outcome::unknown);
    if (stored(key).has_value()) ++applied;
  }
  EXPECT_GT(applied, 0);  // both outcomes happen: "unknown" is not a figure of speech
  EXPECT_LT(applied, put_count);
  EXPECT_EQ(static_cast<uint64_t>(applied), s3_.stats().internal_error_applied_count);
  EXPECT_EQ(s3_.stats().internal_error_count, static_cast<uint64_t>(put_count));
}

TEST_F(SimObjectStoreTest, internal_error_on_a_read_is_definite) {
  ASSERT_TRUE(put(1, "k", "v").ok());
  ObjectStoreFaults faults = quiet();
  faults.internal_error_ppm = 1'000'000;
  s3_.set_faults(faults);
  const Result<ObjectData> data = call(1, store(1).get("k", std::nullopt));
  ASSERT_FALSE(data.ok());
  expect_error(data.error(), Errc::unavailable, Outcome::definite);
  const Result<ListPage> page = call(2, store(2).list("", "", 5));
  ASSERT_FALSE(page.ok());
  expect_error(page.error(), Errc::unavailable, Outcome::definite);
}

TEST_F(SimObjectStoreTest, lost_requests_and_replies_time_out_unknown_with_either_outcome) {
  ObjectStoreFaults faults = quiet();
  faults.request_loss_ppm = 500'000;
  faults.reply_loss_ppm = 500'000;
  s3_.set_faults(faults);
  constexpr int put_count = 100;
  int applied = 0;
  for (int i = 0; i < put_count; ++i) {
    const std::string key = "t" + std::to_string(i);
    const TimePoint sent = scheduler_.now();
    const Result<ObjectInfo> result = put(2, key, "v");
    ASSERT_FALSE(result.ok());
    expect_error(result.error(), Errc::timeout, Outcome::unknown);
    EXPECT_EQ(scheduler_.now() - sent, Duration(1s));  // at the deadline, not before
    if (stored(key).has_value()) ++applied;
  }
  EXPECT_GT(applied, 0);
  EXPECT_LT(applied, put_count);
  EXPECT_EQ(static_cast<uint64_t>(applied), s3_.stats().reply_lost_count);
  EXPECT_EQ(static_cast<uint64_t>(put_count - applied), s3_.stats().request_lost_count);
  EXPECT_EQ(s3_.stats().timeout_count, static_cast<uint64_t>(put_count));
}

TEST_F(SimObjectStoreTest, a_read_that_times_out_is_definite) {
  ObjectStoreFaults faults = quiet();
  faults.request_loss_ppm = 1'000'000;
  s3_.set_faults(faults);
  const Result<ObjectInfo> head = call(1, store(1).head("k"));
  ASSERT_FALSE(head.ok());
  expect_error(head.error(), Errc::timeout, Outcome::definite);
  const Status removed = call(1, store(1).remove("k"));
  ASSERT_FALSE(removed.ok());
  expect_error(removed.error(), Errc::timeout, Outcome::unknown);
}

TEST_F(SimObjectStoreTest, a_reply_slower_than_the_deadline_is_a_timeout_of_an_applied_put) {
  ObjectStoreFaults faults = quiet();
  faults.latency.spike_ppm = 1'000'000;
  faults.latency.spike_min = 3s;  // past the 1 s deadline
  faults.latency.spike_max = 3s;
  s3_.set_faults(faults);
  const Result<ObjectInfo> result = put(1, "slow", "v");
  ASSERT_FALSE(result.ok());
  expect_error(result.error(), Errc::timeout, Outcome::unknown);
  EXPECT_EQ(scheduler_.now(), TimePoint(1s));
  EXPECT_FALSE(stored("slow").has_value());  // still on its way
  run_all();
  EXPECT_EQ(stored("slow"), "v");
  EXPECT_EQ(s3_.stats().late_reply_count, 1u);
  EXPECT_EQ(s3_.stats().spike_count, 1u);
}

TEST_F(SimObjectStoreTest, get_corruption_flips_one_bit_of_the_copy_never_of_the_object) {
  const std::string body(64, 'x');
  ASSERT_TRUE(put(1, "block", body).ok());
  ObjectStoreFaults faults = quiet();
  faults.get_corruption_ppm = 1'000'000;
  s3_.set_faults(faults);
  for (int i = 0; i < 20; ++i) {
    const Result<ObjectData> data = call(2, store(2).get("block", std::nullopt));
    ASSERT_TRUE(data.ok());  // corruption is silent: the reader's checksum must catch it
    ASSERT_EQ(data->body.size(), body.size());
    int flipped_bits = 0;
    for (size_t b = 0; b < body.size(); ++b) {
      const auto got = static_cast<uint8_t>(data->body[b]);
      flipped_bits += std::popcount(static_cast<uint8_t>(got ^ static_cast<uint8_t>(body[b])));
    }
    EXPECT_EQ(flipped_bits, 1);
  }
  EXPECT_EQ(stored("block"), body);
  EXPECT_EQ(s3_.stats().corrupted_get_count, 20u);
  // An empty object has no bit to flip.
  ASSERT_TRUE(put(1, "empty", "").ok());
  const Result<ObjectData> empty = call(2, store(2).get("empty", std::nullopt));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->body.empty());
}

TEST_F(SimObjectStoreTest, outage_refuses_quickly_and_definitely_including_requests_in_flight) {
  Slot<Result<ObjectInfo>> in_flight = start(runtime(1), store(1).put("early", to_bytes("v"),
                                                                       PutCondition::none()));
  scheduler_.run_until(TimePoint(500us));  // sent, not arrived
  s3_.set_available(false);
  run_until_done(in_flight);
  ASSERT_FALSE((*in_flight)->ok());
  expect_error((*in_flight)->error(), Errc::unavailable, Outcome::definite);
  const TimePoint before = scheduler_.now();
  const Result<ObjectInfo> refused = put(2, "late", "v");
  ASSERT_FALSE(refused.ok());
  expect_error(refused.error(), Errc::unavailable, Outcome::definite);
  EXPECT_EQ(scheduler_.now() - before, Duration(2ms));
  run_all();
  EXPECT_EQ(s3_.state().object_count(), 0u);
  EXPECT_EQ(s3_.stats().outage_refused_count, 2u);
  s3_.set_available(true);
  EXPECT_TRUE(put(2, "after", "v").ok());
}

// ---- crashes, races, determinism ---------------------------------------------------------------

TEST_F(SimObjectStoreTest, a_crashed_nodes_request_on_the_wire_applies_but_never_completes) {
  Slot<Result<ObjectInfo>> slot = start(runtime(1), store(1).put("orphan", to_bytes("v"),
                                                                  PutCondition::none()));
  scheduler_.run_until(TimePoint(500us));
  runtime(1).crash();
  runtime(1).restart();  // a new generation must not get the old call's reply either
  run_all();
  EXPECT_EQ(stored("orphan"), "v");
  EXPECT_FALSE(slot->has_value());
  EXPECT_EQ(s3_.stats().reply_to_gone_node_count, 1u);
  EXPECT_EQ(s3_.stats().timeout_count, 0u);  // its deadline timer died with it
}

TEST_F(SimObjectStoreTest, create_only_race_between_nodes_has_exactly_one_winner) {
  ObjectStoreFaults faults = quiet();
  faults.latency.tail_mean = 5ms;  // arrival order differs from send order
  s3_.set_faults(faults);
  std::set<std::string> winners_seen;
  for (int round = 0; round < 20; ++round) {
    const std::string key = "fence/" + std::to_string(round);
    std::vector<Slot<Result<ObjectInfo>>> slots;
    for (NodeIndex node = 1; node <= node_count; ++node) {
      slots.push_back(start(runtime(node), store(node).put(key, to_bytes("n" +
                                                                         std::to_string(node)),
                                                           PutCondition::create_only())));
    }
    run_all(2s);
    int winners = 0;
    std::string winner;
    for (NodeIndex node = 1; node <= node_count; ++node) {
      const Slot<Result<ObjectInfo>>& slot = slots[node - 1];
      ASSERT_TRUE(slot->has_value());
      if ((*slot)->ok()) {
        ++winners;
        winner = "n" + std::to_string(node);
      } else {
        expect_error((*slot)->error(), Errc::already_exists, Outcome::definite);
      }
    }
    EXPECT_EQ(winners, 1);
    EXPECT_EQ(stored(key), winner);
    winners_seen.insert(winner);
  }
  EXPECT_GT(winners_seen.size(), 1u);  // the winner is decided by arrival, not by node index
}

struct RunSummary {
  TraceHash hash;
  std::vector<std::string> results;
  uint64_t object_count = 0;
};

// A workload with every fault on, from three nodes at once.
RunSummary run_faulty_workload(uint64_t seed) {
  Trace trace;
  Scheduler scheduler(trace);
  RandomStreams streams(seed);
  ObjectStoreFaults faults;
  faults.latency.tail_mean = 20ms;
  faults.latency.spike_ppm = 50'000;
  faults.request_timeout = 500ms;
  faults.slow_down_ppm = 100'000;
  faults.internal_error_ppm = 100'000;
  faults.request_loss_ppm = 50'000;
  faults.reply_loss_ppm = 50'000;
  faults.get_corruption_ppm = 100'000;
  SimObjectStore s3(scheduler, streams, trace, faults);
  std::vector<std::unique_ptr<NodeRuntime>> runtimes;
  std::vector<std::unique_ptr<ObjectStore>> views;
  std::vector<Slot<Result<ObjectData>>> slots;
  for (NodeIndex node = 1; node <= 3; ++node) {
    runtimes.push_back(std::make_unique<NodeRuntime>(scheduler, node));
    views.push_back(s3.client(node, *runtimes.back()));
  }
  for (NodeIndex node = 1; node <= 3; ++node) {
    runtimes[node - 1]->spawn([](ObjectStore& store, NodeIndex self) -> Task<void> {
      for (int i = 0; i < 30; ++i) {
        const std::string key = "k" + std::to_string(i % 7);
        const Result<ObjectInfo> ignored =
            co_await store.put(key, to_bytes(std::to_string(self)), PutCondition::create_only());
        WAL_MAYBE(ignored.ok());
      }
    }(*views[node - 1], node));
    slots.push_back(start(*runtimes[node - 1], views[node - 1]->get("k1", std::nullopt)));
  }
  scheduler.run_until(TimePoint(120s));
  RunSummary summary;
  for (const auto& slot : slots) {
    summary.results.push_back(!slot->has_value()      ? "pending"
                              : (*slot)->ok()         ? to_string((**slot)->body)
                                                      : (*slot)->error().describe());
  }
  summary.object_count = s3.state().object_count();
  summary.hash = trace.hash();
  for (auto& runtime : runtimes) runtime->crash();
  views.clear();
  return summary;
}

TEST(sim_object_store, same_seed_gives_the_same_trace_and_results) {
  const RunSummary a = run_faulty_workload(9);
  const RunSummary b = run_faulty_workload(9);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.results, b.results);
  EXPECT_EQ(a.object_count, b.object_count);
  const RunSummary c = run_faulty_workload(10);
  EXPECT_NE(a.hash, c.hash);  // the seed matters
}

}  // namespace
}  // namespace wal::sim
