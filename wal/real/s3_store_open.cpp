// S3ObjectStore::open: option checks, the first request, and the probe of conditional PUTs.
#include <cstdio>

#include "wal/real/os_random.h"
#include "wal/real/s3_object_store.h"
#include "s3_store_state.h"

namespace wal {

namespace {

using State = S3ObjectStore::State;

Result<s3::SignerConfig> signer_config_for(const S3Options& options) {
  const auto bad = [](std::string why) { return make_error(Errc::invalid_argument, why); };
  Result<s3::Endpoint> endpoint = s3::Endpoint::parse(options.endpoint);
  if (!endpoint.ok()) return std::move(endpoint).error();
  if (Status bucket = s3::check_bucket_name(options.bucket); !bucket.ok()) {
    return std::move(bucket).error();
  }
  if (options.region.empty()) return bad("S3 region is empty");
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return bad("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  if (options.unsigned_payload && !endpoint->tls()) {
    return bad("unsigned_payload needs an https endpoint: over http the body hash is what "
               "protects it");
  }
  if (options.attempts_max == 0 || options.transfers_max == 0 ||
      options.transfer_bytes_per_second_min == 0 || options.attempt_timeout.count() <= 0 ||
      options.call_timeout.count() <= 0 || options.connect_timeout.count() <= 0) {
    return bad("S3 timeouts, attempts_max and transfers_max must be positive");
  }
  return s3::SignerConfig{std::move(endpoint).value(), options.bucket, options.addressing,
                          s3::SigningScope{options.region, "s3"}, options.credentials,
                          options.unsigned_payload};
}

// Turns the first request's failure into a message that says what to fix.
Error explain_first_failure(const S3Options& options, Error error) {
  const std::string where = "S3 endpoint " + options.endpoint + ", bucket '" + options.bucket +
                            "'";
  if (error.code == Errc::not_found) {
    error.message = "bucket '" + options.bucket + "' does not exist at " + options.endpoint;
  } else if (error.code == Errc::unavailable || error.code == Errc::timeout) {
    error.message = "cannot reach " + where + ": " + error.message;
  } else {
    error.message = where + ": " + error.message;
  }
  return error;
}

// One probe PUT. (Arguments are named first: g++ 12 destroys class temporaries inside a
// co_await expression twice, docs/architecture.md.)
Task<Result<ObjectInfo>> probe_put(S3ObjectStore& store, const std::string& key, int step,
                                   PutCondition condition) {
  Bytes body = to_bytes("wal capability probe " + std::to_string(step));
  Task<Result<ObjectInfo>> put = store.put(key, std::move(body), std::move(condition));
  co_return co_await std::move(put);
}

Task<Result<S3Capabilities>> probe_conditions(S3ObjectStore& store, std::string key) {
  S3Capabilities caps;
  Result<ObjectInfo> first = co_await probe_put(store, key, 1, PutCondition::create_only());
  if (!first.ok() && first.error().code == Errc::unsupported) co_return caps;  // 501: none
  if (!first.ok()) co_return std::move(first).error();
  Result<ObjectInfo> second = co_await probe_put(store, key, 2, PutCondition::create_only());
  if (second.ok()) {
    caps.create_only_enforced = false;
  } else if (second.error().code == Errc::already_exists) {
    caps.create_only_enforced = true;
  } else {
    co_return std::move(second).error();
  }
  Result<ObjectInfo> wrong =
      co_await probe_put(store, key, 3, PutCondition::match("00000000000000000000000000000000"));
  if (!wrong.ok() && wrong.error().code != Errc::condition_failed &&
      wrong.error().code != Errc::unsupported) {
    co_return std::move(wrong).error();
  }
  const bool wrong_refused = !wrong.ok() && wrong.error().code == Errc::condition_failed;
  Result<ObjectInfo> current = co_await store.head(key);
  if (!current.ok()) co_return std::move(current).error();
  Result<ObjectInfo> right = co_await probe_put(store, key, 4, PutCondition::match(current->etag));
  caps.if_match_enforced = wrong_refused && right.ok();
  // A scratch key left behind (the delete failed) harms nothing: the WAL never lists it.
  ignore_result(co_await store.remove(key));
  co_return caps;
}

}  // namespace

std::string S3Capabilities::describe(const S3Options& options) const {
  std::string line = "object store: S3 " + options.endpoint + " bucket '" + options.bucket + "' (" +
                     (options.addressing == s3::Addressing::path ? "path-style" : "virtual-host") +
                     ", region " + options.region + "): If-None-Match: * " +
                     (create_only_enforced ? "enforced" : "NOT enforced") + ", If-Match " +
                     (if_match_enforced ? "enforced" : "NOT enforced") + "; fencing by ";
  line += create_only_enforced ? "fence object" : "MetaStore confirmation (meta_confirm)";
  return line;
}

Task<Result<std::unique_ptr<S3ObjectStore>>> S3ObjectStore::open(EventLoop& loop,
                                                                 S3Options options,
                                                                 bool probe_conditions_too) {
  Result<s3::SignerConfig> signer = signer_config_for(options);
  if (!signer.ok()) co_return std::move(signer).error();
  auto state = std::make_shared<State>(loop, options, std::move(signer).value(),
                                       os_entropy_seed());
  std::unique_ptr<S3ObjectStore> store(new S3ObjectStore(state));
  // One key of the bucket: proves the endpoint answers, the bucket exists, the credentials
  // and the region are right, before the WAL's first real request.
  Result<ListPage> first = co_await store->list("", "", 1);
  if (!first.ok()) co_return explain_first_failure(options, std::move(first).error());
  if (probe_conditions_too) {
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%016llx",
                  static_cast<unsigned long long>(state->random.next_u64()));
    Result<S3Capabilities> caps = co_await probe_conditions(*store, ".wal-probe/" +
                                                                        std::string(suffix));
    if (!caps.ok()) {
      Error error = std::move(caps).error();
      error.message = "probing conditional PUTs: " + error.message;
      co_return explain_first_failure(options, std::move(error));
    }
    state->capabilities = *caps;
  }
  WAL_ASSERT(store != nullptr);
  co_return store;
}

}  // namespace wal
