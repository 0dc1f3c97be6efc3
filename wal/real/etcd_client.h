#pragma once
// EtcdClient: the gRPC side of EtcdMetaStore (wal/real/etcd_meta_store.h). One channel per
// endpoint, one completion queue with one thread that posts every finished operation to the
// loop, the auth token, and the retry and failover policy that etcd_meta_store.h describes.
// Internal to wal/real/etcd_*: this header includes gRPC and the generated etcd stubs.
//
// Operations: unary() runs one RPC attempt; call() runs attempts until one succeeds or the
// verdict (etcd_errors.h) says stop; Stream is a bidirectional stream (LeaseKeepAlive, Watch)
// whose start/read/write/finish are awaitable. Every operation resumes its coroutine on the loop.
//
// Threading: everything on the loop thread except run_queue(), which only posts.
// Lifetimes: the client outlives every coroutine that awaits it. Destroying it cancels every
// operation in flight, waits until gRPC returns each one, then stops the queue thread.
// Buffers of an operation (context, messages) are owned by a shared object the operation
// keeps alive, so a destroyed coroutine never leaves gRPC writing into freed memory.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "wal/async/completion.h"
#include "wal/async/sleep.h"
#include "wal/async/task.h"
#include "wal/core/result.h"
#include "etcd_errors.h"
#include "wal/real/etcd_meta_store.h"

namespace wal::etcd {

namespace limits {
// A call gives up after this many attempts even within operation_timeout: a bound on the loop
// when every endpoint refuses at once (refusals take microseconds). 3 endpoints x 20 rounds.
inline constexpr uint32_t call_attempts_max = 60;
// Pause after every endpoint failed once in a round: 50 ms doubling to 800 ms, about the time
// etcd needs to elect a leader with its default timing.
inline constexpr std::chrono::milliseconds round_pause_min{50};
inline constexpr std::chrono::milliseconds round_pause_max{800};
// The largest reply accepted (a range over many keys). etcd's own request limit is 1.5 MiB,
// but a range reply is not bounded by it.
inline constexpr int reply_bytes_max = 256 << 20;
}  // namespace limits

struct Stubs {
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
};

// Cancels a timer when the frame that armed it goes, also when the frame is destroyed while
// suspended: a timer's callback must never run against state that is gone.
class TimerGuard {
 public:
  TimerGuard(Clock& clock, TimerId timer) : clock_(clock), timer_(timer) {}
  ~TimerGuard() { clock_.cancel(timer_); }
  TimerGuard(const TimerGuard&) = delete;
  TimerGuard& operator=(const TimerGuard&) = delete;

