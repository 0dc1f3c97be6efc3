#pragma once
// Internal to S3ObjectStore (s3_object_store.cpp, s3_store_delete.cpp, s3_store_open.cpp):
// the state calls in flight share, and the one request loop every call goes through.

#include <memory>
#include <optional>
#include <string>

#include "wal/env/random.h"
#include "wal/real/s3_errors.h"
#include "wal/real/s3_http.h"
#include "wal/real/s3_object_store.h"
#include "wal/real/s3_request.h"

namespace wal {

struct S3ObjectStore::State {
  State(EventLoop& event_loop, S3Options store_options, s3::SignerConfig signer_config,
        uint64_t seed)
      : loop(event_loop),
        options(std::move(store_options)),
        signer(std::move(signer_config)),
        transport(event_loop, s3::HttpTransportOptions{options.ca_file, options.transfers_max,
                                                       options.resolve}),
        random(seed) {}

  EventLoop& loop;
  const S3Options options;
  const s3::RequestSigner signer;
  s3::HttpTransport transport;
  Xoshiro256 random;  // backoff jitter and probe keys
  std::optional<S3Capabilities> capabilities;
  S3Stats stats;
};

namespace s3 {

// Which failures a request may be sent again after (s3_errors.h, `retry_safe`).
enum class RetryPolicy : uint8_t {
  read,       // GET, HEAD, LIST: anything passing
  idempotent, // DELETE, DeleteObjects: like a read, since deleting twice is deleting once
  mutation,   // PUT: only when it provably never took effect
};

// Sends `operation` until the server answers with a status the policy does not retry, the
// attempts (options.attempts_max) or the call's deadline (options.call_timeout) run out, and
// returns the last answer or failure. The caller interprets every non-2xx result.
// `response_body_bytes_max`: the largest body accepted (a whole-object GET needs more than an
// error document).
[[nodiscard]] Task<HttpResult> exchange(std::shared_ptr<S3ObjectStore::State> state,
                                        Operation operation, RetryPolicy policy,
                                        uint64_t response_body_bytes_max =
                                            limits::response_body_bytes_default_max);

// DELETE of one key: ok also when the key is missing (S3 semantics).
[[nodiscard]] Task<Status> delete_object(std::shared_ptr<S3ObjectStore::State> state,
                                         std::string key);

// classify_failure() for a request of the store, counting unknown outcomes.
[[nodiscard]] Error failure_of(S3ObjectStore::State& state, const HttpResult& result,
                               bool mutation, std::string_view what);

}  // namespace s3
}  // namespace wal
