#pragma once
// NodeRuntime: one simulated node's Executor and Clock, on top of the shared Scheduler, plus the
// Scope that owns the node's tasks. Owner id = node index (>= 1).
//
// Time: now() is the shared virtual monotonic time (all nodes agree). unix_time_ms() is a fixed
// epoch + virtual time + a per-node offset (set_clock_offset_ms, for clock-skew faults); only
// wall-clock readings skew, never now(), because WAL safety must not depend on wall time.
//
// Crash semantics (crash()):
//   1. The node is marked down and its generation is bumped.
//   2. Every pending scheduler event the node owns is cancelled: posted callbacks, timers,
//      coroutine resumptions. None of them ever runs (the scheduler checks the owner epoch on
//      every step).
//   3. The node's Scope is destroyed: every coroutine frame of the node dies at its current
//      suspension point, recursively with everything it awaited. Completions and channels that
//      pointed at those frames find no waiter and resume nothing.
//   4. While down, post() drops the callback and call_at() returns a dead timer id: nothing can
//      run on a node that is not there. Messages in flight to it are dropped by the network.
// What the runtime does NOT do: destroy objects the node's code keeps outside its Scope (the WAL
// node object, its caches). The cluster calls crash() first (so no frame can touch those objects
// any more), then destroys them, and on restart() builds new ones from what survived (synced
// disk, object store, metadata store).
// restart() builds a fresh, empty Scope; the generation stays as crash() left it, so a callback
// or handler registered by an earlier generation can be recognised (SimNetwork does this).
// crash() must be called from the world (a fault event or test code), never from one of the
// node's own events: that would destroy the frame that is running.

#include <cstdint>
#include <functional>
#include <memory>

#include "sim/scheduler.h"
#include "wal/async/executor.h"
#include "wal/async/scope.h"
#include "wal/async/task.h"
#include "wal/env/clock.h"

namespace wal::sim {

class NodeRuntime final : public Executor, public Clock {
 public:
  // 2026-01-01T00:00:00Z, the same epoch as ManualLoop.
  static constexpr int64_t unix_epoch_ms_default = 1'767'225'600'000;

  NodeRuntime(Scheduler& scheduler, NodeIndex node, int64_t unix_epoch_ms = unix_epoch_ms_default);
  ~NodeRuntime() override;  // kills the node's events and frames, like crash()
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  // Executor: schedules `fn` at now() for this node (FIFO among events due now). Dropped while
  // the node is down.
  void post(std::function<void()> fn) override;

  // Clock.
  [[nodiscard]] TimePoint now() const override { return scheduler_.now(); }
  [[nodiscard]] int64_t unix_time_ms() const override;
  // Dropped (returns a dead id that cancel() ignores) while the node is down.
  TimerId call_at(TimePoint when, std::function<void()> fn) override;
  void cancel(TimerId timer) override;

  // The node's tasks. spawn() requires the node to be up.
  [[nodiscard]] Scope& scope();
  void spawn(Task<void> task) { scope().spawn(std::move(task)); }

  void crash();
  void restart();
  [[nodiscard]] bool alive() const { return alive_; }
  [[nodiscard]] uint64_t generation() const { return generation_; }
  [[nodiscard]] NodeIndex node() const { return node_; }
  [[nodiscard]] Scheduler& scheduler() { return scheduler_; }

  // Clock skew: shifts unix_time_ms() only. May be negative.
  void set_clock_offset_ms(int64_t offset_ms) { clock_offset_ms_ = offset_ms; }
  [[nodiscard]] int64_t clock_offset_ms() const { return clock_offset_ms_; }

 private:
  Scheduler& scheduler_;
  NodeIndex node_;
  int64_t unix_epoch_ms_;
  int64_t clock_offset_ms_ = 0;
  uint64_t generation_ = 0;
  bool alive_ = true;
  std::unique_ptr<Scope> scope_;
};

}  // namespace wal::sim
