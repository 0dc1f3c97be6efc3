#pragma once
// ObjectStore: a flat key -> bytes store with AWS S3 semantics.
//
// Consistency: strong read-after-write for put, delete and list, as S3 has had since 2020: once
// put() returns ok, every later get/head/list (from any node) sees the object.
// Keys: 1..1024 bytes of UTF-8; list() returns keys in byte order. Bodies are at most
// object_size_bytes_max. An object is written whole or not at all: readers never see a partial
// object. Every implementation rejects the same keys, with check_object_key() below.
//
// Errors common to every call:
//   timeout      for put/remove: OUTCOME UNKNOWN (the request may have been applied; settle it
//                by reading: head(key) and compare the etag / content). For reads: definite.
//   unavailable  503 SlowDown / 500 / connection refused: definite for reads; for put and remove
//                the outcome is UNKNOWN unless the implementation knows the request never left.
//   permission_denied  wrong credentials (definite). invalid_argument  bad key or range.
// No call retries a mutation by itself; read-only calls may retry internally.
// Threading: calls are made on the node's executor; results complete there.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wal/async/task.h"
#include "wal/core/bytes.h"
#include "wal/core/result.h"

namespace wal {

namespace limits {
// S3 caps a single PUT at 5 GiB; our blocks are a few MiB, so 64 MiB leaves ample headroom while
// bounding memory for a whole-object read.
inline constexpr uint64_t object_size_bytes_max = 64ull << 20;
inline constexpr size_t object_key_bytes_max = 1024;  // S3's limit
inline constexpr size_t list_page_keys_max = 1000;    // S3 ListObjectsV2 page size
}  // namespace limits

// invalid_argument unless `key` is 1..object_key_bytes_max bytes of valid UTF-8 without a NUL
// byte and without a '/'-separated segment equal to "." or "..". S3 accepts those segments, but
// HTTP clients and file systems normalise them away, so one key could name two objects.
[[nodiscard]] inline Status check_object_key(std::string_view key) {
  if (key.empty()) return make_error(Errc::invalid_argument, "object key is empty");
  if (key.size() > limits::object_key_bytes_max) {
    return make_error(Errc::invalid_argument, "object key longer than 1024 bytes");
  }
  size_t segment_begin = 0;
  size_t index = 0;
  while (index <= key.size()) {
    if (index == key.size() || key[index] == '/') {
      const std::string_view segment = key.substr(segment_begin, index - segment_begin);
      if (segment == "." || segment == "..") {
        return make_error(Errc::invalid_argument, "object key has a '.' or '..' segment");
      }
      segment_begin = index + 1;
      ++index;
      continue;
    }
    const auto lead = static_cast<uint8_t>(key[index]);
    if (lead == 0) return make_error(Errc::invalid_argument, "object key contains NUL");
    // UTF-8: the lead byte gives the sequence length; reject overlong forms, surrogates and
    // code points above U+10FFFF (the second byte's allowed range depends on the lead byte).
    size_t length = 1;
    uint8_t second_min = 0x80;
    uint8_t second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) second_min = 0xA0;
      if (lead == 0xED) second_max = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) second_min = 0x90;
      if (lead == 0xF4) second_max = 0x8F;
    } else if (lead >= 0x80) {
      return make_error(Errc::invalid_argument, "object key is not UTF-8");
    }
    if (index + length > key.size()) {
      return make_error(Errc::invalid_argument, "object key is not UTF-8");
    }
    for (size_t k = 1; k < length; ++k) {
      const auto byte = static_cast<uint8_t>(key[index + k]);
      const uint8_t min = k == 1 ? second_min : uint8_t{0x80};
      const uint8_t max = k == 1 ? second_max : uint8_t{0xBF};
      if (byte < min || byte > max) {
        return make_error(Errc::invalid_argument, "object key is not UTF-8");
      }
    }
    index += length;
  }
  WAL_ASSERT(segment_begin == key.size() + 1);  // the loop ended on the final segment
  return {};
}

// Bytes several owners read and nobody changes: a block the writer keeps for retries while a
// store sends it, without a copy.
using SharedBytes = std::shared_ptr<const Bytes>;

struct PutCondition {
  enum class Kind : uint8_t {
    none,           // overwrite freely
    if_none_match,  // "If-None-Match: *": create only; already_exists if the key exists
    if_match,       // "If-Match: etag": replace only that version; condition_failed on another
                    // etag, not_found if the key is absent
  };
  Kind kind = Kind::none;
  std::string etag;  // for if_match

  static PutCondition none() { return {}; }
  static PutCondition create_only() { return {Kind::if_none_match, {}}; }
  static PutCondition match(std::string etag) { return {Kind::if_match, std::move(etag)}; }
};

struct ObjectInfo {
  std::string key;
  uint64_t size_bytes = 0;
  // Opaque version tag, unquoted. It differs whenever the content differs, but (as on S3, where
  // it is the body's MD5) a put of identical bytes may keep the same etag: never infer "my put
  // landed" from an etag change alone.
  std::string etag;
};

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;  // bytes wanted; a range running past the end is cut short (as S3 does)
};

struct ObjectData {
  ObjectInfo info;  // info.size_bytes is the whole object's size, not the returned range's
  Bytes body;
};

struct ListPage {
  std::vector<ObjectInfo> objects;  // in key order
  std::string next_token;           // empty: this was the last page
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // Stores `body` under `key` if `condition` holds. ok: durable and visible; returns the new
  // object's info. already_exists / condition_failed / not_found (if_match on a missing key):
  // definite, nothing changed. too_large: body over the limit. invalid_argument: bad key, or
  // if_match with an empty etag.
  virtual Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) = 0;

  // put() of `*body` (non-null), for a caller that keeps the bytes too (to retry, or to compare
  // what it finds after already_exists). Same semantics and errors. The store only reads the
  // bytes, and releases its reference before the call completes, so once the result is in the
  // caller is again the only owner. The default copies the body into put(); a store that can
  // send from shared bytes (LocalObjectStore) overrides it, which saves copying a whole block
  // on the caller's executor for every PUT (bench/README.md, fix B).
  virtual Task<Result<ObjectInfo>> put_shared(std::string key, SharedBytes body,
                                              PutCondition condition) {
    WAL_ASSERT(body != nullptr);
    return put(std::move(key), Bytes(*body), std::move(condition));
  }

  // Reads the whole object, or `range`. not_found: no such key (definite).
  // out_of_range: range.offset >= size (S3 416), except that offset 0 of an empty object is ok.
  // invalid_argument: range.length == 0 (an HTTP Range header cannot express it).
  virtual Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) = 0;

  // Metadata only. not_found: no such key.
  virtual Task<Result<ObjectInfo>> head(std::string key) = 0;

  // Keys starting with `prefix`, strictly after `start_after` (empty: from the start), at most
  // `max_keys` (1..list_page_keys_max) per page. Pass the previous page's next_token to continue;
  // the token encodes the position, so pages never repeat or skip a key that existed throughout.
  // invalid_argument: max_keys outside 1..list_page_keys_max.
  virtual Task<Result<ListPage>> list(std::string prefix, std::string continuation_token,
                                      size_t max_keys) = 0;

  // Deletes `key`. Deleting a missing key succeeds (S3 semantics), so a retried delete is safe.
  virtual Task<Status> remove(std::string key) = 0;

  // Deletes up to list_page_keys_max keys; one Status per key in the same order (a bad key gets
  // invalid_argument in its own Status). The call itself fails only if the whole request failed,
  // or with invalid_argument if given more than list_page_keys_max keys.
  virtual Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) = 0;
};

}  // namespace wal
