#include "sim/sim_network.h"

#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <bit>

namespace wal::sim {

namespace {

constexpr Site site_send_request = "net.send_request";
constexpr Site site_send_reply = "net.send_reply";
constexpr Site site_deliver_request = "net.deliver_request";
constexpr Site site_deliver_reply = "net.deliver_reply";
constexpr Site site_drop = "net.drop";
constexpr Site site_duplicate = "net.duplicate";
constexpr Site site_delay = "net.delay";
constexpr Site site_late_reply = "net.late_reply";
constexpr Site site_unknown_target = "net.unknown_target";
constexpr Site site_no_handler = "net.no_handler";
constexpr Site site_partition = "net.partition";
constexpr Site site_isolate = "net.isolate";
constexpr Site site_heal = "net.heal";

// ln 2 in Q16 (0.693147 * 65536).
constexpr uint64_t ln2_q16 = 45426;
// log2(1 + f) ~= f + c * f * (1 - f) with c = 11/32 keeps the error below 0.008 on [0, 1].
constexpr uint64_t log2_correction_numerator = 11;
constexpr int log2_correction_shift = 5;

uint64_t duration_ns(Duration duration) {
  WAL_ASSERT(duration >= Duration::zero());
  return static_cast<uint64_t>(duration.count());
}

std::string_view drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::partitioned: return "partitioned";
    case DropReason::random: return "random";
    case DropReason::no_endpoint: return "no_endpoint";
    case DropReason::target_down: return "target_down";
  }
  WAL_UNREACHABLE();
}

// What a reply carries, for the trace: its payload hash or its error.
uint64_t result_digest(const Result<Bytes>& result) {
  if (result.ok()) return hash_bytes(result.value());
  const Error& error = result.error();
  return mix64((static_cast<uint64_t>(error.code) << 8) | static_cast<uint64_t>(error.outcome));
}

}  // namespace

uint64_t exponential_ns(uint64_t random_word, uint64_t mean_ns) {
  // u in [1, 2^32]: never 0, so -log2(u / 2^32) is finite and at most 32.
  const uint64_t u = (random_word >> 32) + 1;
  const int exponent = std::bit_width(u) - 1;
  WAL_ASSERT(exponent >= 0 && exponent <= 32);
  const uint64_t fraction_q16 = ((u - (uint64_t{1} << exponent)) << 16) >> exponent;
  const uint64_t correction_q16 = (((fraction_q16 * (65536 - fraction_q16)) >> 16) *
                                   log2_correction_numerator) >> log2_correction_shift;
  const uint64_t log2_q16 =
      (static_cast<uint64_t>(exponent) << 16) + fraction_q16 + correction_q16;
  WAL_ASSERT_LE(log2_q16, uint64_t{32} << 16);
  const uint64_t minus_log2_q16 = (uint64_t{32} << 16) - log2_q16;
  __extension__ using Wide = unsigned __int128;  // mean * 2^21 * 2^16 can exceed 64 bits
  const Wide product = static_cast<Wide>(mean_ns) * minus_log2_q16 * ln2_q16;
  return static_cast<uint64_t>(product >> 32);
}

// ---- endpoint --------------------------------------------------------------------------------

class SimNetwork::Endpoint final : public Network {
 public:
  Endpoint(SimNetwork& hub, NodeIndex node, NodeId name)
      : hub_(hub), node_(node), name_(std::move(name)) {}
  ~Endpoint() override { hub_.unregister(node_); }
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  [[nodiscard]] const NodeId& self() const override { return name_; }
  void serve(RpcHandler handler) override { hub_.serve(node_, std::move(handler)); }
  Task<Result<Bytes>> call(NodeId target, std::string method, Bytes body,
                           TimePoint deadline) override {
    // The coroutine lives in the hub, not here: a caller's frame must not depend on the
    // endpoint object, which the cluster may rebuild.
    return hub_.call_from(node_, std::move(target), std::move(method), std::move(body),
                          deadline);
  }

 private:
  SimNetwork& hub_;
  NodeIndex node_;
  NodeId name_;
};

// ---- hub -------------------------------------------------------------------------------------

SimNetwork::SimNetwork(Scheduler& scheduler, const RandomStreams& streams, Trace& trace,
                       SimNetworkConfig config)
    : scheduler_(scheduler),
      trace_(trace),
      latency_random_(streams.stream("net.latency")),
      spike_random_(streams.stream("net.spike")),
      drop_random_(streams.stream("net.drop")),
      duplicate_random_(streams.stream("net.duplicate")) {
  set_config(config);
}

