#pragma once
// Channel<T>: an unbounded FIFO from any number of producers to one consuming coroutine, all on
// one executor. Bounded queues put their limit in the producer (see the callers' *_max limits).
//
//  - push() never blocks; after close() it drops the item and returns false.
//  - next() waits for an item; it returns std::nullopt once the channel is closed and drained.
//  - Destroying a waiting consumer's frame unregisters it.

#include <coroutine>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "wal/async/executor.h"
#include "wal/core/assert.h"

namespace wal {

template <typename T>
class Channel {
  struct State {
    explicit State(Executor& e) : executor(e) {}
    Executor& executor;
    std::deque<T> items;
    bool closed = false;
    std::coroutine_handle<> waiter;
    bool wake_posted = false;
  };

 public:
  explicit Channel(Executor& executor) : state_(std::make_shared<State>(executor)) {}

  bool push(T item) {
    if (state_->closed) return false;
    state_->items.push_back(std::move(item));
    wake();
    return true;
  }
  void close() {
    state_->closed = true;
    wake();
  }
  [[nodiscard]] bool closed() const { return state_->closed; }
  [[nodiscard]] size_t size() const { return state_->items.size(); }
  std::optional<T> try_pop() {
    if (state_->items.empty()) return std::nullopt;
    T item = std::move(state_->items.front());
    state_->items.pop_front();
    return item;
  }

  auto next() {
    struct Awaiter {
      std::shared_ptr<State> state;
      std::coroutine_handle<> self;
      bool await_ready() const noexcept { return !state->items.empty() || state->closed; }
      void await_suspend(std::coroutine_handle<> handle) {
        WAL_ASSERT(!state->waiter);  // single consumer
        self = handle;
        state->waiter = handle;
      }
      std::optional<T> await_resume() {
        self = {};
        if (state->items.empty()) return std::nullopt;
        T item = std::move(state->items.front());
        state->items.pop_front();
        return item;
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
  void wake() {
    if (!state_->waiter || state_->wake_posted) return;
    state_->wake_posted = true;
    state_->executor.post([state = state_] {
      state->wake_posted = false;
      std::coroutine_handle<> waiter = std::exchange(state->waiter, {});
      if (waiter) waiter.resume();
    });
  }
  std::shared_ptr<State> state_;
};

}  // namespace wal
