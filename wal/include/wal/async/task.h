#pragma once
// Task<T>: a lazy C++20 coroutine that produces a T.
//
//  - Lazy: nothing runs until the task is awaited (co_await) or handed to a Scope.
//  - Single owner, move-only; destroying a Task destroys its frame and, recursively, the frames
//    of every task it is awaiting. That is how a simulated crash drops all of a node's work.
//  - Completion resumes the awaiting coroutine by symmetric transfer (no stack growth).
//  - Exceptions are not part of the model: one escaping a task aborts the process.

#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <utility>

#include "wal/core/assert.h"

namespace wal {

template <typename T>
class Task;

namespace detail {

// A task finishing while its awaiter is still inside await_suspend (it completed synchronously)
// just returns there; the awaiter then continues without suspending. Only a task that finished
// later, resumed from the executor, hands control to its awaiter. This keeps the stack flat even
// where the compiler does not turn symmetric transfer into a tail call (GCC at -O0).
struct TaskFinalAwaiter {
  bool await_ready() noexcept { return false; }
  template <typename Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
    auto& promise = self.promise();
    if (promise.starting_inline || !promise.continuation) return std::noop_coroutine();
    return promise.continuation;
  }
  void await_resume() noexcept {}
};

struct TaskPromiseBase {
  std::coroutine_handle<> continuation;
  bool starting_inline = false;  // true while the awaiter's await_suspend runs this task
  std::suspend_always initial_suspend() noexcept { return {}; }
  TaskFinalAwaiter final_suspend() noexcept { return {}; }
  [[noreturn]] void unhandled_exception() noexcept {
    std::fputs("wal: exception escaped a Task; exceptions are not part of the model\n", stderr);
    std::abort();
  }
};

template <typename T>
struct TaskPromise : TaskPromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <typename U>
  void return_value(U&& result) {
    value.emplace(std::forward<U>(result));
  }
  T take() {
    WAL_ASSERT(value.has_value());
    return std::move(*value);
  }
};

template <>
struct TaskPromise<void> : TaskPromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() noexcept {}
};

}  // namespace detail

template <typename T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle handle) : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  [[nodiscard]] bool valid() const { return static_cast<bool>(handle_); }
  [[nodiscard]] bool done() const { return handle_ && handle_.done(); }

  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle handle;
      bool await_ready() noexcept { return false; }
      bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
        auto& promise = handle.promise();
        promise.continuation = awaiting;
        promise.starting_inline = true;
        handle.resume();
        promise.starting_inline = false;
        return !handle.done();  // finished already: continue the awaiter without suspending
      }
      T await_resume() { return handle.promise().take(); }
    };
    WAL_ASSERT(handle_);
    return Awaiter{handle_};
  }

  // For runners (Scope, ManualLoop::run): start or inspect the frame directly.
  [[nodiscard]] Handle handle() const { return handle_; }
  T take_result() {
    WAL_ASSERT(done());
    return handle_.promise().take();
  }

 private:
  void reset() {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  Handle handle_;
};

namespace detail {
template <typename T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace wal
