#pragma once
// Shared harness for the contract suites. A contract suite is written once and run against every
// implementation of an interface: each implementation contributes a factory that builds it on a
// Harness (an executor + clock + a way to let time pass). Deterministic implementations run on a
// ManualLoop (time jumps); real ones on the production EventLoop (time really passes, so tests
// that need time to pass, such as lease expiry, wait for real).

#include <memory>
#include <optional>
#include <string>

#include "wal/async/sleep.h"
#include "wal/async/task.h"
#include "wal/mem/manual_loop.h"
#include "tests/support/temp_dir.h"
#include "wal/real/event_loop.h"

namespace wal::contract {

class Harness {
 public:
  virtual ~Harness() = default;
  virtual Executor& executor() = 0;
  virtual Clock& clock() = 0;
  // Runs `task` to completion on the harness's loop.
  virtual void run_task(Task<void> task) = 0;
  // Lets `duration` of the harness's time pass while the loop keeps running.
  void advance(Duration duration) {
    run_task([](Clock& clock, Duration d) -> Task<void> { co_await sleep_for(clock, d); }(
        clock(), duration));
  }
  template <typename T>
  T run(Task<T> task) {
    std::optional<T> result;
    run_task([](Task<T> inner, std::optional<T>& out) -> Task<void> {
      out.emplace(co_await std::move(inner));
    }(std::move(task), result));
    return std::move(*result);
  }
};

class ManualHarness final : public Harness {
 public:
  Executor& executor() override { return loop_; }
  Clock& clock() override { return loop_; }
  void run_task(Task<void> task) override { loop_.run(std::move(task)); }
  ManualLoop& loop() { return loop_; }

 private:
  ManualLoop loop_;
};

class RealHarness final : public Harness {
 public:
  Executor& executor() override { return loop_; }
  Clock& clock() override { return loop_; }
  void run_task(Task<void> task) override { loop_.run(std::move(task)); }
  EventLoop& loop() { return loop_; }

 private:
  EventLoop loop_;
};

// A fresh, empty directory for the real implementations' data (tests/support/temp_dir.h).
using testing::TempDir;

}  // namespace wal::contract
