// MeteredObjectStore (wal/metrics/metered_stores.h): every call forwarded, then counted.
#include "wal/metrics/metered_stores.h"

namespace wal::metrics {

MeteredObjectStore::MeteredObjectStore(ObjectStore& inner, Registry& registry, Clock& clock)
    : inner_(inner), meter_(registry, clock, "woodpecker_object_storage", "Object storage") {}

Task<Result<ObjectInfo>> MeteredObjectStore::put(std::string key, Bytes body,
                                                 PutCondition condition) {
  const TimePoint started = meter_.start();
  const uint64_t size = body.size();
  Result<ObjectInfo> result = co_await inner_.put(std::move(key), std::move(body),
                                                  std::move(condition));
  meter_.finish("put", started, result);
  if (result.ok()) meter_.add_bytes("put", size);
  co_return result;
}

Task<Result<ObjectInfo>> MeteredObjectStore::put_shared(std::string key, SharedBytes body,
                                                        PutCondition condition) {
  WAL_ASSERT(body != nullptr);
  const TimePoint started = meter_.start();
  const uint64_t size = body->size();
  Result<ObjectInfo> result = co_await inner_.put_shared(std::move(key), std::move(body),
                                                         std::move(condition));
  meter_.finish("put", started, result);
  if (result.ok()) meter_.add_bytes("put", size);
  co_return result;
}

Task<Result<ObjectData>> MeteredObjectStore::get(std::string key,
                                                 std::optional<ByteRange> range) {
  const TimePoint started = meter_.start();
  Result<ObjectData> result = co_await inner_.get(std::move(key), range);
  meter_.finish("get", started, result);
  if (result.ok()) meter_.add_bytes("get", result->body.size());
  co_return result;
}

Task<Result<ObjectInfo>> MeteredObjectStore::head(std::string key) {
  return meter_.timed("head", inner_.head(std::move(key)));
}

Task<Result<ListPage>> MeteredObjectStore::list(std::string prefix, std::string continuation_token,
                                                size_t max_keys) {
  return meter_.timed("list",
                      inner_.list(std::move(prefix), std::move(continuation_token), max_keys));
}

Task<Status> MeteredObjectStore::remove(std::string key) {
  return meter_.timed("remove", inner_.remove(std::move(key)));
}

Task<Result<std::vector<Status>>> MeteredObjectStore::remove_many(std::vector<std::string> keys) {
  return meter_.timed("remove_many", inner_.remove_many(std::move(keys)));
}

}  // namespace wal::metrics
