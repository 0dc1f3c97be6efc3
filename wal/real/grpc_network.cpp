// GrpcNetwork (wal/real/grpc_network.h): the Network interface over gRPC.
//
// Server side: gRPC's synchronous service threads receive a call, post the request to the loop,
// and wait for the handler's reply (or the call's deadline, or the endpoint closing). The loop
// runs the handler as a coroutine in the endpoint's Scope.
// Client side: gRPC's completion-queue API with one thread per endpoint that posts each result
// to the loop. (Not the callback API: in gRPC 1.51 its shared completion-queue thread aborts when
// channels come and go, as they do when nodes restart.) The endpoint cancels and waits for every
// call in flight before it goes away, so no gRPC thread touches it afterwards.
#include "wal/real/grpc_network.h"

#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <thread>

#include "node_rpc.grpc.pb.h"
#include "wal/async/completion.h"
#include "wal/async/sleep.h"

namespace wal {

void GrpcDirectory::set(const NodeId& node, std::string address) {
  std::lock_guard lock(mutex_);
  addresses_[node] = std::move(address);
}

void GrpcDirectory::erase(const NodeId& node) {
  std::lock_guard lock(mutex_);
  addresses_.erase(node);
}

std::optional<std::string> GrpcDirectory::lookup(const NodeId& node) const {
  std::lock_guard lock(mutex_);
  auto it = addresses_.find(node);
  if (it == addresses_.end()) return std::nullopt;
  return it->second;
}

namespace {

constexpr uint32_t errc_count = static_cast<uint32_t>(Errc::protocol) + 1;

// A request being handled on the loop, awaited by a gRPC thread.
struct PendingReply {
  std::mutex mutex;
  std::condition_variable ready;
  std::optional<Result<Bytes>> result;
  void set(Result<Bytes> value) {
    std::lock_guard lock(mutex);
    result = std::move(value);
    ready.notify_all();
  }
};

void fill_reply(const Result<Bytes>& result, rpc::CallReply& reply) {
  if (result.ok()) {
    reply.set_ok(true);
    reply.set_body(reinterpret_cast<const char*>(result->data()), result->size());
    return;
  }
  reply.set_ok(false);
  reply.set_error_code(static_cast<uint32_t>(result.error().code) + 1);  // 0: unset
  reply.set_outcome_unknown(result.error().unknown());
  reply.set_error_message(result.error().message);
}

Result<Bytes> result_from_reply(const rpc::CallReply& reply) {
  if (reply.ok()) {
    const std::string& body = reply.body();
    return Bytes(reinterpret_cast<const std::byte*>(body.data()),
                 reinterpret_cast<const std::byte*>(body.data()) + body.size());
  }
  if (reply.error_code() == 0 || reply.error_code() > errc_count) {
    return make_unknown(Errc::protocol, "a reply with an unknown error code " +
                                            std::to_string(reply.error_code()));
  }
  return Error{static_cast<Errc>(reply.error_code() - 1),
               reply.outcome_unknown() ? Outcome::unknown : Outcome::definite,
               reply.error_message()};
}

Error error_from_status(const grpc::Status& status, const NodeId& target) {
  const std::string where = target + ": " + status.error_message();
  const grpc::StatusCode code = status.error_code();
  if (code == grpc::StatusCode::DEADLINE_EXCEEDED) return make_unknown(Errc::timeout, where);
  if (code == grpc::StatusCode::RESOURCE_EXHAUSTED) return make_error(Errc::too_large, where);
  if (code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::CANCELLED) {
    return make_unknown(Errc::unavailable, where);
  }
  return make_unknown(Errc::protocol, "gRPC status " + std::to_string(code) + " from " + where);
}

}  // namespace

struct GrpcNetwork::Impl final : public rpc::Node::Service {
  struct ClientCall {
    explicit ClientCall(Executor& loop) : done(loop) {}
    grpc::ClientContext context;
    rpc::CallRequest request;
    rpc::CallReply reply;
    grpc::Status status;
    std::unique_ptr<grpc::ClientAsyncResponseReader<rpc::CallReply>> reader;
    Completion<Result<Bytes>> done;
    NodeId target;
  };
  // What gRPC threads share with the loop side.
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    bool closing = false;
    // Client calls in flight, by their completion-queue tag; cancelled at close.
    std::map<ClientCall*, std::shared_ptr<ClientCall>> calls;
  };

