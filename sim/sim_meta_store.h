#pragma once
// SimMetaStore: the simulated etcd. One per run; it owns the data (a MemMetaStore, exposed to
// checkers as state()) running on the world's executor and clock (scheduler owner 0), so lease
// expiry runs on virtual time and no node crash can cancel it. Each node gets a wal::MetaStore
// view:
//
//   SimMetaStore etcd(scheduler, streams, trace);           // faults off: a 1 ms round trip
//   std::unique_ptr<wal::MetaStore> meta = etcd.client(1, runtime_1);
//
// A call is a request and a reply, like SimObjectStore's: half the drawn round trip in, applied
// at the server at one instant (MemMetaStore::apply_*), half back, completed on the node's
// executor. Requests in flight belong to the world and still apply after their node crashes; a
// reply goes only to the node that sent it, up and in the same generation.
//
// Which calls "may write": txn with a put or delete in either branch, lease_grant,
// lease_keep_alive, lease_revoke, compact. A timeout or unavailable on those is OUTCOME UNKNOWN;
// on range, read-only txns and watch it is definite.
//
// Faults (MetaStoreFaults in service_faults.h, plus the world's actions below):
//   partition(node)  the node is cut off from the cluster. Requests it sends are lost, and so
//                    are requests from it still on their way (never applied) and replies to it
//                    still on their way (applied): the caller times out at its deadline, outcome
//                    unknown for writes, definite for reads. So a write sent just before the
//                    partition may or may not have applied, depending on whether it arrived.
//                    Its lease keep-alives are lost too, so its leases expire on schedule.
//                    Watches of the node stall: no event reaches it while partitioned (events
//                    already on the wire still arrive). After watch_unavailable_after of
//                    continuous partition each of its watches fails with unavailable (events are
//                    never skipped: the reader re-reads and re-watches from the next revision it
//                    has not seen). A partition healed sooner leaves the watches working and
//                    they resume, in order, without gaps.
//   heal(node), heal_all()
//   leader_change()  every lease's TTL restarts from now (etcd: expiry is only a lower bound);
//                    leader_change_fail_ppm of the requests in flight fail with unavailable
//                    (OUTCOME UNKNOWN for writes: a request not yet applied is committed anyway
//                    with leader_change_applied_ppm; one already applied stays applied); for
//                    election_time afterwards no request is served (they wait, and may time out).
//                    Watches survive a leader change.
//   compact(rev)     history below `rev` is forgotten (`rev` itself stays readable, as in
//                    etcd): range() at such a revision and watch() from one fail with
//                    compacted; a watch that has fallen behind (its node partitioned and
//                    stalled) gets compacted from next().
//   timeout_ppm      random timeouts: the request (not applied) or the reply (applied) is lost.
//   lose_next_txn(node, matches, until, request_side)
//                    an aimed timeout: the next txn from `node` that `matches` accepts, sent
//                    before `until`, loses its reply (applied) or, with request_side, its
//                    request (never applied). The caller times out at its deadline: OUTCOME
//                    UNKNOWN. One aim per node; a new one replaces the old.
//   latency          tails and spikes; a reply later than request_timeout is a timeout too.
// Watches deliver each revision's events in revision order with one-way network latency (a
// stream: later batches never overtake earlier ones). The server reads ahead of a slow reader,
// as etcd's watch server does, so only a stalled watch can be compacted.
//
// Lifetimes: the service must outlive its views and every node frame suspended in one of its
// calls. A Watch may outlive the service (next() then returns closed). Destroying the service
// cancels its pending events and its watch pumps.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/service_faults.h"
#include "sim/service_support.h"
#include "sim/trace.h"
#include "wal/async/completion.h"
#include "wal/async/scope.h"
#include "wal/env/meta_store.h"
#include "wal/mem/mem_meta_store.h"

