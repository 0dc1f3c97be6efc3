#include "wal/log/log_client.h"

#include <algorithm>
#include <set>

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
  // Settled by reading after every failed attempt; an error reported after an attempt that may
  // have landed (and may still land, with our log id) says its outcome is unknown.
  MutationAttempts attempts;
  for (uint32_t attempt = 0; attempt < limits::read_attempts_max; ++attempt) {
    TxnRequest request;
    request.compares = {Compare::absent(keys.log_key())};
    request.success = {PutOp{keys.log_key(), encode(info.meta), 0},
                       PutOp{keys.truncation_key(), encode(TruncationRecord{}), 0}};
    Result<TxnResponse> response = co_await env_.meta_store->txn(std::move(request));
    if (response.ok() && response->succeeded) co_return info;
    if (!response.ok()) {
      if (!response.error().unknown() && !is_retryable(response.error())) {
        co_return attempts.fail(response.error());
      }
      attempts.note_error();
    }
    Result<LogInfo> existing = co_await get_log(name);
    if (existing.ok()) {
      if (existing->meta.log_id == info.meta.log_id) co_return existing;  // our txn landed
      // Another log holds the name: our compare (absent) can never pass any more.
      co_return make_error(Errc::already_exists, "log '" + name + "' already exists");
    }
    if (existing.error().code != Errc::not_found) co_return attempts.fail(existing.error());
    co_await backoff_sleep(env_, {}, attempt);
  }
  co_return attempts.fail(Errc::unavailable, "could not create log '" + name + "'");
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
    // Its own outcome (unknown after a timeout): the next call settles it (a missing log is
    // not_found).
    co_return std::move(response).error();
  }
  Result<uint64_t> deleted = co_await delete_objects_with_prefix(keys.log_object_prefix(), {});
  if (!deleted.ok()) {
    // The metadata is gone already (when the txn succeeded): the deletion did take effect, so
    // the error must not read as "nothing happened".
    const Error& error = deleted.error();
    co_return make_unknown(error.code, "log '" + name + "': metadata deleted, but deleting its "
                                           "objects failed: " + error.message);
  }
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
  // Each attempt starts by reading the point, so an attempt that landed is settled as success;
  // the read after the last attempt settles that one too. An attempt that may still land makes
  // any error reported afterwards unknown.
  MutationAttempts attempts;
  for (uint32_t attempt = 0;; ++attempt) {
    Result<std::optional<KeyValue>> kv =
        co_await retry_read(env_, {}, [&] { return meta.get(keys.truncation_key()); });
    if (!kv.ok()) co_return attempts.fail(kv.error());
    TruncationRecord current;
    Compare unchanged = Compare::absent(keys.truncation_key());
    if (*kv) {
      Result<TruncationRecord> decoded = decode_truncation(keys.truncation_key(), (*kv)->value);
      if (!decoded.ok()) co_return attempts.fail(decoded.error());
      current = *decoded;
      unchanged = Compare::mod_revision_is(keys.truncation_key(), (*kv)->mod_revision);
    }
    if (current.first_kept_entry_id >= first_kept_entry_id) co_return Status{};
    if (attempt >= limits::read_attempts_max) break;
    TxnRequest request;
    request.compares = {unchanged};
    request.success = {PutOp{keys.truncation_key(), encode(TruncationRecord{first_kept_entry_id}), 0}};
    Result<TxnResponse> response = co_await meta.txn(std::move(request));
    if (response.ok() && response->succeeded) co_return Status{};
    if (!response.ok()) {
      if (!response.error().unknown() && !is_retryable(response.error())) {
        co_return attempts.fail(response.error());
      }
      attempts.note_error();
    }
    // Lost a race or unknown outcome: the loop re-reads; "already at or past" ends it.
    co_await backoff_sleep(env_, {}, attempt);
  }
  co_return attempts.fail(Errc::unavailable, "could not truncate '" + name + "'");
}

// Lists `prefix` page by page and deletes every key not in `keep`. Returns how many it deleted.
Task<Result<uint64_t>> LogClient::delete_objects_with_prefix(
    const std::string& prefix, const std::vector<std::string>& keep) {
  ObjectStore& store = *env_.object_store;
  uint64_t deleted = 0;
  std::string token;
  do {
    Result<ListPage> page = co_await retry_read(
        env_, {}, [&] { return store.list(prefix, token, limits::list_page_keys_max); });
    if (!page.ok()) co_return std::move(page).error();
    std::vector<std::string> doomed;
    for (const ObjectInfo& object : page->objects) {
      if (std::find(keep.begin(), keep.end(), object.key) == keep.end()) {
        doomed.push_back(object.key);
      }
    }
    token = page->next_token;
    if (doomed.empty()) continue;
    // Deleting is idempotent (a missing key succeeds), so retrying a whole batch is safe.
    const size_t count = doomed.size();
    Result<std::vector<Status>> results =
        co_await retry_read(env_, {}, [&] { return store.remove_many(doomed); });
    if (!results.ok()) co_return std::move(results).error();
    for (const Status& status : *results) {
      if (!status.ok()) co_return status.error();
    }
    deleted += count;
  } while (!token.empty());
  co_return deleted;
}

}  // namespace wal
