#pragma once
// SimNetwork: the simulated RPC network. One hub per run; each node gets a wal::Network
// endpoint from it. Everything runs on the Scheduler; every choice is drawn from seeded streams
// and mixed into the Trace.
//
//   SimNetwork hub(scheduler, streams, trace, config);
//   std::unique_ptr<wal::Network> net = hub.endpoint(1, "node-1", runtime_1);
//
// A call() is two messages, a request and a reply. Each message, independently:
//   - is dropped if a partition blocks its direction when it is sent, or when it arrives (a
//     partition also cuts what is in flight), or if the receiving node is down or has no
//     endpoint when it arrives;
//   - is dropped with probability drop_ppm / 1e6;
//   - is duplicated with probability duplicate_ppm / 1e6 (both copies are delivered: a
//     duplicated request runs the handler twice);
//   - arrives after latency_base + an exponential-ish tail (mean latency_tail_mean, capped at
//     latency_tail_max) + with probability spike_ppm / 1e6 a spike in [spike_min, spike_max].
//     Delays are independent, so messages reorder.
// In flight, a message belongs to the world (owner 0): it survives its sender's crash.
// The handler runs on the target node as a task in the target's Scope; if the target crashes
// mid-handler, no reply is sent. A target that is up but has not called serve() since its last
// restart answers Errc::unavailable (definite: the handler did not run).
//
// call() results: the first reply to arrive (later copies are ignored); Errc::timeout with
// Outcome::unknown if none arrived by the deadline; Errc::unavailable (definite, at once) if the
// target name was never registered.
//
// Lifetimes: the hub must outlive its endpoints (asserted) and every scheduler step that may
// deliver a message it sent (in-flight deliveries refer to it); a NodeRuntime must outlive its
// endpoint. Decisions use integers only (ppm, nanoseconds), never floating point.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/trace.h"
#include "wal/async/completion.h"
#include "wal/env/network.h"

namespace wal::sim {

struct SimNetworkConfig {
  // One-way latency inside one availability zone is 50-500 us; the tail models queueing.
  Duration latency_base = std::chrono::microseconds(100);
  Duration latency_tail_mean = std::chrono::microseconds(300);
  // Caps one tail draw; larger delays are what spikes are for.
  Duration latency_tail_max = std::chrono::milliseconds(50);
  uint32_t spike_ppm = 0;
  Duration spike_min = std::chrono::milliseconds(10);
  Duration spike_max = std::chrono::milliseconds(200);
  uint32_t drop_ppm = 0;
  uint32_t duplicate_ppm = 0;
};

enum class PartitionMode : uint8_t {
  symmetric,  // side_a -> side_b and side_b -> side_a are both cut
  one_way,    // only side_a -> side_b is cut; side_b still reaches side_a
};

// Why a message was dropped; the value of the "net.drop" trace decision.
enum class DropReason : uint8_t { partitioned, random, no_endpoint, target_down };

struct SimNetworkStats {
  uint64_t sent_count = 0;        // messages handed to the network (requests and replies)
  uint64_t dropped_count = 0;     // messages (or copies) that never arrived
  uint64_t duplicated_count = 0;  // messages sent twice
  uint64_t delivered_count = 0;   // copies that arrived at a live endpoint
};

// An exponential-ish sample with mean ~`mean_ns` from one uniform 64-bit word, integer-only:
// -ln(u) computed as ln2 * -log2(u) with a fixed-point log2 (error < 1% of the mean).
[[nodiscard]] uint64_t exponential_ns(uint64_t random_word, uint64_t mean_ns);

class SimNetwork {
 public:
  SimNetwork(Scheduler& scheduler, const RandomStreams& streams, Trace& trace,
             SimNetworkConfig config = {});
  ~SimNetwork();
  SimNetwork(const SimNetwork&) = delete;
  SimNetwork& operator=(const SimNetwork&) = delete;

