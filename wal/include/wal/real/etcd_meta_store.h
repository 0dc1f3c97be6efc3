#pragma once
// EtcdMetaStore: wal::MetaStore (wal/env/meta_store.h) over etcd's v3 gRPC API, the metadata
// store of every deployment where several processes share a log. Tested against etcd 3.4 by
// the MetaStore contract suite and a 3-member cluster whose leader is killed
// (tests/contract/meta_store_contract_test.cpp, tests/integration/etcd_cluster_fault_test.cpp).
//
// Semantics: etcd's, which the interface describes (revisions, versions, leases, watches). Where
// the interface leaves a choice:
//  - Requests are validated with wal/env/meta_rules.h before anything is sent, so malformed
//    requests fail exactly as on the embedded stores (invalid_argument, definite, no request).
//  - Lease ids are etcd's (random, positive). Short TTLs are rounded up by etcd itself (to 2 s
//    with etcd's default election timeout of 1 s).
//  - watch() from a revision below etcd's compaction point fails with compacted at once (one
//    count-only range at that revision checks it, as etcd itself reports it only later on the
//    stream); a watch that falls behind a later compaction gets compacted from next().
//
// Cluster and deadlines: `endpoints` are tried in turn. Every request attempt has its own
// deadline (request_timeout): etcd answers a request sent just before a leader dies only when
// the client's deadline passes, so a long one would stall a failover. The whole call has
// operation_timeout.
//  - Reads (range, read-only txn, lease time-to-live) are retried on the next endpoint after a
//    timeout or an unavailable endpoint, until operation_timeout; then timeout / unavailable,
//    definite.
//  - Writes (txn with a put or delete, lease grant and revoke, compact) are retried only when
//    the request certainly did not take effect: the endpoint could not be connected to, etcd
//    refused it before proposing it ("no leader", "too many requests"), or it was rejected for
//    an expired auth token (then after re-authenticating). Any other failure after the request
//    left is timeout or unavailable with OUTCOME UNKNOWN: it may have been committed. The caller
//    settles it by reading, as every WAL write does (a compare on a mod_revision); it is never
//    retried here, because a retried txn whose first copy committed reports its compare as
//    failed (tests/integration/etcd_cluster_fault_test.cpp shows this).
//  - lease_keep_alive() runs over one long-lived LeaseKeepAlive stream, re-opened on the next
//    endpoint when it breaks or an answer is later than request_timeout; a keep-alive renews and
//    is safe to repeat, so it is retried until operation_timeout. A lease that expired or was
//    revoked is not_found: a lost lease is reported to its owner, never renewed in its place.
//  - Each Watch has its own Watch stream. When the stream breaks (the member died, lost its
//    leader, or the connection dropped), the watch re-opens it on the next endpoint from the
//    first revision it has not received: no event is missed or repeated. If no endpoint takes
//    the watch back within operation_timeout, next() returns unavailable (re-read and re-watch).
//    etcd's batched responses are split into one next() result per revision.
//
// Errors (besides those of meta_store.h): permission_denied (wrong user or password, a TLS
// certificate the server refuses, no permission on a key: definite), invalid_argument
// (malformed options), protocol (a reply etcd would not send). Messages name the endpoint and
// carry etcd's text, in one line.
// Security: with `username`, the store authenticates (Auth.Authenticate) and sends the token
// with every request; an expired token ("invalid auth token") is renewed and the request sent
// again, which is safe because etcd rejected it before applying it. With `tls`, every channel
// uses TLS with the given CA and, if set, a client certificate and key (PEM files).
//
// Threading: open() and every call on the loop thread of `executor`, which `clock` must run on.
// gRPC's own completion-queue thread only posts results to that executor.
// Lifetimes: the executor must outlive the store; destroying the store cancels every request
// and stream in flight and waits until gRPC has let go of them (their callers never resume).
// A Watch may outlive the store: its next() then returns closed.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wal/async/executor.h"
#include "wal/env/clock.h"
#include "wal/env/meta_store.h"

