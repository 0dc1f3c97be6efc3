#pragma once
// Timers as awaitables, and deadlines.
//
//   co_await sleep_for(clock, 10ms);               // resumes on the clock's executor
//   Status s = co_await sleep_until(clock, t, tok); // Errc::cancelled if `tok` fires first
//   auto r = co_await with_deadline(scope, clock, deadline, std::move(task), "put block 7");
//
// with_deadline races `task` against `deadline`. If the deadline wins it returns
// Errc::timeout with Outcome::unknown and the task keeps running inside `scope` until it ends
// (its result is dropped): exactly the situation of a request that has left the node and may
// still take effect. Callers settle that by reading, never by assuming.

#include <memory>
#include <optional>
#include <string>

#include "wal/async/cancel.h"
#include "wal/async/completion.h"
#include "wal/async/scope.h"
#include "wal/async/task.h"
#include "wal/core/result.h"
#include "wal/env/clock.h"

namespace wal {

// An awaitable that resumes at `when`. Destroying the waiting frame cancels the timer.
class SleepAwaiter {
 public:
  SleepAwaiter(Clock& clock, TimePoint when) : clock_(clock), when_(when) {}
  SleepAwaiter(const SleepAwaiter&) = delete;
  SleepAwaiter& operator=(const SleepAwaiter&) = delete;
  ~SleepAwaiter();
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle);
  void await_resume() noexcept { timer_armed_ = false; }

 private:
  Clock& clock_;
  TimePoint when_;
  TimerId timer_ = 0;
  bool timer_armed_ = false;
};

[[nodiscard]] inline SleepAwaiter sleep_until(Clock& clock, TimePoint when) {
  return SleepAwaiter(clock, when);
}
[[nodiscard]] inline SleepAwaiter sleep_for(Clock& clock, Duration duration) {
  return SleepAwaiter(clock, clock.now() + duration);
}

// Sleeps until `when` or until `token` is cancelled (then Errc::cancelled).
Task<Status> sleep_until(Executor& executor, Clock& clock, TimePoint when,
                         CancellationToken token);

template <typename T>
Task<Result<T>> with_deadline(Scope& scope, Clock& clock, TimePoint deadline,
                              Task<Result<T>> task, std::string what) {
  Completion<Result<T>> done(scope.executor());
  scope.spawn([](Task<Result<T>> inner, Completion<Result<T>> sink) -> Task<void> {
    Result<T> result = co_await std::move(inner);
    sink.set(std::move(result));
  }(std::move(task), done));
  const TimerId timer = clock.call_at(deadline, [done, what]() mutable {
    done.set(make_unknown(Errc::timeout, "deadline passed: " + what));
  });
  Result<T> result = co_await done.wait();
  clock.cancel(timer);
  co_return result;
}

}  // namespace wal
