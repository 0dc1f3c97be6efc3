// etcd error classification (etcd_errors.h). The message texts are etcd 3.4's
// (etcdserver/api/v3rpc/rpctypes/error.go) and gRPC 1.51's for connection failures.
#include "etcd_errors.h"

namespace wal::etcd {

namespace {

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// The request never reached a member that could propose it, so it had no effect:
//  - gRPC could not connect (the channel is in transient failure; the call was never sent);
//  - etcd refused it at the door: the member has no leader (ErrGRPCNoLeader, checked by the
//    interceptor before any processing) or is overloaded (ErrGRPCTooManyRequests, checked
//    before proposing).
bool certainly_not_sent(std::string_view message) {
  return contains(message, "failed to connect to all addresses") ||
         contains(message, "Connection refused") || contains(message, "DNS resolution failed") ||
         contains(message, "etcdserver: no leader") ||
         contains(message, "etcdserver: too many requests");
}

Verdict definite(Errc code, std::string message) {
  return Verdict{make_error(code, std::move(message)), false, false, false};
}

// Timeouts, broken connections and etcd's "request timed out" family: a read is simply tried
// on the next endpoint; a write may have been committed.
Verdict lost(Errc code, Effect effect, std::string message) {
  if (effect == Effect::read) {
    return Verdict{make_error(code, std::move(message)), true, false, true};
  }
  return Verdict{make_unknown(code, std::move(message)), false, false, true};
}

}  // namespace

std::string describe(std::string_view endpoint, std::string_view what, std::string_view text) {
  std::string line = "etcd " + std::string(what) + " at " + std::string(endpoint) + ": ";
  for (char c : text) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  return line;
}

Verdict classify(const grpc::Status& status, Effect effect, std::string_view endpoint,
                 std::string_view what) {
  WAL_ASSERT(!status.ok());
  const std::string& text = status.error_message();
  std::string message = describe(endpoint, what, text);
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED: return lost(Errc::timeout, effect, message);
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      if (certainly_not_sent(text)) {
        return Verdict{make_error(Errc::unavailable, std::move(message)), true, false, true};
      }
      if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        return definite(Errc::too_large, std::move(message));  // a message over gRPC's limit
      }
      return lost(Errc::unavailable, effect, message);
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
      return lost(Errc::unavailable, effect, message);
    case grpc::StatusCode::OUT_OF_RANGE:
      if (contains(text, "compacted")) return definite(Errc::compacted, std::move(message));
      return definite(Errc::out_of_range, std::move(message));  // "a future revision"
    case grpc::StatusCode::NOT_FOUND: return definite(Errc::not_found, std::move(message));
    case grpc::StatusCode::PERMISSION_DENIED:
      return definite(Errc::permission_denied, std::move(message));
    case grpc::StatusCode::UNAUTHENTICATED:
      // ErrGRPCInvalidAuthToken: the token expired (or the member restarted and forgot it).
      // The request was rejected before it was proposed, so it may be sent again.
      if (contains(text, "invalid auth token")) {
        return Verdict{make_error(Errc::permission_denied, std::move(message)), false, true,
                       false};
      }
      return definite(Errc::permission_denied, std::move(message));
    case grpc::StatusCode::INVALID_ARGUMENT:
      // ErrGRPCAuthFailed; ErrGRPCUserEmpty: the server has auth on and we sent no token.
      if (contains(text, "authentication failed") || contains(text, "user name is empty")) {
        return definite(Errc::permission_denied, std::move(message));
      }
      // ErrGRPCAuthOldRevision: applied as a no-op because the token predates an auth change.
      if (contains(text, "revision of auth store is old")) {
        return Verdict{make_error(Errc::permission_denied, std::move(message)), false, true,
                       false};
      }
      return definite(Errc::invalid_argument, std::move(message));
    case grpc::StatusCode::FAILED_PRECONDITION:
      // "authentication is not enabled" (a username was configured), "user name is empty", ...
      return definite(Errc::permission_denied, std::move(message));
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::OK:
    case grpc::StatusCode::DO_NOT_USE:
      break;
  }
  // Not an etcd v3 server, or a reply etcd does not send.
  return definite(Errc::protocol, std::move(message));
}

}  // namespace wal::etcd
