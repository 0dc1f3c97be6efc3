#pragma once
// HttpTransport: HTTP/1.1 requests over libcurl on one I/O thread of its own, with results
// handed back to the EventLoop. The S3 client's only way onto the network.
//
//  - One curl multi handle on a dedicated thread runs every transfer; connections (and TLS
//    sessions) are reused across requests. At most transfers_max run at once; later requests
//    wait in a FIFO queue, and their timeout starts only when they start.
//  - send() may be called on the loop thread only; the result is delivered there. Before a
//    transfer starts, its `prepare` function (if any) runs on the I/O thread: the S3 client
//    hashes and signs the request there, so SHA-256 of a 4 MiB body never runs on the loop.
//  - "Expect:" is always sent empty: no 100-continue round trip before a body.
//  - HTTPS verifies the peer against the system CA store, or `ca_file` when given.
//
// What is known about a request that failed (HttpFailure) is exactly what the transport saw:
//   not_sent         no byte of the request reached the socket (connection refused, DNS, TLS
//                    handshake, timeout while connecting). Definite for every method.
//   body_incomplete  the connection broke before curl had taken the whole body: a server that
//                    honours Content-Length cannot have a complete request. Definite.
//   timeout, broken  the request may have reached the server whole: for a mutation the
//                    outcome is unknown.
//   response_too_large  the response body exceeded the request's limit; the request was
//                    answered (a mutation may have happened).
//   closed           the transport shut down before the request finished (unknown).
// curl re-sends a request by itself when a reused connection turns out dead. For a request
// with a body the transport refuses the rewind (the transfer fails as `broken`); for any
// request `send_count` in the result says how often the request headers went out, so a caller
// can tell that a response may answer a second copy of a mutation.
//
// Lifetime: the EventLoop must outlive the transport. Destroying the transport stops the
// thread; requests still queued or running complete with `closed` (posted to the loop).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "wal/async/completion.h"
#include "wal/async/task.h"
#include "wal/core/bytes.h"
#include "wal/env/object_store.h"
#include "wal/real/event_loop.h"

namespace wal::s3 {

namespace limits {
// Transfers running at once. The writer keeps 4 PUTs in flight and readers prefetch 4 blocks;
// 32 leaves room for GC deletes and several logs without queueing, and bounds open sockets.
inline constexpr uint32_t transfers_max = 32;
// The largest response body the transport accepts for a request that sets no limit: an error
// or list document. A ListObjectsV2 page of 1000 keys of 1 KiB is about 1.3 MiB.
inline constexpr uint64_t response_body_bytes_default_max = 4ull << 20;
}  // namespace limits

struct HttpRequest {
  std::string method;                // GET, HEAD, PUT, POST, DELETE
  std::string url;                   // absolute, already percent-encoded
  std::vector<std::string> headers;  // "Name: value" lines
  SharedBytes body;                  // null: no body (GET, HEAD, DELETE)
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{10000};  // the whole attempt, from its start
  uint64_t response_body_bytes_max = limits::response_body_bytes_default_max;
  // Runs on the I/O thread right before the transfer starts (may add headers).
  std::function<void(HttpRequest&)> prepare;
};

enum class HttpFailure : uint8_t {
  none,
  not_sent,
  body_incomplete,
  timeout,
  broken,
  response_too_large,
  closed,
};

[[nodiscard]] std::string_view http_failure_name(HttpFailure failure);

struct HttpResult {
  HttpFailure failure = HttpFailure::none;
  std::string failure_message;  // curl's description when failure != none
  bool tls_problem = false;     // the failure was in the TLS handshake or certificate check
  uint32_t send_count = 0;      // how many times the request headers were sent
  long status = 0;              // HTTP status when failure == none
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  Bytes body;

  // The value of the first header named `name` (lower-case), or "".
  [[nodiscard]] std::string header(std::string_view name) const;
};

struct HttpTransportOptions {
  std::string ca_file;  // empty: the system CA store
  uint32_t transfers_max = limits::transfers_max;
  // "host:port:address" entries that pin a host name to an address instead of asking DNS
  // (curl's --resolve), e.g. for virtual-host addressing where bucket.host has no DNS record.
  std::vector<std::string> resolve;
};

class HttpTransport {
 public:
  HttpTransport(EventLoop& loop, HttpTransportOptions options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  [[nodiscard]] Task<HttpResult> send(HttpRequest request);

  struct Transfer;  // one running request (I/O thread only; public for curl's callbacks)

 private:
  struct Pending {
    HttpRequest request;
    Completion<HttpResult> done;
  };
  void io_thread_main();
  void start_transfer(Pending pending);
  void finish_transfer(Transfer* transfer, int curl_code);
  void deliver(Completion<HttpResult> done, HttpResult result);

  EventLoop& loop_;
  const HttpTransportOptions options_;
  void* multi_ = nullptr;  // CURLM*, used only on the I/O thread (and curl_multi_wakeup)
  void* resolve_list_ = nullptr;  // curl_slist* of options_.resolve, shared by every transfer
  std::mutex mutex_;
  std::deque<Pending> incoming_;  // guarded by mutex_
  bool stopping_ = false;         // guarded by mutex_
  // I/O thread only:
  std::deque<Pending> waiting_;   // accepted, not started (transfers_max reached)
  std::vector<std::unique_ptr<Transfer>> running_;
  std::vector<void*> idle_handles_;  // CURL* kept for reuse
  std::thread thread_;
};

}  // namespace wal::s3
