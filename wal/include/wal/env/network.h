#pragma once
// Network: request/response RPC between named nodes.
//
// A node serves one RpcHandler; callers address it by NodeId and a method name. Messages are
// opaque bytes (each protocol encodes its own; see wal/net/*). The network can delay, drop,
// duplicate and reorder messages and partition nodes; it never corrupts a message silently
// (transports checksum), but a handler must still reject malformed bytes with Errc::protocol.
//
// call() errors:
//   timeout      the deadline passed with no reply: OUTCOME UNKNOWN (the handler may have run,
//                even more than once if the network duplicated the request).
//   unavailable  the target is unknown or refused the connection: definite (not delivered).
//   any error the handler returned, with the handler's outcome.
// Handlers must therefore be idempotent or detect duplicates themselves.
// Threading: call() and handlers run on the node's executor.

#include <functional>
#include <string>

#include "wal/async/task.h"
#include "wal/core/bytes.h"
#include "wal/core/result.h"
#include "wal/env/clock.h"

namespace wal {

using NodeId = std::string;

struct RpcRequest {
  NodeId from;
  std::string method;
  Bytes body;
};

using RpcHandler = std::function<Task<Result<Bytes>>(RpcRequest request)>;

class Network {
 public:
  virtual ~Network() = default;
  [[nodiscard]] virtual const NodeId& self() const = 0;
  // Sets the handler for requests to this node; replaces any earlier one.
  virtual void serve(RpcHandler handler) = 0;
  // Sends `body` to `target`'s `method` and waits for its reply until `deadline`.
  virtual Task<Result<Bytes>> call(NodeId target, std::string method, Bytes body,
                                   TimePoint deadline) = 0;
};

}  // namespace wal
