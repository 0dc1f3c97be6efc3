// The simulated network: request/reply, drops, duplicates, partitions, crashes, latency.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/sim_network.h"
#include "sim/trace.h"
#include "wal/async/sleep.h"

using namespace std::chrono_literals;

namespace wal::sim {
namespace {

TimePoint at(Duration since_start) { return TimePoint(since_start); }

// Three nodes "n1".."n3" whose handlers answer "<node>:<body>" after `handler_delay`, and count
// how often they ran.
class SimNetworkTest : public ::testing::Test {
 protected:
  static constexpr NodeIndex node_count = 3;

  SimNetworkTest() : streams_(1234), hub_(scheduler_, streams_, trace_, quiet_config()) {
    for (NodeIndex node = 1; node <= node_count; ++node) {
      runtimes_.push_back(std::make_unique<NodeRuntime>(scheduler_, node));
      endpoints_.push_back(hub_.endpoint(node, name(node), runtime(node)));
      serve(node);
    }
  }
  ~SimNetworkTest() override {
    endpoints_.clear();  // before the hub
    runtimes_.clear();
  }

  static SimNetworkConfig quiet_config() {
    SimNetworkConfig config;
    config.latency_base = 1ms;
    config.latency_tail_mean = 0ms;
    return config;
  }
  static NodeId name(NodeIndex node) { return "n" + std::to_string(node); }
  NodeRuntime& runtime(NodeIndex node) { return *runtimes_[node - 1]; }
  Network& net(NodeIndex node) { return *endpoints_[node - 1]; }

  void serve(NodeIndex node) {
    net(node).serve([this, node](RpcRequest request) -> Task<Result<Bytes>> {
      ++handler_runs_[node];
      if (handler_delay_ > Duration::zero()) co_await sleep_for(runtime(node), handler_delay_);
      ++handler_done_[node];
      co_return to_bytes(name(node) + ":" + request.method + ":" + to_string(request.body));
    });
  }

  // Starts a call from `from` now; the result lands in the returned slot.
  std::shared_ptr<std::optional<Result<Bytes>>> start_call(NodeIndex from, NodeId target,
                                                           std::string body,
                                                           Duration timeout = 100ms) {
    auto slot = std::make_shared<std::optional<Result<Bytes>>>();
    const TimePoint deadline = scheduler_.now() + timeout;
    runtime(from).spawn([](Network& network, NodeId to, std::string text, TimePoint until,
                           std::shared_ptr<std::optional<Result<Bytes>>> out) -> Task<void> {
      out->emplace(co_await network.call(to, "echo", to_bytes(text), until));
    }(net(from), std::move(target), std::move(body), deadline, slot));
    return slot;
  }
  Result<Bytes> call(NodeIndex from, NodeId target, std::string body, Duration timeout = 100ms) {
    auto slot = start_call(from, std::move(target), std::move(body), timeout);
    const RunReport report =
        scheduler_.run_while([&] { return !slot->has_value(); }, scheduler_.now() + 10s);
    EXPECT_EQ(report.reason, StopReason::predicate_false);
    EXPECT_TRUE(slot->has_value());
    if (!slot->has_value()) return make_error(Errc::cancelled, "test: call never finished");
    return std::move(**slot);
  }

  Trace trace_;
  Scheduler scheduler_{trace_};
  RandomStreams streams_;
  SimNetwork hub_;
  std::vector<std::unique_ptr<NodeRuntime>> runtimes_;
  std::vector<std::unique_ptr<Network>> endpoints_;
  std::map<NodeIndex, int> handler_runs_;
  std::map<NodeIndex, int> handler_done_;
  Duration handler_delay_ = Duration::zero();
};

void expect_timeout_unknown(const Result<Bytes>& result) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::timeout);
  EXPECT_EQ(result.error().outcome, Outcome::unknown);
}

TEST_F(SimNetworkTest, request_reaches_handler_and_reply_comes_back) {
  const Result<Bytes> reply = call(1, "n2", "hello");
  ASSERT_TRUE(reply.ok()) << reply.error().describe();
  EXPECT_EQ(to_string(reply.value()), "n2:echo:hello");
  EXPECT_EQ(handler_runs_[2], 1);
  // Two one-way trips of exactly 1 ms (no tail), plus zero-time scheduling.
  EXPECT_EQ(scheduler_.now(), at(2ms));
  EXPECT_EQ(hub_.stats().delivered_count, 2u);
}

