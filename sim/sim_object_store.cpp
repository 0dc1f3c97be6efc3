#include "sim/sim_object_store.h"

#include <fmt/format.h>

#include <type_traits>
#include <utility>

namespace wal::sim {

namespace {

constexpr Site site_send = "s3.send";
constexpr Site site_delay = "s3.delay";
constexpr Site site_fault = "s3.fault";
constexpr Site site_arrive = "s3.arrive";
constexpr Site site_apply = "s3.apply";
constexpr Site site_deliver = "s3.deliver";
constexpr Site site_applied_anyway = "s3.unknown_applied";
constexpr Site site_refused = "s3.refused";
constexpr Site site_reply_lost = "s3.reply_lost";
constexpr Site site_late_reply = "s3.late_reply";
constexpr Site site_gone = "s3.reply_to_gone_node";
constexpr Site site_timeout = "s3.timeout";
constexpr Site site_corrupt = "s3.corrupt";
constexpr Site site_available = "s3.available";

}  // namespace

std::string_view object_op_name(ObjectOp op) {
  switch (op) {
    case ObjectOp::put: return "put";
    case ObjectOp::get: return "get";
    case ObjectOp::head: return "head";
    case ObjectOp::list: return "list";
    case ObjectOp::remove: return "remove";
    case ObjectOp::remove_many: return "remove_many";
  }
  WAL_UNREACHABLE();
}

// ---- the per-node view -------------------------------------------------------------------------

// Forwards every call to the service: the coroutines live there, so a caller's frame never
// depends on the view object, which the cluster may destroy and rebuild.
class SimObjectStore::View final : public ObjectStore {
 public:
  View(SimObjectStore& service, NodeIndex node) : service_(service), node_(node) {}
  ~View() override { service_.detach(node_); }
  View(const View&) = delete;
  View& operator=(const View&) = delete;

  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override {
    return service_.put_from(node_, std::move(key), std::move(body), std::move(condition));
  }
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override {
    return service_.get_from(node_, std::move(key), range);
  }
  Task<Result<ObjectInfo>> head(std::string key) override {
    return service_.head_from(node_, std::move(key));
  }
  Task<Result<ListPage>> list(std::string prefix, std::string continuation_token,
                              size_t max_keys) override {
    return service_.list_from(node_, std::move(prefix), std::move(continuation_token), max_keys);
  }
  Task<Status> remove(std::string key) override {
    return service_.remove_from(node_, std::move(key));
  }
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override {
    return service_.remove_many_from(node_, std::move(keys));
  }

