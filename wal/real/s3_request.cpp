#include "wal/real/s3_request.h"

#include <chrono>
#include <charconv>

namespace wal::s3 {

namespace {

// SHA-256 of zero bytes: the x-amz-content-sha256 of every request without a body.
constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '-';
}

// Signs `request` (runs on the I/O thread, inside HttpRequest::prepare).
void sign_request(const SignerConfig& config, const std::string& host, const std::string& path,
                  const Operation& operation, HttpRequest& request) {
  SigningRequest signing;
  signing.method = operation.method;
  signing.path = path;
  signing.query = operation.query;
  signing.headers = operation.headers;
  if (config.unsigned_payload && operation.body != nullptr) {
    signing.payload_sha256_hex = std::string(unsigned_payload);
  } else if (operation.body == nullptr || operation.body->empty()) {
    signing.payload_sha256_hex = std::string(empty_payload_sha256);
  } else {
    signing.payload_sha256_hex = sha256_hex(*operation.body);
  }
  // The real clock, allowed here (wal/real): the signature must carry the time of sending.
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::string amz_date =
      amz_date_from_unix_seconds(std::chrono::duration_cast<std::chrono::seconds>(now).count());
  signing.headers.emplace_back("host", host);
  signing.headers.emplace_back("x-amz-date", amz_date);
  signing.headers.emplace_back("x-amz-content-sha256", signing.payload_sha256_hex);
  if (!config.credentials.session_token.empty()) {
    signing.headers.emplace_back("x-amz-security-token", config.credentials.session_token);
  }
  const Signature signature = sign_v4(config.credentials, config.scope, amz_date, signing);
  for (const auto& [name, value] : signing.headers) request.headers.push_back(name + ": " + value);
  request.headers.push_back("Authorization: " + signature.authorization);
}

}  // namespace

Result<Endpoint> Endpoint::parse(std::string_view url) {
  Endpoint out;
  const size_t separator = url.find("://");
  if (separator == std::string_view::npos) {
    return make_error(Errc::invalid_argument,
                      "endpoint '" + std::string(url) + "' needs a scheme (http:// or https://)");
  }
  out.scheme = std::string(url.substr(0, separator));
  if (out.scheme != "http" && out.scheme != "https") {
    return make_error(Errc::invalid_argument, "endpoint scheme must be http or https, not '" +
                                                  out.scheme + "'");
  }
  std::string_view authority = url.substr(separator + 3);
  if (authority.ends_with('/')) authority.remove_suffix(1);
  if (authority.find('/') != std::string_view::npos) {
    return make_error(Errc::invalid_argument,
                      "endpoint '" + std::string(url) + "' must not have a path");
  }
  const size_t colon = authority.rfind(':');
  std::string_view host = authority.substr(0, colon);
  if (colon != std::string_view::npos) {
    const std::string_view port_text = authority.substr(colon + 1);
    unsigned port = 0;
    const auto [end, error] =
        std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return make_error(Errc::invalid_argument, "endpoint port '" + std::string(port_text) +
                                                    "' is not a port number");
    }
    out.port = static_cast<uint16_t>(port);
  }
  if (host.empty()) return make_error(Errc::invalid_argument, "endpoint has no host");
  for (char c : host) {
    if (!is_host_char(c)) {
      return make_error(Errc::invalid_argument, "endpoint host '" + std::string(host) +
                                                    "' has a character other than a-z 0-9 . -");
    }
  }
  out.host = std::string(host);
  return out;
}

std::string Endpoint::authority() const {
  const uint16_t default_port = tls() ? 443 : 80;
  if (port == 0 || port == default_port) return host;
  return host + ":" + std::to_string(port);
}

Status check_bucket_name(std::string_view bucket) {
  const auto fail = [&](std::string why) {
    return make_error(Errc::invalid_argument, "bucket name '" + std::string(bucket) + "' " + why);
  };
  if (bucket.size() < 3 || bucket.size() > 63) return fail("must be 3 to 63 characters long");
  for (char c : bucket) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    if (!allowed) return fail("may hold only a-z, 0-9, '.' and '-'");
  }
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(bucket.front()) || !alnum(bucket.back())) {
    return fail("must start and end with a letter or digit");
  }
  return Status{};
}

RequestSigner::RequestSigner(SignerConfig config)
    : config_(std::make_shared<const SignerConfig>(std::move(config))) {
  WAL_ASSERT(check_bucket_name(config_->bucket).ok());
  WAL_ASSERT(!config_->endpoint.host.empty());
  if (config_->unsigned_payload) WAL_ASSERT(config_->endpoint.tls());
  host_ = config_->addressing == Addressing::virtual_host
              ? config_->bucket + "." + config_->endpoint.authority()
              : config_->endpoint.authority();
}

std::string RequestSigner::path_for(std::string_view key) const {
  if (config_->addressing == Addressing::virtual_host) return "/" + std::string(key);
  if (key.empty()) return "/" + config_->bucket;
  return "/" + config_->bucket + "/" + std::string(key);
}

HttpRequest RequestSigner::build(Operation operation) const {
  WAL_ASSERT(!operation.method.empty());
  HttpRequest request;
  request.method = operation.method;
  const std::string path = path_for(operation.key);
  request.url = config_->endpoint.scheme + "://" + host_ + uri_encode(path, true);
  const std::string query = canonical_query(operation.query);
  if (!query.empty()) request.url += "?" + query;
  request.body = operation.body;
  for (const auto& [name, value] : operation.headers) {
    WAL_ASSERT(value.find('\n') == std::string::npos);  // built by the client, never user data
  }
  request.prepare = [config = config_, host = host_, path,
                     operation = std::move(operation)](HttpRequest& outgoing) {
    sign_request(*config, host, path, operation, outgoing);
  };
  WAL_ASSERT(!request.url.empty());
  return request;
}

}  // namespace wal::s3
