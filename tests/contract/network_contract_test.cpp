// The Network contract (wal/env/network.h), run against every implementation: MemNetwork on a
// ManualLoop, and GrpcNetwork (real gRPC on loopback ports) on the production EventLoop.
// MemNetwork's own knobs (partitions, latency, crashes) are tested at the end of the file.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/contract/contract_support.h"
#include "wal/async/completion.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"
#include "wal/env/network.h"
#include "wal/mem/mem_network.h"
#include "wal/real/grpc_network.h"

using namespace std::chrono_literals;

namespace wal::contract {
namespace {

// An implementation under test: a harness and a way to bring up a node's endpoint.
class NetworkWorld {
 public:
  virtual ~NetworkWorld() = default;
  virtual Harness& harness() = 0;
  virtual std::unique_ptr<Network> endpoint(const NodeId& node) = 0;
};

struct NetworkFactory {
  std::string name;
  std::function<std::unique_ptr<NetworkWorld>()> make;
};

class MemNetworkWorld final : public NetworkWorld {
 public:
  Harness& harness() override { return harness_; }
  std::unique_ptr<Network> endpoint(const NodeId& node) override { return hub_.endpoint(node); }

 private:
  ManualHarness harness_;
  MemNetworkHub hub_{harness_.executor(), harness_.clock()};
};

// Real gRPC servers on 127.0.0.1, one per endpoint, found through a shared directory.
class GrpcNetworkWorld final : public NetworkWorld {
 public:
  Harness& harness() override { return harness_; }
  std::unique_ptr<Network> endpoint(const NodeId& node) override {
    auto started = GrpcNetwork::start(harness_.loop(), harness_.loop(), node, directory_);
    WAL_ASSERT(started.ok());
    return std::move(started).value();
  }

 private:
  RealHarness harness_;
  std::shared_ptr<GrpcDirectory> directory_ = std::make_shared<GrpcDirectory>();
};

std::vector<NetworkFactory> network_factories() {
  return {{"mem", [] { return std::make_unique<MemNetworkWorld>(); }},
          {"grpc", [] { return std::make_unique<GrpcNetworkWorld>(); }}};
}

// Replies "<method>:<body>"; sleeps first for the number of milliseconds in a "sleep_ms" body.
RpcHandler echo_handler(Clock& clock, std::vector<RpcRequest>* seen = nullptr) {
  return [&clock, seen](RpcRequest request) -> Task<Result<Bytes>> {
    if (seen != nullptr) seen->push_back(request);
    if (request.method == "sleep_ms") {
      co_await sleep_for(clock, std::chrono::milliseconds(std::stoll(to_string(request.body))));
    }
    co_return to_bytes(request.method + ":" + to_string(request.body));
  };
}

class NetworkContract : public ::testing::TestWithParam<NetworkFactory> {
 protected:
  void SetUp() override { world_ = GetParam().make(); }
  Harness& harness() { return world_->harness(); }
  Clock& clock() { return world_->harness().clock(); }
  std::unique_ptr<Network> endpoint(const NodeId& node) { return world_->endpoint(node); }
  Result<Bytes> call(Network& from, const NodeId& to, const std::string& method,
                     const std::string& body, Duration timeout = 1s) {
    return harness().run(from.call(to, method, to_bytes(body), clock().now() + timeout));
  }

 private:
  std::unique_ptr<NetworkWorld> world_;
};

TEST_P(NetworkContract, request_reaches_the_handler_and_its_reply_returns) {
  auto server = endpoint("server");
  auto client = endpoint("client");
  EXPECT_EQ(server->self(), "server");
  std::vector<RpcRequest> seen;
  server->serve(echo_handler(clock(), &seen));
  Result<Bytes> reply = call(*client, "server", "ping", "hello");
  ASSERT_TRUE(reply.ok()) << reply.error().describe();
  EXPECT_EQ(to_string(*reply), "ping:hello");
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].from, "client");
  EXPECT_EQ(seen[0].method, "ping");
  EXPECT_EQ(to_string(seen[0].body), "hello");
}

