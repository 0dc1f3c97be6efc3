#pragma once
// Stores that forward every call to another store, for tests that change one or two calls (as
// LevelDB's EnvWrapper does for its Env): derive, override what the test needs, keep the rest.
// Each call returns the inner store's task, so no frame of the wrapper outlives the call.

#include <memory>
#include <string>
#include <vector>

#include "wal/env/meta_store.h"
#include "wal/env/object_store.h"

namespace wal::testing {

class ForwardingObjectStore : public ObjectStore {
 public:
  explicit ForwardingObjectStore(ObjectStore& inner) : inner_(inner) {}

  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override {
    return inner_.put(std::move(key), std::move(body), std::move(condition));
  }
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override {
    return inner_.get(std::move(key), range);
  }
  Task<Result<ObjectInfo>> head(std::string key) override { return inner_.head(std::move(key)); }
  Task<Result<ListPage>> list(std::string prefix, std::string token, size_t max_keys) override {
    return inner_.list(std::move(prefix), std::move(token), max_keys);
  }
  Task<Status> remove(std::string key) override { return inner_.remove(std::move(key)); }
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override {
    return inner_.remove_many(std::move(keys));
  }

 protected:
  ObjectStore& inner_;
};

class ForwardingMetaStore : public MetaStore {
 public:
  explicit ForwardingMetaStore(MetaStore& inner) : inner_(inner) {}

  Task<Result<RangeResponse>> range(RangeRequest request) override {
    return inner_.range(std::move(request));
  }
  Task<Result<TxnResponse>> txn(TxnRequest request) override {
    return inner_.txn(std::move(request));
  }
  Task<Result<LeaseId>> lease_grant(int64_t ttl_seconds) override {
    return inner_.lease_grant(ttl_seconds);
  }
  Task<Result<int64_t>> lease_keep_alive(LeaseId lease) override {
    return inner_.lease_keep_alive(lease);
  }
  Task<Status> lease_revoke(LeaseId lease) override { return inner_.lease_revoke(lease); }
  Task<Result<std::unique_ptr<Watch>>> watch(std::string key, std::string range_end,
                                             int64_t start_revision) override {
    return inner_.watch(std::move(key), std::move(range_end), start_revision);
  }
  Task<Status> compact(int64_t revision) override { return inner_.compact(revision); }

 protected:
  MetaStore& inner_;
};

}  // namespace wal::testing
