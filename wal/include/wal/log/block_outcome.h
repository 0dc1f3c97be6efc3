#pragma once
// BlockOutcome: what the appends of one block wait for. A block's entries are acknowledged or
// failed together, so they share one state: entry `index` completes with first_entry_id + index,
// or with the block's error. One allocation per block instead of one Completion per entry,
// which at 1 KiB entries is 4,000 allocations per block, and a burst of as many frees when the
// block is acknowledged (bench/README.md, allocator churn).
//
//  - settle() stores the outcome and resumes the entries' waiters from one Executor::post_each,
//    in index order (one post per waiting entry where the executor does not batch). A second
//    settle() is ignored and returns false.
//  - wait(index): at most one waiter per entry. If the waiting frame is destroyed first (a
//    crash, a destroyed Scope), it unregisters itself and settle() resumes nothing for it.
//  - Copies share one state. All calls on the executor's thread.

#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "wal/async/executor.h"
#include "wal/core/assert.h"
#include "wal/core/result.h"

namespace wal {

class BlockOutcome {
  struct State {
    State(Executor& e, uint64_t first) : executor(e), first_entry_id(first) {}
    Executor& executor;
    uint64_t first_entry_id;
    bool settled = false;
    std::optional<Error> error;                  // when settled with a failure
    std::vector<std::coroutine_handle<>> waiters;  // one slot per entry; empty: not waiting
  };

 public:
  BlockOutcome(Executor& executor, uint64_t first_entry_id)
      : state_(std::make_shared<State>(executor, first_entry_id)) {}

  [[nodiscard]] uint64_t first_entry_id() const { return state_->first_entry_id; }
  [[nodiscard]] uint32_t entry_count() const {
    return static_cast<uint32_t>(state_->waiters.size());
  }
  [[nodiscard]] bool is_settled() const { return state_->settled; }

  // Adds the next entry; returns its index. Precondition: not settled.
  uint32_t add_entry() {
    WAL_ASSERT(!state_->settled);
    state_->waiters.emplace_back();
    return entry_count() - 1;
  }

  // Every entry succeeds (with its id) or fails with `error`. False if already settled.
  bool settle(std::optional<Error> error) {
    State& state = *state_;
    if (state.settled) return false;
    state.settled = true;
    state.error = std::move(error);
    std::vector<uint32_t> waiting;
    for (uint32_t index = 0; index < state.waiters.size(); ++index) {
      if (state.waiters[index]) waiting.push_back(index);
    }
    if (waiting.empty()) return true;
    const size_t waiting_count = waiting.size();  // read before the lambda takes the vector
    state.executor.post_each(waiting_count, [shared = state_, waiting = std::move(waiting)](
                                                size_t k) {
      // The frame may have died since settle(); then its slot was cleared.
      std::coroutine_handle<> waiter = std::exchange(shared->waiters[waiting[k]], {});
      if (waiter) waiter.resume();
    });
    return true;
  }

  // The outcome of entry `index` (precondition: settled).
  [[nodiscard]] Result<uint64_t> result(uint32_t index) const {
    WAL_ASSERT(state_->settled);
    WAL_ASSERT_LT(index, entry_count());
    if (state_->error) return *state_->error;
    return state_->first_entry_id + index;
  }

  auto wait(uint32_t index) {
    struct Awaiter {
      std::shared_ptr<State> state;
      uint32_t index;
      std::coroutine_handle<> self;
      bool await_ready() const noexcept { return state->settled; }
      void await_suspend(std::coroutine_handle<> handle) {
        WAL_ASSERT(!state->waiters[index]);  // one waiter per entry
        self = handle;
        state->waiters[index] = handle;
      }
      Result<uint64_t> await_resume() {
        self = {};
        return BlockOutcome(state).result(index);
      }
      Awaiter(std::shared_ptr<State> s, uint32_t i) : state(std::move(s)), index(i) {}
      Awaiter(Awaiter&& other) noexcept
          : state(std::move(other.state)), index(other.index), self(std::exchange(other.self, {})) {}
      Awaiter(const Awaiter&) = delete;
      ~Awaiter() {
        if (state && self && state->waiters[index] == self) state->waiters[index] = {};
      }
    };
    WAL_ASSERT_LT(index, entry_count());
    return Awaiter{state_, index};
  }

 private:
  explicit BlockOutcome(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace wal
