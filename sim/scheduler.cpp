#include "sim/scheduler.h"

#include <algorithm>
#include <utility>

namespace wal::sim {

namespace {
constexpr Site site_cancel_owned = "sched.cancel_owned_by";

// Heap entries of cancelled events stay until they surface. Rebuild once they outnumber live
// ones by this much, so a workload that arms and cancels many deadline timers keeps the heap
// (and each push/pop) proportional to what is really pending.
constexpr size_t stale_entries_slack = 4096;
}  // namespace

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::predicate_false: return "predicate_false";
    case StopReason::reached_time: return "reached_time";
    case StopReason::idle: return "idle";
    case StopReason::time_max: return "time_max";
    case StopReason::steps_max: return "steps_max";
  }
  WAL_UNREACHABLE();
}

uint32_t& Scheduler::epoch_of(OwnerId owner) {
  WAL_ASSERT_LT(owner, limits::owners_max);
  if (owner >= owner_epochs_.size()) owner_epochs_.resize(size_t{owner} + 1, 0);
  return owner_epochs_[owner];
}

uint32_t Scheduler::owner_epoch(OwnerId owner) const {
  return owner < owner_epochs_.size() ? owner_epochs_[owner] : 0;
}

uint32_t Scheduler::allocate_slot() {
  if (!free_slots_.empty()) {
    const uint32_t slot_index = free_slots_.back();
    free_slots_.pop_back();
    WAL_ASSERT(!slots_[slot_index].live);
    return slot_index;
  }
  WAL_ASSERT_LT(slots_.size(), size_t{UINT32_MAX});
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

// Frees the slot first and hands back the callback, so that whatever its destructor or its run
// does to the scheduler (cancel, schedule) sees a consistent state.
std::function<void()> Scheduler::release_slot(uint32_t slot_index) {
  Slot& slot = slots_[slot_index];
  WAL_ASSERT(slot.live);
  WAL_ASSERT_GT(live_count_, size_t{0});
  slot.live = false;
  ++slot.generation;
  if (slot.generation == 0) slot.generation = 1;  // 0 would make EventId 0 (no_event) possible
  --live_count_;
  free_slots_.push_back(slot_index);
  return std::move(slot.fn);
}

EventId Scheduler::schedule_at(TimePoint when, OwnerId owner, Site site,
                               std::function<void()> fn) {
  WAL_ASSERT(fn);
  WAL_ASSERT_LT(owner, limits::owners_max);
  const TimePoint due = when < now_ ? now_ : when;
  const uint32_t epoch = epoch_of(owner);
  const uint32_t slot_index = allocate_slot();
  Slot& slot = slots_[slot_index];
  slot.fn = std::move(fn);
  slot.when = due;
  slot.sequence = next_sequence_++;
  slot.site = site;
  slot.owner = owner;
  slot.owner_epoch = epoch;
  slot.live = true;
  ++live_count_;
  heap_.push_back(HeapEntry{due, slot.sequence, slot_index});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  trace_.on_schedule(now_, due, owner, site);
  const EventId event = (static_cast<uint64_t>(slot.generation) << 32) | slot_index;
  WAL_ASSERT_NE(event, no_event);
  return event;
}

bool Scheduler::cancel(EventId event) {
  const uint64_t slot_index = event & 0xffff'ffffULL;
  const uint64_t generation = event >> 32;
  if (slot_index >= slots_.size()) return false;
  Slot& slot = slots_[slot_index];
  if (!slot.live || slot.generation != generation) return false;
  trace_.on_cancel(now_, slot.owner, slot.site, slot.sequence);
  std::function<void()> fn = release_slot(static_cast<uint32_t>(slot_index));
  compact_heap_if_stale();
  return true;  // `fn` is destroyed here, after the scheduler is consistent again
}

uint64_t Scheduler::cancel_owned_by(OwnerId owner) {
  WAL_ASSERT_LT(owner, limits::owners_max);
  ++epoch_of(owner);
  std::vector<std::pair<uint64_t, uint32_t>> doomed;  // (sequence, slot): destroy in order
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].live && slots_[i].owner == owner) doomed.emplace_back(slots_[i].sequence, i);
  }
  std::sort(doomed.begin(), doomed.end());
  std::vector<std::function<void()>> callbacks;
  callbacks.reserve(doomed.size());
  for (const auto& [sequence, slot_index] : doomed) {
    callbacks.push_back(release_slot(slot_index));
  }
  trace_.on_cancel(now_, owner, site_cancel_owned, doomed.size());
  // Destroy in sequence order, after every slot is free: destructors may cancel or schedule.
  for (std::function<void()>& fn : callbacks) fn = nullptr;
  compact_heap_if_stale();
  WAL_ASSERT_EQ(pending_owned_by(owner), size_t{0});
  return doomed.size();
}

