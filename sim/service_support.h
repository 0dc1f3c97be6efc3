#pragma once
// Pieces the simulated services (sim_object_store.h, sim_meta_store.h, sim_disk.h) share:
//
//   draw_latency   one delay from a LatencySpec, integer-only;
//   WorldRuntime   the world (scheduler owner 0) as a wal::Executor and wal::Clock, for service
//                  state that needs timers (etcd's leases) and server-side tasks (watch pumps);
//   ServiceClients which nodes hold client views of a service, so that a reply reaches a node
//                  only while it is up and in the generation that sent the request;
//   OwnedEvents    world events of one service, cancelled when the service is destroyed, so no
//                  pending event can call into a destroyed service.
// All of it is single-threaded, on the Scheduler's thread.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/scheduler.h"
#include "sim/service_faults.h"
#include "wal/async/executor.h"
#include "wal/core/result.h"
#include "wal/env/clock.h"
#include "wal/env/random.h"

namespace wal::sim {

// A simulated service's counts for one kind of request.
struct ServiceOpCounts {
  uint64_t sent_count = 0;     // requests that left a node
  uint64_t applied_count = 0;  // requests the server applied (whatever the caller later saw)
  uint64_t replied_count = 0;  // replies (results or errors) handed to a waiting caller
};

struct LatencyDraw {
  Duration delay{0};
  bool spiked = false;  // the spike part was drawn (slow fsync, S3 latency spike)
};

// Asserts that `spec` is well formed (non-negative, spike_min <= spike_max, ppm <= 1e6).
void check_latency_spec(const LatencySpec& spec);

// base + min(exponential tail, tail_max) + maybe a spike. The tail draws one word from
// `tail_random` only when tail_mean > 0, the spike from `spike_random` only when spike_ppm > 0,
// so turning one on never moves the other's draws.
[[nodiscard]] LatencyDraw draw_latency(const LatencySpec& spec, Random& tail_random,
                                       Random& spike_random);

// `bytes` at `per_mib` per MiB, rounded down (integer nanoseconds).
[[nodiscard]] Duration transfer_time(uint64_t bytes, Duration per_mib);

// A value for the trace that says what a result was: 0 for success, else code and outcome.
[[nodiscard]] inline uint64_t error_digest(const Error& error) {
  return 1 + ((static_cast<uint64_t>(error.code) << 8) | static_cast<uint64_t>(error.outcome));
}
template <typename R>
[[nodiscard]] uint64_t result_digest(const R& result) {
  return result.ok() ? 0 : error_digest(result.error());
}

// The world as an Executor and Clock: events are owned by scheduler owner 0, so no node crash
// cancels them. unix_time_ms() has no skew (the services' own wall clock).
class WorldRuntime final : public Executor, public Clock {
 public:
  explicit WorldRuntime(Scheduler& scheduler,
                        int64_t unix_epoch_ms = NodeRuntime::unix_epoch_ms_default)
      : scheduler_(scheduler), unix_epoch_ms_(unix_epoch_ms) {}
  WorldRuntime(const WorldRuntime&) = delete;
  WorldRuntime& operator=(const WorldRuntime&) = delete;

  void post(std::function<void()> fn) override;
  [[nodiscard]] TimePoint now() const override { return scheduler_.now(); }
  [[nodiscard]] int64_t unix_time_ms() const override;
  TimerId call_at(TimePoint when, std::function<void()> fn) override;
  void cancel(TimerId timer) override;

 private:
  Scheduler& scheduler_;
  int64_t unix_epoch_ms_;
};

// The nodes that hold client views of one service. A node may hold several views at once (all
// on the same runtime); it is attached while it holds at least one.
class ServiceClients {
 public:
  void attach(NodeIndex node, NodeRuntime& runtime);
  void detach(NodeIndex node);
  // The runtime of an attached node (asserted).
  [[nodiscard]] NodeRuntime& runtime(NodeIndex node) const;
  // The runtime if `node` is attached, up, and still in `generation`; otherwise nullptr: a
  // reply for it has nobody to go to (the node crashed, maybe restarted, since it asked).
  [[nodiscard]] NodeRuntime* reachable(NodeIndex node, uint64_t generation) const;
  [[nodiscard]] size_t attached_count() const { return nodes_.size(); }

 private:
  struct Attached {
    NodeRuntime* runtime = nullptr;
    uint64_t view_count = 0;
  };
  std::map<NodeIndex, Attached> nodes_;
};

// World events scheduled by one service. Each carries the service's own Site. Destroying the
// OwnedEvents cancels every one still pending (their callbacks are destroyed, never run).
class OwnedEvents {
 public:
  explicit OwnedEvents(Scheduler& scheduler) : scheduler_(scheduler) {}
  ~OwnedEvents();
  OwnedEvents(const OwnedEvents&) = delete;
  OwnedEvents& operator=(const OwnedEvents&) = delete;

  void at(TimePoint when, Site site, std::function<void()> fn);
  void after(Duration delay, Site site, std::function<void()> fn) {
    WAL_ASSERT(delay >= Duration::zero());
    at(scheduler_.now() + delay, site, std::move(fn));
  }
  [[nodiscard]] size_t pending_count() const { return pending_.size(); }
  [[nodiscard]] Scheduler& scheduler() const { return scheduler_; }

 private:
  Scheduler& scheduler_;
  uint64_t next_token_ = 1;
  std::map<uint64_t, EventId> pending_;  // token -> scheduler event
};

}  // namespace wal::sim
