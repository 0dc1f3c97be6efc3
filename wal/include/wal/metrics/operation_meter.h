#pragma once
// OperationMeter: the three series every metered interface keeps, per operation:
//   <prefix>_operations_total{operation, status}      status "ok" or the Errc name
//   <prefix>_operation_latency_seconds{operation}     a histogram of call durations
//   <prefix>_request_bytes_total{operation}           payload bytes sent or received
// e.g. prefix "woodpecker_object_storage" gives upstream Woodpecker's object storage names.
// Durations come from the node's Clock (virtual time in the simulator, so metering is
// deterministic). Threading: the node's executor, like the Registry.

#include <cstdint>
#include <string>
#include <string_view>

#include "wal/async/task.h"
#include "wal/core/result.h"
#include "wal/env/clock.h"
#include "wal/metrics/metrics.h"

namespace wal::metrics {

class OperationMeter {
 public:
  OperationMeter(Registry& registry, Clock& clock, std::string prefix, std::string subject);

  [[nodiscard]] TimePoint start() const { return clock_.now(); }
  // Counts one call of `operation` that began at `started`; `error` null means ok.
  void finish(std::string_view operation, TimePoint started, const Error* error);
  template <typename T>
  void finish(std::string_view operation, TimePoint started, const Result<T>& result) {
    finish(operation, started, result.ok() ? nullptr : &result.error());
  }
  void add_bytes(std::string_view operation, uint64_t bytes);
  // Runs `call` (a Task starts when awaited, so its time is measured from here) and counts it
  // as one `operation`, which must outlive the call (a string literal). Returns its result.
  template <typename T>
  Task<T> timed(std::string_view operation, Task<T> call) {
    const TimePoint started = start();
    T result = co_await std::move(call);
    finish(operation, started, result);
    co_return result;
  }

  [[nodiscard]] Registry& registry() { return registry_; }
  [[nodiscard]] Clock& clock() { return clock_; }

 private:
  Registry& registry_;
  Clock& clock_;
  std::string prefix_;
  std::string subject_;  // for HELP texts: "object storage", "etcd", ...
};

}  // namespace wal::metrics
