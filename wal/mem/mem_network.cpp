#include "wal/mem/mem_network.h"

#include <functional>
#include <map>
#include <set>
#include <utility>

#include "wal/async/completion.h"
#include "wal/async/scope.h"
#include "wal/core/assert.h"

namespace wal {

namespace mem_network_detail {
class Endpoint;
}  // namespace mem_network_detail

struct MemNetworkHub::State {
  State(Executor& e, Clock& c) : executor(e), clock(c) {}
  Executor& executor;
  Clock& clock;
  Duration latency{0};
  std::map<NodeId, mem_network_detail::Endpoint*> endpoints;  // live ones, by id
  std::set<std::pair<NodeId, NodeId>> cut_links;              // (smaller, larger) id

  [[nodiscard]] bool link_up(const NodeId& a, const NodeId& b) const {
    return !cut_links.contains(a < b ? std::pair(a, b) : std::pair(b, a));
  }
  // Runs `fn` after one network hop: `latency` later, and always on a later executor turn.
  void after_hop(std::function<void()> fn) {
    if (latency == Duration::zero()) {
      executor.post(std::move(fn));
    } else {
      // Never cancelled: a message in flight arrives, or is dropped on arrival.
      clock.call_at(clock.now() + latency, std::move(fn));
    }
  }
};

namespace mem_network_detail {

using Reply = Completion<Result<Bytes>>;
using HubState = MemNetworkHub::State;

// Cancels the deadline timer when the call finishes or its frame is destroyed.
class TimerGuard {
 public:
  TimerGuard(Clock& clock, TimerId timer) : clock_(clock), timer_(timer) {}
  TimerGuard(const TimerGuard&) = delete;
  TimerGuard& operator=(const TimerGuard&) = delete;
  ~TimerGuard() { clock_.cancel(timer_); }

 private:
  Clock& clock_;
  TimerId timer_;
};

class Endpoint final : public Network {
 public:
  Endpoint(std::shared_ptr<HubState> hub, NodeId self)
      : hub_(std::move(hub)), self_(std::move(self)), scope_(hub_->executor) {
    const bool inserted = hub_->endpoints.emplace(self_, this).second;
    WAL_ASSERT(inserted);  // one live endpoint per NodeId
  }
  ~Endpoint() override {
    // Unregister first, so nothing is delivered while scope_ destroys the running handlers.
    const size_t erased = hub_->endpoints.erase(self_);
    WAL_ASSERT_EQ(erased, size_t{1});
  }
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  [[nodiscard]] const NodeId& self() const override { return self_; }
  void serve(RpcHandler handler) override { handler_ = std::move(handler); }
  Task<Result<Bytes>> call(NodeId target, std::string method, Bytes body,
                           TimePoint deadline) override;

  [[nodiscard]] bool serving() const { return static_cast<bool>(handler_); }
  // Starts the handler on a delivered request; its reply goes back to `reply`.
  void deliver(RpcRequest request, Reply reply) {
    WAL_ASSERT(serving());
    WAL_ASSERT(hub_->endpoints.contains(self_));
    scope_.spawn(handle(handler_, std::move(request), hub_, self_, std::move(reply)));
  }

 private:
  // The handler is copied into the frame: serve() may replace handler_ while this runs, and a
  // coroutine lambda's captures live in the std::function object.
  static Task<void> handle(RpcHandler handler, RpcRequest request, std::shared_ptr<HubState> hub,
                           NodeId server, Reply reply) {
    const NodeId client = request.from;
    Result<Bytes> result = co_await handler(std::move(request));
    hub->after_hop([hub, server, client, reply, result = std::move(result)]() mutable {
      if (!hub->link_up(server, client)) return;  // reply lost: the caller times out
      reply.set(std::move(result));
    });
  }

  std::shared_ptr<HubState> hub_;
  NodeId self_;
  RpcHandler handler_;
  Scope scope_;  // last: destroyed first, taking the running handlers with it
};

Task<Result<Bytes>> Endpoint::call(NodeId target, std::string method, Bytes body,
                                   TimePoint deadline) {
  std::shared_ptr<HubState> hub = hub_;  // the frame may outlive this endpoint
  const auto it = hub->endpoints.find(target);
  if (it == hub->endpoints.end()) {
    co_return make_error(Errc::unavailable, "no node " + target);
  }
  if (!it->second->serving()) {
    co_return make_error(Errc::unavailable, "node " + target + " serves no handler");
  }
  Reply reply(hub->executor);
  const TimerGuard timer(hub->clock, hub->clock.call_at(deadline, [reply, target]() mutable {
    reply.set(make_unknown(Errc::timeout, "no reply from " + target + " by the deadline"));
  }));
  RpcRequest request{self_, std::move(method), std::move(body)};
  hub->after_hop([hub, target, request = std::move(request), reply]() mutable {
    if (!hub->link_up(request.from, target)) return;  // dropped: the caller times out
    const auto found = hub->endpoints.find(target);
    if (found == hub->endpoints.end() || !found->second->serving()) return;  // crashed
    found->second->deliver(std::move(request), std::move(reply));
  });
  Result<Bytes> result = co_await reply.wait();
  co_return result;
}

}  // namespace mem_network_detail

MemNetworkHub::MemNetworkHub(Executor& executor, Clock& clock)
    : state_(std::make_shared<State>(executor, clock)) {}

MemNetworkHub::~MemNetworkHub() = default;

std::unique_ptr<Network> MemNetworkHub::endpoint(NodeId node) {
  WAL_ASSERT(!node.empty());
  WAL_ASSERT(!state_->endpoints.contains(node));
  auto endpoint = std::make_unique<mem_network_detail::Endpoint>(state_, std::move(node));
  WAL_ASSERT(state_->endpoints.contains(endpoint->self()));
  return endpoint;
}

void MemNetworkHub::set_link_up(const NodeId& a, const NodeId& b, bool up) {
  WAL_ASSERT(a != b);
  auto key = a < b ? std::pair(a, b) : std::pair(b, a);
  if (up) {
    state_->cut_links.erase(key);
  } else {
    state_->cut_links.insert(std::move(key));
  }
  WAL_ASSERT(state_->link_up(a, b) == up);
}

void MemNetworkHub::set_latency(Duration latency) {
  WAL_ASSERT(latency >= Duration::zero());
  state_->latency = latency;
}

}  // namespace wal
