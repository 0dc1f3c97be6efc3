// EtcdWatch (etcd_watch.h): a watch over etcd's Watch stream that resumes on another endpoint.
#include "etcd_watch.h"

#include "etcd_codec.h"

namespace wal::etcd {

EtcdWatch::EtcdWatch(EtcdClient& client, std::shared_ptr<WatchLink> link, std::string key,
                     std::string range_end, int64_t start_revision)
    : executor_(client.executor()),
      client_(&client),
      link_(std::move(link)),
      key_(std::move(key)),
      range_end_(std::move(range_end)),
      next_revision_(start_revision),
      scope_(std::make_unique<Scope>(client.executor())) {
  WAL_ASSERT(start_revision >= 1);
  WAL_ASSERT(link_->alive);
  id_ = link_->next_id++;
  link_->watches[id_] = this;
}

EtcdWatch::~EtcdWatch() {
  close();
  if (link_->alive) link_->watches.erase(id_);
}

void EtcdWatch::detach() {
  if (!failed_) failed_ = make_error(Errc::closed, "etcd watch: the store was closed");
  ready_.clear();
  close();
}

void EtcdWatch::close() {
  scope_.reset();  // the pump goes first: nothing reads the stream after this
  if (stream_) stream_->cancel();
  stream_.reset();
  client_ = nullptr;
  if (!failed_ || failed_->code != Errc::closed) failed_ = make_error(Errc::closed, "watch closed");
  ready_.clear();
  wake();
}

Task<Status> EtcdWatch::open() {
  WAL_ASSERT(client_ != nullptr);
  WAL_ASSERT(!stream_);
  const TimePoint overall = client_->clock().now() + client_->options().operation_timeout;
  Result<std::shared_ptr<WatchStream>> stream = co_await create_stream(overall);
  if (!stream.ok()) co_return std::move(stream).error();
  stream_ = *stream;
  scope_->spawn(pump(std::move(*stream)));
  co_return Status{};
}

Task<Result<std::vector<WatchEvent>>> EtcdWatch::next() {
  while (true) {
    if (!ready_.empty()) {
      std::vector<WatchEvent> events = std::move(ready_.front());
      ready_.pop_front();
      WAL_ASSERT(!events.empty());
      co_return events;
    }
    if (failed_) co_return *failed_;
    WAL_ASSERT(!wake_);  // one next() at a time
    wake_.emplace(executor_);
    (void)co_await wake_->wait();
  }
}

void EtcdWatch::wake() {
  if (!wake_) return;
  Completion<bool> woken = std::move(*wake_);
  wake_.reset();
  woken.set(true);
}

void EtcdWatch::fail(Error error) {
  if (!failed_) failed_ = std::move(error);
  if (stream_) stream_->cancel();
  wake();
}

Task<Result<std::shared_ptr<EtcdWatch::WatchStream>>> EtcdWatch::create_stream(
    TimePoint overall) {
  EtcdClient& client = *client_;
  std::optional<Error> last;
  for (uint32_t attempt = 0; attempt < limits::call_attempts_max; ++attempt) {
    const TimePoint now = client.clock().now();
    if (now >= overall) break;
    const size_t endpoint = client.current_endpoint();
    Result<std::shared_ptr<WatchStream>> stream = co_await create_on(
        endpoint, std::min<TimePoint>(now + client.options().request_timeout, overall));
    if (stream.ok()) co_return stream;
    if (stream.error().code != Errc::unavailable && stream.error().code != Errc::timeout) {
      co_return stream;  // compacted, permission_denied, ...: another endpoint says the same
    }
    client.failover_from(endpoint);
    last = std::move(stream).error();
    co_await client.pause_after_failure(attempt, overall);
  }
  if (!last) last = make_error(Errc::timeout, "etcd watch: no attempt");
  last->outcome = Outcome::definite;  // a watch changes nothing
  last->message += " (no endpoint took the watch within operation_timeout)";
  co_return std::move(*last);
}

Task<Result<std::shared_ptr<EtcdWatch::WatchStream>>> EtcdWatch::create_on(size_t endpoint,
                                                                          TimePoint deadline) {
  EtcdClient& client = *client_;
  const std::string& address = client.address(endpoint);
  auto stream = client.stream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>(
      endpoint, [](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
        return stubs.watch->PrepareAsyncWatch(context, queue);
      });
  // A member that accepts the stream but never answers "created" (it lost its leader) must not
  // hold the watch: the stream is cancelled at the attempt's deadline.
  auto cancel = [weak = std::weak_ptr(stream)] {
    if (std::shared_ptr<WatchStream> alive = weak.lock()) alive->cancel();
  };
  TimerGuard guard(client.clock(), client.clock().call_at(deadline, std::move(cancel)));
  ++client.counts().watch_create_count;
  etcdserverpb::WatchRequest request;
  etcdserverpb::WatchCreateRequest& create = *request.mutable_create_request();
  create.set_key(key_);
  create.set_range_end(range_end_);
  create.set_start_revision(next_revision_);
  std::optional<etcdserverpb::WatchResponse> created;
  if (co_await stream->start() && co_await stream->write(request)) {
    created = co_await stream->read();
  }
  if (created && created->created() && !created->canceled()) co_return stream;
  if (created && created->canceled()) {
    // Refused at creation: compacted (etcd 3.4 reports that later, but be ready), or auth.
    stream->cancel();
    const std::string reason = describe(address, "watch", created->cancel_reason());
    if (created->compact_revision() != 0) co_return make_error(Errc::compacted, reason);
    co_return make_error(Errc::permission_denied, reason);
  }
  if (created) {
    stream->cancel();
    co_return make_error(Errc::protocol, describe(address, "watch", "no 'created' answer"));
  }
  const grpc::Status status = co_await stream->finish();
  if (status.ok()) co_return make_error(Errc::unavailable, describe(address, "watch", "ended"));
  co_return classify(status, Effect::read, address, "watch").error;
}

Task<void> EtcdWatch::pump(std::shared_ptr<WatchStream> stream) {
  while (true) {
    std::optional<etcdserverpb::WatchResponse> response = co_await stream->read();
    if (response) {
      if (!take(*response)) co_return;
      continue;
    }
    // The stream broke: the member died, lost its leader, or the connection dropped.
    const grpc::Status status = co_await stream->finish();
    (void)status;  // whatever it says, the watch resumes elsewhere
    EtcdClient& client = *client_;
    client.failover_from(stream->endpoint());
    const TimePoint overall = client.clock().now() + client.options().operation_timeout;
    Result<std::shared_ptr<WatchStream>> resumed = co_await create_stream(overall);
    if (!resumed.ok()) {
      Error error = std::move(resumed).error();
      if (error.code == Errc::timeout) error.code = Errc::unavailable;
      error.message += "; events were not skipped: re-read, then watch from revision " +
                       std::to_string(next_revision_);
      fail(std::move(error));
      co_return;
    }
    stream = std::move(*resumed);
    stream_ = stream;
  }
}

bool EtcdWatch::take(const etcdserverpb::WatchResponse& response) {
  if (response.canceled()) {
    if (response.compact_revision() != 0) {
      fail(make_error(Errc::compacted, "etcd watch: revision " + std::to_string(next_revision_) +
                                           " was compacted (etcd compacted at " +
                                           std::to_string(response.compact_revision()) + ")"));
    } else {
      fail(make_error(Errc::unavailable, "etcd watch cancelled: " + response.cancel_reason()));
    }
    return false;
  }
  Result<std::vector<std::vector<WatchEvent>>> groups =
      decode_watch_events(response, next_revision_);
  if (!groups.ok()) {
    fail(std::move(groups).error());
    return false;
  }
  for (std::vector<WatchEvent>& group : *groups) {
    next_revision_ = group.front().kv.mod_revision + 1;
    ready_.push_back(std::move(group));
  }
  if (!ready_.empty()) wake();
  return true;
}

}  // namespace wal::etcd