namespace wal::sim {

enum class MetaOp : uint8_t { range, txn, lease_grant, lease_keep_alive, lease_revoke, watch,
                              compact };
inline constexpr size_t meta_op_count = 7;
[[nodiscard]] std::string_view meta_op_name(MetaOp op);

struct SimMetaStoreStats {
  std::array<ServiceOpCounts, meta_op_count> ops{};  // indexed by MetaOp
  uint64_t partition_lost_request_count = 0;  // requests lost to a partition (not applied)
  uint64_t partition_lost_reply_count = 0;    // replies lost to a partition (applied)
  uint64_t random_lost_request_count = 0;     // timeout_ppm, request side
  uint64_t random_lost_reply_count = 0;       // timeout_ppm, reply side
  uint64_t leader_change_count = 0;
  uint64_t leader_change_failed_count = 0;    // requests failed by a leader change
  uint64_t leader_change_applied_count = 0;   // ... of which were applied
  uint64_t election_wait_count = 0;           // requests that waited for an election
  uint64_t spike_count = 0;
  uint64_t timeout_count = 0;                 // calls that ended at their deadline
  uint64_t late_reply_count = 0;
  uint64_t aimed_loss_count = 0;  // txns lost by lose_next_txn
  uint64_t reply_to_gone_node_count = 0;
  uint64_t watch_batch_count = 0;             // event batches delivered to nodes
  uint64_t watch_unavailable_count = 0;       // watches failed by a partition
  uint64_t watch_compacted_count = 0;         // watches failed by compaction

  [[nodiscard]] const ServiceOpCounts& of(MetaOp op) const {
    return ops[static_cast<size_t>(op)];
  }
};

class SimMetaStore {
 public:
  SimMetaStore(Scheduler& scheduler, const RandomStreams& streams, Trace& trace,
               MetaStoreFaults faults = {});
  ~SimMetaStore();
  SimMetaStore(const SimMetaStore&) = delete;
  SimMetaStore& operator=(const SimMetaStore&) = delete;

  // A view for node `node` (>= 1) on `runtime`; calls on that node's executor while it is up.
  [[nodiscard]] std::unique_ptr<MetaStore> client(NodeIndex node, NodeRuntime& runtime);

  void set_faults(const MetaStoreFaults& faults);
  [[nodiscard]] const MetaStoreFaults& faults() const { return faults_; }

  // The world's actions (see the top of this file).
  void partition(NodeIndex node);
  void heal(NodeIndex node);
  void heal_all();
  [[nodiscard]] bool partitioned(NodeIndex node) const { return partitioned_.contains(node); }
  void leader_change();
  using TxnMatcher = std::function<bool(const TxnRequest&)>;
  void lose_next_txn(NodeIndex node, TxnMatcher matches, TimePoint until, bool request_side);
  // Compaction ordered by the world (an operator, auto-compaction). Errors as MemMetaStore's.
  [[nodiscard]] Status compact(int64_t revision);

  // The data, for checkers and tests; the world's executor and clock it runs on.
  [[nodiscard]] MemMetaStore& state() { return state_; }
  [[nodiscard]] const MemMetaStore& state() const { return state_; }
  [[nodiscard]] WorldRuntime& world() { return world_; }
  [[nodiscard]] const SimMetaStoreStats& stats() const { return stats_; }
  [[nodiscard]] size_t in_flight_count() const { return in_flight_.size(); }
  [[nodiscard]] size_t watch_count() const { return channels_.size(); }  // pumps running

  // Internal: one watch, shared by the node's Watch object and the server-side pump.
  struct WatchChannel;

 private:
  class View;
  class ClientWatch;
  friend class View;
  friend class ClientWatch;
  enum class Loss : uint8_t { none, request, reply };
  struct Plan {
    uint64_t request_id = 0;
    NodeIndex node = 0;
    uint64_t generation = 0;
    MetaOp op = MetaOp::range;
    bool may_write = false;
    Duration request_delay{0};
    Duration reply_delay{0};
    Loss loss = Loss::none;
  };
  // A request between its arrival being scheduled and its reply being handed over.
  struct InFlight {
    NodeIndex node = 0;
    bool may_write = false;
    bool applied = false;
    bool doomed = false;          // a leader change failed it
    bool doomed_applies = false;  // ... and it commits anyway (if not applied yet)
  };
  using ChannelResult = Result<std::shared_ptr<WatchChannel>>;
  struct AimedLoss {
    TxnMatcher matches;
    TimePoint until{};
    bool request_side = false;
  };

