// LeaseKeeper (etcd_lease_keeper.h): lease keep-alives over one LeaseKeepAlive stream.
#include "etcd_lease_keeper.h"

namespace wal::etcd {

LeaseKeeper::LeaseKeeper(EtcdClient& client)
    : client_(client), scope_(std::make_unique<Scope>(client.executor())) {}

LeaseKeeper::~LeaseKeeper() {
  scope_.reset();  // the stream's coroutines go first; then nothing reads or writes it
  if (stream_) stream_->cancel();
}

Task<Result<int64_t>> LeaseKeeper::keep_alive(LeaseId lease) {
  if (lease <= 0) co_return make_error(Errc::not_found, "lease keep-alive: no lease " +
                                                            std::to_string(lease));
  Clock& clock = client_.clock();
  const EtcdOptions& options = client_.options();
  const TimePoint overall = clock.now() + options.operation_timeout;
  std::optional<Error> last;
  for (uint32_t attempt = 0; attempt < limits::call_attempts_max; ++attempt) {
    const TimePoint now = clock.now();
    if (now >= overall) break;
    ensure_stream();
    const uint64_t generation = generation_;
    Completion<Result<int64_t>> done(client_.executor());
    waiting_.push_back(Waiter{lease, done});
    unsent_.push_back(lease);
    if (started_ && !writing_) {
      writing_ = true;
      scope_->spawn(run_writes(stream_, generation));
    }
    const TimePoint deadline = std::min<TimePoint>(now + options.request_timeout, overall);
    std::string late = describe(client_.address(stream_->endpoint()), "lease keep-alive",
                                "no answer within request_timeout");
    TimerGuard guard(clock, clock.call_at(deadline, [this, generation, done, late] {
      if (!done.is_set()) break_stream(generation, make_unknown(Errc::timeout, late));
    }));
    Result<int64_t> result = co_await done.wait();
    if (result.ok() || result.error().code == Errc::not_found) co_return result;
    last = std::move(result).error();
    co_await client_.pause_after_failure(attempt, overall);
  }
  if (!last) last = make_unknown(Errc::timeout, "etcd lease keep-alive: no attempt");
  // A keep-alive that went out on a stream that then broke may have renewed the lease.
  last->outcome = Outcome::unknown;
  last->message += " (gave up after operation_timeout)";
  co_return std::move(*last);
}

void LeaseKeeper::ensure_stream() {
  if (stream_) return;
  ++generation_;
  started_ = false;
  writing_ = false;
  stream_ = client_.stream<etcdserverpb::LeaseKeepAliveRequest,
                           etcdserverpb::LeaseKeepAliveResponse>(
      client_.current_endpoint(),
      [](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
        return stubs.lease->PrepareAsyncLeaseKeepAlive(context, queue);
      });
  scope_->spawn(run_reads(stream_, generation_));
}

Task<void> LeaseKeeper::run_reads(std::shared_ptr<KeepAliveStream> stream, uint64_t generation) {
  const std::string& address = client_.address(stream->endpoint());
  if (co_await stream->start()) {
    if (generation != generation_) co_return;  // replaced while starting
    started_ = true;
    if (!unsent_.empty() && !writing_) {
      writing_ = true;
      scope_->spawn(run_writes(stream, generation));
    }
    while (true) {
      std::optional<etcdserverpb::LeaseKeepAliveResponse> reply = co_await stream->read();
      if (!reply) break;
      if (generation != generation_) co_return;
      on_reply(*reply);
    }
  }
  const grpc::Status status = co_await stream->finish();
  if (generation != generation_) co_return;
  Error error = status.ok() ? make_unknown(Errc::unavailable, describe(address, "lease keep-alive",
                                                                       "the stream ended"))
                            : classify(status, Effect::write, address, "lease keep-alive").error;
  break_stream(generation, error);
}

Task<void> LeaseKeeper::run_writes(std::shared_ptr<KeepAliveStream> stream, uint64_t generation) {
  while (generation == generation_ && !unsent_.empty()) {
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(unsent_.front());
    unsent_.pop_front();
    ++client_.counts().lease_keep_alive_count;
    if (!co_await stream->write(request)) {
      // The read side sees the same failure and reports it with the stream's status.
      co_return;
    }
  }
  if (generation == generation_) writing_ = false;
}

void LeaseKeeper::break_stream(uint64_t generation, const Error& error) {
  if (generation != generation_ || !stream_) return;
  stream_->cancel();
  client_.failover_from(stream_->endpoint());
  stream_.reset();
  started_ = false;
  writing_ = false;
  unsent_.clear();
  std::deque<Waiter> waiting = std::move(waiting_);
  waiting_.clear();
  for (Waiter& waiter : waiting) waiter.done.set(error);
}

void LeaseKeeper::on_reply(const etcdserverpb::LeaseKeepAliveResponse& reply) {
  for (auto it = waiting_.begin(); it != waiting_.end(); ++it) {
    if (it->lease != reply.id()) continue;
    Completion<Result<int64_t>> done = it->done;
    waiting_.erase(it);
    if (reply.ttl() > 0) {
      done.set(reply.ttl());
    } else {
      // etcd answers TTL 0 for a lease it does not have: expired or revoked.
      done.set(make_error(Errc::not_found, "etcd lease keep-alive: lease " +
                                               std::to_string(reply.id()) +
                                               " expired or was revoked"));
    }
    return;
  }
  // An answer nobody waits for: its caller was destroyed. Nothing to do.
}

}  // namespace wal::etcd
