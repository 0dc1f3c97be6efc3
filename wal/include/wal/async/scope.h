#pragma once
// Scope: owns tasks that run concurrently with their spawner ("detached" work: background
// flushes, RPC handlers, fan-out requests). Every node owns one Scope.
//
//  - spawn() starts the task on the next executor turn, never inside spawn().
//  - A finished task frees its frame at once.
//  - Destroying the Scope destroys every task still running, with everything those tasks were
//    awaiting; pending completions then find no waiter and do nothing. This is exactly what a
//    crash must do to a node's memory. It must not be destroyed from inside one of its tasks.

#include <coroutine>
#include <cstdint>
#include <map>
#include <memory>

#include "wal/async/executor.h"
#include "wal/async/task.h"

namespace wal {

class Scope {
 public:
  explicit Scope(Executor& executor);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  void spawn(Task<void> task);
  [[nodiscard]] size_t running_count() const { return running_.size(); }
  [[nodiscard]] Executor& executor() const { return executor_; }

  // Internal: called by a root frame as it finishes.
  void on_root_done(uint64_t task_id);

 private:
  Executor& executor_;
  uint64_t next_task_id_ = 0;
  // Ordered by spawn order so destruction order is deterministic.
  std::map<uint64_t, std::coroutine_handle<>> running_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool destroying_ = false;
};

}  // namespace wal