  void detach(NodeIndex node) { clients_.detach(node); }
  [[nodiscard]] Plan plan(NodeIndex node, MetaOp op, bool may_write, uint64_t digest, Loss aimed);
  [[nodiscard]] Loss take_aimed_loss(NodeIndex node, const TxnRequest& request);
  [[nodiscard]] Error fail_error(const Plan& plan, std::string what) const;

  // One call. `apply` runs at the server at most once; `unclaimed` (may be empty) gets a result
  // that was produced but never reached the caller (for watches: stop the server side).
  template <typename R>
  Task<R> exchange(NodeIndex node, MetaOp op, bool may_write, uint64_t digest,
                   std::function<R()> apply, std::function<void(R&)> unclaimed,
                   Loss aimed = Loss::none);
  template <typename R>
  void arrive(const Plan& plan, const std::function<R()>& apply,
              const std::function<void(R&)>& unclaimed, Completion<R> reply);
  template <typename R>
  void deliver(const Plan& plan, R result, const std::function<void(R&)>& unclaimed,
               Completion<R>& reply);

  Task<Result<RangeResponse>> range_from(NodeIndex node, RangeRequest request);
  Task<Result<TxnResponse>> txn_from(NodeIndex node, TxnRequest request);
  Task<Result<LeaseId>> lease_grant_from(NodeIndex node, int64_t ttl_seconds);
  Task<Result<int64_t>> lease_keep_alive_from(NodeIndex node, LeaseId lease);
  Task<Status> lease_revoke_from(NodeIndex node, LeaseId lease);
  Task<Status> compact_from(NodeIndex node, int64_t revision);
  Task<Result<std::unique_ptr<Watch>>> watch_from(NodeIndex node, std::string key,
                                                   std::string range_end,
                                                   int64_t start_revision);

  // Watches (sim_meta_watch.cpp).
  [[nodiscard]] ChannelResult open_channel(NodeIndex node, uint64_t generation,
                                           const std::string& key, const std::string& range_end,
                                           int64_t start_revision);
  Task<void> pump(std::shared_ptr<WatchChannel> channel);
  void send_watch_message(const std::shared_ptr<WatchChannel>& channel,
                          Result<std::vector<WatchEvent>> message, bool with_latency);
  void deliver_watch_message(const std::shared_ptr<WatchChannel>& channel,
                             Result<std::vector<WatchEvent>> message);
  void stop_channel(WatchChannel& channel);    // the server side sends nothing more
  void release_channel(WatchChannel& channel);  // ... and the service forgets the watch
  void fail_partitioned_watches(NodeIndex node, uint64_t partition_epoch);
  void wake_pumps(NodeIndex node);
  [[nodiscard]] std::unique_ptr<Watch> make_client_watch(std::shared_ptr<WatchChannel> channel,
                                                         Executor& node_executor);

  Scheduler& scheduler_;
  Trace& trace_;
  MetaStoreFaults faults_;
  WorldRuntime world_;
  MemMetaStore state_;
  ServiceClients clients_;
  Xoshiro256 latency_random_;
  Xoshiro256 spike_random_;
  Xoshiro256 timeout_random_;
  Xoshiro256 leader_random_;
  std::set<NodeIndex> partitioned_;
  std::map<NodeIndex, uint64_t> partition_epochs_;  // bumped by partition() and heal()
  TimePoint election_end_{};
  uint64_t next_request_id_ = 0;
  std::map<uint64_t, InFlight> in_flight_;  // by request id
  std::map<NodeIndex, AimedLoss> aimed_losses_;
  std::map<uint64_t, std::shared_ptr<WatchChannel>> channels_;  // by watch id, while pumped
  uint64_t next_watch_id_ = 1;
  SimMetaStoreStats stats_;
  Scope pumps_;         // the watch pumps, on the world executor
  OwnedEvents events_;  // last member: cancelled first, while everything above still exists
};

}  // namespace wal::sim
