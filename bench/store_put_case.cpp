#include "store_put_case.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "block_shape.h"
#include "wal/async/notify.h"
#include "wal/async/scope.h"
#include "wal/core/assert.h"
#include "wal/env/random.h"

namespace wal::bench {

namespace {

// 16 bodies of a 4 MiB block: 64 MiB, twice a 32 MiB last-level cache.
constexpr size_t bodies_count = 16;

std::string key_of(const StoreCaseConfig& config, uint64_t index) {
  char name[64];
  std::snprintf(name, sizeof(name), "/%08llu/b%012llu",
                static_cast<unsigned long long>(index / config.blocks_per_directory),
                static_cast<unsigned long long>(index));
  return config.key_prefix + name;
}

// One random buffer, then copies that differ in the first word of every 4 KiB page, so no two
// bodies are equal (in case the disk deduplicates) without generating 16 random buffers.
std::vector<SharedBytes> make_bodies(uint64_t size_bytes) {
  Xoshiro256 random(size_bytes);
  Bytes first(size_bytes);
  for (std::byte& b : first) b = static_cast<std::byte>(random.next_u64());
  std::vector<SharedBytes> bodies;
  for (size_t i = 0; i < bodies_count; ++i) {
    Bytes body = first;
    for (size_t page = 0; page < body.size(); page += 4096) {
      body[page] = static_cast<std::byte>(i);
    }
    bodies.push_back(std::make_shared<const Bytes>(std::move(body)));
  }
  return bodies;
}

// Keeps `puts_in_flight` PUTs going for warmup + duration, counting those that finish within the
// last `duration`; each lane starts its next PUT as soon as the loop sees its previous one
// finish, as the writer refills a freed PUT slot.
class PutDriver {
 public:
  PutDriver(WalRuntime& runtime, const StoreCaseConfig& config)
      : runtime_(runtime),
        config_(config),
        bodies_(make_bodies(config.body_bytes)),
        lanes_done_(runtime.loop()),
        scope_(runtime.loop()) {}

  Task<void> run() {
    measure_start_ = runtime_.loop().now() + config_.warmup;
    deadline_ = measure_start_ + config_.duration;
    lanes_running_ = config_.puts_in_flight;
    for (uint32_t i = 0; i < config_.puts_in_flight; ++i) scope_.spawn(lane());
    while (lanes_running_ > 0) co_await lanes_done_.wait();
  }

  [[nodiscard]] const std::optional<Error>& error() const { return error_; }
  [[nodiscard]] uint64_t puts_in_time_count() const { return puts_in_time_count_; }
  [[nodiscard]] uint64_t keys_count() const { return next_index_; }
  [[nodiscard]] std::vector<uint64_t>& latencies_us() { return latencies_us_; }

 private:
  Task<void> lane() {
    while (!error_ && runtime_.loop().now() < deadline_) {
      const uint64_t index = next_index_++;
      const TimePoint called = runtime_.loop().now();
      // Named, not temporaries inside the co_await expression: GCC 12 mishandles those.
      std::string key = key_of(config_, index);
      Task<Result<ObjectInfo>> putting = runtime_.objects().put_shared(
          std::move(key), bodies_[index % bodies_.size()], PutCondition::create_only());
      Result<ObjectInfo> put = co_await std::move(putting);
      const TimePoint finished = runtime_.loop().now();
      if (!put.ok()) {
        if (!error_) error_ = put.error();
        break;
      }
      if (finished >= measure_start_ && finished <= deadline_) {
        ++puts_in_time_count_;
        latencies_us_.push_back(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(finished - called).count()));
      }
    }
    WAL_ASSERT_GT(lanes_running_, 0u);
    if (--lanes_running_ == 0) lanes_done_.notify_all();
  }

  WalRuntime& runtime_;
  const StoreCaseConfig& config_;
  const std::vector<SharedBytes> bodies_;
  TimePoint measure_start_{};  // end of the warm-up
  TimePoint deadline_{};
  uint32_t lanes_running_ = 0;
  uint64_t next_index_ = 0;
  uint64_t puts_in_time_count_ = 0;
  std::vector<uint64_t> latencies_us_;
  std::optional<Error> error_;
  Notify lanes_done_;
  Scope scope_;  // last: the lanes die before the members they use
};

Task<Result<StoreCaseResult>> store_case(WalRuntime& runtime, StoreCaseConfig config) {
  StoreCaseResult result;
  uint64_t keys_count = 0;
  {
    PutDriver driver(runtime, config);
    co_await driver.run();
    if (driver.error()) co_return *driver.error();
    result.puts_count = driver.puts_in_time_count();
    result.put_latencies_us = driver.latencies_us();
    result.put_latency = summarize_latencies(driver.latencies_us());
    keys_count = driver.keys_count();
  }
  result.file_bytes = result.puts_count * (config.body_bytes + config.object_overhead_bytes);
  result.seconds = std::chrono::duration<double>(config.duration).count();
  result.mib_per_second = static_cast<double>(result.file_bytes) / (1 << 20) / result.seconds;
  for (uint64_t i = 0; i < keys_count; ++i) {
    std::string key = key_of(config, i);
    Task<Status> removing = runtime.objects().remove(std::move(key));
    WAL_CO_TRY(co_await std::move(removing));
  }
  co_return result;
}

}  // namespace

Result<StoreCaseResult> run_store_case(WalRuntime& runtime, const StoreCaseConfig& config) {
  WAL_ASSERT_GT(config.body_bytes, uint64_t{0});
  WAL_ASSERT_GT(config.blocks_per_directory, uint64_t{0});
  WAL_ASSERT_GT(config.puts_in_flight, 0u);
  WAL_ASSERT_GT(config.duration.count(), 0);
  return runtime.run(store_case(runtime, config));
}

StoreCaseResult combine_store_phases(const StoreCaseResult& first,
                                     const StoreCaseResult& second) {
  StoreCaseResult both;
  both.puts_count = first.puts_count + second.puts_count;
  both.file_bytes = first.file_bytes + second.file_bytes;
  both.seconds = first.seconds + second.seconds;
  both.mib_per_second =
      both.seconds > 0 ? static_cast<double>(both.file_bytes) / (1 << 20) / both.seconds : 0;
  both.put_latencies_us = first.put_latencies_us;
  both.put_latencies_us.insert(both.put_latencies_us.end(), second.put_latencies_us.begin(),
                               second.put_latencies_us.end());
  std::vector<uint64_t> samples = both.put_latencies_us;
  both.put_latency = summarize_latencies(samples);
  WAL_ASSERT_EQ(both.put_latency.sample_count, both.puts_count);
  return both;
}

}  // namespace wal::bench
