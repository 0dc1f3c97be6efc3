#pragma once
// Executor: where WAL code runs. All WAL logic for one node runs on one executor, one callback at
// a time, so WAL code needs no locks. Production: the event-loop thread (wal/real/event_loop.h).
// Simulation: the deterministic scheduler (sim/). Unit tests: ManualLoop (wal/mem/manual_loop.h).

#include <functional>

namespace wal {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `fn` later on the executor's thread, after every callback posted before it (FIFO).
  // Never runs `fn` inside post(). Thread-safety is the implementation's: the real event loop
  // accepts posts from any thread; the simulator and ManualLoop from their own thread only.
  virtual void post(std::function<void()> fn) = 0;
};

}  // namespace wal
