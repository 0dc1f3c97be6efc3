// EtcdMetaStore (wal/include/wal/real/etcd_meta_store.h): the MetaStore calls, each one etcd
// request (or a stream message) sent through EtcdClient's retry and failover policy.
#include "wal/real/etcd_meta_store.h"

#include "etcd_client.h"
#include "etcd_codec.h"
#include "etcd_lease_keeper.h"
#include "etcd_watch.h"
#include "wal/env/meta_rules.h"

namespace wal {

using etcd::Effect;
using etcd::Stubs;

Status validate_etcd_options(const EtcdOptions& options) {
  auto invalid = [](std::string why) { return make_error(Errc::invalid_argument, "etcd: " + why); };
  if (options.endpoints.empty()) return invalid("no endpoints");
  for (const std::string& endpoint : options.endpoints) {
    std::string_view address = endpoint;
    const bool https = address.starts_with("https://");
    if (https) address.remove_prefix(8);
    if (address.starts_with("http://")) address.remove_prefix(7);
    const size_t colon = address.rfind(':');
    if (address.empty() || colon == std::string_view::npos || colon == 0 ||
        colon + 1 == address.size() || address.find('/') != std::string_view::npos) {
      return invalid("endpoint '" + endpoint + "' is not host:port, http://host:port or "
                     "https://host:port");
    }
    if (https && !options.tls) return invalid("endpoint '" + endpoint + "' needs a tls section");
    if (!https && options.tls && endpoint.starts_with("http://")) {
      return invalid("endpoint '" + endpoint + "' is http:// but tls is configured");
    }
  }
  if (options.tls) {
    if (options.tls->ca_file.empty()) return invalid("tls needs ca_file");
    if (options.tls->cert_file.empty() != options.tls->key_file.empty()) {
      return invalid("tls needs both cert_file and key_file, or neither");
    }
  }
  if (options.password.size() > 0 && options.username.empty()) {
    return invalid("a password without a username");
  }
  if (options.request_timeout.count() <= 0 || options.operation_timeout.count() <= 0 ||
      options.request_timeout > options.operation_timeout) {
    return invalid("timeouts must be positive, request_timeout at most operation_timeout");
  }
  return {};
}

EtcdMetaStore::EtcdMetaStore(EtcdOptions options, std::unique_ptr<etcd::EtcdClient> client)
    : options_(std::move(options)),
      client_(std::move(client)),
      keeper_(std::make_unique<etcd::LeaseKeeper>(*client_)),
      watches_(std::make_shared<etcd::WatchLink>()) {}

EtcdMetaStore::~EtcdMetaStore() {
  watches_->alive = false;
  std::map<uint64_t, etcd::EtcdWatch*> watches = std::move(watches_->watches);
  for (auto& [id, watch] : watches) watch->detach();
  keeper_.reset();
  client_.reset();  // cancels what is in flight and waits for gRPC to let go of it
}

Task<Result<std::unique_ptr<EtcdMetaStore>>> EtcdMetaStore::open(Executor& executor,
                                                                 Clock& clock,
                                                                 EtcdOptions options) {
  Result<std::unique_ptr<etcd::EtcdClient>> client =
      etcd::EtcdClient::create(executor, clock, options);
  if (!client.ok()) co_return std::move(client).error();
  std::unique_ptr<EtcdMetaStore> store(new EtcdMetaStore(std::move(options), std::move(*client)));
  etcd::EtcdClient& raw = *store->client_;
  if (Status authenticated = co_await raw.authenticate(); !authenticated.ok()) {
    co_return std::move(authenticated).error();
  }
  // A first request proves the endpoints answer (and with auth, that the token works), so a
  // wrong address or certificate is reported by open(), not by the WAL's first write.
  etcdserverpb::StatusRequest request;
  Result<etcdserverpb::StatusResponse> status = co_await raw.call<etcdserverpb::StatusResponse>(
      Effect::read, raw.counts().status_count, "status",
      [&](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
        return stubs.maintenance->PrepareAsyncStatus(context, request, queue);
      });
  if (!status.ok()) co_return std::move(status).error();
  co_return store;
}

const EtcdRequestCounts& EtcdMetaStore::request_counts() const { return client_->counts(); }

const std::string& EtcdMetaStore::current_endpoint() const {
  return client_->address(client_->current_endpoint());
}

Task<Result<RangeResponse>> EtcdMetaStore::range(RangeRequest request) {
  if (Status valid = meta_rules::validate_range(request); !valid.ok()) {
    co_return std::move(valid).error();
  }
  const etcdserverpb::RangeRequest encoded = etcd::encode_range(request);
  Result<etcdserverpb::RangeResponse> reply = co_await client_->call<etcdserverpb::RangeResponse>(
      Effect::read, client_->counts().range_count, "range",
      [&](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
        return stubs.kv->PrepareAsyncRange(context, encoded, queue);
      });
  if (!reply.ok()) co_return std::move(reply).error();
  co_return etcd::decode_range(*reply);
}

Task<Result<TxnResponse>> EtcdMetaStore::txn(TxnRequest request) {
  if (Status valid = meta_rules::validate_txn(request); !valid.ok()) {
    co_return std::move(valid).error();
  }
  const etcdserverpb::TxnRequest encoded = etcd::encode_txn(request);
  // A txn that only compares and reads is a read: retried like one.
  const Effect effect = etcd::txn_may_write(request) ? Effect::write : Effect::read;
  Result<etcdserverpb::TxnResponse> reply = co_await client_->call<etcdserverpb::TxnResponse>(
      effect, client_->counts().txn_count, "txn",
      [&](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
        return stubs.kv->PrepareAsyncTxn(context, encoded, queue);
      });
  if (!reply.ok()) co_return std::move(reply).error();
  co_return etcd::decode_txn(request, *reply);
}

Task<Status> EtcdMetaStore::compact(int64_t revision) {
  if (revision < 1) co_return make_error(Errc::invalid_argument, "compact: revision below 1");
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  Result<etcdserverpb::CompactionResponse> reply =
      co_await client_->call<etcdserverpb::CompactionResponse>(
          Effect::write, client_->counts().compact_count, "compact",
          [&](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
            return stubs.kv->PrepareAsyncCompact(context, request, queue);
          });
  if (!reply.ok()) co_return std::move(reply).error();
  co_return Status{};
}

Task<Result<LeaseId>> EtcdMetaStore::lease_grant(int64_t ttl_seconds) {
  // The upper bound is ours (wal/env/meta_rules.h); etcd rounds short TTLs up itself.
  if (Result<int64_t> ttl = meta_rules::lease_ttl_effective(ttl_seconds); !ttl.ok()) {
    co_return std::move(ttl).error();
  }
  if (ttl_seconds < 1) co_return make_error(Errc::invalid_argument, "lease: ttl below 1 s");
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(ttl_seconds);
  Result<etcdserverpb::LeaseGrantResponse> reply =
      co_await client_->call<etcdserverpb::LeaseGrantResponse>(
          Effect::write, client_->counts().lease_grant_count, "lease grant",
          [&](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
            return stubs.lease->PrepareAsyncLeaseGrant(context, request, queue);
          });
  if (!reply.ok()) co_return std::move(reply).error();
  if (!reply->error().empty() || reply->id() <= 0) {
    co_return make_unknown(Errc::protocol, "etcd lease grant: no lease in the reply: " +
                                               reply->error());
  }
  co_return reply->id();
}

Task<Result<int64_t>> EtcdMetaStore::lease_keep_alive(LeaseId lease) {
  co_return co_await keeper_->keep_alive(lease);
}

Task<Status> EtcdMetaStore::lease_revoke(LeaseId lease) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  Result<etcdserverpb::LeaseRevokeResponse> reply =
      co_await client_->call<etcdserverpb::LeaseRevokeResponse>(
          Effect::write, client_->counts().lease_revoke_count, "lease revoke",
          [&](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
            return stubs.lease->PrepareAsyncLeaseRevoke(context, request, queue);
          });
  if (!reply.ok()) co_return std::move(reply).error();
  co_return Status{};
}