 private:
  Clock& clock_;
  TimerId timer_;
};

template <typename Response>
struct UnaryReply {
  grpc::Status status;
  Response response;
};

// Whether a request carries the auth token, and whether a stream asks etcd to close it when
// the member loses its leader (metadata "hasleader", as etcd's own client does for watches):
// a stream on a member cut off from the cluster would otherwise stay silent forever.
enum class Metadata : uint8_t { token, no_token, token_and_require_leader };

class EtcdClient {
 public:
  // Builds the channels (no connection is made yet). invalid_argument: a bad endpoint;
  // io_error: a TLS file cannot be read.
  static Result<std::unique_ptr<EtcdClient>> create(Executor& executor, Clock& clock,
                                                    const EtcdOptions& options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  [[nodiscard]] size_t endpoint_count() const { return endpoints_.size(); }
  [[nodiscard]] size_t current_endpoint() const { return current_; }
  [[nodiscard]] const std::string& address(size_t endpoint) const {
    return endpoints_.at(endpoint).address;
  }
  // Moves on from `endpoint`, unless another request already did.
  void failover_from(size_t endpoint);
  [[nodiscard]] EtcdRequestCounts& counts() { return counts_; }
  [[nodiscard]] const EtcdOptions& options() const { return options_; }
  [[nodiscard]] Executor& executor() const { return executor_; }
  [[nodiscard]] Clock& clock() const { return clock_; }

  // One attempt of a unary RPC on `endpoint`, with `deadline`. `start(stubs, context, queue)`
  // returns the PrepareAsync... reader.
  template <typename Response, typename Start>
  Task<UnaryReply<Response>> unary(size_t endpoint, TimePoint deadline, Metadata metadata,
                                   Start start);

  // Attempts until success or a verdict that stops; see the header comment of
  // etcd_meta_store.h for the policy. `counter` counts the attempts. A request sent with the
  // token is sent again once after renewing a stale token.
  // `what` names the request in errors: a string literal (a std::string built in the caller's
  // co_await expression would be destroyed twice by g++ 12, docs/architecture.md).
  template <typename Response, typename Start>
  Task<Result<Response>> call(Effect effect, uint64_t& counter, std::string_view what,
                              Start start, Metadata metadata = Metadata::token);

  // The pacing of every retry loop (calls, keep-alives, watch streams): after attempt
  // `attempt` (0-based) failed, pauses if that completed a round of every endpoint: 50 ms
  // doubling to 800 ms per round, never past `overall`. Without the doubling, endpoints that
  // refuse at once (a dead member, "no leader" during an election) would use up
  // call_attempts_max in about a second, long before operation_timeout.
  Task<void> pause_after_failure(uint32_t attempt, TimePoint overall);

  // Adds what gRPC logged about a failed TLS handshake to a connection error.
  void explain(Error& error) const;

  // Gets a fresh auth token (no-op without a username). The error of the last attempt.
  Task<Status> authenticate();

  template <typename W, typename R>
  class Stream;
  // A bidirectional stream on `endpoint`, not started yet. `prepare(stubs, context, queue)`
  // returns the PrepareAsync... reader-writer.
  template <typename W, typename R, typename Prepare>
  std::shared_ptr<Stream<W, R>> stream(size_t endpoint, Prepare prepare);

  // Registers an operation on `context` and returns the tag to give gRPC; `done` is set to
  // gRPC's ok flag on the loop. `owner` is kept alive until then.
  void* begin_operation(std::shared_ptr<void> owner, grpc::ClientContext* context,
                        Completion<bool> done);

 private:
  struct Endpoint {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
    Stubs stubs;
  };
  struct Operation {
    std::shared_ptr<void> owner;
    grpc::ClientContext* context = nullptr;
    Completion<bool> done;
  };

  EtcdClient(Executor& executor, Clock& clock, EtcdOptions options);
  void run_queue();
  void prepare_context(grpc::ClientContext& context, std::optional<TimePoint> deadline,
                       Metadata metadata) const;

  Executor& executor_;
  Clock& clock_;
  const EtcdOptions options_;
  std::vector<Endpoint> endpoints_;
  size_t current_ = 0;
  std::string token_;  // empty: none
  EtcdRequestCounts counts_;

  grpc::CompletionQueue queue_;
  std::thread queue_thread_;
  std::mutex mutex_;
  std::condition_variable drained_;
  std::map<grpc::ClientContext*, uint32_t> pending_;  // guarded by mutex_: operations per call
};

// A bidirectional stream. At most one read and one write in flight at a time (gRPC's rule);
// the owner's coroutines keep to it. After a failed read the owner calls finish() for the
// status. cancel() makes every pending and later operation fail.
template <typename W, typename R>
class EtcdClient::Stream : public std::enable_shared_from_this<Stream<W, R>> {
 public:
  Stream(EtcdClient& client, size_t endpoint) : client_(client), endpoint_(endpoint) {}
  [[nodiscard]] size_t endpoint() const { return endpoint_; }
  grpc::ClientContext& context() { return context_; }

