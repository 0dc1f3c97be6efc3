#pragma once
// SimObjectStore: the simulated S3. One per run; it owns the objects (a MemObjectStore, exposed
// to checkers as state()) and hands each node a wal::ObjectStore view:
//
//   SimObjectStore s3(scheduler, streams, trace);            // faults off: a 2 ms round trip
//   std::unique_ptr<wal::ObjectStore> store = s3.client(1, runtime_1);
//
// A call from a view is one request and one reply:
//   1. The request leaves the node; one delay is drawn for the round trip (faults().latency,
//      plus transfer time for a PUT body); the request travels for half of it.
//   2. It is applied at the server at one virtual instant (MemObjectStore::apply_*), in arrival
//      order, so racing conditional PUTs have exactly one winner, decided there.
//   3. The reply travels back for the other half (plus transfer time for a GET body) and
//      completes the call on the node's executor.
// In flight, requests and replies belong to the world: a request already sent is applied even
// if its node crashes. A reply goes only to the node that sent it, still up and in the same
// generation: a crashed node's call never completes (its frame is gone anyway).
//
// Faults (set_faults, ObjectStoreFaults in service_faults.h; all off by default). What the
// caller sees:
//   503 SlowDown        unavailable, definite; not applied; after the base round trip.
//   500 InternalError   mutations: unavailable, OUTCOME UNKNOWN, applied or not (PRNG);
//                       reads: unavailable, definite.
//   request lost        timeout at the deadline; not applied. Mutations: OUTCOME UNKNOWN.
//   reply lost          timeout at the deadline; applied. Mutations: OUTCOME UNKNOWN.
//   slow reply          a delay past request_timeout is the same timeout, with the request
//                       applied (latency tails and spikes produce these naturally).
//   GET corruption      the returned copy has one flipped bit; the stored object is intact.
//   outage              set_available(false): every request is refused with unavailable,
//                       definite, after the base round trip, and is not applied; requests
//                       already in flight when the outage starts are refused on arrival.
// Reads (get, head, list) that time out are definite: they change nothing.
// Every decision (delays, faults, applied-or-not, corrupted bit) is drawn from its own seeded
// stream and mixed into the Trace; the same seed gives the same run.
//
// Lifetimes: the SimObjectStore must outlive its views and every node frame suspended in one of
// its calls (crash or destroy those runtimes first). Destroying it cancels its pending events.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/service_faults.h"
#include "sim/service_support.h"
#include "sim/trace.h"
#include "wal/async/completion.h"
#include "wal/env/object_store.h"
#include "wal/mem/mem_object_store.h"

namespace wal::sim {

enum class ObjectOp : uint8_t { put, get, head, list, remove, remove_many };
inline constexpr size_t object_op_count = 6;
[[nodiscard]] std::string_view object_op_name(ObjectOp op);
[[nodiscard]] constexpr bool object_op_mutates(ObjectOp op) {
  return op == ObjectOp::put || op == ObjectOp::remove || op == ObjectOp::remove_many;
}

struct SimObjectStoreStats {
  std::array<ServiceOpCounts, object_op_count> ops{};  // indexed by ObjectOp
  uint64_t slow_down_count = 0;                 // 503s injected
  uint64_t internal_error_count = 0;            // 500s injected
  uint64_t internal_error_applied_count = 0;    // 500s on mutations that were applied
  uint64_t request_lost_count = 0;
  uint64_t reply_lost_count = 0;
  uint64_t outage_refused_count = 0;            // refused because the store was unavailable
  uint64_t corrupted_get_count = 0;
  uint64_t spike_count = 0;                     // latency spikes drawn
  uint64_t timeout_count = 0;                   // calls that ended at their deadline
  uint64_t late_reply_count = 0;                // replies that came after the deadline
  uint64_t reply_to_gone_node_count = 0;        // replies for a crashed or restarted node

  [[nodiscard]] const ServiceOpCounts& of(ObjectOp op) const {
    return ops[static_cast<size_t>(op)];
  }
};

class SimObjectStore {
 public:
  SimObjectStore(Scheduler& scheduler, const RandomStreams& streams, Trace& trace,
                 ObjectStoreFaults faults = {});
  ~SimObjectStore();
  SimObjectStore(const SimObjectStore&) = delete;
  SimObjectStore& operator=(const SimObjectStore&) = delete;