TEST_F(SimNetworkTest, unknown_target_is_unavailable_and_definite_at_once) {
  const Result<Bytes> reply = call(1, "nobody", "x");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, Errc::unavailable);
  EXPECT_EQ(reply.error().outcome, Outcome::definite);
  EXPECT_EQ(scheduler_.now(), at(0ms));
  EXPECT_EQ(hub_.stats().sent_count, 0u);
}

TEST_F(SimNetworkTest, dropped_requests_time_out_with_unknown_outcome_at_the_deadline) {
  SimNetworkConfig config = quiet_config();
  config.drop_ppm = 1'000'000;
  hub_.set_config(config);
  const Result<Bytes> reply = call(1, "n2", "x", 30ms);
  expect_timeout_unknown(reply);
  EXPECT_EQ(scheduler_.now(), at(30ms));
  EXPECT_EQ(handler_runs_[2], 0);
  EXPECT_EQ(hub_.stats().dropped_count, 1u);
}

TEST_F(SimNetworkTest, duplicated_request_runs_the_handler_twice_and_caller_gets_one_reply) {
  SimNetworkConfig config = quiet_config();
  config.duplicate_ppm = 1'000'000;
  hub_.set_config(config);
  const Result<Bytes> reply = call(1, "n2", "dup");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(to_string(reply.value()), "n2:echo:dup");
  scheduler_.run_until(scheduler_.now() + 50ms);  // let the other copies land
  EXPECT_EQ(handler_runs_[2], 2);
  // Request twice, and each of the two replies twice.
  EXPECT_EQ(hub_.stats().duplicated_count, 3u);
  EXPECT_EQ(hub_.stats().delivered_count, 6u);
}

TEST_F(SimNetworkTest, symmetric_partition_blocks_both_directions_only_between_the_sides) {
  hub_.partition({1}, {2}, PartitionMode::symmetric);
  EXPECT_TRUE(hub_.blocked(1, 2));
  EXPECT_TRUE(hub_.blocked(2, 1));
  expect_timeout_unknown(call(1, "n2", "a", 20ms));
  expect_timeout_unknown(call(2, "n1", "b", 20ms));
  EXPECT_EQ(handler_runs_[1] + handler_runs_[2], 0);
  EXPECT_TRUE(call(1, "n3", "c").ok());
  EXPECT_TRUE(call(3, "n2", "d").ok());
}

TEST_F(SimNetworkTest, one_way_partition_cuts_only_one_direction) {
  hub_.partition({1}, {2}, PartitionMode::one_way);
  EXPECT_TRUE(hub_.blocked(1, 2));
  EXPECT_FALSE(hub_.blocked(2, 1));
  // 1 -> 2: the request is cut; the handler never runs.
  expect_timeout_unknown(call(1, "n2", "a", 20ms));
  EXPECT_EQ(handler_runs_[2], 0);
  // 2 -> 1: the request arrives and the handler runs, but its reply (1 -> 2) is cut. This is
  // why a timeout's outcome is unknown.
  expect_timeout_unknown(call(2, "n1", "b", 20ms));
  EXPECT_EQ(handler_runs_[1], 1);
}

TEST_F(SimNetworkTest, heal_restores_delivery) {
  hub_.partition({1, 3}, {2}, PartitionMode::symmetric);
  hub_.isolate(3);
  expect_timeout_unknown(call(1, "n2", "a", 20ms));
  hub_.heal();
  EXPECT_FALSE(hub_.blocked(1, 2));
  EXPECT_FALSE(hub_.blocked(3, 1));
  EXPECT_TRUE(call(1, "n2", "b").ok());
  EXPECT_TRUE(call(3, "n1", "c").ok());
}

TEST_F(SimNetworkTest, isolated_node_reaches_nobody_but_itself) {
  hub_.isolate(2);
  expect_timeout_unknown(call(2, "n1", "a", 20ms));
  expect_timeout_unknown(call(3, "n2", "b", 20ms));
  EXPECT_TRUE(call(2, "n2", "self").ok());
  EXPECT_TRUE(call(1, "n3", "c").ok());
}

