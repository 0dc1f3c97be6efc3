#pragma once
// Scheduler: the one event queue of a simulation run. Single-threaded; everything it does is a
// function of what was scheduled, so a run is a function of its seed.
//
//  - Virtual time (wal::TimePoint) starts at 0 and jumps to the next event; nothing waits.
//  - Events run in (time, sequence) order; the sequence number is the order of schedule_at
//    calls, so events due at one instant run first-scheduled first (the Executor's FIFO and the
//    Clock's "same instant: creation order" both follow).
//  - Every event has an owner: 0 is the world (fault injector, network in flight, checkers),
//    n >= 1 is node n. cancel_owned_by(n) removes every pending event of node n, which is how a
//    crash kills a node's timers and posted callbacks (NodeRuntime::crash).
//  - Every event has a Site naming where it came from, for the trace.
//  - Runs are bounded: run_until and run_while take step and time maxima and report why they
//    stopped; nothing here loops without a bound.
//  - Every schedule, cancel and run is mixed into the Trace (sim/trace.h).
//
// Re-entrancy: an event may schedule and cancel events (including itself: a no-op). Destroying a
// cancelled callback may run destructors that cancel further events; that is safe. Events must
// not call step()/run_* themselves.
// Cost per event: one std::function (which allocates only if its captures exceed its small
// buffer), a slot reused from a free list and a heap entry; no other allocation.

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "sim/trace.h"
#include "wal/core/assert.h"
#include "wal/env/clock.h"

namespace wal::sim {

using OwnerId = uint32_t;
using NodeIndex = OwnerId;  // nodes are owners 1..n; the world is 0
inline constexpr OwnerId world_owner = 0;

// Opaque and never 0: (slot generation << 32) | slot index, so a stale id (the event ran or was
// cancelled, and its slot was reused) is recognised and ignored.
using EventId = uint64_t;
inline constexpr EventId no_event = 0;

namespace limits {
// A generous default budget: ~10^8 events is minutes of wall time; a run that needs more sets
// its own. Its job is to turn a livelock (events re-posting themselves forever) into a report.
inline constexpr uint64_t scheduler_steps_max_default = 100'000'000;
// Nodes per run. Owners index a small table; 4096 is far above any cluster we simulate.
inline constexpr OwnerId owners_max = 4096;
}  // namespace limits

enum class StopReason : uint8_t {
  predicate_false,  // run_while: the predicate returned false
  reached_time,     // run_until: every event up to the target time ran
  idle,             // run_while: no event left
  time_max,         // run_while: the next event lies beyond time_max
  steps_max,        // either: the step budget ran out (a livelock if unexpected)
};
[[nodiscard]] std::string_view stop_reason_name(StopReason reason);

struct RunReport {
  StopReason reason = StopReason::idle;
  uint64_t steps = 0;  // events run by this call
  TimePoint now{};     // virtual time when it stopped
};

class Scheduler {
 public:
  explicit Scheduler(Trace& trace) : trace_(trace) {}
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  [[nodiscard]] TimePoint now() const { return now_; }
  [[nodiscard]] Trace& trace() { return trace_; }

  // Schedules `fn` to run at `when` (a time in the past means now: it still runs later, never
  // inside this call). Returns its id for cancel().
  EventId schedule_at(TimePoint when, OwnerId owner, Site site, std::function<void()> fn);
  EventId schedule_after(Duration delay, OwnerId owner, Site site, std::function<void()> fn) {
    WAL_ASSERT(delay >= Duration::zero());
    return schedule_at(now_ + delay, owner, site, std::move(fn));
  }

  // Removes a pending event; false (and nothing happens) if it already ran, was cancelled or is
  // unknown.
  bool cancel(EventId event);
  // Removes every pending event of `owner`, destroying the callbacks in sequence order; returns
  // how many. Those destructors must not schedule new events for `owner` (asserted): a crash
  // leaves nothing of the node behind.
  uint64_t cancel_owned_by(OwnerId owner);

  // Runs the next event (advancing time to it). False if nothing is pending.
  bool step();
  // Runs every event due at or before `until`, then sets now() to max(now(), until); stops
  // early with steps_max after `steps_max` events.
  RunReport run_until(TimePoint until,
                      uint64_t steps_max = limits::scheduler_steps_max_default);
  // Runs events while `predicate()` holds (checked before each event), the next event is due
  // at or before `time_max`, and fewer than `steps_max` ran. Does not advance time by itself.
  RunReport run_while(const std::function<bool()>& predicate, TimePoint time_max,
                      uint64_t steps_max = limits::scheduler_steps_max_default);

  [[nodiscard]] size_t pending_count() const { return live_count_; }
  [[nodiscard]] size_t pending_owned_by(OwnerId owner) const;  // O(pending); for checks
  [[nodiscard]] std::optional<TimePoint> next_event_time();
  [[nodiscard]] uint64_t steps_total() const { return steps_total_; }
  // Owner of the event being run; world_owner between events.
  [[nodiscard]] OwnerId current_owner() const { return current_owner_; }
  // How often cancel_owned_by(owner) was called: events scheduled before the last call carry
  // an older epoch and are never run (checked on every step).
  [[nodiscard]] uint32_t owner_epoch(OwnerId owner) const;

 private:
  struct Slot {
    std::function<void()> fn;
    TimePoint when{};
    uint64_t sequence = 0;
    Site site = "?";
    OwnerId owner = world_owner;
    uint32_t generation = 1;  // bumped on every free, so stale EventIds never match
    uint32_t owner_epoch = 0;
    bool live = false;
  };
  struct HeapEntry {
    TimePoint when;
    uint64_t sequence;
    uint32_t slot_index;
  };
  // std heap functions build a max-heap; "later" as less-than puts the earliest on top.
  struct Later {
    bool operator()(const HeapEntry& a, const HeapEntry& b) const {
      if (a.when != b.when) return a.when > b.when;
      return a.sequence > b.sequence;
    }
  };

  uint32_t allocate_slot();
  std::function<void()> release_slot(uint32_t slot_index);
  bool entry_is_live(const HeapEntry& entry) const;
  void drop_stale_top();
  void compact_heap_if_stale();
  uint32_t& epoch_of(OwnerId owner);

  Trace& trace_;
  TimePoint now_{};
  uint64_t next_sequence_ = 0;
  uint64_t steps_total_ = 0;
  size_t live_count_ = 0;
  OwnerId current_owner_ = world_owner;
  bool running_ = false;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<HeapEntry> heap_;
  std::vector<uint32_t> owner_epochs_;
};

}  // namespace wal::sim
