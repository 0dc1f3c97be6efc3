#include "wal/mem/manual_loop.h"

namespace wal {

TimerId ManualLoop::call_at(TimePoint when, std::function<void()> fn) {
  const TimerId timer = next_timer_id_++;
  // A timer already due still runs on a later turn, never inside call_at.
  const TimePoint due = when < now_ ? now_ : when;
  timers_.emplace(TimerKey{due, timer}, std::move(fn));
  timer_deadlines_.emplace(timer, due);
  return timer;
}

void ManualLoop::cancel(TimerId timer) {
  const auto it = timer_deadlines_.find(timer);
  if (it == timer_deadlines_.end()) return;
  timers_.erase(TimerKey{it->second, timer});
  timer_deadlines_.erase(it);
}

bool ManualLoop::run_one() {
  if (ready_.empty()) {
    if (timers_.empty()) return false;
    auto first = timers_.begin();
    WAL_ASSERT(first->first.when >= now_);
    now_ = first->first.when;
    std::function<void()> fn = std::move(first->second);
    timer_deadlines_.erase(first->first.id);
    timers_.erase(first);
    fn();
    return true;
  }
  std::function<void()> fn = std::move(ready_.front());
  ready_.pop_front();
  fn();
  return true;
}

uint64_t ManualLoop::run_until_idle(uint64_t steps_max) {
  uint64_t steps = 0;
  while (steps < steps_max && run_one()) ++steps;
  return steps;
}

void ManualLoop::run_until(TimePoint until) {
  while (true) {
    if (!ready_.empty()) {
      run_one();
      continue;
    }
    if (timers_.empty() || timers_.begin()->first.when > until) break;
    run_one();
  }
  if (now_ < until) now_ = until;
}

}  // namespace wal
