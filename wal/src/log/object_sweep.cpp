// Listing and deleting objects with every key's status checked (wal/log/object_sweep.h).
#include "wal/log/object_sweep.h"

#include "wal/format/block_codec.h"
#include "wal/log/fence_object.h"
#include "wal/log/retry.h"

namespace wal {

Task<Result<uint64_t>> remove_objects_checked(Env& env, std::vector<std::string> keys) {
  WAL_ASSERT_LE(keys.size(), limits::list_page_keys_max);
  ObjectStore& store = *env.object_store;
  uint64_t removed_count = 0;
  for (uint32_t attempt = 0; !keys.empty(); ++attempt) {
    Result<std::vector<Status>> statuses = co_await store.remove_many(keys);
    std::vector<std::string> again;
    std::optional<Error> last_error;
    if (!statuses.ok()) {
      if (!is_retryable(statuses.error())) co_return std::move(statuses).error();
      again = keys;  // the whole batch may or may not have happened: send it again
      last_error = statuses.error();
    } else if (statuses->size() != keys.size()) {
      // An answer from outside: validated, never asserted.
      co_return make_error(Errc::protocol, "a batch delete of " + std::to_string(keys.size()) +
                                               " keys answered " +
                                               std::to_string(statuses->size()) + " statuses");
    } else {
      for (size_t i = 0; i < keys.size(); ++i) {
        const Status& status = (*statuses)[i];
        if (status.ok()) {
          ++removed_count;
          continue;
        }
        Error error = status.error();
        error.message = keys[i] + ": " + error.message;
        if (!is_retryable(error)) co_return error;
        again.push_back(keys[i]);
        last_error = std::move(error);
      }
    }
    if (again.empty()) break;
    WAL_ASSERT(last_error.has_value());
    if (attempt + 1 >= limits::read_attempts_max) co_return std::move(*last_error);
    co_await backoff_sleep(env, {}, attempt);
    keys = std::move(again);
  }
  co_return removed_count;
}

Task<Result<uint64_t>> sweep_objects(Env& env, std::string prefix, SweepChooser choose) {
  WAL_ASSERT(choose != nullptr);
  ObjectStore& store = *env.object_store;
  uint64_t removed_count = 0;
  std::string token;
  bool stopped = false;
  do {
    Result<ListPage> page = co_await retry_read(
        env, {}, [&] { return store.list(prefix, token, limits::list_page_keys_max); });
    if (!page.ok()) co_return std::move(page).error();
    std::vector<std::string> doomed;
    for (const ObjectInfo& object : page->objects) {
      bool remove = false;
      switch (choose(object)) {
        case SweepChoice::keep: break;
        case SweepChoice::remove: remove = true; break;
        case SweepChoice::remove_unless_fence: {
          Result<bool> fence = co_await is_fence_object(env, object.key);
          remove = fence.ok() && !*fence;  // keep fences, and what we cannot tell
          break;
        }
        case SweepChoice::stop: stopped = true; break;
      }
      if (stopped) break;
      if (remove) doomed.push_back(object.key);
    }
    const size_t doomed_count = doomed.size();
    Result<uint64_t> removed = co_await remove_objects_checked(env, std::move(doomed));
    if (!removed.ok()) co_return std::move(removed).error();
    WAL_ASSERT_EQ(*removed, uint64_t{doomed_count});
    removed_count += *removed;
    token = page->next_token;
  } while (!stopped && !token.empty());
  co_return removed_count;
}

Task<Result<bool>> is_fence_object(Env& env, const std::string& key) {
  co_return co_await retry_verified_read(env, {}, [&]() -> Task<Result<bool>> {
    Result<ObjectData> head =
        co_await env.object_store->get(key, ByteRange{0, block_format::header_size_bytes});
    if (!head.ok()) {
      if (head.error().code == Errc::not_found) co_return false;
      co_return std::move(head).error();
    }
    if (looks_like_fence(head->body)) {
      Result<Epoch> fencer = decode_fence(head->body);
      if (!fencer.ok()) co_return make_error(Errc::corrupt, key + ": " + fencer.error().message);
      co_return true;
    }
    Result<BlockFrame> frame = decode_block_frame(head->body);
    if (!frame.ok()) co_return make_error(Errc::corrupt, key + ": neither a fence nor a block");
    co_return false;
  });
}

}  // namespace wal
