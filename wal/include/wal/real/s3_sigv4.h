#pragma once
// AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html),
// written against OpenSSL's SHA-256 and HMAC so the S3 client controls every header it signs.
// Tested against the published AWS SigV4 test suite and the S3 examples of the S3 API reference
// (tests/unit/s3_sigv4_test.cpp).
//
// sign_v4() builds the canonical request, the string to sign, the signing key and the
// Authorization header for one request. It is a pure function: the caller supplies the time
// (amz_date) and every header to sign, including host and x-amz-date (and, for S3,
// x-amz-content-sha256 and x-amz-security-token). Headers sent but not passed here are not
// signed. No error cases: any input yields a signature; a server rejects a wrong one with 403.
// Thread-safe (no shared state).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wal/core/bytes.h"

namespace wal::s3 {

// Never printed: describe() of any error and every log line leave the secret and the token out.
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials (STS) are used
};

struct SigningScope {
  std::string region;   // "us-east-1"
  std::string service;  // "s3"
};

struct SigningRequest {
  std::string method;  // "GET", "PUT", ...
  std::string path;    // raw (not encoded) absolute path: "/bucket/key with space"
  std::vector<std::pair<std::string, std::string>> query;    // raw names and values
  std::vector<std::pair<std::string, std::string>> headers;  // any case; values raw
  std::string payload_sha256_hex;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature_hex;
  std::string authorization;  // the Authorization header's value
};

inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";

// `amz_date` is the request time as YYYYMMDD'T'HHMMSS'Z' (UTC), the x-amz-date value.
[[nodiscard]] Signature sign_v4(const Credentials& credentials, const SigningScope& scope,
                                std::string_view amz_date, const SigningRequest& request);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - _ . ~) stay,
// every other byte becomes %XX (upper-case hex); '/' stays when `keep_slash` (paths).
[[nodiscard]] std::string uri_encode(std::string_view text, bool keep_slash);

// The canonical query string: names and values encoded, sorted by name then value, '&'-joined.
// Also the query string sent on the wire, so what is signed is exactly what is sent.
[[nodiscard]] std::string canonical_query(
    const std::vector<std::pair<std::string, std::string>>& query);

// "20150830T123600Z" for a Unix time in seconds (UTC).
[[nodiscard]] std::string amz_date_from_unix_seconds(int64_t unix_seconds);

[[nodiscard]] std::string sha256_hex(ByteView bytes);
[[nodiscard]] std::string md5_base64(ByteView bytes);  // Content-MD5 (DeleteObjects needs it)

}  // namespace wal::s3
