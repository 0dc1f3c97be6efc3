#include "wal/log/log_client.h"

#include <algorithm>
#include <charconv>
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
  if (name == "." || name == "..") {
    return make_error(Errc::invalid_argument, "'" + std::string(name) + "' is not a log name");
  }
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!allowed) {
      // The name is not echoed: it may hold control characters or bytes a terminal mangles.
      return make_error(Errc::invalid_argument,
                        "a log name may only use letters, digits, '-', '_' and '.' (byte " +
                            std::to_string(static_cast<unsigned>(static_cast<uint8_t>(c))) +
                            " is not allowed)");
    }
  }
  return Status{};
}

LogClient::LogClient(Env& env, ClientOptions options, SegmentReplicas* replicas)
    : env_(env), replicas_(replicas), options_(std::move(options)) {
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
      const std::string& text = (*current)->value;
      uint64_t last = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), last);
      if (error != std::errc() || end != text.data() + text.size() || last == UINT64_MAX) {
        co_return make_error(Errc::corrupt, key + ": not a log id counter");
      }
      next = last + 1;
      unchanged = Compare::mod_revision_is(key, (*current)->mod_revision);
    }
    TxnRequest request;
    request.compares = {unchanged};
    request.success = {PutOp{key, std::to_string(next), 0}};
    Result<TxnResponse> response = co_await meta.txn(std::move(request));
    // An unknown outcome may burn an id; ids need only be unique, not dense. A full disk ends
    // the loop at once: waiting does not free space.
    if (response.ok() && response->succeeded) co_return next;
    if (!response.ok() && ((!response.error().unknown() && !is_retryable(response.error())) ||
                           response.error().code == Errc::no_space)) {
      co_return std::move(response).error();
    }
    co_await backoff_sleep(env_, {}, attempt);
  }
  co_return make_error(Errc::unavailable, "could not allocate a log id");
}

// next_log_id(), passing over ids that already have objects when the options ask for it.
Task<Result<uint64_t>> LogClient::next_unused_log_id() {
  // Each id passed over belongs to a log created after the metadata copy was taken; a bound
  // keeps a confused store from looping.
  constexpr uint32_t used_ids_max = 1024;
  for (uint32_t skipped = 0; skipped <= used_ids_max; ++skipped) {
    Result<uint64_t> log_id = co_await next_log_id();
    if (!log_id.ok() || !options_.skip_log_ids_with_objects) co_return log_id;
    const std::string prefix = options_.object_root + pad20(*log_id) + "/";
    Result<ListPage> page = co_await retry_read(
        env_, {}, [&] { return env_.object_store->list(prefix, "", 1); });
    if (!page.ok()) co_return std::move(page).error();
    if (page->objects.empty()) co_return log_id;
  }
  co_return make_error(Errc::corrupt, "more than " + std::to_string(used_ids_max) +
                                          " log ids in a row already have objects: the metadata "
                                          "is far older than the objects");
}

Task<Result<LogInfo>> LogClient::create_log(std::string name) {
  WAL_CO_TRY(validate_log_name(name));
  Result<uint64_t> log_id = co_await next_unused_log_id();
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
    if (!response.ok() && response.error().code == Errc::no_space) {
      co_return attempts.fail(response.error());  // settled: not created; waiting frees no space
    }
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
  Result<RangeResponse> all = co_await read_prefix(env_, prefix);
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

Task<Result<std::unique_ptr<LogWriter>>> LogClient::open_writer(std::string name,
                                                                WriterOptions options) {
  WAL_CO_TRY(validate(options));
  Result<LogInfo> info = co_await get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  co_return co_await LogWriter::open(env_, keys_for(*info), options);
}

Task<Result<std::unique_ptr<LogReader>>> LogClient::open_reader(std::string name,
                                                                ReadPosition position,
                                                                ReaderOptions options) {
  Result<LogInfo> info = co_await get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  co_return co_await LogReader::open(env_, keys_for(*info), position, options, replicas_);
}

}  // namespace wal
