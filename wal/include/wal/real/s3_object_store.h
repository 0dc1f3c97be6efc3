#pragma once
// S3ObjectStore: the ObjectStore on any S3-compatible server (AWS S3, MinIO, Ceph RGW), over
// libcurl (s3_http.h) with our own SigV4 signing (s3_sigv4.h). Semantics are the interface's
// (wal/env/object_store.h); docs/object-stores.md lists what each tested server enforces.
//
// Requests: PUT with If-None-Match: * or If-Match (the ETag unquoted, which every server
// accepts and RGW requires); GET with Range; HEAD; ListObjectsV2 (prefix, max-keys,
// continuation-token, start-after); DELETE; DeleteObjects (POST ?delete, Content-MD5).
//
// Outcomes (s3_errors.h has the full table):
//  - put: ok once the server answered 200 (S3 makes an object durable before it answers).
//    already_exists (412 on create-only), condition_failed (412 on If-Match, 409
//    ConditionalRequestConflict), not_found (If-Match on a missing key: some servers answer 412
//    there, so a 412 is followed by a HEAD), permission_denied, too_large, invalid_argument:
//    definite. timeout / unavailable after the request may have reached the server, or a 5xx:
//    UNKNOWN; settle it by reading (the WAL re-PUTs create-only and compares). A put is sent
//    again by the store only when it provably never reached the server whole (connection
//    refused, connection lost before the whole body was handed over, 400 RequestTimeout).
//  - get / head / list: retried with exponential backoff and jitter (5xx, 429 SlowDown,
//    transport failures) within the call's deadline; errors are definite. A get of a range
//    that starts at offset 0 of an empty object returns the empty body (S3 answers 416).
//  - list: the token returned is S3's continuation token; a token the store did not produce
//    is taken as a key to start after (ListObjectsV2 start-after), so the last key of a page
//    from any store continues the listing too.
//  - remove / remove_many: deletes are idempotent in S3 (a missing key succeeds), so the store
//    retries them like reads; if every attempt fails after reaching the server the error is
//    unknown. remove_many reports per key exactly what the server said: a key the server did
//    not list as deleted gets an error, never ok. Keys XML cannot carry are deleted one by one.
//
// Deadlines: every call has an overall deadline (call_timeout); each HTTP attempt has its own
// (attempt_timeout, plus body size / transfer_bytes_per_second_min for large bodies), cut to
// what is left of the call's.
//
// Threading: calls on the EventLoop thread; results complete there. The HTTP work, SHA-256
// and signing run on the transport's I/O thread. The store may be destroyed with calls in
// flight: they hold the state they need and complete normally. The EventLoop must outlive the
// store and every call.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wal/env/object_store.h"
#include "wal/real/event_loop.h"
#include "wal/real/s3_request.h"

namespace wal {

struct S3Options {
  std::string endpoint;  // "http://127.0.0.1:7480"; https://s3.<region>.amazonaws.com for AWS
  std::string bucket;
  std::string region = "us-east-1";
  s3::Addressing addressing = s3::Addressing::path;
  s3::Credentials credentials;
  std::string ca_file;            // empty: the system CA store
  std::vector<std::string> resolve;  // "host:port:address" pins (s3_http.h), usually empty
  bool unsigned_payload = false;  // https only: sign UNSIGNED-PAYLOAD, skip hashing bodies
  std::chrono::milliseconds connect_timeout{2000};
  // One HTTP attempt: 10 s covers a loaded server's small request; big bodies add time below.
  std::chrono::milliseconds attempt_timeout{10'000};
  // 1 MiB/s: a 64 MiB object gets 64 s more. A stalled connection is cut by this, not by TCP.
  uint64_t transfer_bytes_per_second_min = 1ull << 20;
  // Every call, all attempts and backoff included: past it a read reports its last error.
  std::chrono::milliseconds call_timeout{60'000};
  // Attempts of a read or delete within one call; the WAL retries reads again on top.
  uint32_t attempts_max = 5;
  std::chrono::milliseconds backoff_min{50};
  std::chrono::milliseconds backoff_max{2000};
  uint32_t transfers_max = s3::limits::transfers_max;
};

// What the server enforces, as probed by S3ObjectStore::open (docs/object-stores.md).
struct S3Capabilities {
  bool create_only_enforced = false;  // PUT If-None-Match: * refuses an existing key (412)
  bool if_match_enforced = false;     // PUT If-Match refuses a wrong ETag and takes the right one
  // One line for logs: the server, what it enforces and the fencing mode that follows.
  [[nodiscard]] std::string describe(const S3Options& options) const;
};

// Counters for tests and benchmarks (loop thread only).
struct S3Stats {
  uint64_t requests = 0;          // HTTP attempts sent
  uint64_t retries = 0;           // attempts after the first, within calls
  uint64_t unknown_outcomes = 0;  // errors returned with Outcome::unknown
};

class S3ObjectStore final : public ObjectStore {
 public:
  // Checks the options, connects, and checks that the bucket answers with these credentials
  // (one ListObjectsV2 of one key). With `probe_conditions`, also probes If-None-Match and
  // If-Match on a scratch key under ".wal-probe/" (about five requests; the key is deleted).
  // Errors, each with a one-line message: invalid_argument (bad endpoint, bucket name, missing
  // credentials, unsigned payload over http), unavailable (endpoint unreachable), not_found
  // (no such bucket), permission_denied (wrong key, secret, token or region).
  [[nodiscard]] static Task<Result<std::unique_ptr<S3ObjectStore>>> open(
      EventLoop& loop, S3Options options, bool probe_conditions = true);
  ~S3ObjectStore() override;
  S3ObjectStore(const S3ObjectStore&) = delete;
  S3ObjectStore& operator=(const S3ObjectStore&) = delete;

  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override;
  Task<Result<ObjectInfo>> put_shared(std::string key, SharedBytes body,
                                      PutCondition condition) override;
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override;
  Task<Result<ObjectInfo>> head(std::string key) override;
  Task<Result<ListPage>> list(std::string prefix, std::string continuation_token,
                              size_t max_keys) override;
  Task<Status> remove(std::string key) override;
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override;

  // Set by open() when it probed; nullopt otherwise.
  [[nodiscard]] const std::optional<S3Capabilities>& capabilities() const;
  [[nodiscard]] const S3Stats& stats() const;
  [[nodiscard]] const S3Options& options() const;

  struct State;  // shared with calls in flight (public for the implementation files)

 private:
  explicit S3ObjectStore(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace wal
