#pragma once
// Notify: wakes every coroutine waiting at the time notify_all() is called. For "something
// changed, look again" signals (buffer space freed, a block acknowledged). Waiters re-check their
// condition after waking; a notify with no waiter is not remembered.

#include <utility>
#include <vector>

#include "wal/async/completion.h"
#include "wal/async/task.h"

namespace wal {

class Notify {
 public:
  explicit Notify(Executor& executor) : executor_(executor) {}

  Task<void> wait() {
    Completion<bool> woken(executor_);
    waiters_.push_back(woken);
    (void)co_await woken.wait();
  }

  void notify_all() {
    std::vector<Completion<bool>> waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& waiter : waiters) waiter.set(true);
  }

  [[nodiscard]] size_t waiter_count() const { return waiters_.size(); }

 private:
  Executor& executor_;
  std::vector<Completion<bool>> waiters_;
};

}  // namespace wal
