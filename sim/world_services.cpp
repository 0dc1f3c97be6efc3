// WorldServices over the simulated stores. TEMPORARY STAND-IN: until sim/sim_object_store.h and
// sim/sim_meta_store.h land, the clients forward to the in-memory stores without latency or
// faults; fault windows are recorded but have no effect.
#include "sim/world_services.h"

#include "sim/world_orphans.h"
#include "wal/mem/mem_meta_store.h"
#include "wal/mem/mem_object_store.h"

namespace wal::sim {

namespace {

constexpr NodeIndex services_node = limits::owners_max - 1;  // owns etcd's lease timers and watches

class ForwardingObjectStore final : public ObjectStore {
 public:
  explicit ForwardingObjectStore(MemObjectStore& inner) : inner_(inner) {}
  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override {
    co_return inner_.apply_put(key, std::move(body), condition);
  }
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override {
    co_return inner_.apply_get(key, range);
  }
  Task<Result<ObjectInfo>> head(std::string key) override { co_return inner_.apply_head(key); }
  Task<Result<ListPage>> list(std::string prefix, std::string token, size_t max_keys) override {
    co_return inner_.apply_list(prefix, token, max_keys);
  }
  Task<Status> remove(std::string key) override { co_return inner_.apply_remove(key); }
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override {
    co_return inner_.apply_remove_many(keys);
  }

 private:
  MemObjectStore& inner_;
};

class ForwardingMetaStore final : public MetaStore {
 public:
  explicit ForwardingMetaStore(MetaStore& inner) : inner_(inner) {}
  Task<Result<RangeResponse>> range(RangeRequest request) override {
    return inner_.range(std::move(request));
  }
  Task<Result<TxnResponse>> txn(TxnRequest request) override {
    return inner_.txn(std::move(request));
  }
  Task<Result<LeaseId>> lease_grant(int64_t ttl) override { return inner_.lease_grant(ttl); }
  Task<Result<int64_t>> lease_keep_alive(LeaseId lease) override {
    return inner_.lease_keep_alive(lease);
  }
  Task<Status> lease_revoke(LeaseId lease) override { return inner_.lease_revoke(lease); }
  Task<Result<std::unique_ptr<Watch>>> watch(std::string key, std::string range_end,
                                             int64_t start_revision) override {
    return inner_.watch(std::move(key), std::move(range_end), start_revision);
  }
  Task<Status> compact(int64_t revision) override { return inner_.compact(revision); }

 private:
  MetaStore& inner_;
};

}  // namespace

struct WorldServices::Impl {
  Impl(Scheduler& scheduler) : runtime(scheduler, services_node), meta(runtime, runtime) {}
  MemObjectStore objects;
  NodeRuntime runtime;
  MemMetaStore meta;
};

WorldServices::WorldServices(Scheduler& scheduler, const RandomStreams&, Trace&)
    : impl_(std::make_unique<Impl>(scheduler)) {}
WorldServices::~WorldServices() = default;

std::unique_ptr<ObjectStore> WorldServices::object_client(uint32_t, NodeRuntime&) {
  return std::make_unique<ForwardingObjectStore>(impl_->objects);
}
std::unique_ptr<MetaStore> WorldServices::meta_client(uint32_t, NodeRuntime&) {
  return std::make_unique<ForwardingMetaStore>(impl_->meta);
}
uint64_t WorldServices::object_fault_begin(faults::EventKind kind, uint32_t magnitude) {
  windows_.emplace(next_window_, Window{kind, magnitude});
  apply_object_faults();
  return next_window_++;
}
void WorldServices::object_fault_end(uint64_t window) {
  windows_.erase(window);
  apply_object_faults();
}
void WorldServices::apply_object_faults() {}
void WorldServices::meta_partition(uint32_t, bool) {}
void WorldServices::meta_leader_change() {}
void WorldServices::meta_compact() {}
void WorldServices::heal_all() {
  windows_.clear();
  apply_object_faults();
}
std::vector<std::string> WorldServices::orphaned_objects(const std::string& log_name) {
  return find_orphans(impl_->objects, impl_->meta, "/wal/", "wal/", log_name);
}

}  // namespace wal::sim
