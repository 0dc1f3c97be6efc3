#include "sim/node_runtime.h"

#include <chrono>
#include <utility>

namespace wal::sim {

namespace {
constexpr Site site_post = "node.post";
constexpr Site site_timer = "node.timer";
constexpr Site site_crash = "node.crash";
constexpr Site site_restart = "node.restart";
constexpr Site site_dropped_while_down = "node.dropped_while_down";
}  // namespace

NodeRuntime::NodeRuntime(Scheduler& scheduler, NodeIndex node, int64_t unix_epoch_ms)
    : scheduler_(scheduler), node_(node), unix_epoch_ms_(unix_epoch_ms) {
  WAL_ASSERT_GT(node, world_owner);  // owner 0 is the world, never a node
  WAL_ASSERT_LT(node, limits::owners_max);
  WAL_ASSERT_EQ(scheduler_.pending_owned_by(node), size_t{0});  // one runtime per node index
  scope_ = std::make_unique<Scope>(*this);
}

NodeRuntime::~NodeRuntime() {
  alive_ = false;
  // Same order as crash(): no event of this node may run against a destroyed runtime.
  scheduler_.cancel_owned_by(node_);
  scope_.reset();
  WAL_ASSERT_EQ(scheduler_.pending_owned_by(node_), size_t{0});
}

void NodeRuntime::post(std::function<void()> fn) {
  WAL_ASSERT(fn);
  if (!alive_) {
    scheduler_.trace().decision(site_dropped_while_down, node_, 0);
    return;
  }
  scheduler_.schedule_at(scheduler_.now(), node_, site_post, std::move(fn));
}

int64_t NodeRuntime::unix_time_ms() const {
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      scheduler_.now().time_since_epoch());
  return unix_epoch_ms_ + elapsed.count() + clock_offset_ms_;
}

TimerId NodeRuntime::call_at(TimePoint when, std::function<void()> fn) {
  WAL_ASSERT(fn);
  if (!alive_) {
    scheduler_.trace().decision(site_dropped_while_down, node_, 1);
    return no_event;  // cancel(no_event) is a no-op
  }
  const EventId event = scheduler_.schedule_at(when, node_, site_timer, std::move(fn));
  WAL_ASSERT_NE(event, no_event);
  return event;
}

void NodeRuntime::cancel(TimerId timer) {
  if (timer == no_event) return;
  // False for a timer that fired or died in a crash: both are no-ops by the Clock contract.
  const bool cancelled = scheduler_.cancel(timer);
  WAL_MAYBE(cancelled);
}

Scope& NodeRuntime::scope() {
  WAL_ASSERT(alive_);
  WAL_ASSERT(scope_ != nullptr);
  return *scope_;
}

void NodeRuntime::crash() {
  WAL_ASSERT(alive_);
  WAL_ASSERT_NE(scheduler_.current_owner(), node_);  // never from the node's own event
  alive_ = false;
  ++generation_;
  scheduler_.trace().decision(site_crash, node_, generation_);
  // Cancel first: the pending callbacks hold raw coroutine handles into frames the Scope is
  // about to destroy. Then destroy the frames; their destructors may cancel timers (no-ops now)
  // or post (dropped: the node is down).
  scheduler_.cancel_owned_by(node_);
  scope_.reset();
  WAL_ASSERT_EQ(scheduler_.pending_owned_by(node_), size_t{0});
}

void NodeRuntime::restart() {
  WAL_ASSERT(!alive_);
  WAL_ASSERT(scope_ == nullptr);
  scope_ = std::make_unique<Scope>(*this);
  alive_ = true;
  scheduler_.trace().decision(site_restart, node_, generation_);
}

}  // namespace wal::sim
