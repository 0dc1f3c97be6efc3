#pragma once
// Executor: where WAL code runs. All WAL logic for one node runs on one executor, one callback at
// a time, so WAL code needs no locks. Production: the event-loop thread (wal/real/event_loop.h).
// Simulation: the deterministic scheduler (sim/). Unit tests: ManualLoop (wal/mem/manual_loop.h).

#include <cstddef>
#include <functional>
#include <memory>

namespace wal {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `fn` later on the executor's thread, after every callback posted before it (FIFO).
  // Never runs `fn` inside post(). Thread-safety is the implementation's: the real event loop
  // accepts posts from any thread; the simulator and ManualLoop from their own thread only.
  virtual void post(std::function<void()> fn) = 0;

  // Runs fn(0), fn(1), ..., fn(count - 1) later, in that order, exactly as `count` calls of
  // post() made now would: after every callback posted before, before every one posted after.
  // The default makes those `count` posts, so the simulator and ManualLoop keep one event per
  // call (their traces and step counts do not change). The real event loop overrides it with a
  // single callback: waking the 4,000 appenders of one acknowledged block then costs one queue
  // entry and one lock instead of 4,000 (bench/README.md, fix A).
  virtual void post_each(size_t count, std::function<void(size_t index)> fn) {
    if (count == 0) return;
    auto shared = std::make_shared<std::function<void(size_t)>>(std::move(fn));
    for (size_t index = 0; index < count; ++index) {
      post([shared, index] { (*shared)(index); });
    }
  }
};

}  // namespace wal
