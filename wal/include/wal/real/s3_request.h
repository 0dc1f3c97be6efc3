#pragma once
// Turns one S3 operation (method, key, query, headers, body) into a signed HttpRequest: the
// endpoint and addressing style decide the URL, SigV4 (s3_sigv4.h) the Authorization header.
//
// Signing happens in HttpRequest::prepare, on the transport's I/O thread right before the
// request is sent, so the x-amz-date is fresh for every attempt (a retried request whose first
// attempt queued for a while is never rejected as too old) and the SHA-256 of the body is
// computed off the event loop. Every header the operation carries is signed.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wal/core/result.h"
#include "wal/env/object_store.h"
#include "wal/real/s3_http.h"
#include "wal/real/s3_sigv4.h"

namespace wal::s3 {

enum class Addressing : uint8_t {
  path,          // http://host:port/bucket/key (any server; RGW, MinIO, tests)
  virtual_host,  // https://bucket.host/key (AWS's default; needs DNS for bucket.host)
};

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // name or IPv4 address; IPv6 literals are not supported
  uint16_t port = 0;   // 0: the scheme's default port

  // "http://127.0.0.1:7480", "https://s3.eu-west-1.amazonaws.com" (a trailing '/' is allowed,
  // a path is not). invalid_argument with a one-line reason otherwise.
  [[nodiscard]] static Result<Endpoint> parse(std::string_view url);
  [[nodiscard]] std::string authority() const;  // host, plus ":port" when not the default
  [[nodiscard]] bool tls() const { return scheme == "https"; }
};

// A bucket name S3 accepts: 3..63 characters of a-z, 0-9, '.', '-', starting and ending with a
// letter or digit. invalid_argument otherwise.
[[nodiscard]] Status check_bucket_name(std::string_view bucket);

struct Operation {
  std::string method;  // GET, HEAD, PUT, POST, DELETE
  std::string key;     // empty: a request on the bucket itself (list, DeleteObjects, probe)
  std::vector<std::pair<std::string, std::string>> query;    // raw; encoded when sent
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, all signed
  SharedBytes body;    // null: none
};

struct SignerConfig {
  Endpoint endpoint;
  std::string bucket;
  Addressing addressing = Addressing::path;
  SigningScope scope;  // region and "s3"
  Credentials credentials;
  // Sign "UNSIGNED-PAYLOAD" instead of the body's SHA-256. Only over https, where TLS already
  // protects the body in transit (the config refuses it for http).
  bool unsigned_payload = false;
};

class RequestSigner {
 public:
  explicit RequestSigner(SignerConfig config);

  // The HttpRequest for `operation`, signed when sent. Timeouts are the caller's to set.
  [[nodiscard]] HttpRequest build(Operation operation) const;
  // "/bucket/key" (path style) or "/key": the raw path the request addresses.
  [[nodiscard]] std::string path_for(std::string_view key) const;
  [[nodiscard]] const SignerConfig& config() const { return *config_; }

 private:
  std::shared_ptr<const SignerConfig> config_;  // shared with prepare() on the I/O thread
  std::string host_;                            // the Host header (bucket. prefix if virtual)
};

}  // namespace wal::s3
