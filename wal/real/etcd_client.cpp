// EtcdClient (etcd_client.h): channels, the completion-queue thread, authentication.
#include "etcd_client.h"

#include <grpc/grpc.h>
#include <grpc/support/log.h>

#include <fstream>
#include <sstream>

namespace wal::etcd {

namespace {

// gRPC's reconnect backoff defaults (1 s growing to 120 s, and a 20 s minimum connect
// timeout) would keep a restarted etcd member unused for minutes; a member restarts in well
// under a second.
constexpr int reconnect_backoff_initial_ms = 100;
constexpr int reconnect_backoff_max_ms = 1000;
constexpr int connect_timeout_min_ms = 1000;
// Pings on idle connections find a member that vanished without closing its sockets. etcd
// refuses pings more often than every 5 s (--grpc-keepalive-min-time) with a GOAWAY.
constexpr int keepalive_time_ms = 10'000;
constexpr int keepalive_timeout_ms = 3'000;

// gRPC logs TLS handshake failures (a refused or unknown certificate) to stderr, one call
// later failing only with "failed to connect". Its log is process-wide, so this is too: the
// lines are kept (the last TLS one) instead of printed, and a failed connection over TLS quotes
// it, so the user gets one line that says what was wrong.
struct GrpcLogTail {
  std::mutex mutex;
  std::string last_tls_error;  // guarded by mutex
};

GrpcLogTail& grpc_log_tail() {
  static GrpcLogTail tail;
  return tail;
}

void keep_grpc_log(gpr_log_func_args* args) {
  if (args->severity != GPR_LOG_SEVERITY_ERROR || args->message == nullptr) return;
  const std::string_view message = args->message;
  for (std::string_view marker : {"SSL", "ssl", "certificate", "andshake", "TSI_"}) {
    if (message.find(marker) == std::string_view::npos) continue;
    // "Decryption error" and "Corruption detected" follow the line that names the cause.
    if (message.find("Decryption error") != std::string_view::npos ||
        message.find("Corruption detected") != std::string_view::npos) {
      return;
    }
    GrpcLogTail& tail = grpc_log_tail();
    std::lock_guard lock(tail.mutex);
    tail.last_tls_error = std::string(message);
    return;
  }
}

Result<std::string> read_pem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io_error, std::string("etcd: cannot read the TLS ") + what +
                                                 " file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::shared_ptr<grpc::ChannelCredentials>> tls_credentials(const EtcdTlsOptions& tls) {
  grpc::SslCredentialsOptions ssl;
  Result<std::string> ca = read_pem(tls.ca_file, "CA");
  if (!ca.ok()) return std::move(ca).error();
  ssl.pem_root_certs = std::move(*ca);
  if (!tls.cert_file.empty()) {
    Result<std::string> cert = read_pem(tls.cert_file, "certificate");
    if (!cert.ok()) return std::move(cert).error();
    Result<std::string> key = read_pem(tls.key_file, "key");
    if (!key.ok()) return std::move(key).error();
    ssl.pem_cert_chain = std::move(*cert);
    ssl.pem_private_key = std::move(*key);
  }
  return grpc::SslCredentials(ssl);
}

}  // namespace

EtcdClient::EtcdClient(Executor& executor, Clock& clock, EtcdOptions options)
    : executor_(executor), clock_(clock), options_(std::move(options)) {}

Result<std::unique_ptr<EtcdClient>> EtcdClient::create(Executor& executor, Clock& clock,
                                                       const EtcdOptions& options) {
  if (Status valid = validate_etcd_options(options); !valid.ok()) return std::move(valid).error();
  // gRPC starts itself with its first object and stops with its last; cycling that as stores
  // come and go races with its internal threads in 1.51 (see grpc_network.cpp). Keep it up.
  static const bool grpc_initialised = [] {
    gpr_set_log_function(keep_grpc_log);
    grpc_init();
    return true;
  }();
  (void)grpc_initialised;
  std::shared_ptr<grpc::ChannelCredentials> secure;
  if (options.tls) {
    Result<std::shared_ptr<grpc::ChannelCredentials>> made = tls_credentials(*options.tls);
    if (!made.ok()) return std::move(made).error();
    secure = std::move(*made);
  }
  std::unique_ptr<EtcdClient> client(new EtcdClient(executor, clock, options));
  for (const std::string& endpoint : options.endpoints) {
    std::string address = endpoint;
    for (const char* scheme : {"http://", "https://"}) {
      if (address.starts_with(scheme)) address = address.substr(std::string_view(scheme).size());
    }
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(limits::reply_bytes_max);
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, reconnect_backoff_initial_ms);
    arguments.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, connect_timeout_min_ms);  // sic
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, reconnect_backoff_max_ms);
    arguments.SetInt("grpc.client_idle_timeout_ms", INT32_MAX);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, keepalive_time_ms);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, keepalive_timeout_ms);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    // Each endpoint its own channel, never shared with another store's (its own subchannel).
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto credentials = secure ? secure : grpc::InsecureChannelCredentials();
    Endpoint made{address, grpc::CreateCustomChannel(address, credentials, arguments), {}};
    made.stubs.kv = etcdserverpb::KV::NewStub(made.channel);
    made.stubs.lease = etcdserverpb::Lease::NewStub(made.channel);
    made.stubs.watch = etcdserverpb::Watch::NewStub(made.channel);
    made.stubs.auth = etcdserverpb::Auth::NewStub(made.channel);
    made.stubs.maintenance = etcdserverpb::Maintenance::NewStub(made.channel);
    client->endpoints_.push_back(std::move(made));
  }
  WAL_ASSERT(!client->endpoints_.empty());
  EtcdClient& raw = *client;
  client->queue_thread_ = std::thread([&raw] { raw.run_queue(); });
  return client;
}

