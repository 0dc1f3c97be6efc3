// SimMetaStore: the request engine, the calls and the world's fault actions. Watches (channels,
// pumps, the node-side Watch) are in sim_meta_watch.cpp.
#include "sim/sim_meta_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <variant>

namespace wal::sim {

namespace {

constexpr Site site_send = "etcd.send";
constexpr Site site_delay = "etcd.delay";
constexpr Site site_arrive = "etcd.arrive";
constexpr Site site_apply = "etcd.apply";
constexpr Site site_deliver = "etcd.deliver";
constexpr Site site_lost = "etcd.lost";
constexpr Site site_election_wait = "etcd.election_wait";
constexpr Site site_leader_change = "etcd.leader_change";
constexpr Site site_doomed = "etcd.leader_change_fails";
constexpr Site site_partition = "etcd.partition";
constexpr Site site_heal = "etcd.heal";
constexpr Site site_compact = "etcd.compact";
constexpr Site site_late_reply = "etcd.late_reply";
constexpr Site site_gone = "etcd.reply_to_gone_node";
constexpr Site site_timeout = "etcd.timeout";
constexpr Site site_watch_unavailable = "etcd.watch_unavailable_timer";
constexpr Site site_aim = "etcd.aim_loss";
constexpr Site site_aimed = "etcd.aimed_loss";

// Why a request or reply was lost; the low bits of the "etcd.lost" decision.
enum class LossCause : uint8_t { partition_request, partition_reply, random_request,
                                 random_reply };

uint64_t text_digest(uint64_t digest, const std::string& text) {
  return mix64(digest ^ fnv1a64(text));
}

uint64_t ops_digest(uint64_t digest, const std::vector<TxnOp>& ops) {
  for (const TxnOp& op : ops) {
    if (const auto* put = std::get_if<PutOp>(&op)) {
      digest = text_digest(text_digest(digest ^ 1, put->key), put->value) ^
               static_cast<uint64_t>(put->lease);
    } else if (const auto* del = std::get_if<DeleteOp>(&op)) {
      digest = text_digest(text_digest(digest ^ 2, del->key), del->range_end);
    } else {
      const auto& range = std::get<RangeRequest>(op);
      digest = text_digest(text_digest(digest ^ 3, range.key), range.range_end) ^
               static_cast<uint64_t>(range.revision);
    }
  }
  return digest;
}

bool branch_writes(const std::vector<TxnOp>& ops) {
  return std::any_of(ops.begin(), ops.end(), [](const TxnOp& op) {
    return !std::holds_alternative<RangeRequest>(op);
  });
}

}  // namespace

std::string_view meta_op_name(MetaOp op) {
  switch (op) {
    case MetaOp::range: return "range";
    case MetaOp::txn: return "txn";
    case MetaOp::lease_grant: return "lease_grant";
    case MetaOp::lease_keep_alive: return "lease_keep_alive";
    case MetaOp::lease_revoke: return "lease_revoke";
    case MetaOp::watch: return "watch";
    case MetaOp::compact: return "compact";
  }
  WAL_UNREACHABLE();
}

// ---- the per-node view -------------------------------------------------------------------------

// Forwards to the service, where the coroutines live (a caller's frame must not depend on the
// view, which the cluster may rebuild).
class SimMetaStore::View final : public MetaStore {
 public:
  View(SimMetaStore& service, NodeIndex node) : service_(service), node_(node) {}
  ~View() override { service_.detach(node_); }
  View(const View&) = delete;
  View& operator=(const View&) = delete;

  Task<Result<RangeResponse>> range(RangeRequest request) override {
    return service_.range_from(node_, std::move(request));
  }
  Task<Result<TxnResponse>> txn(TxnRequest request) override {
    return service_.txn_from(node_, std::move(request));
  }
  Task<Result<LeaseId>> lease_grant(int64_t ttl_seconds) override {
    return service_.lease_grant_from(node_, ttl_seconds);
  }
  Task<Result<int64_t>> lease_keep_alive(LeaseId lease) override {
    return service_.lease_keep_alive_from(node_, lease);
  }
  Task<Status> lease_revoke(LeaseId lease) override {
    return service_.lease_revoke_from(node_, lease);
  }
  Task<Result<std::unique_ptr<Watch>>> watch(std::string key, std::string range_end,
                                             int64_t start_revision) override {
    return service_.watch_from(node_, std::move(key), std::move(range_end), start_revision);
  }
  Task<Status> compact(int64_t revision) override {
    return service_.compact_from(node_, revision);
  }

