// The LogStore's registration: <meta_root>logstores/<node id>, attached to a lease that the node
// keeps alive, so writers choosing ensembles see only live nodes; and deregistration, which
// revokes the lease when a daemon drains.
#include <nlohmann/json.hpp>

#include "wal/async/sleep.h"
#include "logstore_node.h"

namespace wal::quorum {

// Every tick renews the lease and checks that the key is there with it: a lost lease (expired
// while the node was partitioned) or a put whose outcome was unknown is repaired on the next
// tick. Errors just wait for the next tick.
Task<void> LogStoreNode::registration_loop(LogStoreNode& node) {
  const Duration tick = std::max<Duration>(node.options_.registration_ttl / 3,
                                           std::chrono::milliseconds(100));
  while (!node.deregistered_) {
    Status registered = co_await node.register_once();
    WAL_MAYBE(registered.ok());  // a failure is retried at the next tick
    co_await sleep_for(node.env_.clock, tick);
  }
}

Task<Status> LogStoreNode::register_once() {
  MetaStore& meta = *env_.meta_store;
  if (lease_ != 0) {
    Result<int64_t> alive = co_await meta.lease_keep_alive(lease_);
    if (!alive.ok()) {
      if (alive.error().code != Errc::not_found) co_return std::move(alive).error();
      lease_ = 0;  // expired: grant a new one below
      registered_ = false;
      emit(LogStoreEventKind::registration_lost, nullptr);
    }
  }
  if (lease_ == 0) {
    const int64_t ttl_seconds = std::max<int64_t>(
        limits::meta_lease_ttl_seconds_min,
        std::chrono::duration_cast<std::chrono::seconds>(options_.registration_ttl).count());
    Result<LeaseId> granted = co_await meta.lease_grant(ttl_seconds);
    if (!granted.ok()) co_return std::move(granted).error();
    lease_ = *granted;
  }
  const std::string key = logstore_registry_prefix(options_.meta_root) + env_.network->self();
  Result<std::optional<KeyValue>> current = co_await meta.get(key);
  if (!current.ok()) co_return std::move(current).error();
  if (*current && (*current)->lease == lease_) co_return Status{};
  TxnRequest request;
  request.success = {PutOp{key, registration_value(), lease_}};
  Result<TxnResponse> put = co_await meta.txn(std::move(request));
  if (!put.ok()) co_return std::move(put).error();
  if (deregistered_) {
    // deregister() ran while the put was in flight: take the key away again.
    co_return co_await meta.lease_revoke(lease_);
  }
  ++stats_.registrations;
  registered_ = true;
  emit(LogStoreEventKind::registered, nullptr, static_cast<uint64_t>(lease_),
       options_.advertise_address.empty() ? "" : "address " + options_.advertise_address);
  co_return Status{};
}

// Only the fields the options give: a node without an address (in-process and simulated
// deployments resolve node ids themselves) registers exactly {"node": id}.
std::string LogStoreNode::registration_value() const {
  nlohmann::json value{{"node", env_.network->self()}};
  if (!options_.advertise_address.empty()) value["address"] = options_.advertise_address;
  if (!options_.zone.empty()) value["zone"] = options_.zone;
  return value.dump();
}

Task<Status> LogStoreNode::deregister() {
  deregistered_ = true;
  registered_ = false;
  if (lease_ == 0) co_return Status{};
  const LeaseId lease = lease_;
  lease_ = 0;
  Status revoked = co_await env_.meta_store->lease_revoke(lease);
  if (!revoked.ok() && revoked.error().code == Errc::not_found) revoked = Status{};  // expired
  if (revoked.ok()) emit(LogStoreEventKind::deregistered, nullptr);
  co_return revoked;
}

}  // namespace wal::quorum
