#pragma once
// Completion<T>: a one-shot value handed from a callback (a timer, an I/O pool, a simulated
// service) to at most one waiting coroutine.
//
//  - set() stores the value and, if a coroutine waits, resumes it on a later executor turn.
//    set() must be called on the executor's thread (real adapters post there first).
//    A second set() is ignored and returns false, so racing producers (timeout vs reply) are safe.
//  - wait() returns an awaitable; if the waiting frame is destroyed first (a crash, a destroyed
//    Scope), the awaitable unregisters itself and a later set() resumes nothing.
//  - Copies share one state, so a producer keeps a copy after handing one to the waiter.
//  - set_without_resume() + resume_waiter() split set() in two, so a producer that completes
//    many at once can resume them all from one executor callback (Executor::post_each).

#include <coroutine>
#include <memory>
#include <optional>
#include <utility>

#include "wal/async/executor.h"
#include "wal/core/assert.h"

namespace wal {

template <typename T>
class Completion {
  struct State {
    explicit State(Executor& e) : executor(e) {}
    Executor& executor;
    std::optional<T> value;
    std::coroutine_handle<> waiter;
  };

 public:
  explicit Completion(Executor& executor) : state_(std::make_shared<State>(executor)) {}

  [[nodiscard]] bool is_set() const { return state_->value.has_value(); }

  bool set(T value) {
    if (state_->value.has_value()) return false;
    state_->value.emplace(std::move(value));
    if (state_->waiter) {
      state_->executor.post([state = state_] {
        std::coroutine_handle<> waiter = std::exchange(state->waiter, {});
        if (waiter) waiter.resume();
      });
    }
    return true;
  }

  // Stores the value as set() does but resumes nothing. True when a coroutine waits: the caller
  // must then call resume_waiter() from a later executor callback (never from inside this one's
  // caller, which may be the waiter's own stack). False when the value was already set (the new
  // one is ignored) or nobody waits yet (a later wait() finds the value without suspending).
  [[nodiscard]] bool set_without_resume(T value) {
    if (state_->value.has_value()) return false;
    state_->value.emplace(std::move(value));
    return static_cast<bool>(state_->waiter);
  }

  // Resumes the coroutine waiting for the value, if it still waits (its frame may have been
  // destroyed since: then it unregistered itself and nothing runs). Precondition: set.
  void resume_waiter() {
    WAL_ASSERT(state_->value.has_value());
    std::coroutine_handle<> waiter = std::exchange(state_->waiter, {});
    if (waiter) waiter.resume();
  }

  auto wait() {
    struct Awaiter {
      std::shared_ptr<State> state;
      std::coroutine_handle<> self;
      bool await_ready() const noexcept { return state->value.has_value(); }
      void await_suspend(std::coroutine_handle<> handle) {
        WAL_ASSERT(!state->waiter);  // one waiter at a time
        self = handle;
        state->waiter = handle;
      }
      T await_resume() {
        WAL_ASSERT(state->value.has_value());
        self = {};
        return std::move(*state->value);
      }
      Awaiter(std::shared_ptr<State> s) : state(std::move(s)) {}  // NOLINT: implicit
      Awaiter(Awaiter&& other) noexcept
          : state(std::move(other.state)), self(std::exchange(other.self, {})) {}
      Awaiter(const Awaiter&) = delete;
      ~Awaiter() {
        if (state && self && state->waiter == self) state->waiter = {};
      }
    };
    return Awaiter{state_};
  }

 private:
  std::shared_ptr<State> state_;
};

}  // namespace wal
