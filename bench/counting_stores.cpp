#include "counting_stores.h"

#include <algorithm>

#include "wal/core/assert.h"

namespace wal::bench {

namespace {

using SteadyClock = std::chrono::steady_clock;

bool is_block_key(std::string_view key) {
  const size_t slash = key.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? key : key.substr(slash + 1);
  return !last.empty() && last.front() == 'b';
}

}  // namespace

void CountingObjectStore::reset(uint64_t expected_block_bytes) {
  WAL_ASSERT_GT(expected_block_bytes, uint64_t{0});
  tally_ = {};
  tally_.inflight_max = inflight_count_;  // PUTs of an earlier case may still be running
  expected_block_bytes_ = expected_block_bytes;
  reset_at_ = SteadyClock::now();
  WAL_ASSERT(tally_.block_put_latencies_us.empty());
}

Task<Result<ObjectInfo>> CountingObjectStore::put(std::string key, Bytes body,
                                                  PutCondition condition) {
  const uint64_t body_bytes = body.size();
  const std::string name = key;
  Task<Result<ObjectInfo>> put = inner_.put(std::move(key), std::move(body), std::move(condition));
  co_return co_await tally_put(name, body_bytes, std::move(put));
}

Task<Result<ObjectInfo>> CountingObjectStore::put_shared(std::string key, SharedBytes body,
                                                         PutCondition condition) {
  WAL_ASSERT(body != nullptr);
  const uint64_t body_bytes = body->size();
  const std::string name = key;
  Task<Result<ObjectInfo>> put =
      inner_.put_shared(std::move(key), std::move(body), std::move(condition));
  co_return co_await tally_put(name, body_bytes, std::move(put));
}

Task<Result<ObjectInfo>> CountingObjectStore::tally_put(std::string_view key, uint64_t body_bytes,
                                                        Task<Result<ObjectInfo>> put) {
  const bool block = is_block_key(key);
  ++inflight_count_;
  tally_.inflight_max = std::max(tally_.inflight_max, inflight_count_);
  const SteadyClock::time_point started = SteadyClock::now();
  Result<ObjectInfo> result = co_await std::move(put);
  const auto took = SteadyClock::now() - started;
  WAL_ASSERT_GT(inflight_count_, uint32_t{0});
  --inflight_count_;
  tally_.put_busy += std::chrono::duration_cast<std::chrono::nanoseconds>(took);
  if (!result.ok()) ++tally_.failed_puts_count;
  if (!block) {
    ++tally_.other_puts_count;
    co_return result;
  }
  ++tally_.block_puts_count;
  tally_.block_put_bytes += body_bytes;
  if (body_bytes == expected_block_bytes_) ++tally_.full_block_puts_count;
  tally_.block_put_latencies_us.push_back(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  const auto since_reset = [this](SteadyClock::time_point at) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(at - reset_at_).count();
  };
  tally_.block_put_spans.push_back(
      PutSpan{since_reset(started), since_reset(started + took), body_bytes});
  co_return result;
}

Task<Result<ObjectData>> CountingObjectStore::get(std::string key,
                                                  std::optional<ByteRange> range) {
  co_return co_await inner_.get(std::move(key), range);
}

Task<Result<ObjectInfo>> CountingObjectStore::head(std::string key) {
  co_return co_await inner_.head(std::move(key));
}

Task<Result<ListPage>> CountingObjectStore::list(std::string prefix,
                                                 std::string continuation_token,
                                                 size_t max_keys) {
  co_return co_await inner_.list(std::move(prefix), std::move(continuation_token), max_keys);
}

Task<Status> CountingObjectStore::remove(std::string key) {
  co_return co_await inner_.remove(std::move(key));
}

Task<Result<std::vector<Status>>> CountingObjectStore::remove_many(
    std::vector<std::string> keys) {
  co_return co_await inner_.remove_many(std::move(keys));
}

Task<Result<RangeResponse>> CountingMetaStore::range(RangeRequest request) {
  ++tally_.range_count;
  co_return co_await inner_.range(std::move(request));
}

Task<Result<TxnResponse>> CountingMetaStore::txn(TxnRequest request) {
  ++tally_.txn_count;
  const SteadyClock::time_point started = SteadyClock::now();
  Result<TxnResponse> result = co_await inner_.txn(std::move(request));
  tally_.txn_busy +=
      std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - started);
  co_return result;
}

Task<Result<LeaseId>> CountingMetaStore::lease_grant(int64_t ttl_seconds) {
  co_return co_await inner_.lease_grant(ttl_seconds);
}

Task<Result<int64_t>> CountingMetaStore::lease_keep_alive(LeaseId lease) {
  co_return co_await inner_.lease_keep_alive(lease);
}

Task<Status> CountingMetaStore::lease_revoke(LeaseId lease) {
  co_return co_await inner_.lease_revoke(lease);
}

Task<Result<std::unique_ptr<Watch>>> CountingMetaStore::watch(std::string key,
                                                              std::string range_end,
                                                              int64_t start_revision) {
  co_return co_await inner_.watch(std::move(key), std::move(range_end), start_revision);
}

Task<Status> CountingMetaStore::compact(int64_t revision) {
  co_return co_await inner_.compact(revision);
}

}  // namespace wal::bench