SimNetwork::~SimNetwork() {
  // Endpoints call back into the hub when destroyed; destroy them first.
  WAL_ASSERT_EQ(endpoint_count_, uint64_t{0});
}

void SimNetwork::set_config(const SimNetworkConfig& config) {
  WAL_ASSERT_LE(config.drop_ppm, uint32_t{1'000'000});
  WAL_ASSERT_LE(config.duplicate_ppm, uint32_t{1'000'000});
  WAL_ASSERT_LE(config.spike_ppm, uint32_t{1'000'000});
  WAL_ASSERT(config.latency_base >= Duration::zero());
  WAL_ASSERT(config.latency_tail_mean >= Duration::zero());
  WAL_ASSERT(config.latency_tail_max >= Duration::zero());
  WAL_ASSERT(config.spike_min >= Duration::zero());
  WAL_ASSERT(config.spike_min <= config.spike_max);
  config_ = config;
}

SimNetwork::Peer& SimNetwork::peer(NodeIndex node) {
  WAL_ASSERT_GT(node, world_owner);
  WAL_ASSERT_LT(size_t{node}, peers_.size());
  return peers_[node];
}

std::unique_ptr<Network> SimNetwork::endpoint(NodeIndex node, NodeId name,
                                              NodeRuntime& runtime) {
  WAL_ASSERT_GT(node, world_owner);
  WAL_ASSERT_LT(node, limits::owners_max);
  WAL_ASSERT_EQ(runtime.node(), node);
  WAL_ASSERT(!name.empty());
  if (node >= peers_.size()) peers_.resize(size_t{node} + 1);
  Peer& entry = peers_[node];
  WAL_ASSERT(entry.runtime == nullptr);  // one endpoint per node at a time
  if (!entry.name.empty()) WAL_ASSERT_EQ(entry.name, name);  // a node keeps its name
  const auto [it, inserted] = names_.emplace(name, node);
  if (!inserted) WAL_ASSERT_EQ(it->second, node);  // a name belongs to one node
  entry.name = name;
  entry.runtime = &runtime;
  entry.handler.reset();
  ++endpoint_count_;
  return std::make_unique<Endpoint>(*this, node, std::move(name));
}

void SimNetwork::unregister(NodeIndex node) {
  Peer& entry = peer(node);
  WAL_ASSERT(entry.runtime != nullptr);
  WAL_ASSERT_GT(endpoint_count_, uint64_t{0});
  entry.runtime = nullptr;
  entry.handler.reset();
  --endpoint_count_;
}

void SimNetwork::serve(NodeIndex node, RpcHandler handler) {
  Peer& entry = peer(node);
  WAL_ASSERT(entry.runtime != nullptr);
  WAL_ASSERT(handler);
  entry.handler = std::make_shared<const RpcHandler>(std::move(handler));
  entry.handler_generation = entry.runtime->generation();
}

// ---- partitions ------------------------------------------------------------------------------

void SimNetwork::partition(const std::vector<NodeIndex>& side_a,
                           const std::vector<NodeIndex>& side_b, PartitionMode mode) {
  WAL_ASSERT(!side_a.empty());
  WAL_ASSERT(!side_b.empty());
  uint64_t digest = static_cast<uint64_t>(mode);
  for (const NodeIndex a : side_a) {
    for (const NodeIndex b : side_b) {
      WAL_ASSERT_NE(a, b);  // a node on both sides is a malformed partition
      cut_links_.emplace(a, b);
      switch (mode) {
        case PartitionMode::symmetric: cut_links_.emplace(b, a); break;
        case PartitionMode::one_way: break;
      }
      digest = mix64(digest ^ ((uint64_t{a} << 32) | b));
    }
  }
  const std::string detail =
      trace_.jsonl_enabled()
          ? fmt::format("{} -> {} {}", fmt::join(side_a, ","), fmt::join(side_b, ","),
                        mode == PartitionMode::symmetric ? "symmetric" : "one_way")
          : std::string();
  trace_.decision(site_partition, world_owner, digest, detail);
}

void SimNetwork::isolate(NodeIndex node) {
  WAL_ASSERT_GT(node, world_owner);
  isolated_.insert(node);
  trace_.decision(site_isolate, node, node);
}

