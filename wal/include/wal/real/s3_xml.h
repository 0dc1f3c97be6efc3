#pragma once
// The XML of S3 responses and requests: a small element tree built with expat (Debian
// libexpat1-dev; a real parser handles entities, CDATA and encodings we would otherwise get
// wrong), and readers for the three documents the S3 client needs: ListObjectsV2 results,
// DeleteObjects results and error bodies. Pure functions, thread-safe.
//
// Errors: parse_xml and the readers return Errc::protocol (definite) for a document that is not
// well-formed, nests deeper than xml_depth_max, or lacks a required element. Bytes from the
// server are never asserted on.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wal/core/result.h"
#include "wal/env/object_store.h"

namespace wal::s3 {

namespace limits {
// S3 responses nest four levels (ListBucketResult/Contents/Owner/ID); 32 leaves room for
// servers that add wrappers while bounding the recursion of a hostile document.
inline constexpr uint32_t xml_depth_max = 32;
}  // namespace limits

struct XmlElement {
  std::string name;  // as written, without namespace processing ("Contents")
  std::string text;  // character data directly inside this element, entities resolved
  std::vector<XmlElement> children;

  // The first child named `child_name`, or nullptr.
  [[nodiscard]] const XmlElement* child(std::string_view child_name) const;
  // The text of the first child named `child_name`, or "" if there is none.
  [[nodiscard]] std::string child_text(std::string_view child_name) const;
};

[[nodiscard]] Result<XmlElement> parse_xml(std::string_view document);

// Escapes &, <, >, " and ', and CR and LF as character references (a parser would otherwise
// normalise a CR in a key to LF).
[[nodiscard]] std::string xml_escape(std::string_view text);
// False if `text` holds a character XML 1.0 cannot carry at all (controls other than tab, CR
// and LF). Such keys cannot go into a DeleteObjects body.
[[nodiscard]] bool xml_can_carry(std::string_view text);

// Strips one pair of surrounding double quotes ("\"abc\"" -> "abc"); S3 quotes ETags.
[[nodiscard]] std::string unquote_etag(std::string_view etag);

struct ListObjectsResult {
  std::vector<ObjectInfo> objects;  // in the order the server sent them
  bool truncated = false;
  std::string next_continuation_token;  // empty when not truncated
};
[[nodiscard]] Result<ListObjectsResult> parse_list_objects_v2(std::string_view document);

struct DeleteObjectsResult {
  std::vector<std::string> deleted;  // keys the server reports deleted
  struct Failure {
    std::string key;
    std::string code;     // S3 error code, e.g. "AccessDenied"
    std::string message;
  };
  std::vector<Failure> failed;
};
[[nodiscard]] Result<DeleteObjectsResult> parse_delete_objects(std::string_view document);
// The body of a DeleteObjects request for `keys` (each must pass xml_can_carry).
[[nodiscard]] std::string delete_objects_body(const std::vector<std::string>& keys);

struct S3ErrorBody {
  std::string code;     // "NoSuchKey", "SlowDown", ...; empty if the body is not an S3 error
  std::string message;
  std::string region;   // AuthorizationHeaderMalformed / PermanentRedirect name the right one
};
// Best effort: an empty or non-XML body (HEAD responses have none) gives an empty code.
[[nodiscard]] S3ErrorBody parse_error_body(std::string_view document);

}  // namespace wal::s3
