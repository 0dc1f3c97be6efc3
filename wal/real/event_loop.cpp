#include "wal/real/event_loop.h"

#include <chrono>

#include "wal/core/assert.h"

namespace wal {

EventLoop::EventLoop() = default;
EventLoop::~EventLoop() = default;

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    ready_.push_back(std::move(fn));
  }
  wake_.notify_one();
}

void EventLoop::post_each(size_t count, std::function<void(size_t index)> fn) {
  if (count == 0) return;
  post([count, fn = std::move(fn)] {
    for (size_t index = 0; index < count; ++index) fn(index);
  });
}

TimePoint EventLoop::now() const {
  return TimePoint(std::chrono::duration_cast<Duration>(
      std::chrono::steady_clock::now().time_since_epoch()));
}

int64_t EventLoop::unix_time_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TimerId EventLoop::call_at(TimePoint when, std::function<void()> fn) {
  const TimerId timer = next_timer_id_++;
  timers_.emplace(TimerKey{when, timer}, std::move(fn));
  timer_deadlines_.emplace(timer, when);
  return timer;
}

void EventLoop::cancel(TimerId timer) {
  const auto it = timer_deadlines_.find(timer);
  if (it == timer_deadlines_.end()) return;
  timers_.erase(TimerKey{it->second, timer});
  timer_deadlines_.erase(it);
}

void EventLoop::run_once() {
  // Due timers first (one batch), then everything already posted. Only a pass that ran nothing
  // may wait: a timer that just ran may have finished the task the caller is waiting for.
  const TimePoint current = now();
  bool ran_timer = false;
  while (!timers_.empty() && timers_.begin()->first.when <= current) {
    auto first = timers_.begin();
    std::function<void()> fn = std::move(first->second);
    timer_deadlines_.erase(first->first.id);
    timers_.erase(first);
    fn();
    ran_timer = true;
  }
  std::deque<std::function<void()>> batch;
  {
    std::unique_lock lock(mutex_);
    if (ready_.empty() && !stop_requested_ && !ran_timer) {
      if (timers_.empty()) {
        wake_.wait(lock, [&] { return !ready_.empty() || stop_requested_; });
      } else {
        const auto wait_for = timers_.begin()->first.when - now();
        if (wait_for > Duration::zero()) {
          wake_.wait_for(lock, wait_for, [&] { return !ready_.empty() || stop_requested_; });
        }
      }
    }
    batch.swap(ready_);
  }
  for (auto& fn : batch) fn();
}

void EventLoop::run_until_stopped() {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stop_requested_) {
        stop_requested_ = false;
        return;
      }
    }
    run_once();
  }
}

void EventLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_requested_ = true;
  }
  wake_.notify_all();
}

BlockingPool::BlockingPool(Executor& loop, size_t thread_count) : loop_(loop) {
  WAL_ASSERT(thread_count > 0);
  for (size_t i = 0; i < thread_count; ++i) threads_.emplace_back([this] { worker(); });
}

BlockingPool::~BlockingPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void BlockingPool::enqueue(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    WAL_ASSERT(!stopping_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void BlockingPool::worker() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace wal