 private:
  SimObjectStore& service_;
  NodeIndex node_;
};

// ---- construction and knobs --------------------------------------------------------------------

SimObjectStore::SimObjectStore(Scheduler& scheduler, const RandomStreams& streams, Trace& trace,
                               ObjectStoreFaults faults)
    : scheduler_(scheduler),
      trace_(trace),
      latency_random_(streams.stream("s3.latency")),
      spike_random_(streams.stream("s3.spike")),
      slow_down_random_(streams.stream("s3.slow_down")),
      internal_error_random_(streams.stream("s3.internal_error")),
      loss_random_(streams.stream("s3.loss")),
      applied_random_(streams.stream("s3.applied")),
      corrupt_random_(streams.stream("s3.corrupt")),
      events_(scheduler) {
  set_faults(faults);
}

SimObjectStore::~SimObjectStore() {
  // Views call back into the service when destroyed; they must go first.
  WAL_ASSERT_EQ(clients_.attached_count(), size_t{0});
}

std::unique_ptr<ObjectStore> SimObjectStore::client(NodeIndex node, NodeRuntime& runtime) {
  WAL_ASSERT_GT(node, world_owner);
  WAL_ASSERT_EQ(runtime.node(), node);
  clients_.attach(node, runtime);
  return std::make_unique<View>(*this, node);
}

void SimObjectStore::set_faults(const ObjectStoreFaults& faults) {
  check_latency_spec(faults.latency);
  WAL_ASSERT(faults.transfer_per_mib >= Duration::zero());
  WAL_ASSERT(faults.request_timeout > Duration::zero());
  for (const uint32_t ppm : {faults.slow_down_ppm, faults.internal_error_ppm,
                             faults.internal_error_applied_ppm, faults.request_loss_ppm,
                             faults.reply_loss_ppm, faults.get_corruption_ppm}) {
    WAL_ASSERT_LE(ppm, uint32_t{1'000'000});
  }
  faults_ = faults;
}

void SimObjectStore::set_available(bool available) {
  available_ = available;
  trace_.decision(site_available, world_owner, available ? 1 : 0);
}

// ---- one request -------------------------------------------------------------------------------

SimObjectStore::Fault SimObjectStore::draw_fault() {
  if (!available_) return Fault::refused_outage;
  // Each kind draws from its own stream, and only when it is on.
  if (faults_.slow_down_ppm > 0 && slow_down_random_.chance_ppm(faults_.slow_down_ppm)) {
    return Fault::slow_down;
  }
  if (faults_.internal_error_ppm > 0 &&
      internal_error_random_.chance_ppm(faults_.internal_error_ppm)) {
    return Fault::internal_error;
  }
  if (faults_.request_loss_ppm > 0 || faults_.reply_loss_ppm > 0) {
    // One draw decides both, so neither can shadow the other: below request_loss_ppm the
    // request is lost, in the next reply_loss_ppm the reply is.
    const uint64_t draw = loss_random_.below(1'000'000);
    if (draw < faults_.request_loss_ppm) return Fault::request_lost;
    if (draw < uint64_t{faults_.request_loss_ppm} + faults_.reply_loss_ppm) {
      return Fault::reply_lost;
    }
  }
  return Fault::none;
}

SimObjectStore::Plan SimObjectStore::plan(NodeIndex node, ObjectOp op, uint64_t digest,
                                          uint64_t body_bytes) {
  NodeRuntime& runtime = clients_.runtime(node);
  WAL_ASSERT(runtime.alive());  // a node that is down runs no code
  Plan p;
  p.request_id = ++next_request_id_;
  p.node = node;
  p.generation = runtime.generation();
  p.op = op;
  ++stats_.ops[static_cast<size_t>(op)].sent_count;
  const std::string detail =
      trace_.jsonl_enabled()
          ? fmt::format("req={} op={} bytes={}", p.request_id, object_op_name(op), body_bytes)
          : std::string();
  trace_.decision(site_send, node, mix64(digest ^ static_cast<uint64_t>(op)), detail);
  const LatencyDraw round_trip = draw_latency(faults_.latency, latency_random_, spike_random_);
  if (round_trip.spiked) ++stats_.spike_count;
  trace_.decision(site_delay, node, static_cast<uint64_t>(round_trip.delay.count()));
  p.request_delay = round_trip.delay / 2 + transfer_time(body_bytes, faults_.transfer_per_mib);
  p.reply_delay = round_trip.delay - round_trip.delay / 2;
  p.refusal_delay = faults_.latency.base / 2;
  p.fault = draw_fault();
  if (op == ObjectOp::get && faults_.get_corruption_ppm > 0) {
    p.corrupt = corrupt_random_.chance_ppm(faults_.get_corruption_ppm);
  }
  if (p.fault != Fault::none) {
    trace_.decision(site_fault, node, (p.request_id << 8) | static_cast<uint64_t>(p.fault));
  }
  WAL_ASSERT(p.request_delay >= Duration::zero());
  WAL_ASSERT(p.reply_delay >= Duration::zero());
  return p;
}

template <typename R>
Task<R> SimObjectStore::exchange(NodeIndex node, ObjectOp op, uint64_t digest,
                                 uint64_t body_bytes, std::function<R()> apply) {
  // Drawn here, when the task first runs: a Task created and never awaited sends nothing.
  WAL_ASSERT(apply);
  const Plan p = plan(node, op, digest, body_bytes);
  NodeRuntime& runtime = clients_.runtime(node);
  Completion<R> reply(runtime);
  switch (p.fault) {
    case Fault::slow_down:
      ++stats_.slow_down_count;
      send_reply<R>(p, p.refusal_delay * 2, make_error(Errc::unavailable, "503 SlowDown"),
                    reply);
      break;
    case Fault::refused_outage:
      ++stats_.outage_refused_count;
      send_reply<R>(p, p.refusal_delay * 2,
                    make_error(Errc::unavailable, "S3 unavailable: connection refused"), reply);
      break;
    case Fault::request_lost:
      ++stats_.request_lost_count;  // nothing travels; the caller's deadline ends the call
      break;
    case Fault::none:
    case Fault::internal_error:
    case Fault::reply_lost:
      events_.after(p.request_delay, site_arrive,
                    [this, p, apply = std::move(apply), reply]() mutable {
                      arrive<R>(p, apply, std::move(reply));
                    });
      break;
  }
  const bool mutation = object_op_mutates(op);
  const TimerId timer =
      runtime.call_at(scheduler_.now() + faults_.request_timeout, [reply, mutation]() mutable {
        Error error = mutation ? make_unknown(Errc::timeout, "S3 request timed out")
                               : make_error(Errc::timeout, "S3 request timed out");
        const bool first = reply.set(std::move(error));
        WAL_MAYBE(first);  // false: the reply came in this same instant, before the timer
      });
  R result = co_await reply.wait();
  WAL_ASSERT(reply.is_set());
  runtime.cancel(timer);
  // Only the deadline timer produces timeout: the service itself never answers with it.
  if (!result.ok() && result.error().code == Errc::timeout) {
    ++stats_.timeout_count;
    trace_.decision(site_timeout, node, p.request_id);
  }
  co_return result;
}

template <typename R>
void SimObjectStore::arrive(const Plan& p, const std::function<R()>& apply, Completion<R> reply) {
  WAL_ASSERT(apply);
  WAL_ASSERT_GT(p.request_id, uint64_t{0});
  const bool mutation = object_op_mutates(p.op);
  ServiceOpCounts& counts = stats_.ops[static_cast<size_t>(p.op)];
  if (!available_) {
    // The outage began while the request was on its way: refused, never applied.
    ++stats_.outage_refused_count;
    trace_.decision(site_refused, p.node, p.request_id);
    send_reply<R>(p, p.reply_delay, make_error(Errc::unavailable, "S3 unavailable"),
                  std::move(reply));
    return;
  }
  switch (p.fault) {
    case Fault::internal_error: {
      ++stats_.internal_error_count;
      const bool applied = mutation && applied_random_.chance_ppm(
                                           faults_.internal_error_applied_ppm);
      trace_.decision(site_applied_anyway, p.node, (p.request_id << 1) | (applied ? 1 : 0));
      if (applied) {
        ++counts.applied_count;
        ++stats_.internal_error_applied_count;
        R effect = apply();
        trace_.decision(site_apply, p.node, result_digest(effect));
      }
      Error error = mutation ? make_unknown(Errc::unavailable, "500 InternalError")
                             : make_error(Errc::unavailable, "500 InternalError");
      send_reply<R>(p, p.reply_delay, std::move(error), std::move(reply));
      return;
    }
    case Fault::reply_lost: {
      ++counts.applied_count;
      ++stats_.reply_lost_count;
      R effect = apply();
      trace_.decision(site_apply, p.node, result_digest(effect));
      trace_.decision(site_reply_lost, p.node, p.request_id);
      return;
    }
    case Fault::none: {
      ++counts.applied_count;
      R result = apply();
      trace_.decision(site_apply, p.node, result_digest(result));
      Duration delay = p.reply_delay;
      if constexpr (std::is_same_v<R, Result<ObjectData>>) {
        if (result.ok()) {
          delay += transfer_time(result->body.size(), faults_.transfer_per_mib);
          if (p.corrupt) corrupt_copy(p.request_id, p.node, result->body);
        }
      }
      send_reply<R>(p, delay, std::move(result), std::move(reply));
      return;
    }
    case Fault::slow_down:
    case Fault::request_lost:
    case Fault::refused_outage: WAL_UNREACHABLE();
  }
}

template <typename R>
void SimObjectStore::send_reply(const Plan& p, Duration delay, R result, Completion<R> reply) {
  WAL_ASSERT(delay >= Duration::zero());
  events_.after(delay, site_deliver,
                [this, p, result = std::move(result), reply = std::move(reply)]() mutable {
                  deliver<R>(p, std::move(result), reply);
                });
}

template <typename R>
void SimObjectStore::deliver(const Plan& p, R result, Completion<R>& reply) {
  WAL_ASSERT_GT(p.request_id, uint64_t{0});
  if (clients_.reachable(p.node, p.generation) == nullptr) {
    // The node crashed (and maybe restarted) since it asked: its call is gone with its frame.
    ++stats_.reply_to_gone_node_count;
    trace_.decision(site_gone, p.node, p.request_id);
    return;
  }
  const bool first = reply.set(std::move(result));
  if (!first) {
    ++stats_.late_reply_count;  // the deadline passed first; the caller has its timeout
    trace_.decision(site_late_reply, p.node, p.request_id);
    return;
  }
  ++stats_.ops[static_cast<size_t>(p.op)].replied_count;
  WAL_ASSERT(reply.is_set());
}

void SimObjectStore::corrupt_copy(uint64_t request_id, NodeIndex node, Bytes& body) {
  if (body.empty()) return;  // nothing to flip
  const uint64_t bit_index = corrupt_random_.below(uint64_t{body.size()} * 8);
  body[bit_index / 8] ^= std::byte{static_cast<uint8_t>(1u << (bit_index % 8))};
  ++stats_.corrupted_get_count;
  trace_.decision(site_corrupt, node, mix64(request_id) ^ bit_index);
}

// ---- the calls ---------------------------------------------------------------------------------

Task<Result<ObjectInfo>> SimObjectStore::put_from(NodeIndex node, std::string key, Bytes body,
                                                  PutCondition condition) {
  const uint64_t digest = mix64(fnv1a64(key) ^ hash_bytes(body));
  const uint64_t body_bytes = body.size();
  std::function<Result<ObjectInfo>()> apply =
      [this, key = std::move(key), body = std::move(body),
       condition = std::move(condition)]() mutable {
        return state_.apply_put(key, std::move(body), condition);  // runs at most once
      };
  return exchange<Result<ObjectInfo>>(node, ObjectOp::put, digest, body_bytes, std::move(apply));
}

Task<Result<ObjectData>> SimObjectStore::get_from(NodeIndex node, std::string key,
                                                  std::optional<ByteRange> range) {
  uint64_t digest = fnv1a64(key);
  if (range) digest = mix64(digest ^ range->offset) ^ range->length;
  std::function<Result<ObjectData>()> apply = [this, key = std::move(key), range] {
    return state_.apply_get(key, range);
  };
  return exchange<Result<ObjectData>>(node, ObjectOp::get, digest, 0, std::move(apply));
}

Task<Result<ObjectInfo>> SimObjectStore::head_from(NodeIndex node, std::string key) {
  const uint64_t digest = fnv1a64(key);
  std::function<Result<ObjectInfo>()> apply = [this, key = std::move(key)] {
    return state_.apply_head(key);
  };
  return exchange<Result<ObjectInfo>>(node, ObjectOp::head, digest, 0, std::move(apply));
}

Task<Result<ListPage>> SimObjectStore::list_from(NodeIndex node, std::string prefix,
                                                 std::string token, size_t max_keys) {
  const uint64_t digest = mix64(fnv1a64(prefix) ^ fnv1a64(token)) ^ max_keys;
  std::function<Result<ListPage>()> apply =
      [this, prefix = std::move(prefix), token = std::move(token), max_keys] {
        return state_.apply_list(prefix, token, max_keys);
      };
  return exchange<Result<ListPage>>(node, ObjectOp::list, digest, 0, std::move(apply));
}

Task<Status> SimObjectStore::remove_from(NodeIndex node, std::string key) {
  const uint64_t digest = fnv1a64(key);
  std::function<Status()> apply = [this, key = std::move(key)] {
    return state_.apply_remove(key);
  };
  return exchange<Status>(node, ObjectOp::remove, digest, 0, std::move(apply));
}

Task<Result<std::vector<Status>>> SimObjectStore::remove_many_from(
    NodeIndex node, std::vector<std::string> keys) {
  uint64_t digest = keys.size();
  for (const std::string& key : keys) digest = mix64(digest ^ fnv1a64(key));
  std::function<Result<std::vector<Status>>()> apply = [this, keys = std::move(keys)] {
    return state_.apply_remove_many(keys);
  };
  return exchange<Result<std::vector<Status>>>(node, ObjectOp::remove_many, digest, 0,
                                               std::move(apply));
}

}  // namespace wal::sim