Task<Result<int64_t>> EtcdMetaStore::lease_time_to_live(LeaseId lease) {
  etcdserverpb::LeaseTimeToLiveRequest request;
  request.set_id(lease);
  Result<etcdserverpb::LeaseTimeToLiveResponse> reply =
      co_await client_->call<etcdserverpb::LeaseTimeToLiveResponse>(
          Effect::read, client_->counts().lease_time_to_live_count, "lease time-to-live",
          [&](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
            return stubs.lease->PrepareAsyncLeaseTimeToLive(context, request, queue);
          });
  if (!reply.ok()) co_return std::move(reply).error();
  // etcd answers TTL -1 for a lease it does not have.
  if (reply->ttl() < 0) {
    co_return make_error(Errc::not_found, "etcd lease " + std::to_string(lease) +
                                              " expired or was revoked");
  }
  co_return reply->ttl();
}

Task<Result<std::unique_ptr<Watch>>> EtcdMetaStore::watch(std::string key, std::string range_end,
                                                          int64_t start_revision) {
  if (Status valid = meta_rules::validate_watch(key, start_revision); !valid.ok()) {
    co_return std::move(valid).error();
  }
  // One count-only read at the start revision: it tells a compacted start at once (etcd would
  // cancel the watch only later), and for "from the next revision" it pins that revision, so a
  // watch re-opened after a failover starts exactly where this one did.
  RangeRequest probe{key, range_end, 1, start_revision};
  etcdserverpb::RangeRequest encoded = etcd::encode_range(probe);
  encoded.set_count_only(true);
  Result<etcdserverpb::RangeResponse> read = co_await client_->call<etcdserverpb::RangeResponse>(
      Effect::read, client_->counts().range_count, "watch start",
      [&](Stubs& stubs, grpc::ClientContext* context, grpc::CompletionQueue* queue) {
        return stubs.kv->PrepareAsyncRange(context, encoded, queue);
      });
  int64_t first_revision = start_revision;
  if (read.ok()) {
    if (start_revision == 0) first_revision = read->header().revision() + 1;
  } else if (read.error().code != Errc::out_of_range) {  // a future start is fine to watch from
    co_return std::move(read).error();
  }
  auto watch = std::make_unique<etcd::EtcdWatch>(*client_, watches_, std::move(key),
                                                 std::move(range_end), first_revision);
  if (Status opened = co_await watch->open(); !opened.ok()) co_return std::move(opened).error();
  co_return std::unique_ptr<Watch>(std::move(watch));
}

}  // namespace wal
