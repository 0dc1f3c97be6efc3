#pragma once
// Clock: monotonic time and timers for one node.
//
//  - now() is monotonic and never goes backwards; use it for durations, deadlines and timers.
//  - unix_time_ms() is wall-clock time for human-facing timestamps only (block headers, logs).
//    Nothing that decides safety may read it: safety never depends on timing.
//  - call_at() runs `fn` on the node's executor at or after `when` (immediately-due timers run on
//    a later executor turn, never inside call_at). Timers due at the same instant run in the
//    order they were created. cancel() of a fired or unknown id is a no-op.
// Production: the event loop (steady_clock); simulation: virtual time that jumps to the next
// event; unit tests: ManualLoop.

#include <chrono>
#include <cstdint>
#include <functional>

namespace wal {

using Duration = std::chrono::nanoseconds;
struct MonotonicClockTag {};  // marks TimePoints from Clock::now(), not from any std clock
using TimePoint = std::chrono::time_point<MonotonicClockTag, Duration>;
using TimerId = uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint now() const = 0;
  [[nodiscard]] virtual int64_t unix_time_ms() const = 0;
  virtual TimerId call_at(TimePoint when, std::function<void()> fn) = 0;
  virtual void cancel(TimerId timer) = 0;
};

}  // namespace wal
