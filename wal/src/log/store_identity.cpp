#include "wal/log/store_identity.h"

#include <fmt/core.h>

#include "wal/log/keys.h"
#include "wal/log/retry.h"

namespace wal {

namespace {

constexpr std::string_view id_prefix = "wpstore1 ";
constexpr size_t id_hex_digits = 32;

// Where the messages send an operator whose stores do not match.
constexpr std::string_view recovery_hint =
    "; see \"Recovery\" in docs/cli.md: restore the metadata from a backup, or move the object "
    "directory aside to start an empty store";

bool well_formed(std::string_view text) {
  if (text.size() != id_prefix.size() + id_hex_digits + 1 || !text.starts_with(id_prefix) ||
      text.back() != '\n') {
    return false;
  }
  const std::string_view hex = text.substr(id_prefix.size(), id_hex_digits);
  return hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string new_id(Random& random) {
  const uint64_t high = random.next_u64();
  const uint64_t low = random.next_u64();
  std::string id = fmt::format("{}{:016x}{:016x}\n", id_prefix, high, low);
  WAL_ASSERT(well_formed(id));
  return id;
}

std::string shown(std::string_view id) {
  return std::string(id.substr(0, id.empty() ? 0 : id.size() - 1));  // without the newline
}

Result<std::optional<std::string>> checked(std::string_view where, std::string text) {
  if (!well_formed(text)) {
    return make_error(Errc::corrupt, std::string(where) + " is not a store id");
  }
  return std::optional<std::string>(std::move(text));
}

Task<Result<std::optional<std::string>>> read_object_id(Env& env, const std::string& key) {
  Result<ObjectData> read =
      co_await retry_read(env, {}, [&] { return env.object_store->get(key, std::nullopt); });
  if (!read.ok() && read.error().code == Errc::not_found) {
    co_return std::optional<std::string>();
  }
  if (!read.ok()) co_return std::move(read).error();
  co_return checked("object " + key, to_string(read->body));
}

Task<Result<std::optional<std::string>>> read_meta_id(Env& env, const std::string& key) {
  Result<std::optional<KeyValue>> kv =
      co_await retry_read(env, {}, [&] { return env.meta_store->get(key); });
  if (!kv.ok()) co_return std::move(kv).error();
  if (!*kv) co_return std::optional<std::string>();
  co_return checked("metadata key " + key, (*kv)->value);
}

// Whether the MetaStore holds anything under the root besides the store id: a log, or the
// log-id counter (which outlives deleted logs).
Task<Result<bool>> metadata_in_use(Env& env, const ClientOptions& options) {
  const std::string& root = options.meta_root;
  Result<RangeResponse> range = co_await read_prefix(env, root, 2);
  if (!range.ok()) co_return std::move(range).error();
  const std::string id_key = store_id_meta_key(options);
  for (const KeyValue& kv : range->kvs) {
    if (kv.key != id_key) co_return true;
  }
  co_return false;
}

// Whether the ObjectStore holds any object under the root besides the store id.
Task<Result<bool>> objects_in_use(Env& env, const ClientOptions& options) {
  Result<ListPage> page = co_await retry_read(
      env, {}, [&] { return env.object_store->list(options.object_root, "", 2); });
  if (!page.ok()) co_return std::move(page).error();
  const std::string id_key = store_id_object_key(options);
  for (const ObjectInfo& object : page->objects) {
    if (object.key != id_key) co_return true;
  }
  co_return false;
}

// Writes `id` create-only, settling an unknown outcome by reading; returns the id that stands.
Task<Result<std::string>> write_object_id(Env& env, const std::string& key, std::string id) {
  for (uint32_t attempt = 0; attempt < limits::read_attempts_max; ++attempt) {
    Result<ObjectInfo> put =
        co_await env.object_store->put(key, to_bytes(id), PutCondition::create_only());
    if (put.ok()) co_return id;
    const bool settle = put.error().code == Errc::already_exists || put.error().unknown() ||
                        is_retryable(put.error());
    if (!settle) co_return std::move(put).error();
    Result<std::optional<std::string>> stored = co_await read_object_id(env, key);
    if (!stored.ok()) co_return std::move(stored).error();
    if (*stored) co_return **stored;  // ours or a concurrent initialiser's: it stands
    co_await backoff_sleep(env, {}, attempt);
  }
  co_return make_error(Errc::unavailable, "could not write the store id object " + key);
}

Task<Result<std::string>> write_meta_id(Env& env, const std::string& key, std::string id) {
  for (uint32_t attempt = 0; attempt < limits::read_attempts_max; ++attempt) {
    TxnRequest request;
    request.compares = {Compare::absent(key)};
    request.success = {PutOp{key, id, 0}};
    Result<TxnResponse> response = co_await env.meta_store->txn(std::move(request));
    if (response.ok() && response->succeeded) co_return id;
    if (!response.ok() && !response.error().unknown() && !is_retryable(response.error())) {
      co_return std::move(response).error();
    }
    Result<std::optional<std::string>> stored = co_await read_meta_id(env, key);
    if (!stored.ok()) co_return std::move(stored).error();
    if (*stored) co_return **stored;
    co_await backoff_sleep(env, {}, attempt);
  }
  co_return make_error(Errc::unavailable, "could not write the store id key " + key);
}

Error mismatch(std::string_view what) {
  return make_error(Errc::corrupt, std::string(what) + std::string(recovery_hint));
}

// Neither store has an id: a fresh store, or one from before store ids existed.
Task<Result<std::optional<std::string>>> initialise(Env& env, const ClientOptions& options,
                                                    IdentityAccess access) {
  WAL_CO_ASSIGN(const bool objects, co_await objects_in_use(env, options));
  WAL_CO_ASSIGN(const bool metadata, co_await metadata_in_use(env, options));
  if (objects && !metadata) {
    co_return mismatch("the object store holds data but the metadata store knows no log: the "
                       "metadata was lost or replaced, and objects cannot be matched to logs "
                       "without it");
  }
  if (access == IdentityAccess::read_only) co_return std::optional<std::string>();
  // Keys and ids are named before each co_await: g++ 12 destroys a std::string temporary of a
  // co_await expression twice (docs/architecture.md, "Two coroutine traps").
  const std::string object_key = store_id_object_key(options);
  const std::string meta_key = store_id_meta_key(options);
  std::string fresh = new_id(env.random);
  WAL_CO_ASSIGN(const std::string id, co_await write_object_id(env, object_key, std::move(fresh)));
  WAL_CO_ASSIGN(const std::string meta_id, co_await write_meta_id(env, meta_key, id));
  if (meta_id != id) {
    co_return mismatch("the metadata store belongs to store " + shown(meta_id) +
                       ", the object store to " + shown(id));
  }
  co_return std::optional<std::string>(id);
}

}  // namespace

std::string store_id_object_key(const ClientOptions& options) {
  return options.object_root + "store-id";
}

std::string store_id_meta_key(const ClientOptions& options) {
  return options.meta_root + "store-id";
}

Task<Result<std::optional<std::string>>> check_store_identity(Env& env,
                                                              const ClientOptions& options,
                                                              IdentityAccess access) {
  WAL_ASSERT(env.object_store != nullptr);
  WAL_ASSERT(env.meta_store != nullptr);
  const std::string object_key = store_id_object_key(options);  // named: see initialise()
  const std::string meta_key = store_id_meta_key(options);
  WAL_CO_ASSIGN(std::optional<std::string> object_id, co_await read_object_id(env, object_key));
  WAL_CO_ASSIGN(std::optional<std::string> meta_id, co_await read_meta_id(env, meta_key));
  if (object_id && meta_id) {
    if (*object_id == *meta_id) co_return object_id;
    co_return mismatch("the metadata store belongs to store " + shown(*meta_id) +
                       " but the object store to " + shown(*object_id));
  }
  if (!object_id && !meta_id) co_return co_await initialise(env, options, access);
  // One of the two is missing. Only the object: the metadata is gone, unless an initialisation
  // stopped between its two writes (then neither store holds anything else). Only the key: the
  // objects are gone, or this is another object store, unless the metadata holds no log yet.
  const std::string id = object_id ? *object_id : *meta_id;
  WAL_CO_ASSIGN(bool in_use, co_await metadata_in_use(env, options));
  if (object_id && !in_use) {
    WAL_CO_ASSIGN(in_use, co_await objects_in_use(env, options));
  }
  if (in_use) {
    co_return mismatch(object_id
                           ? "the object store belongs to store " + shown(id) +
                                 " but the metadata store has no record of it: the metadata was "
                                 "lost or replaced, and objects cannot be matched to logs "
                                 "without it"
                           : "the metadata store belongs to store " + shown(id) +
                                 " but the object store has no store id: its objects were lost, "
                                 "or this is another object store");
  }
  if (access == IdentityAccess::read_only) co_return std::optional<std::string>(id);
  std::string written;
  if (object_id) {
    WAL_CO_ASSIGN(written, co_await write_meta_id(env, meta_key, id));
  } else {
    WAL_CO_ASSIGN(written, co_await write_object_id(env, object_key, id));
  }
  if (written != id) co_return mismatch("the store id changed while it was being written");
  co_return std::optional<std::string>(id);
}

}  // namespace wal