void SimNetwork::heal() {
  cut_links_.clear();
  isolated_.clear();
  trace_.decision(site_heal, world_owner, 0);
  WAL_ASSERT(cut_links_.empty());
}

bool SimNetwork::blocked(NodeIndex from, NodeIndex to) const {
  if (from == to) return false;  // a node always reaches itself
  if (!isolated_.empty() && (isolated_.contains(from) || isolated_.contains(to))) return true;
  return !cut_links_.empty() && cut_links_.contains({from, to});
}

// ---- messages --------------------------------------------------------------------------------

Task<Result<Bytes>> SimNetwork::call_from(NodeIndex from, NodeId target, std::string method,
                                          Bytes body, TimePoint deadline) {
  NodeRuntime* runtime = peer(from).runtime;
  WAL_ASSERT(runtime != nullptr);
  WAL_ASSERT(runtime->alive());
  const auto it = names_.find(target);
  if (it == names_.end()) {
    trace_.decision(site_unknown_target, from, fnv1a64(target));
    co_return make_error(Errc::unavailable, "unknown node " + target);
  }
  const NodeIndex to = it->second;
  const uint64_t message_id = ++next_message_id_;
  Reply reply(*runtime);
  send_request(from, to, message_id, RpcRequest{peer(from).name, std::move(method),
                                                std::move(body)}, reply);
  // The timer belongs to the caller: if the caller crashes, the call dies with it.
  const TimerId timer = runtime->call_at(deadline, [reply, target]() mutable {
    const bool first = reply.set(make_unknown(Errc::timeout, "no reply from " + target));
    WAL_MAYBE(first);  // false: a reply arrived in this same instant, before the timer
  });
  Result<Bytes> result = co_await reply.wait();
  runtime->cancel(timer);
  co_return result;
}

void SimNetwork::send_request(NodeIndex from, NodeIndex to, uint64_t message_id,
                              RpcRequest request, Reply reply) {
  WAL_ASSERT_GT(message_id, uint64_t{0});
  const uint64_t digest = mix64(fnv1a64(request.method) ^ hash_bytes(request.body)) ^ to;
  const std::string detail =
      trace_.jsonl_enabled()
          ? fmt::format("msg={} to={} method={} bytes={}", message_id, to, request.method,
                        request.body.size())
          : std::string();
  trace_.decision(site_send_request, from, digest, detail);
  transmit(from, to, message_id, site_deliver_request,
           [this, from, to, message_id, request = std::move(request), reply]() mutable {
             deliver_request(from, to, message_id, std::move(request), std::move(reply));
           });
}

void SimNetwork::deliver_request(NodeIndex from, NodeIndex to, uint64_t message_id,
                                 RpcRequest request, Reply reply) {
  if (!arrives(from, to, message_id)) return;
  Peer& target = peer(to);
  WAL_ASSERT(target.runtime != nullptr);
  WAL_ASSERT(target.runtime->alive());
  // A handler registered by an earlier generation belongs to node objects destroyed in the
  // crash: refuse, as a restarted process that is not listening yet would.
  if (!target.handler || target.handler_generation != target.runtime->generation()) {
    trace_.decision(site_no_handler, to, message_id);
    send_reply(to, from, message_id,
               make_error(Errc::unavailable, "node " + target.name + " is not serving"),
               std::move(reply));
    return;
  }
  target.runtime->spawn(serve_request(from, to, message_id, target.handler, std::move(request),
                                      std::move(reply)));
}

// `handler` is held by the frame, so serve() replacing the handler mid-request cannot destroy
// the closure a running handler coroutine refers to.
Task<void> SimNetwork::serve_request(NodeIndex from, NodeIndex to, uint64_t message_id,
                                     std::shared_ptr<const RpcHandler> handler,
                                     RpcRequest request, Reply reply) {
  WAL_ASSERT(handler != nullptr);
  std::optional<RpcRequest> observed;  // a copy for the observer: the handler takes the request
  if (reply_observer_) observed = request;
  Result<Bytes> result = co_await (*handler)(std::move(request));
  if (reply_observer_ && observed) reply_observer_(to, *observed, result);
  send_reply(to, from, message_id, std::move(result), std::move(reply));
}

