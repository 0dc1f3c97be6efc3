#include "wal/log/log_client.h"

#include <algorithm>
#include <set>

#include "wal/log/object_sweep.h"
#include "wal/log/retry.h"

namespace wal {

Status validate_log_name(std::string_view name) {
  if (name.empty() || name.size() > limits::log_name_bytes_max) {
    return make_error(Errc::invalid_argument, "a log name has 1 to " +
                                                  std::to_string(limits::log_name_bytes_max) +
                                                  " characters");
  }
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!allowed) {
      return make_error(Errc::invalid_argument, "log name '" + std::string(name) +
                                                    "' may only use letters, digits, '-', '_' "
                                                    "and '.'");
    }
  }
  return Status{};
}

LogClient::LogClient(Env& env, ClientOptions options) : env_(env), options_(std::move(options)) {
  WAL_ASSERT(env.meta_store != nullptr);
  WAL_ASSERT(env.object_store != nullptr);
  WAL_ASSERT(!options_.meta_root.empty() && options_.meta_root.back() == '/');
}

LogKeys LogClient::keys_for(const LogInfo& info) const {
  return LogKeys{options_.meta_root, options_.object_root, info.name, info.meta.log_id};
}

// Log ids come from a counter key, bumped with a compare on its value.
Task<Result<uint64_t>> LogClient::next_log_id() {
  MetaStore& meta = *env_.meta_store;
  const std::string key = log_id_counter_key(options_.meta_root);
  for (uint32_t attempt = 0; attempt < limits::read_attempts_max; ++attempt) {
    Result<std::optional<KeyValue>> current =
        co_await retry_read(env_, {}, [&] { return meta.get(key); });
    if (!current.ok()) co_return std::move(current).error();
    uint64_t next = 1;
    Compare unchanged = Compare::absent(key);
    if (*current) {
      next = std::stoull((*current)->value) + 1;
      unchanged = Compare::mod_revision_is(key, (*current)->mod_revision);
    }
    TxnRequest request;
    request.compares = {unchanged};
    request.success = {PutOp{key, std::to_string(next), 0}};
    Result<TxnResponse> response = co_await meta.txn(std::move(request));
    // An unknown outcome may burn an id; ids need only be unique, not dense.
    if (response.ok() && response->succeeded) co_return next;
    if (!response.ok() && !response.error().unknown() && !is_retryable(response.error())) {
      co_return std::move(response).error();
    }
    co_await backoff_sleep(env_, {}, attempt);
  }
  co_return make_error(Errc::unavailable, "could not allocate a log id");
}

Task<Result<LogInfo>> LogClient::create_log(std::string name) {
  WAL_CO_TRY(validate_log_name(name));
  Result<uint64_t> log_id = co_await next_log_id();
  if (!log_id.ok()) co_return std::move(log_id).error();
  LogInfo info{name, LogMeta{*log_id, env_.clock.unix_time_ms()}};
  const LogKeys keys = keys_for(info);
  for (uint32_t attempt = 0; attempt < limits::read_attempts_max; ++attempt) {
    TxnRequest request;
    request.compares = {Compare::absent(keys.log_key())};
    request.success = {PutOp{keys.log_key(), encode(info.meta), 0},
                       PutOp{keys.truncation_key(), encode(TruncationRecord{}), 0}};
    Result<TxnResponse> response = co_await env_.meta_store->txn(std::move(request));
    if (response.ok() && response->succeeded) co_return info;
    if (!response.ok() && !response.error().unknown() && !is_retryable(response.error())) {
      co_return std::move(response).error();
    }
    Result<LogInfo> existing = co_await get_log(name);
    if (existing.ok()) {
      if (existing->meta.log_id == info.meta.log_id) co_return existing;  // our txn landed
      co_return make_error(Errc::already_exists, "log '" + name + "' already exists");
    }
    if (existing.error().code != Errc::not_found) co_return std::move(existing).error();
    co_await backoff_sleep(env_, {}, attempt);
  }
  co_return make_error(Errc::unavailable, "could not create log '" + name + "'");
}

Task<Result<LogInfo>> LogClient::get_log(std::string name) {
  WAL_CO_TRY(validate_log_name(name));
  const std::string key = logs_prefix(options_.meta_root) + name;
  Result<std::optional<KeyValue>> kv =
      co_await retry_read(env_, {}, [&] { return env_.meta_store->get(key); });
  if (!kv.ok()) co_return std::move(kv).error();
  if (!*kv) co_return make_error(Errc::not_found, "no log named '" + name + "'");
  Result<LogMeta> meta = decode_log_meta(key, (*kv)->value);
  if (!meta.ok()) co_return std::move(meta).error();
  co_return LogInfo{name, *meta};
}

