#pragma once
// EventLoop: the production Executor and Clock. WAL logic runs on the one thread that calls
// run(); other threads (the BlockingPool, gRPC, libcurl) hand results back with post(), which is
// thread-safe. Timers use std::chrono::steady_clock; unix_time_ms() uses the system clock.
//
// BlockingPool: a few threads for blocking system calls (file I/O, fsync, SQLite). run_blocking()
// executes a function there and resumes the awaiting coroutine back on the loop thread, so WAL
// code never blocks the loop and never runs on a pool thread.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "wal/async/completion.h"
#include "wal/async/executor.h"
#include "wal/async/task.h"
#include "wal/env/clock.h"

namespace wal {

class EventLoop final : public Executor, public Clock {
 public:
  EventLoop();
  ~EventLoop() override;

  void post(std::function<void()> fn) override;  // any thread
  // One callback that runs fn(0..count-1) in order. That is an order `count` posts could also
  // produce: a post from another thread lands before or after the batch, as it could have.
  void post_each(size_t count, std::function<void(size_t index)> fn) override;  // any thread
  [[nodiscard]] TimePoint now() const override;
  [[nodiscard]] int64_t unix_time_ms() const override;
  TimerId call_at(TimePoint when, std::function<void()> fn) override;  // loop thread only
  void cancel(TimerId timer) override;                                  // loop thread only

  // Runs the loop on the calling thread until `task` finishes; returns its result.
  template <typename T>
  T run(Task<T> task) {
    task.handle().resume();
    while (!task.done()) run_once();
    return task.take_result();
  }
  // Runs the loop until stop() is called (from any thread).
  void run_until_stopped();
  void stop();

 private:
  void run_once();  // runs due timers and ready callbacks, or waits for one
  struct TimerKey {
    TimePoint when;
    TimerId id;
    auto operator<=>(const TimerKey&) const = default;
  };
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> ready_;  // guarded by mutex_
  bool stop_requested_ = false;              // guarded by mutex_
  // Loop-thread only:
  TimerId next_timer_id_ = 1;
  std::map<TimerKey, std::function<void()>> timers_;
  std::map<TimerId, TimePoint> timer_deadlines_;
};

class BlockingPool {
 public:
  BlockingPool(Executor& loop, size_t thread_count);
  ~BlockingPool();  // finishes queued jobs, then joins
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Runs `fn` on a pool thread; the result is delivered on the loop thread.
  template <typename F, typename R = std::invoke_result_t<F>>
  Task<R> run(F fn) {
    Completion<R> done(loop_);
    enqueue([this, fn = std::move(fn), done]() mutable {
      R result = fn();
      loop_.post([done, result = std::move(result)]() mutable { done.set(std::move(result)); });
    });
    co_return co_await done.wait();
  }

 private:
  void enqueue(std::function<void()> job);
  void worker();
  Executor& loop_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wal