  // A view for node `node` (>= 1) running on `runtime` (runtime.node() == node). Calls must be
  // made on that node's executor while it is up. A node may hold several views.
  [[nodiscard]] std::unique_ptr<ObjectStore> client(NodeIndex node, NodeRuntime& runtime);

  void set_faults(const ObjectStoreFaults& faults);
  [[nodiscard]] const ObjectStoreFaults& faults() const { return faults_; }
  // The outage switch (see the top of this file).
  void set_available(bool available);
  [[nodiscard]] bool available() const { return available_; }

  // The stored objects, for checkers and tests. Reading it counts no request; changing it is a
  // change no node asked for (tests only).
  [[nodiscard]] MemObjectStore& state() { return state_; }
  [[nodiscard]] const MemObjectStore& state() const { return state_; }
  [[nodiscard]] const SimObjectStoreStats& stats() const { return stats_; }
  // Requests and replies on the wire (pending deliveries), for tests and checkers.
  [[nodiscard]] size_t in_flight_count() const { return events_.pending_count(); }

 private:
  class View;
  friend class View;
  enum class Fault : uint8_t {
    none, slow_down, internal_error, request_lost, reply_lost, refused_outage
  };
  struct Plan {
    uint64_t request_id = 0;
    NodeIndex node = 0;
    uint64_t generation = 0;
    ObjectOp op = ObjectOp::put;
    Duration request_delay{0};
    Duration reply_delay{0};
    Duration refusal_delay{0};  // one way, for refusals (503, outage)
    Fault fault = Fault::none;
    bool corrupt = false;       // a GET whose reply gets a flipped bit
  };

  void detach(NodeIndex node) { clients_.detach(node); }
  [[nodiscard]] Plan plan(NodeIndex node, ObjectOp op, uint64_t digest, uint64_t body_bytes);
  [[nodiscard]] Fault draw_fault();

  // The whole exchange for one call; `apply` runs at the server, at the arrival instant, at
  // most once.
  template <typename R>
  Task<R> exchange(NodeIndex node, ObjectOp op, uint64_t digest, uint64_t body_bytes,
                   std::function<R()> apply);
  template <typename R>
  void arrive(const Plan& plan, const std::function<R()>& apply, Completion<R> reply);
  template <typename R>
  void send_reply(const Plan& plan, Duration delay, R result, Completion<R> reply);
  template <typename R>
  void deliver(const Plan& plan, R result, Completion<R>& reply);

  Task<Result<ObjectInfo>> put_from(NodeIndex node, std::string key, Bytes body,
                                    PutCondition condition);
  Task<Result<ObjectData>> get_from(NodeIndex node, std::string key,
                                    std::optional<ByteRange> range);
  Task<Result<ObjectInfo>> head_from(NodeIndex node, std::string key);
  Task<Result<ListPage>> list_from(NodeIndex node, std::string prefix, std::string token,
                                   size_t max_keys);
  Task<Status> remove_from(NodeIndex node, std::string key);
  Task<Result<std::vector<Status>>> remove_many_from(NodeIndex node,
                                                     std::vector<std::string> keys);
  void corrupt_copy(uint64_t request_id, NodeIndex node, Bytes& body);

  Scheduler& scheduler_;
  Trace& trace_;
  ObjectStoreFaults faults_;
  bool available_ = true;
  MemObjectStore state_;
  ServiceClients clients_;
  // One stream per kind of choice, so turning one fault on does not move the others' draws.
  Xoshiro256 latency_random_;
  Xoshiro256 spike_random_;
  Xoshiro256 slow_down_random_;
  Xoshiro256 internal_error_random_;
  Xoshiro256 loss_random_;
  Xoshiro256 applied_random_;
  Xoshiro256 corrupt_random_;
  uint64_t next_request_id_ = 0;
  SimObjectStoreStats stats_;
  OwnedEvents events_;  // last member: cancelled first, while everything above still exists
};

}  // namespace wal::sim