  // Registers node `node` (>= 1) under `name`. A node index keeps its name for the whole run;
  // after its endpoint is destroyed it may register again (a rebuilt node), same name.
  [[nodiscard]] std::unique_ptr<Network> endpoint(NodeIndex node, NodeId name,
                                                  NodeRuntime& runtime);

  void set_config(const SimNetworkConfig& config);
  [[nodiscard]] const SimNetworkConfig& config() const { return config_; }

  // Cuts links between the two sides (see PartitionMode); adds to partitions already in place.
  void partition(const std::vector<NodeIndex>& side_a, const std::vector<NodeIndex>& side_b,
                 PartitionMode mode);
  // Cuts `node` from every other node, including nodes registered later, both directions.
  void isolate(NodeIndex node);
  // Removes every partition and isolation.
  void heal();
  [[nodiscard]] bool blocked(NodeIndex from, NodeIndex to) const;

  [[nodiscard]] const SimNetworkStats& stats() const { return stats_; }

  // Sees each reply a handler produced, with its request, at the instant it leaves the serving
  // node (before the network may drop it): what the node promised (sim/ack_audit.h). The
  // observer must only read state; it draws nothing and traces nothing.
  using ReplyObserver =
      std::function<void(NodeIndex server, const RpcRequest& request, const Result<Bytes>& reply)>;
  void observe_replies(ReplyObserver observer) { reply_observer_ = std::move(observer); }

 private:
  class Endpoint;
  using Reply = Completion<Result<Bytes>>;
  struct Peer {
    NodeId name;
    NodeRuntime* runtime = nullptr;  // null while no endpoint is registered
    std::shared_ptr<const RpcHandler> handler;
    uint64_t handler_generation = 0;  // runtime generation when serve() was called
  };

  void unregister(NodeIndex node);
  void serve(NodeIndex node, RpcHandler handler);
  Task<Result<Bytes>> call_from(NodeIndex from, NodeId target, std::string method, Bytes body,
                                TimePoint deadline);
  void send_request(NodeIndex from, NodeIndex to, uint64_t message_id, RpcRequest request,
                    Reply reply);
  void deliver_request(NodeIndex from, NodeIndex to, uint64_t message_id, RpcRequest request,
                       Reply reply);
  Task<void> serve_request(NodeIndex from, NodeIndex to, uint64_t message_id,
                           std::shared_ptr<const RpcHandler> handler, RpcRequest request,
                           Reply reply);
  void send_reply(NodeIndex from, NodeIndex to, uint64_t message_id, Result<Bytes> result,
                  Reply reply);
  void deliver_reply(NodeIndex from, NodeIndex to, uint64_t message_id, Result<Bytes> result,
                     Reply& reply);
  void transmit(NodeIndex from, NodeIndex to, uint64_t message_id, Site deliver_site,
                std::function<void()> deliver);
  [[nodiscard]] bool arrives(NodeIndex from, NodeIndex to, uint64_t message_id);
  void drop(NodeIndex node, uint64_t message_id, DropReason reason);
  [[nodiscard]] Duration draw_delay();
  [[nodiscard]] Peer& peer(NodeIndex node);

  Scheduler& scheduler_;
  Trace& trace_;
  SimNetworkConfig config_;
  // One stream per kind of choice, so that turning drops on does not move every delay.
  Xoshiro256 latency_random_;
  Xoshiro256 spike_random_;
  Xoshiro256 drop_random_;
  Xoshiro256 duplicate_random_;
  std::vector<Peer> peers_;  // indexed by NodeIndex
  std::map<NodeId, NodeIndex, std::less<>> names_;
  std::set<std::pair<NodeIndex, NodeIndex>> cut_links_;  // (from, to)
  std::set<NodeIndex> isolated_;
  uint64_t next_message_id_ = 0;
  uint64_t endpoint_count_ = 0;
  SimNetworkStats stats_;
  ReplyObserver reply_observer_;  // empty: nobody watches
};

}  // namespace wal::sim