Task<Result<std::vector<LogInfo>>> LogClient::list_logs() {
  const std::string prefix = logs_prefix(options_.meta_root);
  RangeRequest request;
  request.key = prefix;
  request.range_end = prefix_end(prefix);
  Result<RangeResponse> all =
      co_await retry_read(env_, {}, [&] { return env_.meta_store->range(request); });
  if (!all.ok()) co_return std::move(all).error();
  std::vector<LogInfo> logs;
  for (const KeyValue& kv : all->kvs) {
    const std::string_view name = std::string_view(kv.key).substr(prefix.size());
    if (name.find('/') != std::string_view::npos) continue;  // a key inside a log
    Result<LogMeta> meta = decode_log_meta(kv.key, kv.value);
    if (!meta.ok()) co_return std::move(meta).error();
    logs.push_back(LogInfo{std::string(name), *meta});
  }
  co_return logs;
}

Task<Status> LogClient::delete_log(std::string name) {
  Result<LogInfo> info = co_await get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  const LogKeys keys = keys_for(*info);
  TxnRequest request;
  request.compares = {Compare{keys.log_key(), Compare::Target::create_revision,
                              Compare::Op::greater, 0, {}}};
  request.success = {DeleteOp{keys.log_key(), {}},
                     DeleteOp{keys.log_prefix(), prefix_end(keys.log_prefix())}};
  Result<TxnResponse> response = co_await env_.meta_store->txn(std::move(request));
  if (!response.ok()) {
    // Unknown: the next call settles it (a missing log is not_found, objects are re-deleted).
    co_return std::move(response).error();
  }
  Result<uint64_t> deleted = co_await sweep_objects(
      env_, keys.log_object_prefix(), [](const ObjectInfo&) { return SweepChoice::remove; });
  if (!deleted.ok()) co_return std::move(deleted).error();
  co_return Status{};
}

Task<Result<std::unique_ptr<LogWriter>>> LogClient::open_writer(std::string name,
                                                                WriterOptions options) {
  Result<LogInfo> info = co_await get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  co_return co_await LogWriter::open(env_, keys_for(*info), options);
}

Task<Result<std::unique_ptr<LogReader>>> LogClient::open_reader(std::string name,
                                                                ReadPosition position,
                                                                ReaderOptions options) {
  Result<LogInfo> info = co_await get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  co_return co_await LogReader::open(env_, keys_for(*info), position, options);
}

Task<Status> LogClient::truncate(std::string name, EntryId first_kept_entry_id) {
  Result<LogInfo> info = co_await get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  const LogKeys keys = keys_for(*info);
  MetaStore& meta = *env_.meta_store;
  for (uint32_t attempt = 0; attempt < limits::read_attempts_max; ++attempt) {
    Result<std::optional<KeyValue>> kv =
        co_await retry_read(env_, {}, [&] { return meta.get(keys.truncation_key()); });
    if (!kv.ok()) co_return std::move(kv).error();
    TruncationRecord current;
    Compare unchanged = Compare::absent(keys.truncation_key());
    if (*kv) {
      Result<TruncationRecord> decoded = decode_truncation(keys.truncation_key(), (*kv)->value);
      if (!decoded.ok()) co_return std::move(decoded).error();
      current = *decoded;
      unchanged = Compare::mod_revision_is(keys.truncation_key(), (*kv)->mod_revision);
    }
    if (current.first_kept_entry_id >= first_kept_entry_id) co_return Status{};
    TxnRequest request;
    request.compares = {unchanged};
    request.success = {PutOp{keys.truncation_key(), encode(TruncationRecord{first_kept_entry_id}), 0}};
    Result<TxnResponse> response = co_await meta.txn(std::move(request));
    if (response.ok() && response->succeeded) co_return Status{};
    if (!response.ok() && !response.error().unknown() && !is_retryable(response.error())) {
      co_return std::move(response).error();
    }
    // Lost a race or unknown outcome: the loop re-reads; "already at or past" ends it.
    co_await backoff_sleep(env_, {}, attempt);
  }
  co_return make_error(Errc::unavailable, "could not truncate '" + name + "'");
}

}  // namespace wal
