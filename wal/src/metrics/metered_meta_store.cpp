// MeteredMetaStore (wal/metrics/metered_stores.h): every call forwarded, then counted. Upstream
// Woodpecker calls the latency series etcd_meta_operation_latency; the names follow it.
#include "wal/metrics/metered_stores.h"

namespace wal::metrics {

MeteredMetaStore::MeteredMetaStore(MetaStore& inner, Registry& registry, Clock& clock)
    : inner_(inner), meter_(registry, clock, "woodpecker_etcd_meta", "Metadata store (etcd)") {}

Task<Result<RangeResponse>> MeteredMetaStore::range(RangeRequest request) {
  const TimePoint started = meter_.start();
  Result<RangeResponse> result = co_await inner_.range(std::move(request));
  meter_.finish("range", started, result);
  co_return result;
}

Task<Result<TxnResponse>> MeteredMetaStore::txn(TxnRequest request) {
  const TimePoint started = meter_.start();
  Result<TxnResponse> result = co_await inner_.txn(std::move(request));
  meter_.finish("txn", started, result);
  co_return result;
}

Task<Result<LeaseId>> MeteredMetaStore::lease_grant(int64_t ttl_seconds) {
  const TimePoint started = meter_.start();
  Result<LeaseId> result = co_await inner_.lease_grant(ttl_seconds);
  meter_.finish("lease_grant", started, result);
  co_return result;
}

Task<Result<int64_t>> MeteredMetaStore::lease_keep_alive(LeaseId lease) {
  const TimePoint started = meter_.start();
  Result<int64_t> result = co_await inner_.lease_keep_alive(lease);
  meter_.finish("lease_keep_alive", started, result);
  co_return result;
}

Task<Status> MeteredMetaStore::lease_revoke(LeaseId lease) {
  const TimePoint started = meter_.start();
  Status result = co_await inner_.lease_revoke(lease);
  meter_.finish("lease_revoke", started, result);
  co_return result;
}

Task<Result<std::unique_ptr<Watch>>> MeteredMetaStore::watch(std::string key,
                                                             std::string range_end,
                                                             int64_t start_revision) {
  const TimePoint started = meter_.start();
  Result<std::unique_ptr<Watch>> result =
      co_await inner_.watch(std::move(key), std::move(range_end), start_revision);
  meter_.finish("watch", started, result);
  co_return result;
}

Task<Status> MeteredMetaStore::compact(int64_t revision) {
  const TimePoint started = meter_.start();
  Status result = co_await inner_.compact(revision);
  meter_.finish("compact", started, result);
  co_return result;
}

}  // namespace wal::metrics