TEST_P(NetworkContract, handler_error_propagates_with_its_outcome) {
  auto server = endpoint("server");
  auto client = endpoint("client");
  server->serve([](RpcRequest request) -> Task<Result<Bytes>> {
    if (request.method == "definite") co_return make_error(Errc::protocol, "malformed");
    co_return make_unknown(Errc::io_error, "may have applied");
  });
  Result<Bytes> definite = call(*client, "server", "definite", "");
  ASSERT_FALSE(definite.ok());
  EXPECT_EQ(definite.error().code, Errc::protocol);
  EXPECT_FALSE(definite.error().unknown());
  Result<Bytes> unknown = call(*client, "server", "unknown", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, Errc::io_error);
  EXPECT_TRUE(unknown.error().unknown());
}

TEST_P(NetworkContract, unknown_node_is_unavailable_and_definite) {
  auto client = endpoint("client");
  Result<Bytes> reply = call(*client, "nobody", "ping", "");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, Errc::unavailable);
  EXPECT_FALSE(reply.error().unknown());
}

TEST_P(NetworkContract, node_without_handler_is_unavailable) {
  auto server = endpoint("server");
  auto client = endpoint("client");
  Result<Bytes> reply = call(*client, "server", "ping", "");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, Errc::unavailable);
  EXPECT_FALSE(reply.error().unknown());
}

TEST_P(NetworkContract, no_reply_by_the_deadline_is_timeout_with_unknown_outcome) {
  auto server = endpoint("server");
  auto client = endpoint("client");
  std::vector<RpcRequest> seen;
  server->serve(echo_handler(clock(), &seen));
  const TimePoint start = clock().now();
  Result<Bytes> reply = call(*client, "server", "sleep_ms", "3600000", 200ms);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, Errc::timeout);
  EXPECT_TRUE(reply.error().unknown());
  EXPECT_GE(clock().now() - start, 200ms);
  EXPECT_EQ(seen.size(), 1u);  // it did reach the handler: that is why the outcome is unknown
}

TEST_P(NetworkContract, late_reply_does_not_confuse_the_next_call) {
  auto server = endpoint("server");
  auto client = endpoint("client");
  server->serve(echo_handler(clock()));
  // Replies at ~2 s, after its deadline (1 s), while the next call (1 s .. 2.5 s) waits.
  Result<Bytes> late = call(*client, "server", "sleep_ms", "2000", 1s);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Errc::timeout);
  Result<Bytes> next = call(*client, "server", "sleep_ms", "1500", 5s);
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(to_string(*next), "sleep_ms:1500");
  Result<Bytes> after = call(*client, "server", "ping", "3");
  ASSERT_TRUE(after.ok()) << after.error().describe();
  EXPECT_EQ(to_string(*after), "ping:3");
}

TEST_P(NetworkContract, concurrent_calls_complete_independently) {
  auto server = endpoint("server");
  auto client = endpoint("client");
  server->serve(echo_handler(clock()));
  Scope scope(harness().executor());
  std::vector<std::string> finished;
  Completion<bool> both_done(harness().executor());
  const TimePoint deadline = clock().now() + 5s;
  auto caller = [&](std::string delay_ms) -> Task<void> {
    Result<Bytes> reply = co_await client->call("server", "sleep_ms", to_bytes(delay_ms), deadline);
    finished.push_back(reply.ok() ? to_string(*reply) : reply.error().describe());
    if (finished.size() == 2) both_done.set(true);
  };
  scope.spawn(caller("300"));
  scope.spawn(caller("100"));
  EXPECT_TRUE(harness().run([](Completion<bool> done) -> Task<bool> {
    co_return co_await done.wait();
  }(both_done)));
  EXPECT_EQ(finished, (std::vector<std::string>{"sleep_ms:100", "sleep_ms:300"}));
}

TEST_P(NetworkContract, crashed_node_is_unavailable_until_it_restarts) {
  auto server = endpoint("server");
  auto client = endpoint("client");
  server->serve(echo_handler(clock()));
  ASSERT_TRUE(call(*client, "server", "ping", "1").ok());
  server.reset();  // the node crashes
  Result<Bytes> while_down = call(*client, "server", "ping", "2");
  ASSERT_FALSE(while_down.ok());
  EXPECT_EQ(while_down.error().code, Errc::unavailable);
  server = endpoint("server");  // the node restarts with a fresh handler
  server->serve(echo_handler(clock()));
  Result<Bytes> restarted = call(*client, "server", "ping", "3");
  ASSERT_TRUE(restarted.ok()) << restarted.error().describe();
  EXPECT_EQ(to_string(*restarted), "ping:3");
}