namespace wal {

struct EtcdTlsOptions {
  std::string ca_file;    // PEM: the CA that signed the servers' certificates (required)
  std::string cert_file;  // PEM: client certificate, for servers run with --client-cert-auth
  std::string key_file;   // PEM: its private key (required with cert_file)
};

struct EtcdOptions {
  // "host:port", "http://host:port", or "https://host:port" (https needs `tls`). At least one.
  std::vector<std::string> endpoints;
  std::string username;  // empty: no authentication
  std::string password;
  std::optional<EtcdTlsOptions> tls;
  // Per attempt. 1 s: on this class of machine an etcd write takes 1.5-6 ms, and a request that
  // hangs because the leader died is given up after this long, then another endpoint is tried.
  std::chrono::milliseconds request_timeout{1000};
  // Per call, across attempts and endpoints. 10 s: longer than etcd's leader elections with its
  // default timing (1.3-1.7 s measured on loopback), short enough to surface a dead cluster.
  std::chrono::milliseconds operation_timeout{10'000};
};

// Checks `options` (endpoints present and well-formed, TLS files named, timeouts positive and
// request_timeout <= operation_timeout). invalid_argument, with the reason.
[[nodiscard]] Status validate_etcd_options(const EtcdOptions& options);

// What the store sent, for benchmarks and tests: one count per gRPC request attempt (a retry
// counts again) and per message on a stream.
struct EtcdRequestCounts {
  uint64_t range_count = 0;
  uint64_t txn_count = 0;
  uint64_t compact_count = 0;
  uint64_t lease_grant_count = 0;
  uint64_t lease_revoke_count = 0;
  uint64_t lease_keep_alive_count = 0;
  uint64_t lease_time_to_live_count = 0;
  uint64_t watch_create_count = 0;  // including re-opened watches
  uint64_t authenticate_count = 0;
  uint64_t status_count = 0;
  uint64_t failovers_count = 0;  // times the store moved to the next endpoint

  [[nodiscard]] uint64_t requests_total() const {
    return range_count + txn_count + compact_count + lease_grant_count + lease_revoke_count +
           lease_keep_alive_count + lease_time_to_live_count + watch_create_count +
           authenticate_count + status_count;
  }
};

namespace etcd {
class EtcdClient;
class LeaseKeeper;
class EtcdWatch;
struct WatchLink;
}  // namespace etcd

class EtcdMetaStore final : public MetaStore {
 public:
  // Connects: authenticates if a username is set, then asks the endpoints in turn for their
  // status until one answers. Errors: invalid_argument (options), permission_denied (wrong
  // password, refused certificate), unavailable / timeout (no endpoint answered within
  // operation_timeout), io_error (a TLS file cannot be read). All definite.
  static Task<Result<std::unique_ptr<EtcdMetaStore>>> open(Executor& executor, Clock& clock,
                                                           EtcdOptions options);
  ~EtcdMetaStore() override;
  EtcdMetaStore(const EtcdMetaStore&) = delete;
  EtcdMetaStore& operator=(const EtcdMetaStore&) = delete;

  Task<Result<RangeResponse>> range(RangeRequest request) override;
  Task<Result<TxnResponse>> txn(TxnRequest request) override;
  Task<Result<LeaseId>> lease_grant(int64_t ttl_seconds) override;
  Task<Result<int64_t>> lease_keep_alive(LeaseId lease) override;
  Task<Status> lease_revoke(LeaseId lease) override;
  Task<Result<std::unique_ptr<Watch>>> watch(std::string key, std::string range_end,
                                             int64_t start_revision) override;
  Task<Status> compact(int64_t revision) override;

  // etcd's LeaseTimeToLive: the seconds left before the lease expires (a read, retried).
  // not_found: expired or revoked.
  Task<Result<int64_t>> lease_time_to_live(LeaseId lease);

  [[nodiscard]] const EtcdRequestCounts& request_counts() const;
  [[nodiscard]] const EtcdOptions& options() const { return options_; }
  // The endpoint the next request goes to (tests watch failover with it).
  [[nodiscard]] const std::string& current_endpoint() const;

 private:
  EtcdMetaStore(EtcdOptions options, std::unique_ptr<etcd::EtcdClient> client);

  EtcdOptions options_;
  std::unique_ptr<etcd::EtcdClient> client_;
  std::unique_ptr<etcd::LeaseKeeper> keeper_;
  // Live watches, closed when the store goes (a Watch may outlive it).
  std::shared_ptr<etcd::WatchLink> watches_;
};

}  // namespace wal