  // The client completion-queue thread: hands each finished call to the loop.
  void run_client_queue() {
    void* tag = nullptr;
    bool ok = false;
    while (client_queue.Next(&tag, &ok)) {
      std::shared_ptr<ClientCall> call;
      {
        std::lock_guard lock(shared->mutex);
        auto it = shared->calls.find(static_cast<ClientCall*>(tag));
        WAL_ASSERT(it != shared->calls.end());
        call = std::move(it->second);
        shared->calls.erase(it);
      }
      Result<Bytes> result = call->status.ok() ? result_from_reply(call->reply)
                                               : Result<Bytes>(error_from_status(call->status,
                                                                                 call->target));
      executor.post([done = call->done, result = std::move(result)]() mutable {
        done.set(std::move(result));
      });
      std::lock_guard lock(shared->mutex);
      shared->changed.notify_all();
    }
  }

  explicit Impl(Executor& loop) : executor(loop), scope(loop) {}

  // A gRPC server thread.
  grpc::Status Call(grpc::ServerContext* context, const rpc::CallRequest* request,
                    rpc::CallReply* reply) override {
    {
      std::lock_guard lock(shared->mutex);
      if (shared->closing) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "node closing");
    }
    auto pending = std::make_shared<PendingReply>();
    RpcRequest rpc_request{request->from(), request->method(),
                           Bytes(reinterpret_cast<const std::byte*>(request->body().data()),
                                 reinterpret_cast<const std::byte*>(request->body().data()) +
                                     request->body().size())};
    executor.post([this, alive = alive, pending, rpc_request = std::move(rpc_request)]() mutable {
      if (!*alive) return;  // the endpoint is gone; the gRPC thread gives up on closing
      if (!handler) {
        pending->set(make_error(Errc::unavailable, "the node serves no handler"));
        return;
      }
      scope.spawn(run_handler(handler, std::move(rpc_request), pending));
    });
    std::unique_lock lock(pending->mutex);
    while (!pending->result) {
      if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      {
        std::lock_guard shared_lock(shared->mutex);
        if (shared->closing) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "node closing");
      }
      pending->ready.wait_for(lock, std::chrono::milliseconds(20));
    }
    fill_reply(*pending->result, *reply);
    return grpc::Status::OK;
  }

  static Task<void> run_handler(RpcHandler handler, RpcRequest request,
                                std::shared_ptr<PendingReply> pending) {
    Result<Bytes> result = co_await handler(std::move(request));
    pending->set(std::move(result));
  }

  rpc::Node::Stub& stub_for(const std::string& address, const GrpcNetworkOptions& options) {
    auto it = stubs.find(address);
    if (it != stubs.end()) return *it->second;
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(static_cast<int>(options.message_bytes_max));
    arguments.SetMaxSendMessageSize(static_cast<int>(options.message_bytes_max));
    auto channel =
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments);
    return *stubs.emplace(address, rpc::Node::NewStub(channel)).first->second;
  }

  Executor& executor;
  RpcHandler handler;  // loop thread only
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);  // loop thread only
  std::shared_ptr<Shared> shared = std::make_shared<Shared>();
  std::map<std::string, std::unique_ptr<rpc::Node::Stub>> stubs;  // loop thread only
  std::unique_ptr<grpc::Server> server;
  grpc::CompletionQueue client_queue;
  std::thread client_thread;
  Scope scope;  // handler coroutines
};

GrpcNetwork::GrpcNetwork(Executor& executor, Clock& clock, NodeId self,
                         std::shared_ptr<GrpcDirectory> directory, GrpcNetworkOptions options)
    : executor_(executor),
      clock_(clock),
      self_(std::move(self)),
      directory_(std::move(directory)),
      options_(std::move(options)),
      impl_(std::make_unique<Impl>(executor)) {}

