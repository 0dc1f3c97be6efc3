#include "wal/real/s3_errors.h"

namespace wal::s3 {

namespace {

Classified transport_failure(const HttpResult& result, bool mutation, std::string_view what) {
  const std::string message = std::string(what) + ": " +
                              std::string(http_failure_name(result.failure)) + " (" +
                              result.failure_message + ")";
  switch (result.failure) {
    case HttpFailure::not_sent:
      if (result.tls_problem) {
        // A certificate the client does not trust, or no TLS at all: retrying cannot help.
        return {make_error(Errc::permission_denied,
                           message + "; check the endpoint's certificate or ca_file"),
                false};
      }
      return {make_error(Errc::unavailable, message), true};
    case HttpFailure::body_incomplete:
      return {make_error(Errc::unavailable, message), true};
    case HttpFailure::timeout:
      if (mutation) return {make_unknown(Errc::timeout, message), false};
      return {make_error(Errc::timeout, message), true};
    case HttpFailure::broken:
    case HttpFailure::closed:
      if (mutation) return {make_unknown(Errc::unavailable, message), false};
      return {make_error(result.failure == HttpFailure::closed ? Errc::closed : Errc::unavailable,
                         message),
              result.failure == HttpFailure::broken};
    case HttpFailure::response_too_large:
      if (mutation) return {make_unknown(Errc::protocol, message), false};
      return {make_error(Errc::protocol, message), false};
    case HttpFailure::none:
      break;
  }
  WAL_UNREACHABLE();
}

// A message for a 403 that tells the user what to check, without printing any secret.
std::string forbidden_reason(const S3ErrorBody& body) {
  if (body.code == "InvalidAccessKeyId") {
    return "the server does not know this access key id (check AWS_ACCESS_KEY_ID)";
  }
  if (body.code == "SignatureDoesNotMatch") {
    return "signature does not match: wrong secret key (check AWS_SECRET_ACCESS_KEY)";
  }
  if (body.code == "RequestTimeTooSkewed") {
    return "this machine's clock differs too much from the server's";
  }
  if (body.code == "ExpiredToken" || body.code == "InvalidToken" ||
      body.code == "TokenRefreshRequired") {
    return "the session token is expired or invalid (check AWS_SESSION_TOKEN)";
  }
  if (body.code.empty()) return "access denied (wrong credentials or no permission)";
  return "access denied (" + body.code + ")";
}

}  // namespace

S3ErrorBody error_body_of(const HttpResult& result) {
  return parse_error_body(as_string_view(result.body));
}

Classified classify_failure(const HttpResult& result, bool mutation, std::string_view what) {
  WAL_ASSERT(!is_success(result));
  if (result.failure != HttpFailure::none) return transport_failure(result, mutation, what);
  const S3ErrorBody body = error_body_of(result);
  const long status = result.status;
  std::string message = std::string(what) + ": HTTP " + std::to_string(status);
  if (!body.code.empty()) message += " " + body.code;
  if (!body.message.empty()) message += " (" + body.message + ")";
  // A response to a second copy of a mutation says nothing definite about the first copy.
  const bool resent = mutation && result.send_count > 1;
  const auto refused = [&](Errc code, std::string text) -> Classified {
    if (resent) return {make_unknown(code, text + "; the request was sent twice"), false};
    return {make_error(code, std::move(text)), false};
  };
  if (status == 429 || status >= 500) {
    if (status == 501) return refused(Errc::unsupported, message);
    // Throttled (429, 503 SlowDown) or failed inside the server: a mutation may have happened.
    if (mutation) return {make_unknown(Errc::unavailable, message), false};
    return {make_error(Errc::unavailable, message), true};
  }
  if (status == 400 && body.code == "RequestTimeout") {
    // The server gave up waiting for the body: it never had a whole request.
    if (resent) return refused(Errc::unavailable, message);
    return {make_error(Errc::unavailable, message), true};
  }
  if (status == 400 && (body.code == "AuthorizationHeaderMalformed" || !body.region.empty())) {
    return refused(Errc::permission_denied,
                   message + "; wrong region" +
                       (body.region.empty() ? "" : ", the server expects '" + body.region + "'"));
  }
  if (status == 301 || status == 307 || status == 308) {
    return refused(Errc::invalid_argument,
                   message + "; the bucket lives elsewhere (wrong region or endpoint" +
                       (body.region.empty() ? "" : ", region '" + body.region + "'") + ")");
  }
  if (status == 401 || status == 403) {
    return refused(Errc::permission_denied, std::string(what) + ": " + forbidden_reason(body));
  }
  if (status == 404) return refused(Errc::not_found, message);
  if (status == 405) return refused(Errc::unsupported, message);
  if (status == 409) {
    if (body.code == "OperationAborted") {
      return {resent ? make_unknown(Errc::unavailable, message) : make_error(Errc::unavailable,
                                                                             message),
              !resent};
    }
    // ConditionalRequestConflict: a concurrent conditional write won; this one did nothing.
    return refused(Errc::condition_failed, message);
  }
  if (status == 412) return refused(Errc::condition_failed, message);
  if (status == 413 || body.code == "EntityTooLarge") return refused(Errc::too_large, message);
  if (status == 416) return refused(Errc::out_of_range, message);
  if (body.code == "XAmzContentSHA256Mismatch" || body.code == "BadDigest") {
    // The body arrived damaged and was refused; sending it again is safe.
    if (resent) return refused(Errc::io_error, message);
    return {make_error(Errc::io_error, message + "; body damaged in transit"), true};
  }
  return refused(Errc::invalid_argument, message);
}

}  // namespace wal::s3