EtcdClient::~EtcdClient() {
  {
    std::unique_lock lock(mutex_);
    for (auto& [context, count] : pending_) context->TryCancel();
    // Cancelled operations come back quickly; none may be returned after the queue is gone.
    drained_.wait(lock, [&] { return pending_.empty(); });
  }
  queue_.Shutdown();
  if (queue_thread_.joinable()) queue_thread_.join();
}

void EtcdClient::run_queue() {
  void* tag = nullptr;
  bool ok = false;
  while (queue_.Next(&tag, &ok)) {
    std::shared_ptr<Operation> operation(static_cast<Operation*>(tag));
    {
      std::lock_guard lock(mutex_);
      auto it = pending_.find(operation->context);
      WAL_ASSERT(it != pending_.end());
      if (--it->second == 0) pending_.erase(it);
      drained_.notify_all();
    }
    // The loop sets the result and drops the operation (and with it the call's buffers).
    executor_.post([operation, ok] { operation->done.set(ok); });
  }
}

void* EtcdClient::begin_operation(std::shared_ptr<void> owner, grpc::ClientContext* context,
                                  Completion<bool> done) {
  WAL_ASSERT(owner != nullptr);
  WAL_ASSERT(context != nullptr);
  auto* operation = new Operation{std::move(owner), context, std::move(done)};
  std::lock_guard lock(mutex_);
  ++pending_[context];
  return operation;
}

void EtcdClient::prepare_context(grpc::ClientContext& context, std::optional<TimePoint> deadline,
                                 Metadata metadata) const {
  if (deadline) {
    // gRPC deadlines run on the system clock; convert the time left on ours.
    const Duration left = std::max(Duration::zero(), *deadline - clock_.now());
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(left));
  }
  if (metadata != Metadata::no_token && !token_.empty()) context.AddMetadata("token", token_);
  if (metadata == Metadata::token_and_require_leader) context.AddMetadata("hasleader", "true");
}

std::string last_tls_error() {
  GrpcLogTail& tail = grpc_log_tail();
  std::lock_guard lock(tail.mutex);
  return tail.last_tls_error;
}

void EtcdClient::explain(Error& error) const {
  if (!options_.tls || error.code != Errc::unavailable) return;
  if (error.message.find("failed to connect") == std::string::npos) return;
  const std::string tls = last_tls_error();
  if (!tls.empty()) error.message += " (TLS: " + tls + ")";
}

Task<void> EtcdClient::pause_after_failure(uint32_t attempt, TimePoint overall) {
  const size_t count = endpoints_.size();
  if ((attempt + 1) % count != 0) co_return;  // not every endpoint has been tried yet
  const uint32_t round = std::min<uint32_t>(static_cast<uint32_t>(attempt / count), 4);
  const auto pause = std::min(limits::round_pause_max, limits::round_pause_min * (1 << round));
  co_await sleep_until(clock_, std::min<TimePoint>(clock_.now() + pause, overall));
}

void EtcdClient::failover_from(size_t endpoint) {
  WAL_ASSERT(endpoint < endpoints_.size());
  if (current_ != endpoint || endpoints_.size() == 1) return;
  current_ = (current_ + 1) % endpoints_.size();
  ++counts_.failovers_count;
}

Task<Status> EtcdClient::authenticate() {
  if (options_.username.empty()) co_return Status{};
  etcdserverpb::AuthenticateRequest request;
  request.set_name(options_.username);
  request.set_password(options_.password);
  // Authenticating is retried like a read: a spare token has no effect and expires on its own.
  Result<etcdserverpb::AuthenticateResponse> reply =
      co_await call<etcdserverpb::AuthenticateResponse>(
          Effect::read, counts_.authenticate_count, "authenticate",
          [&](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
            return stubs.auth->PrepareAsyncAuthenticate(context, request, queue);
          },
          Metadata::no_token);
  if (!reply.ok()) co_return std::move(reply).error();
  if (reply->token().empty()) {
    co_return make_error(Errc::protocol, describe(address(current_), "authenticate",
                                                  "an empty token"));
  }
  token_ = reply->token();
  co_return Status{};
}

}  // namespace wal::etcd