void SimNetwork::send_reply(NodeIndex from, NodeIndex to, uint64_t message_id,
                            Result<Bytes> result, Reply reply) {
  WAL_ASSERT_GT(message_id, uint64_t{0});
  const std::string detail =
      trace_.jsonl_enabled()
          ? fmt::format("msg={} to={} {}", message_id, to,
                        result.ok() ? fmt::format("ok bytes={}", result.value().size())
                                    : result.error().describe())
          : std::string();
  trace_.decision(site_send_reply, from, result_digest(result) ^ message_id, detail);
  transmit(from, to, message_id, site_deliver_reply,
           [this, from, to, message_id, result = std::move(result), reply]() mutable {
             deliver_reply(from, to, message_id, std::move(result), reply);
           });
}

void SimNetwork::deliver_reply(NodeIndex from, NodeIndex to, uint64_t message_id,
                               Result<Bytes> result, Reply& reply) {
  if (!arrives(from, to, message_id)) return;
  // The caller's frame may be gone (it crashed and restarted) or done (timeout, or a
  // duplicate reply came first): then nothing waits, and set() stores or ignores the value.
  const bool first = reply.set(std::move(result));
  if (!first) trace_.decision(site_late_reply, to, message_id);
  WAL_MAYBE(first);
}

void SimNetwork::transmit(NodeIndex from, NodeIndex to, uint64_t message_id, Site deliver_site,
                          std::function<void()> deliver) {
  WAL_ASSERT(deliver);
  ++stats_.sent_count;
  if (blocked(from, to)) {
    drop(from, message_id, DropReason::partitioned);
    return;
  }
  if (config_.drop_ppm > 0 && drop_random_.chance_ppm(config_.drop_ppm)) {
    drop(from, message_id, DropReason::random);
    return;
  }
  const bool duplicate =
      config_.duplicate_ppm > 0 && duplicate_random_.chance_ppm(config_.duplicate_ppm);
  if (duplicate) {
    ++stats_.duplicated_count;
    trace_.decision(site_duplicate, from, message_id);
  }
  const int copies = duplicate ? 2 : 1;
  for (int copy = 0; copy < copies; ++copy) {
    const Duration delay = draw_delay();
    trace_.decision(site_delay, from, duration_ns(delay));
    // The last copy takes the callback; earlier copies get their own.
    std::function<void()> fn = copy + 1 == copies ? std::move(deliver) : deliver;
    scheduler_.schedule_after(delay, world_owner, deliver_site, std::move(fn));
  }
  WAL_ASSERT_LE(stats_.duplicated_count, stats_.sent_count);
}

bool SimNetwork::arrives(NodeIndex from, NodeIndex to, uint64_t message_id) {
  const Peer& target = peer(to);
  if (target.runtime == nullptr) {
    drop(to, message_id, DropReason::no_endpoint);
    return false;
  }
  if (!target.runtime->alive()) {
    drop(to, message_id, DropReason::target_down);
    return false;
  }
  // A partition installed while the message was in flight cuts it too.
  if (blocked(from, to)) {
    drop(to, message_id, DropReason::partitioned);
    return false;
  }
  ++stats_.delivered_count;
  return true;
}

void SimNetwork::drop(NodeIndex node, uint64_t message_id, DropReason reason) {
  ++stats_.dropped_count;
  const std::string detail =
      trace_.jsonl_enabled()
          ? fmt::format("msg={} reason={}", message_id, drop_reason_name(reason))
          : std::string();
  trace_.decision(site_drop, node, (message_id << 8) | static_cast<uint64_t>(reason), detail);
  WAL_ASSERT_LE(stats_.dropped_count, stats_.sent_count + stats_.duplicated_count);
}

Duration SimNetwork::draw_delay() {
  uint64_t delay_ns = duration_ns(config_.latency_base);
  const uint64_t tail_ns =
      exponential_ns(latency_random_.next_u64(), duration_ns(config_.latency_tail_mean));
  delay_ns += std::min(tail_ns, duration_ns(config_.latency_tail_max));
  if (config_.spike_ppm > 0 && spike_random_.chance_ppm(config_.spike_ppm)) {
    delay_ns += spike_random_.between(duration_ns(config_.spike_min),
                                      duration_ns(config_.spike_max));
  }
  WAL_ASSERT_GE(delay_ns, duration_ns(config_.latency_base));
  return Duration(static_cast<int64_t>(delay_ns));
}

}  // namespace wal::sim
