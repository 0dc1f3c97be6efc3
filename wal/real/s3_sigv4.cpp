#include "wal/real/s3_sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <map>

#include "wal/core/assert.h"

namespace wal::s3 {

namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr char hex_digits[] = "0123456789abcdef";

std::string to_hex(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(hex_digits[data[i] >> 4]);
    out.push_back(hex_digits[data[i] & 0x0F]);
  }
  return out;
}

using Digest = std::array<unsigned char, 32>;

Digest hmac_sha256(std::string_view key, std::string_view data) {
  Digest out{};
  unsigned int length = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &length);
  WAL_ASSERT(result != nullptr);  // only fails on allocation failure inside OpenSSL
  WAL_ASSERT_EQ(length, out.size());
  return out;
}

std::string_view as_view(const Digest& digest) {
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims both ends and turns every run of spaces or tabs into one space ("Trimall" in the spec).
std::string trim_all(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

struct CanonicalHeaders {
  std::string block;   // "name:value\n" per header
  std::string signed_names;  // "host;x-amz-date"
};

CanonicalHeaders canonical_headers(
    const std::vector<std::pair<std::string, std::string>>& headers) {
  // Sorted by lower-case name; repeated names join their values with ',' in the order given.
  std::map<std::string, std::string> merged;
  for (const auto& [name, value] : headers) {
    auto [it, fresh] = merged.try_emplace(lower(name), trim_all(value));
    if (!fresh) it->second += "," + trim_all(value);
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : merged) {
    out.block += name + ":" + value + "\n";
    if (!out.signed_names.empty()) out.signed_names += ";";
    out.signed_names += name;
  }
  return out;
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = std::isalnum(byte) != 0 || c == '-' || c == '_' || c == '.' ||
                            c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(c);
      continue;
    }
    out.push_back('%');
    out.push_back("0123456789ABCDEF"[byte >> 4]);
    out.push_back("0123456789ABCDEF"[byte & 0x0F]);
  }
  return out;
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(uri_encode(name, false), uri_encode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += "&";
    out += name + "=" + value;
  }
  return out;
}

std::string amz_date_from_unix_seconds(int64_t unix_seconds) {
  const std::time_t time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  WAL_ASSERT(gmtime_r(&time, &utc) != nullptr);
  char text[20];
  const size_t length = std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  WAL_ASSERT_EQ(length, 16u);
  return std::string(text, length);
}

std::string sha256_hex(ByteView bytes) {
  Digest digest{};
  unsigned int length = 0;
  const int ok = EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(),
                            nullptr);
  WAL_ASSERT(ok == 1);
  WAL_ASSERT_EQ(length, digest.size());
  return to_hex(digest.data(), digest.size());
}

std::string md5_base64(ByteView bytes) {
  std::array<unsigned char, 16> digest{};
  unsigned int length = 0;
  const int ok = EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_md5(),
                            nullptr);
  WAL_ASSERT(ok == 1);
  WAL_ASSERT_EQ(length, digest.size());
  std::array<unsigned char, 25> text{};  // 4 * ceil(16 / 3) + NUL
  const int text_length = EVP_EncodeBlock(text.data(), digest.data(), 16);
  WAL_ASSERT_EQ(text_length, 24);
  return std::string(reinterpret_cast<const char*>(text.data()), 24);
}

Signature sign_v4(const Credentials& credentials, const SigningScope& scope,
                  std::string_view amz_date, const SigningRequest& request) {
  WAL_ASSERT_EQ(amz_date.size(), 16u);
  WAL_ASSERT(!request.payload_sha256_hex.empty());
  const std::string path = request.path.empty() ? "/" : request.path;
  const CanonicalHeaders headers = canonical_headers(request.headers);
  Signature out;
  out.canonical_request = request.method + "\n" + uri_encode(path, true) + "\n" +
                          canonical_query(request.query) + "\n" + headers.block + "\n" +
                          headers.signed_names + "\n" + request.payload_sha256_hex;
  const std::string date(amz_date.substr(0, 8));
  const std::string credential_scope =
      date + "/" + scope.region + "/" + scope.service + "/aws4_request";
  out.string_to_sign = std::string(algorithm) + "\n" + std::string(amz_date) + "\n" +
                       credential_scope + "\n" + sha256_hex(as_bytes(out.canonical_request));
  Digest key = hmac_sha256("AWS4" + credentials.secret_access_key, date);
  key = hmac_sha256(as_view(key), scope.region);
  key = hmac_sha256(as_view(key), scope.service);
  key = hmac_sha256(as_view(key), "aws4_request");
  const Digest signature = hmac_sha256(as_view(key), out.string_to_sign);
  out.signature_hex = to_hex(signature.data(), signature.size());
  out.authorization = std::string(algorithm) + " Credential=" + credentials.access_key_id + "/" +
                      credential_scope + ", SignedHeaders=" + headers.signed_names +
                      ", Signature=" + out.signature_hex;
  WAL_ASSERT_EQ(out.signature_hex.size(), 64u);
  return out;
}

}  // namespace wal::s3