TEST_F(SimNetworkTest, partition_cuts_messages_already_in_flight) {
  auto slot = start_call(1, "n2", "x", 20ms);
  scheduler_.schedule_at(at(500us), world_owner, "test.partition",
                         [&] { hub_.partition({1}, {2}, PartitionMode::symmetric); });
  scheduler_.run_until(at(30ms));
  ASSERT_TRUE(slot->has_value());
  expect_timeout_unknown(**slot);
  EXPECT_EQ(handler_runs_[2], 0);
}

TEST_F(SimNetworkTest, crashed_target_drops_requests_and_restarted_target_refuses_until_serving) {
  runtime(2).crash();
  expect_timeout_unknown(call(1, "n2", "a", 20ms));
  EXPECT_EQ(handler_runs_[2], 0);
  runtime(2).restart();
  // Up, but the rebuilt node has not called serve(): refused, definitely not run.
  const Result<Bytes> refused = call(1, "n2", "b");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::unavailable);
  EXPECT_EQ(refused.error().outcome, Outcome::definite);
  EXPECT_EQ(handler_runs_[2], 0);
  serve(2);
  EXPECT_TRUE(call(1, "n2", "c").ok());
  EXPECT_EQ(handler_runs_[2], 1);
}

TEST_F(SimNetworkTest, target_crash_mid_handler_sends_no_reply) {
  handler_delay_ = 10ms;
  auto slot = start_call(1, "n2", "x", 50ms);
  scheduler_.schedule_at(at(5ms), world_owner, "test.crash", [&] { runtime(2).crash(); });
  scheduler_.run_until(at(60ms));
  ASSERT_TRUE(slot->has_value());
  expect_timeout_unknown(**slot);
  EXPECT_EQ(handler_runs_[2], 1);
  EXPECT_EQ(handler_done_[2], 0);
}

TEST_F(SimNetworkTest, reply_to_a_crashed_caller_is_dropped) {
  handler_delay_ = 10ms;
  auto slot = start_call(1, "n2", "x", 50ms);
  scheduler_.schedule_at(at(5ms), world_owner, "test.crash", [&] { runtime(1).crash(); });
  scheduler_.run_until(at(60ms));
  EXPECT_FALSE(slot->has_value());  // the caller's frame died with it
  EXPECT_EQ(handler_done_[2], 1);
  EXPECT_EQ(hub_.stats().dropped_count, 1u);  // the reply
}

TEST_F(SimNetworkTest, independent_delays_reorder_messages) {
  SimNetworkConfig config = quiet_config();
  config.latency_tail_mean = 500us;
  hub_.set_config(config);
  std::vector<int> arrival_order;
  net(2).serve([&](RpcRequest request) -> Task<Result<Bytes>> {
    arrival_order.push_back(std::stoi(to_string(request.body)));
    co_return Bytes{};
  });
  constexpr int message_count = 50;
  for (int i = 0; i < message_count; ++i) start_call(1, "n2", std::to_string(i));
  scheduler_.run_until(at(200ms));
  ASSERT_EQ(arrival_order.size(), size_t{message_count});
  EXPECT_FALSE(std::is_sorted(arrival_order.begin(), arrival_order.end()));
}

TEST(exponential_ns, has_the_requested_mean_and_a_bounded_tail) {
  Xoshiro256 random(99);
  constexpr uint64_t mean_ns = 1'000'000;
  constexpr int draw_count = 200'000;
  uint64_t total_ns = 0;
  uint64_t largest_ns = 0;
  int above_mean = 0;
  for (int i = 0; i < draw_count; ++i) {
    const uint64_t sample = exponential_ns(random.next_u64(), mean_ns);
    total_ns += sample;
    largest_ns = std::max(largest_ns, sample);
    if (sample > mean_ns) ++above_mean;
  }
  const uint64_t average_ns = total_ns / draw_count;
  EXPECT_GT(average_ns, mean_ns * 97 / 100);
  EXPECT_LT(average_ns, mean_ns * 103 / 100);
  // Exponential: P(X > mean) = 1/e ~ 36.8%.
  EXPECT_GT(above_mean, draw_count * 35 / 100);
  EXPECT_LT(above_mean, draw_count * 39 / 100);
  EXPECT_LE(largest_ns, mean_ns * 23);  // -ln(2^-32) ~ 22.2
  EXPECT_EQ(exponential_ns(~uint64_t{0}, mean_ns), 0u);
}

}  // namespace
}  // namespace wal::sim