Result<std::unique_ptr<GrpcNetwork>> GrpcNetwork::start(Executor& executor, Clock& clock,
                                                        NodeId self,
                                                        std::shared_ptr<GrpcDirectory> directory,
                                                        GrpcNetworkOptions options) {
  // gRPC initialises itself when its first object is made and shuts down with its last; cycling
  // that (endpoints coming and going, as LogStores restart) races with the callback API's
  // completion-queue thread in gRPC 1.51 (an abort in grpc_cq_internal_unref). Keep it up for
  // the process's lifetime instead.
  static const bool grpc_initialised = [] {
    grpc_init();
    return true;
  }();
  (void)grpc_initialised;
  std::unique_ptr<GrpcNetwork> network(
      new GrpcNetwork(executor, clock, std::move(self), std::move(directory), options));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.message_bytes_max));
  builder.SetMaxSendMessageSize(static_cast<int>(options.message_bytes_max));
  builder.RegisterService(network->impl_.get());
  network->impl_->server = builder.BuildAndStart();
  if (!network->impl_->server || port == 0) {
    return make_error(Errc::unavailable, "cannot listen on " + options.listen_address);
  }
  const std::string& listen = options.listen_address;
  const std::string host = listen.substr(0, listen.rfind(':'));
  network->address_ = host + ":" + std::to_string(port);
  network->directory_->set(network->self_, network->address_);
  Impl& impl = *network->impl_;
  impl.client_thread = std::thread([&impl] { impl.run_client_queue(); });
  return network;
}

GrpcNetwork::~GrpcNetwork() {
  directory_->erase(self_);
  *impl_->alive = false;
  std::shared_ptr<Impl::Shared> shared = impl_->shared;
  {
    std::unique_lock lock(shared->mutex);
    shared->closing = true;
    for (auto& [tag, call] : shared->calls) call->context.TryCancel();
    shared->changed.notify_all();
    // Cancelled calls finish quickly; none may complete after we are gone.
    shared->changed.wait(lock, [&] { return shared->calls.empty(); });
  }
  if (impl_->client_thread.joinable()) {
    impl_->client_queue.Shutdown();
    impl_->client_thread.join();
  }
  // Server threads return at once now that closing is set.
  impl_->server->Shutdown(std::chrono::system_clock::now());
  impl_->server->Wait();
}

void GrpcNetwork::serve(RpcHandler handler) { impl_->handler = std::move(handler); }

Task<Result<Bytes>> GrpcNetwork::call(NodeId target, std::string method, Bytes body,
                                      TimePoint deadline) {
  std::optional<std::string> address = directory_->lookup(target);
  if (!address) co_return make_error(Errc::unavailable, "unknown node " + target);
  if (body.size() > options_.message_bytes_max) {
    co_return make_error(Errc::too_large, "a message of " + std::to_string(body.size()) +
                                              " bytes to " + target);
  }
  auto call = std::make_shared<Impl::ClientCall>(executor_);
  call->target = target;
  call->request.set_from(self_);
  call->request.set_method(std::move(method));
  call->request.set_body(reinterpret_cast<const char*>(body.data()), body.size());
  const Duration remaining = std::max(Duration::zero(), deadline - clock_.now());
  call->context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::duration_cast<std::chrono::system_clock::duration>(remaining));
  Completion<Result<Bytes>> done = call->done;
  rpc::Node::Stub& stub = impl_->stub_for(*address, options_);
  {
    std::lock_guard lock(impl_->shared->mutex);
    if (impl_->shared->closing) co_return make_error(Errc::closed, "the endpoint is closing");
    impl_->shared->calls[call.get()] = call;
    call->reader = stub.PrepareAsyncCall(&call->context, call->request, &impl_->client_queue);
    call->reader->StartCall();
    call->reader->Finish(&call->reply, &call->status, call.get());
  }
  call.reset();  // the queue thread owns it now
  Result<Bytes> result = co_await done.wait();
  // gRPC's deadline runs on the system clock: it may fire a hair before ours.
  if (!result.ok() && result.error().code == Errc::timeout && clock_.now() < deadline) {
    co_await sleep_for(clock_, deadline - clock_.now());
  }
  co_return result;
}

}  // namespace wal
