#pragma once
// How the etcd adapter reads a failed gRPC call: which wal::Error it is, whether its outcome is
// unknown, and whether the call may be sent again (on the next endpoint, or after renewing the
// auth token). The rules are etcd 3.4's (its v3rpc/rpctypes error table): codes alone do not
// tell "refused before proposing" from "lost after proposing", so a few messages are matched.
// Everything not known to be harmless to repeat is, for a write, OUTCOME UNKNOWN.

#include <string>
#include <string_view>

#include <grpcpp/support/status.h>

#include "wal/core/result.h"

namespace wal::etcd {

enum class Effect : uint8_t {
  read,   // no effect on the store: any failure may be retried
  write,  // may change the store: retried only when it certainly did not take effect
};

struct Verdict {
  Error error;
  bool retry = false;           // send it again, on the next endpoint
  bool reauthenticate = false;  // renew the auth token, then send it again
  bool failover = false;        // later requests should go to the next endpoint
};

// `what` names the request ("txn", "range"), `endpoint` where it went; both go into the message.
[[nodiscard]] Verdict classify(const grpc::Status& status, Effect effect,
                               std::string_view endpoint, std::string_view what);

// "etcd txn at 127.0.0.1:2379: <text>" on one line (newlines in etcd's text become spaces).
[[nodiscard]] std::string describe(std::string_view endpoint, std::string_view what,
                                   std::string_view text);

}  // namespace wal::etcd