  Task<bool> start() {
    Completion<bool> done(client_.executor());
    rw_->StartCall(client_.begin_operation(this->shared_from_this(), &context_, done));
    co_return co_await done.wait();
  }
  // `message` is copied before this returns; pass a named local (docs/architecture.md).
  Task<bool> write(const W& message) {
    write_buffer_ = message;
    Completion<bool> done(client_.executor());
    rw_->Write(write_buffer_, client_.begin_operation(this->shared_from_this(), &context_, done));
    co_return co_await done.wait();
  }
  Task<std::optional<R>> read() {
    Completion<bool> done(client_.executor());
    rw_->Read(&read_buffer_, client_.begin_operation(this->shared_from_this(), &context_, done));
    if (!co_await done.wait()) co_return std::nullopt;
    co_return std::move(read_buffer_);
  }
  Task<grpc::Status> finish() {
    Completion<bool> done(client_.executor());
    rw_->Finish(&status_, client_.begin_operation(this->shared_from_this(), &context_, done));
    (void)co_await done.wait();
    co_return status_;
  }
  void cancel() { context_.TryCancel(); }

 private:
  friend class EtcdClient;
  EtcdClient& client_;
  const size_t endpoint_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<W, R>> rw_;
  W write_buffer_;
  R read_buffer_;
  grpc::Status status_;
};

template <typename W, typename R, typename Prepare>
std::shared_ptr<EtcdClient::Stream<W, R>> EtcdClient::stream(size_t endpoint, Prepare prepare) {
  WAL_ASSERT(endpoint < endpoints_.size());
  auto created = std::make_shared<Stream<W, R>>(*this, endpoint);
  prepare_context(created->context_, std::nullopt, Metadata::token_and_require_leader);
  created->rw_ = prepare(endpoints_[endpoint].stubs, &created->context_, &queue_);
  WAL_ASSERT(created->rw_ != nullptr);
  return created;
}

template <typename Response, typename Start>
Task<UnaryReply<Response>> EtcdClient::unary(size_t endpoint, TimePoint deadline,
                                             Metadata metadata, Start start) {
  WAL_ASSERT(endpoint < endpoints_.size());
  struct Call {
    grpc::ClientContext context;
    Response response;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<Response>> reader;
  };
  auto call = std::make_shared<Call>();
  prepare_context(call->context, deadline, metadata);
  call->reader = start(endpoints_[endpoint].stubs, &call->context, &queue_);
  WAL_ASSERT(call->reader != nullptr);
  call->reader->StartCall();
  Completion<bool> done(executor_);
  call->reader->Finish(&call->response, &call->status,
                       begin_operation(call, &call->context, done));
  (void)co_await done.wait();  // a unary Finish always reports ok; the status says the rest
  co_return UnaryReply<Response>{call->status, std::move(call->response)};
}

template <typename Response, typename Start>
Task<Result<Response>> EtcdClient::call(Effect effect, uint64_t& counter, std::string_view what,
                                        Start start, Metadata metadata) {
  const TimePoint overall = clock_.now() + options_.operation_timeout;
  std::optional<Error> last;
  bool reauthenticated = false;
  for (uint32_t attempt = 0; attempt < limits::call_attempts_max; ++attempt) {
    const TimePoint now = clock_.now();
    if (now >= overall) break;
    const size_t endpoint = current_;
    ++counter;
    UnaryReply<Response> reply = co_await unary<Response>(
        endpoint, std::min<TimePoint>(now + options_.request_timeout, overall), metadata, start);
    if (reply.status.ok()) co_return std::move(reply.response);
    Verdict verdict = classify(reply.status, effect, address(endpoint), what);
    if (verdict.failover) failover_from(endpoint);
    if (verdict.reauthenticate && !reauthenticated && metadata != Metadata::no_token) {
      reauthenticated = true;  // once per call: a token that fails at once again is not stale
      Status renewed = co_await authenticate();
      if (!renewed.ok()) co_return std::move(renewed).error();
      continue;
    }
    if (!verdict.retry) co_return std::move(verdict.error);
    last = std::move(verdict.error);
    co_await pause_after_failure(attempt, overall);
  }
  if (!last) last = make_error(Errc::timeout, describe(address(current_), what, "no attempt"));
  // Only requests that certainly had no effect were retried, so the last error is definite.
  WAL_ASSERT(!last->unknown());
  explain(*last);
  last->message += " (gave up after operation_timeout " +
                   std::to_string(options_.operation_timeout.count()) + " ms)";
  co_return std::move(*last);
}

}  // namespace wal::etcd
