#pragma once
// How an S3 answer (or the lack of one) becomes a wal::Error, and whether the client may send
// the request again by itself. One table for every operation, so a status means the same thing
// for GET and PUT except where S3 says otherwise (the callers handle 412, 404 and 416 first).
//
// Outcome rules (docs/object-stores.md):
//  - A read (GET, HEAD, LIST) changes nothing: every error is definite.
//  - A mutation (PUT, DELETE, DeleteObjects) is definite when the server answered 4xx (it
//    refused), or when the transport knows the request never reached it whole (not_sent,
//    body_incomplete). It is unknown after a timeout, a broken connection or a 5xx once the
//    request may have reached the server, and when curl sent it twice.
//  - `retry_safe`: sending the same request again cannot do harm. True for reads that failed
//    for a passing reason (5xx, 429, a transport failure, 400 RequestTimeout), for mutations
//    only when the request definitely did not take effect and the failure is passing.
//    Idempotent deletes are retried by the store itself on top of this.

#include <string>
#include <string_view>

#include "wal/core/result.h"
#include "wal/real/s3_http.h"
#include "wal/real/s3_xml.h"

namespace wal::s3 {

struct Classified {
  Error error;
  bool retry_safe = false;
};

// `what` names the request in messages ("PUT wal/log/0/b3"); `mutation` says whether it can
// change the bucket. Precondition: the result is a failure or a non-2xx status.
[[nodiscard]] Classified classify_failure(const HttpResult& result, bool mutation,
                                          std::string_view what);

// The S3 error code of a response body ("" when it has none, as for HEAD).
[[nodiscard]] S3ErrorBody error_body_of(const HttpResult& result);

[[nodiscard]] inline bool is_success(const HttpResult& result) {
  return result.failure == HttpFailure::none && result.status >= 200 && result.status < 300;
}

}  // namespace wal::s3