INSTANTIATE_TEST_SUITE_P(all, NetworkContract, ::testing::ValuesIn(network_factories()),
                         [](const ::testing::TestParamInfo<NetworkFactory>& param_info) {
                           return param_info.param.name;
                         });

// ---- MemNetwork's own knobs ------------------------------------------------------------------

class MemNetworkTest : public ::testing::Test {
 protected:
  Result<Bytes> call(Network& from, const NodeId& to, const std::string& method,
                     Duration timeout = 1s) {
    return harness_.run(from.call(to, method, to_bytes("b"), harness_.clock().now() + timeout));
  }
  ManualHarness harness_;
  MemNetworkHub hub_{harness_.executor(), harness_.clock()};
};

TEST_F(MemNetworkTest, cut_link_drops_requests_until_healed) {
  auto server = hub_.endpoint("server");
  auto client = hub_.endpoint("client");
  std::vector<RpcRequest> seen;
  server->serve(echo_handler(harness_.clock(), &seen));
  hub_.set_link_up("server", "client", false);  // either order names the same link
  Result<Bytes> cut = call(*client, "server", "ping");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().code, Errc::timeout);
  EXPECT_TRUE(cut.error().unknown());
  EXPECT_TRUE(seen.empty());
  hub_.set_link_up("client", "server", true);
  EXPECT_TRUE(call(*client, "server", "ping").ok());
  EXPECT_EQ(seen.size(), 1u);
}

TEST_F(MemNetworkTest, reply_crossing_a_cut_link_is_lost_after_the_handler_ran) {
  auto server = hub_.endpoint("server");
  auto client = hub_.endpoint("client");
  int handled_count = 0;
  server->serve([&](RpcRequest) -> Task<Result<Bytes>> {
    ++handled_count;
    hub_.set_link_up("client", "server", false);  // the partition starts mid-request
    co_return to_bytes("applied");
  });
  Result<Bytes> reply = call(*client, "server", "write");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, Errc::timeout);
  EXPECT_TRUE(reply.error().unknown());
  EXPECT_EQ(handled_count, 1);
}

TEST_F(MemNetworkTest, latency_delays_request_and_reply) {
  auto server = hub_.endpoint("server");
  auto client = hub_.endpoint("client");
  server->serve(echo_handler(harness_.clock()));
  hub_.set_latency(5ms);
  const TimePoint start = harness_.clock().now();
  ASSERT_TRUE(call(*client, "server", "ping").ok());
  EXPECT_EQ(harness_.clock().now() - start, 10ms);  // one hop each way
  EXPECT_FALSE(call(*client, "server", "ping", 9ms).ok());
}

TEST_F(MemNetworkTest, crash_destroys_running_handlers_and_the_caller_times_out) {
  auto server = hub_.endpoint("server");
  auto client = hub_.endpoint("client");
  struct SetOnDestroy {
    bool* flag;
    ~SetOnDestroy() { *flag = true; }
  };
  bool handler_started = false;
  bool handler_destroyed = false;
  server->serve([&](RpcRequest) -> Task<Result<Bytes>> {
    SetOnDestroy guard{&handler_destroyed};
    handler_started = true;
    co_await sleep_for(harness_.clock(), 1h);
    co_return Bytes{};
  });
  Scope scope(harness_.executor());
  std::optional<Result<Bytes>> reply;
  // Named, so the coroutine's captures outlive the statement that starts it.
  auto waiter = [&]() -> Task<void> {
    reply.emplace(co_await client->call("server", "hang", {}, harness_.clock().now() + 1s));
  };
  scope.spawn(waiter());
  harness_.loop().run_for(100ms);
  ASSERT_TRUE(handler_started);
  EXPECT_FALSE(handler_destroyed);
  server.reset();  // crash while the handler runs
  EXPECT_TRUE(handler_destroyed);
  harness_.loop().run_for(2s);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->error().code, Errc::timeout);
  EXPECT_TRUE(reply->error().unknown());
}

}  // namespace
}  // namespace wal::contract
