// MeteredMetaStore (wal/metrics/metered_stores.h): every call forwarded, then counted. Upstream
// Woodpecker calls the latency series etcd_meta_operation_latency; the names follow it.
#include "wal/metrics/metered_stores.h"

namespace wal::metrics {

MeteredMetaStore::MeteredMetaStore(MetaStore& inner, Registry& registry, Clock& clock)
    : inner_(inner), meter_(registry, clock, "woodpecker_etcd_meta", "Metadata store (etcd)") {}

Task<Result<RangeResponse>> MeteredMetaStore::range(RangeRequest request) {
  return meter_.timed("range", inner_.range(std::move(request)));
}

Task<Result<TxnResponse>> MeteredMetaStore::txn(TxnRequest request) {
  return meter_.timed("txn", inner_.txn(std::move(request)));
}

Task<Result<LeaseId>> MeteredMetaStore::lease_grant(int64_t ttl_seconds) {
  return meter_.timed("lease_grant", inner_.lease_grant(ttl_seconds));
}

Task<Result<int64_t>> MeteredMetaStore::lease_keep_alive(LeaseId lease) {
  return meter_.timed("lease_keep_alive", inner_.lease_keep_alive(lease));
}

Task<Status> MeteredMetaStore::lease_revoke(LeaseId lease) {
  return meter_.timed("lease_revoke", inner_.lease_revoke(lease));
}

Task<Result<std::unique_ptr<Watch>>> MeteredMetaStore::watch(std::string key,
                                                             std::string range_end,
                                                             int64_t start_revision) {
  return meter_.timed("watch",
                      inner_.watch(std::move(key), std::move(range_end), start_revision));
}

Task<Status> MeteredMetaStore::compact(int64_t revision) {
  return meter_.timed("compact", inner_.compact(revision));
}

}  // namespace wal::metrics