 private:
  SimMetaStore& service_;
  NodeIndex node_;
};

// ---- construction and knobs --------------------------------------------------------------------

SimMetaStore::SimMetaStore(Scheduler& scheduler, const RandomStreams& streams, Trace& trace,
                           MetaStoreFaults faults)
    : scheduler_(scheduler),
      trace_(trace),
      world_(scheduler),
      state_(world_, world_),
      latency_random_(streams.stream("etcd.latency")),
      spike_random_(streams.stream("etcd.spike")),
      timeout_random_(streams.stream("etcd.timeout")),
      leader_random_(streams.stream("etcd.leader")),
      pumps_(world_),
      events_(scheduler) {
  set_faults(faults);
}

std::unique_ptr<MetaStore> SimMetaStore::client(NodeIndex node, NodeRuntime& runtime) {
  WAL_ASSERT_GT(node, world_owner);
  WAL_ASSERT_EQ(runtime.node(), node);
  clients_.attach(node, runtime);
  return std::make_unique<View>(*this, node);
}

void SimMetaStore::set_faults(const MetaStoreFaults& faults) {
  check_latency_spec(faults.latency);
  WAL_ASSERT(faults.request_timeout > Duration::zero());
  WAL_ASSERT(faults.election_time >= Duration::zero());
  WAL_ASSERT(faults.watch_unavailable_after >= Duration::zero());
  for (const uint32_t ppm : {faults.timeout_ppm, faults.timeout_applied_ppm,
                             faults.leader_change_fail_ppm, faults.leader_change_applied_ppm}) {
    WAL_ASSERT_LE(ppm, uint32_t{1'000'000});
  }
  faults_ = faults;
}

// ---- the world's actions -----------------------------------------------------------------------

void SimMetaStore::partition(NodeIndex node) {
  WAL_ASSERT_GT(node, world_owner);
  // Already cut off: the watches' clock keeps running from the first cut.
  if (!partitioned_.insert(node).second) return;
  const uint64_t epoch = ++partition_epochs_[node];
  trace_.decision(site_partition, node, epoch);
  events_.after(faults_.watch_unavailable_after, site_watch_unavailable,
                [this, node, epoch] { fail_partitioned_watches(node, epoch); });
  WAL_ASSERT(partitioned(node));
}

void SimMetaStore::heal(NodeIndex node) {
  if (partitioned_.erase(node) == 0) return;
  const uint64_t epoch = ++partition_epochs_[node];
  trace_.decision(site_heal, node, epoch);
  wake_pumps(node);
  WAL_ASSERT(!partitioned(node));
}

void SimMetaStore::heal_all() {
  const std::set<NodeIndex> nodes = partitioned_;  // heal() edits the original
  for (const NodeIndex node : nodes) heal(node);
  WAL_ASSERT(partitioned_.empty());
}

void SimMetaStore::leader_change() {
  ++stats_.leader_change_count;
  trace_.decision(site_leader_change, world_owner, stats_.leader_change_count);
  state_.restart_lease_timers();
  if (faults_.election_time > Duration::zero()) {
    election_end_ = std::max(election_end_, scheduler_.now() + faults_.election_time);
  }
  if (faults_.leader_change_fail_ppm == 0) return;
  // In request-id order: the draws do not depend on anything but the run so far.
  for (auto& [request_id, flight] : in_flight_) {
    if (flight.doomed || !leader_random_.chance_ppm(faults_.leader_change_fail_ppm)) continue;
    flight.doomed = true;
    ++stats_.leader_change_failed_count;
    if (!flight.applied && flight.may_write) {
      flight.doomed_applies = leader_random_.chance_ppm(faults_.leader_change_applied_ppm);
    }
    trace_.decision(site_doomed, flight.node, (request_id << 1) | (flight.doomed_applies ? 1 : 0));
  }
  WAL_ASSERT_LE(stats_.leader_change_failed_count, next_request_id_);
}

void SimMetaStore::lose_next_txn(NodeIndex node, TxnMatcher matches, TimePoint until,
                                 bool request_side) {
  WAL_ASSERT_GT(node, world_owner);
  WAL_ASSERT(matches);
  trace_.decision(site_aim, node, request_side ? 1 : 0);
  aimed_losses_[node] = AimedLoss{std::move(matches), until, request_side};
  WAL_ASSERT(aimed_losses_.contains(node));
}

SimMetaStore::Loss SimMetaStore::take_aimed_loss(NodeIndex node, const TxnRequest& request) {
  const auto it = aimed_losses_.find(node);
  if (it == aimed_losses_.end()) return Loss::none;
  if (scheduler_.now() > it->second.until) {  // the window closed before such a txn came
    aimed_losses_.erase(it);
    return Loss::none;
  }
  if (!it->second.matches(request)) return Loss::none;
  const Loss loss = it->second.request_side ? Loss::request : Loss::reply;
  aimed_losses_.erase(it);
  ++stats_.aimed_loss_count;
  trace_.decision(site_aimed, node, static_cast<uint64_t>(loss));
  WAL_ASSERT(loss != Loss::none);
  return loss;
}

Status SimMetaStore::compact(int64_t revision) {
  Status status = state_.apply_compact(revision);
  trace_.decision(site_compact, world_owner,
                  mix64(static_cast<uint64_t>(revision)) ^ result_digest(status));
  return status;
}

// ---- one request -------------------------------------------------------------------------------

SimMetaStore::Plan SimMetaStore::plan(NodeIndex node, MetaOp op, bool may_write, uint64_t digest,
                                      Loss aimed) {
  NodeRuntime& runtime = clients_.runtime(node);
  WAL_ASSERT(runtime.alive());  // a node that is down runs no code
  Plan p;
  p.request_id = ++next_request_id_;
  p.node = node;
  p.generation = runtime.generation();
  p.op = op;
  p.may_write = may_write;
  ++stats_.ops[static_cast<size_t>(op)].sent_count;
  const std::string detail =
      trace_.jsonl_enabled()
          ? fmt::format("req={} op={} may_write={}", p.request_id, meta_op_name(op), may_write)
          : std::string();
  trace_.decision(site_send, node, mix64(digest ^ static_cast<uint64_t>(op)), detail);
  const LatencyDraw round_trip = draw_latency(faults_.latency, latency_random_, spike_random_);
  if (round_trip.spiked) ++stats_.spike_count;
  trace_.decision(site_delay, node, static_cast<uint64_t>(round_trip.delay.count()));
  p.request_delay = round_trip.delay / 2;
  p.reply_delay = round_trip.delay - p.request_delay;
  if (faults_.timeout_ppm > 0 && timeout_random_.chance_ppm(faults_.timeout_ppm)) {
    p.loss = timeout_random_.chance_ppm(faults_.timeout_applied_ppm) ? Loss::reply
                                                                      : Loss::request;
  }
  // Drawn above either way, so an aimed loss shifts no other request's random draws.
  if (aimed != Loss::none) p.loss = aimed;
  WAL_ASSERT(p.reply_delay >= p.request_delay);
  return p;
}

Error SimMetaStore::fail_error(const Plan& p, std::string what) const {
  return p.may_write ? make_unknown(Errc::unavailable, "etcdserver: " + what)
                     : make_error(Errc::unavailable, "etcdserver: " + what);
}

template <typename R>
Task<R> SimMetaStore::exchange(NodeIndex node, MetaOp op, bool may_write, uint64_t digest,
                               std::function<R()> apply, std::function<void(R&)> unclaimed,
                               Loss aimed) {
  // Drawn when the task first runs: a Task created and never awaited sends nothing.
  WAL_ASSERT(apply);
  const Plan p = plan(node, op, may_write, digest, aimed);
  NodeRuntime& runtime = clients_.runtime(node);
  Completion<R> reply(runtime);
  if (partitioned(node)) {
    ++stats_.partition_lost_request_count;
    trace_.decision(site_lost, node,
                    (p.request_id << 2) | static_cast<uint64_t>(LossCause::partition_request));
  } else if (p.loss == Loss::request) {
    ++stats_.random_lost_request_count;
    trace_.decision(site_lost, node,
                    (p.request_id << 2) | static_cast<uint64_t>(LossCause::random_request));
  } else {
    in_flight_.emplace(p.request_id, InFlight{node, may_write, false, false, false});
    events_.after(p.request_delay, site_arrive,
                  [this, p, apply = std::move(apply), unclaimed = std::move(unclaimed),
                   reply]() mutable { arrive<R>(p, apply, unclaimed, std::move(reply)); });
  }
  const TimerId timer =
      runtime.call_at(scheduler_.now() + faults_.request_timeout, [reply, may_write]() mutable {
        Error error = may_write ? make_unknown(Errc::timeout, "etcd request timed out")
                                : make_error(Errc::timeout, "etcd request timed out");
        const bool first = reply.set(std::move(error));
        WAL_MAYBE(first);  // false: the reply came in this same instant, before the timer
      });
  R result = co_await reply.wait();
  WAL_ASSERT(reply.is_set());
  runtime.cancel(timer);
  // Only the deadline timer produces timeout: the service never answers with it.
  if (!result.ok() && result.error().code == Errc::timeout) {
    ++stats_.timeout_count;
    trace_.decision(site_timeout, node, p.request_id);
  }
  co_return result;
}

template <typename R>
void SimMetaStore::arrive(const Plan& p, const std::function<R()>& apply,
                          const std::function<void(R&)>& unclaimed, Completion<R> reply) {
  WAL_ASSERT(apply);
  const auto it = in_flight_.find(p.request_id);
  WAL_ASSERT(it != in_flight_.end());
  if (partitioned(p.node)) {  // cut off while on its way: never applied
    ++stats_.partition_lost_request_count;
    trace_.decision(site_lost, p.node,
                    (p.request_id << 2) | static_cast<uint64_t>(LossCause::partition_request));
    in_flight_.erase(it);
    return;
  }
  if (scheduler_.now() < election_end_) {  // no leader yet: wait for the election to end
    ++stats_.election_wait_count;
    trace_.decision(site_election_wait, p.node, p.request_id);
    events_.at(election_end_, site_arrive, [this, p, apply, unclaimed, reply]() mutable {
      arrive<R>(p, apply, unclaimed, std::move(reply));
    });
    return;
  }
  InFlight& flight = it->second;
  ServiceOpCounts& counts = stats_.ops[static_cast<size_t>(p.op)];
  if (flight.doomed) {
    // The leader that took it is gone; the proposal may still have been committed.
    if (flight.doomed_applies) {
      ++counts.applied_count;
      ++stats_.leader_change_applied_count;
      R effect = apply();
      trace_.decision(site_apply, p.node, result_digest(effect));
      if (unclaimed) unclaimed(effect);
    }
    in_flight_.erase(it);
    R failed = fail_error(p, "leader changed");
    events_.after(p.reply_delay, site_deliver,
                  [this, p, failed = std::move(failed), reply]() mutable {
                    deliver<R>(p, std::move(failed), {}, reply);
                  });
    return;
  }
  ++counts.applied_count;
  flight.applied = true;
  R result = apply();
  trace_.decision(site_apply, p.node, result_digest(result));
  if (p.loss == Loss::reply) {
    ++stats_.random_lost_reply_count;
    trace_.decision(site_lost, p.node,
                    (p.request_id << 2) | static_cast<uint64_t>(LossCause::random_reply));
    in_flight_.erase(it);
    if (unclaimed) unclaimed(result);
    return;
  }
  events_.after(p.reply_delay, site_deliver,
                [this, p, result = std::move(result), unclaimed, reply]() mutable {
                  deliver<R>(p, std::move(result), unclaimed, reply);
                });
}

template <typename R>
void SimMetaStore::deliver(const Plan& p, R result, const std::function<void(R&)>& unclaimed,
                           Completion<R>& reply) {
  WAL_ASSERT_GT(p.request_id, uint64_t{0});
  auto drop = [&] {
    if (unclaimed) unclaimed(result);
  };
  if (const auto it = in_flight_.find(p.request_id); it != in_flight_.end()) {
    const bool doomed = it->second.doomed;
    in_flight_.erase(it);
    if (doomed) {  // applied before the leader changed; the answer is lost with the leader
      drop();
      result = fail_error(p, "leader changed");
    }
  }
  if (partitioned(p.node)) {  // applied, but the reply cannot reach the node
    ++stats_.partition_lost_reply_count;
    trace_.decision(site_lost, p.node,
                    (p.request_id << 2) | static_cast<uint64_t>(LossCause::partition_reply));
    drop();
    return;
  }
  if (clients_.reachable(p.node, p.generation) == nullptr) {
    ++stats_.reply_to_gone_node_count;
    trace_.decision(site_gone, p.node, p.request_id);
    drop();
    return;
  }
  if (reply.is_set()) {  // the deadline passed first
    ++stats_.late_reply_count;
    trace_.decision(site_late_reply, p.node, p.request_id);
    drop();
    return;
  }
  const bool first = reply.set(std::move(result));
  WAL_ASSERT(first);
  ++stats_.ops[static_cast<size_t>(p.op)].replied_count;
}

// ---- the calls ---------------------------------------------------------------------------------

Task<Result<RangeResponse>> SimMetaStore::range_from(NodeIndex node, RangeRequest request) {
  const uint64_t digest =
      text_digest(text_digest(static_cast<uint64_t>(request.revision), request.key),
                  request.range_end) ^ static_cast<uint64_t>(request.limit);
  std::function<Result<RangeResponse>()> apply = [this, request = std::move(request)] {
    return state_.apply_range(request);
  };
  return exchange<Result<RangeResponse>>(node, MetaOp::range, false, digest, std::move(apply),
                                         {});
}

Task<Result<TxnResponse>> SimMetaStore::txn_from(NodeIndex node, TxnRequest request) {
  uint64_t digest = request.compares.size();
  for (const Compare& compare : request.compares) {
    digest = text_digest(text_digest(digest, compare.key), compare.value) ^
             ((static_cast<uint64_t>(compare.target) << 8) | static_cast<uint64_t>(compare.op)) ^
             static_cast<uint64_t>(compare.number);
  }
  digest = ops_digest(ops_digest(digest, request.success) ^ 0x5a, request.failure);
  const bool may_write = branch_writes(request.success) || branch_writes(request.failure);
  const Loss aimed = may_write ? take_aimed_loss(node, request) : Loss::none;
  std::function<Result<TxnResponse>()> apply = [this, request = std::move(request)] {
    return state_.apply_txn(request);
  };
  return exchange<Result<TxnResponse>>(node, MetaOp::txn, may_write, digest, std::move(apply), {},
                                       aimed);
}

Task<Result<LeaseId>> SimMetaStore::lease_grant_from(NodeIndex node, int64_t ttl_seconds) {
  std::function<Result<LeaseId>()> apply = [this, ttl_seconds] {
    return state_.apply_lease_grant(ttl_seconds);
  };
  return exchange<Result<LeaseId>>(node, MetaOp::lease_grant, true,
                                   static_cast<uint64_t>(ttl_seconds), std::move(apply), {});
}

// A keep-alive "may write": it moves the lease's deadline. Reporting its loss as unknown is the
// honest answer (the renewal may have landed), and callers lose nothing by it.
Task<Result<int64_t>> SimMetaStore::lease_keep_alive_from(NodeIndex node, LeaseId lease) {
  std::function<Result<int64_t>()> apply = [this, lease] {
    return state_.apply_lease_keep_alive(lease);
  };
  return exchange<Result<int64_t>>(node, MetaOp::lease_keep_alive, true,
                                   static_cast<uint64_t>(lease), std::move(apply), {});
}

Task<Status> SimMetaStore::lease_revoke_from(NodeIndex node, LeaseId lease) {
  std::function<Status()> apply = [this, lease] { return state_.apply_lease_revoke(lease); };
  return exchange<Status>(node, MetaOp::lease_revoke, true, static_cast<uint64_t>(lease),
                          std::move(apply), {});
}

Task<Status> SimMetaStore::compact_from(NodeIndex node, int64_t revision) {
  std::function<Status()> apply = [this, revision] { return state_.apply_compact(revision); };
  return exchange<Status>(node, MetaOp::compact, true, static_cast<uint64_t>(revision),
                          std::move(apply), {});
}

Task<Result<std::unique_ptr<Watch>>> SimMetaStore::watch_from(NodeIndex node, std::string key,
                                                               std::string range_end,
                                                               int64_t start_revision) {
  NodeRuntime& runtime = clients_.runtime(node);
  const uint64_t generation = runtime.generation();
  const uint64_t digest = text_digest(text_digest(static_cast<uint64_t>(start_revision), key),
                                      range_end);
  std::function<ChannelResult()> apply = [this, node, generation, key = std::move(key),
                                          range_end = std::move(range_end), start_revision] {
    return open_channel(node, generation, key, range_end, start_revision);
  };
  // A watch opened at the server whose handle never reaches the node is closed there.
  std::function<void(ChannelResult&)> unclaimed = [this](ChannelResult& opened) {
    if (opened.ok()) release_channel(**opened);
  };
  ChannelResult opened = co_await exchange<ChannelResult>(node, MetaOp::watch, false, digest,
                                                          std::move(apply),
                                                          std::move(unclaimed));
  if (!opened.ok()) co_return std::move(opened).error();
  co_return make_client_watch(std::move(*opened), runtime);
}

}  // namespace wal::sim
