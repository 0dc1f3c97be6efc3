#pragma once
// Pass-through ObjectStore and MetaStore that count and time the calls the writer makes, so the
// benchmark can say where an append's time goes without touching wal/: how many PUTs, of what
// size, how long each took, how many ran at once, and how many MetaStore transactions ran.
// Every call is forwarded unchanged; results, errors and outcomes are those of the inner store.
// Threading: the inner stores' (all calls and completions on the loop thread).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wal/env/meta_store.h"
#include "wal/env/object_store.h"

namespace wal::bench {

// One block PUT, as seen from the loop thread: call and completion, nanoseconds since reset().
struct PutSpan {
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  uint64_t body_bytes = 0;
};

struct PutTally {
  uint64_t block_puts_count = 0;  // keys whose last segment starts with 'b' (block_key)
  uint64_t block_put_bytes = 0;
  uint64_t full_block_puts_count = 0;  // bodies of exactly expected_block_bytes
  uint64_t other_puts_count = 0;       // manifests, checkpoints, fences
  uint64_t failed_puts_count = 0;
  // Sum over PUTs of their duration: divided by the wall time, the mean PUTs in flight.
  std::chrono::nanoseconds put_busy{};
  uint32_t inflight_max = 0;
  std::vector<uint64_t> block_put_latencies_us;
  std::vector<PutSpan> block_put_spans;
};

class CountingObjectStore final : public ObjectStore {
 public:
  explicit CountingObjectStore(ObjectStore& inner) : inner_(inner) {}

  // Starts a new tally; `expected_block_bytes` is what a full block should weigh.
  void reset(uint64_t expected_block_bytes);
  [[nodiscard]] const PutTally& tally() const { return tally_; }

  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override;
  // Forwarded as put_shared, so the inner store gets the shared bytes (no copy added here).
  Task<Result<ObjectInfo>> put_shared(std::string key, SharedBytes body,
                                      PutCondition condition) override;
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override;
  Task<Result<ObjectInfo>> head(std::string key) override;
  Task<Result<ListPage>> list(std::string prefix, std::string continuation_token,
                              size_t max_keys) override;
  Task<Status> remove(std::string key) override;
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override;

 private:
  ObjectStore& inner_;
  uint64_t expected_block_bytes_ = 0;
  std::chrono::steady_clock::time_point reset_at_ = std::chrono::steady_clock::now();
  // Counts and times one PUT of `body_bytes`, whichever way it is sent.
  Task<Result<ObjectInfo>> tally_put(std::string_view key, uint64_t body_bytes,
                                     Task<Result<ObjectInfo>> put);

  uint32_t inflight_count_ = 0;
  PutTally tally_;
};

struct MetaTally {
  uint64_t txn_count = 0;
  uint64_t range_count = 0;
  std::chrono::nanoseconds txn_busy{};  // sum of txn durations
};

class CountingMetaStore final : public MetaStore {
 public:
  explicit CountingMetaStore(MetaStore& inner) : inner_(inner) {}

  void reset() { tally_ = {}; }
  [[nodiscard]] const MetaTally& tally() const { return tally_; }

  Task<Result<RangeResponse>> range(RangeRequest request) override;
  Task<Result<TxnResponse>> txn(TxnRequest request) override;
  Task<Result<LeaseId>> lease_grant(int64_t ttl_seconds) override;
  Task<Result<int64_t>> lease_keep_alive(LeaseId lease) override;
  Task<Status> lease_revoke(LeaseId lease) override;
  Task<Result<std::unique_ptr<Watch>>> watch(std::string key, std::string range_end,
                                             int64_t start_revision) override;
  Task<Status> compact(int64_t revision) override;

 private:
  MetaStore& inner_;
  MetaTally tally_;
};

}  // namespace wal::bench
