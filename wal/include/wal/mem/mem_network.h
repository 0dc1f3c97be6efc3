#pragma once
// MemNetwork: a deterministic in-memory Network for unit tests. A MemNetworkHub connects the
// endpoints it creates, one per NodeId; all of them run on the hub's executor and clock.
//
//  - call() to a node with no live endpoint, or whose endpoint has no handler, returns
//    unavailable (definite) at once.
//  - Otherwise the request reaches the target's handler after the hub's latency (zero: on a
//    later executor turn). The handler runs as a task owned by the target endpoint's Scope; its
//    reply travels back after the same latency. The caller sees the handler's Result as is
//    (code and outcome), or timeout (outcome unknown) if no reply arrived by the deadline.
//  - A request or reply that finds its link cut (set_link_up(a, b, false)), or its target
//    endpoint destroyed, when it arrives is dropped silently: the caller times out. Requests
//    already being handled keep running.
//  - Destroying an endpoint is a node crash: its running handlers are destroyed with its Scope
//    and later calls to it are unavailable until a new endpoint is made for the same NodeId.
//  - Messages are never duplicated, reordered relative to the latency, or corrupted; the
//    simulator's network does that.
// Lifetimes: endpoints may outlive the hub. Whatever a handler captures must outlive the
// endpoint it serves (or the handler must be replaced first).

#include <memory>

#include "wal/async/executor.h"
#include "wal/env/clock.h"
#include "wal/env/network.h"

namespace wal {

class MemNetworkHub {
 public:
  MemNetworkHub(Executor& executor, Clock& clock);
  ~MemNetworkHub();
  MemNetworkHub(const MemNetworkHub&) = delete;
  MemNetworkHub& operator=(const MemNetworkHub&) = delete;

  // A new endpoint for `node`. At most one endpoint per NodeId may be alive at a time.
  [[nodiscard]] std::unique_ptr<Network> endpoint(NodeId node);
  // Cuts (up = false) or heals the link between `a` and `b`, in both directions.
  void set_link_up(const NodeId& a, const NodeId& b, bool up);
  // One-way delay applied to every request and every reply.
  void set_latency(Duration latency);

  struct State;  // shared with the endpoints and in-flight messages; defined in the .cpp

 private:
  std::shared_ptr<State> state_;
};

}  // namespace wal
