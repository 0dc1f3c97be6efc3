#include "wal/metrics/operation_meter.h"

#include <chrono>

namespace wal::metrics {

OperationMeter::OperationMeter(Registry& registry, Clock& clock, std::string prefix,
                               std::string subject)
    : registry_(registry), clock_(clock), prefix_(std::move(prefix)),
      subject_(std::move(subject)) {}

void OperationMeter::finish(std::string_view operation, TimePoint started, const Error* error) {
  const std::string op(operation);
  const std::string status = error == nullptr ? "ok" : std::string(errc_name(error->code));
  registry_
      .counter(prefix_ + "_operations_total", subject_ + " calls by operation and result",
               {{"operation", op}, {"status", status}})
      .add();
  const Duration took = clock_.now() - started;
  WAL_ASSERT(took >= Duration::zero());
  registry_
      .histogram(prefix_ + "_operation_latency_seconds", subject_ + " call latency",
                 latency_buckets_seconds(), {{"operation", op}})
      .observe(std::chrono::duration<double>(took).count());
}

void OperationMeter::add_bytes(std::string_view operation, uint64_t bytes) {
  registry_
      .counter(prefix_ + "_request_bytes_total", subject_ + " payload bytes by operation",
               {{"operation", std::string(operation)}})
      .add(static_cast<double>(bytes));
}

}  // namespace wal::metrics
