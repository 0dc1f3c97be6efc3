#include "wal/log/writer_epoch.h"

#include "wal/log/metadata.h"

namespace wal {

namespace {
Compare log_exists(const LogKeys& keys) {
  return Compare{keys.log_key(), Compare::Target::create_revision, Compare::Op::greater, 0, {}};
}
}  // namespace

Task<Result<TakenEpoch>> take_writer_epoch(Env& env, const LogKeys& keys, Backoff backoff) {
  MetaStore& meta = *env.meta_store;
  const uint64_t instance = env.random.next_u64() | 1;  // never 0, which means "none"
  for (uint32_t attempt = 0; attempt < limits::read_attempts_max; ++attempt) {
    Result<std::optional<KeyValue>> current =
        co_await retry_read(env, backoff, [&] { return meta.get(keys.epoch_key()); });
    if (!current.ok()) co_return std::move(current).error();
    EpochRecord record;
    Compare unchanged = Compare::absent(keys.epoch_key());
    if (*current) {
      Result<EpochRecord> previous = decode_epoch(keys.epoch_key(), (*current)->value);
      if (!previous.ok()) co_return std::move(previous).error();
      record.epoch = previous->epoch;
      unchanged = Compare::mod_revision_is(keys.epoch_key(), (*current)->mod_revision);
    }
    record.epoch += 1;
    record.writer_instance = instance;
    record.opened_unix_ms = env.clock.unix_time_ms();
    TxnRequest request;
    request.compares = {unchanged, log_exists(keys)};
    request.success = {PutOp{keys.epoch_key(), encode(record), 0}};
    Result<TxnResponse> response = co_await meta.txn(std::move(request));
    if (response.ok() && response->succeeded) {
      co_return TakenEpoch{record.epoch, response->revision};
    }
    if (response.ok()) {
      Result<std::optional<KeyValue>> log_kv =
          co_await retry_read(env, backoff, [&] { return meta.get(keys.log_key()); });
      if (!log_kv.ok()) co_return std::move(log_kv).error();
      if (!*log_kv) co_return make_error(Errc::not_found, "no log named '" + keys.name + "'");
      continue;  // another writer bumped first: bump over it
    }
    if (!response.error().unknown() && !is_retryable(response.error())) {
      co_return std::move(response).error();
    }
    // Unknown outcome: did our record land? The instance number tells.
    Result<std::optional<KeyValue>> after =
        co_await retry_read(env, backoff, [&] { return meta.get(keys.epoch_key()); });
    if (!after.ok()) co_return std::move(after).error();
    if (*after) {
      Result<EpochRecord> stored = decode_epoch(keys.epoch_key(), (*after)->value);
      if (stored.ok() && stored->writer_instance == instance) {
        env.faults.reached(CoverageMark::epoch_settled_as_ours);
        co_return TakenEpoch{stored->epoch, (*after)->mod_revision};
      }
    }
    env.faults.reached(CoverageMark::epoch_settled_as_lost);
    // Not ours (yet): a full disk does not empty itself by waiting; say so at once.
    if (response.error().code == Errc::no_space) co_return std::move(response).error();
    co_await backoff_sleep(env, backoff, attempt);
  }
  co_return make_error(Errc::unavailable, "could not take the writer epoch");
}

}  // namespace wal