bool Scheduler::entry_is_live(const HeapEntry& entry) const {
  const Slot& slot = slots_[entry.slot_index];
  return slot.live && slot.sequence == entry.sequence;
}

void Scheduler::drop_stale_top() {
  while (!heap_.empty() && !entry_is_live(heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
}

void Scheduler::compact_heap_if_stale() {
  WAL_ASSERT_GE(heap_.size(), live_count_);
  if (heap_.size() - live_count_ <= live_count_ + stale_entries_slack) return;
  std::erase_if(heap_, [this](const HeapEntry& entry) { return !entry_is_live(entry); });
  std::make_heap(heap_.begin(), heap_.end(), Later{});
  WAL_ASSERT_EQ(heap_.size(), live_count_);
}

std::optional<TimePoint> Scheduler::next_event_time() {
  drop_stale_top();
  if (heap_.empty()) return std::nullopt;
  WAL_ASSERT(heap_.front().when >= now_);
  return heap_.front().when;
}

bool Scheduler::step() {
  WAL_ASSERT(!running_);  // an event must not drive the scheduler
  drop_stale_top();
  if (heap_.empty()) {
    WAL_ASSERT_EQ(live_count_, size_t{0});
    return false;
  }
  const HeapEntry entry = heap_.front();
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  heap_.pop_back();
  const Slot& slot = slots_[entry.slot_index];
  WAL_ASSERT(entry.when >= now_);
  // A crashed owner's events were all removed by cancel_owned_by; one surviving would be a
  // callback of a dead generation.
  WAL_ASSERT_EQ(slot.owner_epoch, owner_epoch(slot.owner));
  now_ = entry.when;
  const OwnerId owner = slot.owner;
  const Site site = slot.site;
  std::function<void()> fn = release_slot(entry.slot_index);
  ++steps_total_;
  trace_.on_run(steps_total_, now_, owner, site, entry.sequence);
  current_owner_ = owner;
  running_ = true;
  fn();
  running_ = false;
  current_owner_ = world_owner;
  return true;
}

RunReport Scheduler::run_until(TimePoint until, uint64_t steps_max) {
  WAL_ASSERT(!running_);
  RunReport report;
  while (true) {
    const std::optional<TimePoint> next = next_event_time();
    if (!next || *next > until) break;
    if (report.steps >= steps_max) {
      report.reason = StopReason::steps_max;
      report.now = now_;
      return report;
    }
    const bool ran = step();
    WAL_ASSERT(ran);
    ++report.steps;
  }
  if (now_ < until) {
    now_ = until;
    trace_.on_time(now_);
  }
  report.reason = StopReason::reached_time;
  report.now = now_;
  return report;
}

RunReport Scheduler::run_while(const std::function<bool()>& predicate, TimePoint time_max,
                               uint64_t steps_max) {
  WAL_ASSERT(!running_);
  WAL_ASSERT(predicate);
  RunReport report;
  while (true) {
    if (!predicate()) {
      report.reason = StopReason::predicate_false;
      break;
    }
    const std::optional<TimePoint> next = next_event_time();
    if (!next) {
      report.reason = StopReason::idle;
      break;
    }
    if (*next > time_max) {
      report.reason = StopReason::time_max;
      break;
    }
    if (report.steps >= steps_max) {
      report.reason = StopReason::steps_max;
      break;
    }
    const bool ran = step();
    WAL_ASSERT(ran);
    ++report.steps;
  }
  report.now = now_;
  return report;
}

size_t Scheduler::pending_owned_by(OwnerId owner) const {
  size_t count = 0;
  for (const Slot& slot : slots_) {
    if (slot.live && slot.owner == owner) ++count;
  }
  WAL_ASSERT_LE(count, live_count_);
  return count;
}

}  // namespace wal::sim
