#pragma once
// MemObjectStore: an ObjectStore held in memory. Deterministic, no I/O. Used by unit tests and as
// the state behind the simulator's S3.
//
// Every call takes effect at once, when its apply_*() runs. The async interface methods call
// apply_*() and complete without suspending, so this store never times out and never loses a
// reply. The simulator decides *when* a request is applied and whether its reply is lost by
// calling apply_*() itself from its own event, then completing (or dropping) the caller's reply.
//
// Etags are the 16 lowercase hex digits of a 64-bit hash (XXH64) of the body: like S3's MD5
// etags they depend on the content only, so a put of identical bytes keeps the etag. That
// deliberately matches S3, so code that wrongly infers "my put landed" from an etag change fails
// in simulation too.
//
// Operation counts: each apply_*() call counts one request of its kind, whether it succeeds or
// fails (S3 bills and rate-limits failed requests too); remove_many counts one delete request.
// Inspection (keys(), find(), object_count()) counts nothing; checkers use it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wal/env/object_store.h"

namespace wal {

struct ObjectStoreOpCounts {
  uint64_t put_count = 0;
  uint64_t get_count = 0;
  uint64_t head_count = 0;
  uint64_t list_count = 0;
  uint64_t delete_count = 0;        // remove() and remove_many() requests
  uint64_t put_body_bytes = 0;      // bytes offered by put requests, stored or not
  uint64_t get_body_bytes = 0;      // bytes returned by successful gets

  [[nodiscard]] uint64_t request_count() const {
    return put_count + get_count + head_count + list_count + delete_count;
  }
};

class MemObjectStore final : public ObjectStore {
 public:
  MemObjectStore() = default;
  MemObjectStore(const MemObjectStore&) = delete;
  MemObjectStore& operator=(const MemObjectStore&) = delete;

  // ObjectStore: each completes without suspending, with the result of the apply_*() below.
  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override;
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override;
  Task<Result<ObjectInfo>> head(std::string key) override;
  Task<Result<ListPage>> list(std::string prefix, std::string continuation_token,
                              size_t max_keys) override;
  Task<Status> remove(std::string key) override;
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override;

  // Synchronous forms, same results and errors as the ObjectStore methods (never timeout or
  // unavailable). The state change happens inside the call.
  [[nodiscard]] Result<ObjectInfo> apply_put(std::string_view key, Bytes body,
                                             const PutCondition& condition);
  [[nodiscard]] Result<ObjectData> apply_get(std::string_view key,
                                             std::optional<ByteRange> range);
  [[nodiscard]] Result<ObjectInfo> apply_head(std::string_view key);
  [[nodiscard]] Result<ListPage> apply_list(std::string_view prefix,
                                            std::string_view continuation_token, size_t max_keys);
  [[nodiscard]] Status apply_remove(std::string_view key);
  [[nodiscard]] Result<std::vector<Status>> apply_remove_many(
      const std::vector<std::string>& keys);

  // Inspection for tests and checkers; counts no request.
  [[nodiscard]] std::vector<std::string> keys() const;  // byte order
  [[nodiscard]] size_t object_count() const { return objects_.size(); }
  // The stored object, or nullopt. Its info.size_bytes equals body.size().
  [[nodiscard]] std::optional<ObjectData> find(std::string_view key) const;
  // The stored body without a copy (or the etag find() computes), or nullopt. The view is
  // valid until the store changes: for checkers that look at many objects per step.
  [[nodiscard]] std::optional<ByteView> body_view(std::string_view key) const;

  [[nodiscard]] const ObjectStoreOpCounts& op_counts() const { return op_counts_; }
  void reset_op_counts() { op_counts_ = {}; }

  // The etag this store gives `body`; exposed so tests can predict it.
  [[nodiscard]] static std::string etag_for(ByteView body);

 private:
  struct StoredObject {
    Bytes body;
    std::string etag;
  };
  [[nodiscard]] Status check_put(std::string_view key, const Bytes& body,
                                 const PutCondition& condition) const;
  [[nodiscard]] static ObjectInfo info_of(const std::string& key, const StoredObject& object);

  // std::less<> lets lookups take a string_view without building a std::string.
  std::map<std::string, StoredObject, std::less<>> objects_;
  ObjectStoreOpCounts op_counts_;
};

}  // namespace wal
