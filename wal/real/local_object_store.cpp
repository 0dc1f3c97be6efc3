// LocalObjectStore: argument checks on the loop thread, then the blocking work on the pool.
// Each job is a named local, never a temporary inside the co_await expression: GCC 12 destroys a
// capturing lambda temporary there twice (see wal/real/posix_disk.cpp).
#include "wal/real/local_object_store.h"

#include <utility>

#include "local_object_fs.h"
#include "wal/real/os_random.h"

namespace wal {

namespace {

// The same checks, in the same order, as MemObjectStore, so both answer alike.
Status check_put(std::string_view key, const Bytes& body, const PutCondition& condition) {
  if (Status key_ok = check_object_key(key); !key_ok) return key_ok;
  if (body.size() > limits::object_size_bytes_max) {
    return make_error(Errc::too_large, "object body over object_size_bytes_max");
  }
  if (condition.kind == PutCondition::Kind::if_match && condition.etag.empty()) {
    return make_error(Errc::invalid_argument, "If-Match etag empty");
  }
  return {};
}

}  // namespace

LocalObjectStore::LocalObjectStore(BlockingPool& pool, std::string root_dir,
                                   std::shared_ptr<local_object::ObjectDirectory> directory,
                                   bool read_only)
    : pool_(pool),
      root_dir_(std::move(root_dir)),
      read_only_(read_only),
      directory_(std::move(directory)) {
  WAL_ASSERT(directory_ != nullptr);
  WAL_ASSERT(!root_dir_.empty());
}

LocalObjectStore::~LocalObjectStore() = default;

Task<Result<std::unique_ptr<LocalObjectStore>>> LocalObjectStore::open(BlockingPool& pool,
                                                                       std::string root_dir) {
  // Temp names carry a random per-instance nonce so instances in different processes never
  // pick the same name.
  const uint64_t nonce = os_entropy_seed();
  auto job = [root_dir, nonce] { return local_object::ObjectDirectory::open(root_dir, nonce); };
  Result<std::shared_ptr<local_object::ObjectDirectory>> directory =
      co_await pool.run(std::move(job));
  if (!directory) co_return std::move(directory).error();
  co_return std::unique_ptr<LocalObjectStore>(
      new LocalObjectStore(pool, std::move(root_dir), std::move(*directory), false));
}

Task<Result<std::unique_ptr<LocalObjectStore>>> LocalObjectStore::open_read_only(
    BlockingPool& pool, std::string root_dir) {
  auto job = [root_dir] { return local_object::ObjectDirectory::open_read_only(root_dir); };
  Result<std::shared_ptr<local_object::ObjectDirectory>> directory =
      co_await pool.run(std::move(job));
  if (!directory) co_return std::move(directory).error();
  co_return std::unique_ptr<LocalObjectStore>(
      new LocalObjectStore(pool, std::move(root_dir), std::move(*directory), true));
}

Status LocalObjectStore::check_writable() const {
  if (!read_only_) return {};
  return make_error(Errc::permission_denied, "object store " + root_dir_ + " is open read-only");
}

Task<Result<ObjectInfo>> LocalObjectStore::put(std::string key, Bytes body,
                                               PutCondition condition) {
  WAL_CO_TRY(check_writable());
  if (Status allowed = check_put(key, body, condition); !allowed) {
    co_return std::move(allowed).error();
  }
  auto job = [directory = directory_, key = std::move(key), body = std::move(body),
              condition = std::move(condition)] { return directory->put(key, body, condition); };
  co_return co_await pool_.run(std::move(job));
}

Task<Result<ObjectInfo>> LocalObjectStore::put_shared(std::string key, SharedBytes body,
                                                      PutCondition condition) {
  WAL_ASSERT(body != nullptr);
  WAL_CO_TRY(check_writable());
  if (Status allowed = check_put(key, *body, condition); !allowed) {
    co_return std::move(allowed).error();
  }
  // The job drops its reference before returning, so it is gone before the result reaches the
  // loop (the interface promises the caller is the only owner again by then).
  auto job = [directory = directory_, key = std::move(key), body = std::move(body),
              condition = std::move(condition)]() mutable {
    Result<ObjectInfo> put = directory->put(key, *body, condition);
    body.reset();
    return put;
  };
  co_return co_await pool_.run(std::move(job));
}

Task<Result<ObjectData>> LocalObjectStore::get(std::string key, std::optional<ByteRange> range) {
  if (Status key_ok = check_object_key(key); !key_ok) co_return std::move(key_ok).error();
  if (range && range->length == 0) co_return make_error(Errc::invalid_argument, "empty range");
  auto job = [directory = directory_, key = std::move(key), range] {
    return directory->get(key, range);
  };
  co_return co_await pool_.run(std::move(job));
}

Task<Result<ObjectInfo>> LocalObjectStore::head(std::string key) {
  if (Status key_ok = check_object_key(key); !key_ok) co_return std::move(key_ok).error();
  auto job = [directory = directory_, key = std::move(key)] { return directory->head(key); };
  co_return co_await pool_.run(std::move(job));
}

Task<Result<ListPage>> LocalObjectStore::list(std::string prefix, std::string continuation_token,
                                              size_t max_keys) {
  if (max_keys == 0 || max_keys > limits::list_page_keys_max) {
    co_return make_error(Errc::invalid_argument, "max_keys outside 1..list_page_keys_max");
  }
  // The token is the last key returned; the walk resumes strictly after it.
  auto job = [directory = directory_, prefix = std::move(prefix),
              token = std::move(continuation_token), max_keys] {
    return directory->list(prefix, token, max_keys);
  };
  co_return co_await pool_.run(std::move(job));
}

Task<Status> LocalObjectStore::remove(std::string key) {
  if (Status writable = check_writable(); !writable) co_return writable;
  if (Status key_ok = check_object_key(key); !key_ok) co_return key_ok;
  auto job = [directory = directory_, key = std::move(key)] { return directory->remove(key); };
  co_return co_await pool_.run(std::move(job));
}

Task<Result<std::vector<Status>>> LocalObjectStore::remove_many(std::vector<std::string> keys) {
  if (keys.size() > limits::list_page_keys_max) {
    co_return make_error(Errc::invalid_argument, "more than list_page_keys_max keys");
  }
  WAL_CO_TRY(check_writable());
  auto job = [directory = directory_, keys = std::move(keys)] {
    std::vector<Status> results;
    results.reserve(keys.size());
    for (const std::string& key : keys) {
      Status key_ok = check_object_key(key);
      results.push_back(key_ok ? directory->remove(key) : std::move(key_ok));
    }
    return results;
  };
  std::vector<Status> statuses = co_await pool_.run(std::move(job));
  co_return statuses;
}

}  // namespace wal
