// MeteredNetwork (wal/metrics/metered_stores.h): the requests a node serves, by method. For a
// LogStore, method logstore.add is the append path: its count, request bytes and latency (which
// includes the journal fsync the reply waits for) are the server side of an append.
#include "wal/metrics/metered_stores.h"

namespace wal::metrics {

MeteredNetwork::MeteredNetwork(Network& inner, Registry& registry, Clock& clock)
    : inner_(inner),
      meter_(std::make_shared<OperationMeter>(registry, clock, "woodpecker_logstore",
                                              "LogStore requests served")) {}

namespace {

// A free coroutine, not a coroutine lambda: its parameters live in its frame, while a lambda's
// captures live in the closure, which the network may destroy while a request still runs.
Task<Result<Bytes>> serve_metered(std::shared_ptr<OperationMeter> meter, RpcHandler handler,
                                  RpcRequest request) {
  const std::string method = request.method;
  const uint64_t size = request.body.size();
  const TimePoint started = meter->start();
  Result<Bytes> reply = co_await handler(std::move(request));
  meter->finish(method, started, reply);
  meter->add_bytes(method, size);
  co_return reply;
}

}  // namespace

void MeteredNetwork::serve(RpcHandler handler) {
  WAL_ASSERT(handler != nullptr);
  inner_.serve([meter = meter_, handler = std::move(handler)](RpcRequest request) {
    return serve_metered(meter, handler, std::move(request));
  });
}

Task<Result<Bytes>> MeteredNetwork::call(NodeId target, std::string method, Bytes body,
                                         TimePoint deadline) {
  return inner_.call(std::move(target), std::move(method), std::move(body), deadline);
}

}  // namespace wal::metrics
