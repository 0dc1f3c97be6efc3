#pragma once
// ManualLoop: a deterministic, single-threaded executor and clock with virtual time, for unit
// tests. Posted callbacks run FIFO; when none are left, virtual time jumps to the earliest timer.
// The simulator (sim/) builds its scheduler the same way and adds per-node ownership, seeded
// choices and a trace hash.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <utility>

#include "wal/async/executor.h"
#include "wal/async/task.h"
#include "wal/core/assert.h"
#include "wal/env/clock.h"

namespace wal {

class ManualLoop final : public Executor, public Clock {
 public:
  // Virtual time starts at zero; unix_time_ms() reports `unix_epoch_ms` + elapsed.
  explicit ManualLoop(int64_t unix_epoch_ms = 1'767'225'600'000) : unix_epoch_ms_(unix_epoch_ms) {}

  void post(std::function<void()> fn) override { ready_.push_back(std::move(fn)); }
  [[nodiscard]] TimePoint now() const override { return now_; }
  [[nodiscard]] int64_t unix_time_ms() const override {
    return unix_epoch_ms_ +
           std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch()).count();
  }
  TimerId call_at(TimePoint when, std::function<void()> fn) override;
  void cancel(TimerId timer) override;

  // Runs one callback, advancing time to the next timer if nothing is ready. False when idle.
  bool run_one();
  // Runs until nothing is ready and no timer is pending, or `steps_max` callbacks ran.
  // Returns the number of callbacks run.
  uint64_t run_until_idle(uint64_t steps_max = 100'000'000);
  // Runs callbacks (but no timer later than `until`) and leaves now() == max(now(), until).
  void run_until(TimePoint until);
  void run_for(Duration duration) { run_until(now_ + duration); }
  // Runs until `done()` holds; aborts if the loop goes idle first or `steps_max` callbacks ran
  // (a periodic timer would otherwise keep run_until_idle() going forever).
  template <typename Predicate>
  void run_until_condition(Predicate done, uint64_t steps_max = 50'000'000) {
    for (uint64_t steps = 0; !done(); ++steps) {
      WAL_ASSERT_LT(steps, steps_max);
      const bool progressed = run_one();
      WAL_ASSERT(progressed);  // idle before the condition held: it never will
    }
  }

  // Starts `task` and runs the loop until it finishes; returns its result. Aborts if the loop
  // goes idle first (the task waits for something that can never happen: a deadlock).
  template <typename T>
  T run(Task<T> task) {
    WAL_ASSERT(task.valid());
    task.handle().resume();
    while (!task.done()) {
      const bool progressed = run_one();
      WAL_ASSERT(progressed);  // idle loop with an unfinished task: deadlock
    }
    return task.take_result();
  }

  [[nodiscard]] size_t pending_timer_count() const { return timers_.size(); }

 private:
  struct TimerKey {
    TimePoint when;
    TimerId id;
    auto operator<=>(const TimerKey&) const = default;
  };
  int64_t unix_epoch_ms_;
  TimePoint now_{};
  TimerId next_timer_id_ = 1;
  std::deque<std::function<void()>> ready_;
  std::map<TimerKey, std::function<void()>> timers_;
  std::map<TimerId, TimePoint> timer_deadlines_;
};

}  // namespace wal
