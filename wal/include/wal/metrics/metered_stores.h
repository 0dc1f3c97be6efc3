#pragma once
// Metered decorators of the seam interfaces: each forwards every call to the store it wraps,
// unchanged (same results, same errors, same outcomes), and records it in an OperationMeter.
// A daemon wraps its real stores in them; nothing else changes.
//
//   MeteredObjectStore  woodpecker_object_storage_*   (put, get, head, list, remove, remove_many;
//                                                      bytes: put bodies and get bodies)
//   MeteredMetaStore    woodpecker_etcd_meta_*        (range, txn, lease_*, watch, compact)
//   MeteredDisk         woodpecker_logstore_disk_*    (every call), plus
//                       woodpecker_file_flush_latency_seconds  journal fsync latency
//                       woodpecker_flush_block_bytes  bytes written to a file since its last
//                                                     sync, per sync: the group-commit batch
//   MeteredNetwork      woodpecker_logstore_*         requests this node serves, by method
//                                                     (request bytes: request bodies)
// Errors and outcomes: exactly the wrapped store's (see its interface header).
// Threading and lifetimes: the wrapped object and the meter outlive the decorator; all calls on
// the node's executor.

#include <map>
#include <memory>
#include <string>

#include "wal/env/disk.h"
#include "wal/env/meta_store.h"
#include "wal/env/network.h"
#include "wal/env/object_store.h"
#include "wal/metrics/operation_meter.h"

namespace wal::metrics {

class MeteredObjectStore final : public ObjectStore {
 public:
  MeteredObjectStore(ObjectStore& inner, Registry& registry, Clock& clock);
  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override;
  Task<Result<ObjectInfo>> put_shared(std::string key, SharedBytes body,
                                      PutCondition condition) override;
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override;
  Task<Result<ObjectInfo>> head(std::string key) override;
  Task<Result<ListPage>> list(std::string prefix, std::string continuation_token,
                              size_t max_keys) override;
  Task<Status> remove(std::string key) override;
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override;

 private:
  ObjectStore& inner_;
  OperationMeter meter_;
};

class MeteredMetaStore final : public MetaStore {
 public:
  MeteredMetaStore(MetaStore& inner, Registry& registry, Clock& clock);
  Task<Result<RangeResponse>> range(RangeRequest request) override;
  Task<Result<TxnResponse>> txn(TxnRequest request) override;
  Task<Result<LeaseId>> lease_grant(int64_t ttl_seconds) override;
  Task<Result<int64_t>> lease_keep_alive(LeaseId lease) override;
  Task<Status> lease_revoke(LeaseId lease) override;
  Task<Result<std::unique_ptr<Watch>>> watch(std::string key, std::string range_end,
                                             int64_t start_revision) override;
  Task<Status> compact(int64_t revision) override;

 private:
  MetaStore& inner_;
  OperationMeter meter_;
};

class MeteredDisk final : public Disk {
 public:
  MeteredDisk(Disk& inner, Registry& registry, Clock& clock);
  Task<Status> write(std::string path, uint64_t offset, Bytes bytes) override;
  Task<Result<uint64_t>> append(std::string path, Bytes bytes) override;
  Task<Status> sync(std::string path) override;
  Task<Result<Bytes>> read(std::string path, uint64_t offset, uint64_t length) override;
  Task<Result<uint64_t>> size(std::string path) override;
  Task<Status> truncate(std::string path, uint64_t length) override;
  Task<Result<std::vector<std::string>>> list(std::string prefix) override;
  Task<Status> rename(std::string from, std::string to) override;
  Task<Status> remove(std::string path) override;

 private:
  Disk& inner_;
  OperationMeter meter_;
  Histogram& flush_latency_;
  Histogram& flush_bytes_;
  std::map<std::string, uint64_t> unsynced_bytes_;  // per path, written since its last sync
};

class MeteredNetwork final : public Network {
 public:
  MeteredNetwork(Network& inner, Registry& registry, Clock& clock);
  [[nodiscard]] const NodeId& self() const override { return inner_.self(); }
  // Wraps `handler` so every request it serves is counted and timed.
  void serve(RpcHandler handler) override;
  // Outgoing calls are forwarded unmetered: a LogStore calls only its peers, during repair.
  Task<Result<Bytes>> call(NodeId target, std::string method, Bytes body,
                           TimePoint deadline) override;

 private:
  Network& inner_;
  std::shared_ptr<OperationMeter> meter_;  // shared with the installed handler
};

}  // namespace wal::metrics
