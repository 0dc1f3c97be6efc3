#pragma once
// GrpcNetwork: wal::Network (wal/env/network.h) over gRPC, the transport of real deployments
// (LogStores and their writers and readers). One unary gRPC method carries the method name and
// opaque bytes (wal/real/proto/node_rpc.proto); the handler's error travels back with its code
// and outcome.
//
// Each endpoint runs a gRPC server on `listen_address` (port 0: any free port) from construction
// on and records its address in a GrpcDirectory under its node id; callers look targets up
// there. A static deployment fills the directory from its configuration.
//
// call() errors, as the Network contract requires (tests/contract/network_contract_test.cpp):
//   unavailable, definite  the target is not in the directory, or serves no handler;
//   unavailable, unknown   gRPC could not complete the call (connection refused or broken: gRPC
//                          cannot always tell whether the request got through);
//   timeout, unknown       the deadline passed;
//   the handler's error with its outcome;
//   protocol, unknown      a reply that does not decode;
//   closed, definite       this endpoint is being destroyed.
// Messages may be up to message_bytes_max (larger ones fail with too_large, definite).
//
// Threading: construct, serve(), call() and destroy on the loop thread of `executor`. gRPC's
// threads only post() to the executor; handlers run on the loop. The executor must outlive the
// endpoint. Destroying the endpoint is a crash: calls in flight are cancelled (their callers get
// unavailable, unknown), requests being handled get no reply, and the port closes.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "wal/async/executor.h"
#include "wal/async/scope.h"
#include "wal/env/clock.h"
#include "wal/env/network.h"

namespace wal {

// Node id -> "host:port". Thread-safe.
class GrpcDirectory {
 public:
  void set(const NodeId& node, std::string address);
  void erase(const NodeId& node);
  [[nodiscard]] std::optional<std::string> lookup(const NodeId& node) const;

 private:
  mutable std::mutex mutex_;
  std::map<NodeId, std::string> addresses_;
};

struct GrpcNetworkOptions {
  std::string listen_address = "127.0.0.1:0";  // port 0: the OS picks a free port
  uint64_t message_bytes_max = 80ull << 20;     // above the LogStore protocol's 64 MiB bound
};

class GrpcNetwork final : public Network {
 public:
  // Starts the server. Errors: the address cannot be bound (unavailable).
  static Result<std::unique_ptr<GrpcNetwork>> start(Executor& executor, Clock& clock, NodeId self,
                                                    std::shared_ptr<GrpcDirectory> directory,
                                                    GrpcNetworkOptions options = {});
  ~GrpcNetwork() override;
  GrpcNetwork(const GrpcNetwork&) = delete;
  GrpcNetwork& operator=(const GrpcNetwork&) = delete;

  [[nodiscard]] const NodeId& self() const override { return self_; }
  void serve(RpcHandler handler) override;
  Task<Result<Bytes>> call(NodeId target, std::string method, Bytes body,
                           TimePoint deadline) override;
  [[nodiscard]] const std::string& address() const { return address_; }

  struct Impl;  // gRPC types stay out of this header

 private:
  GrpcNetwork(Executor& executor, Clock& clock, NodeId self,
              std::shared_ptr<GrpcDirectory> directory, GrpcNetworkOptions options);

  Executor& executor_;
  Clock& clock_;
  NodeId self_;
  std::shared_ptr<GrpcDirectory> directory_;
  GrpcNetworkOptions options_;
  std::string address_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wal
