#include "wal_append_case.h"

#include <time.h>

#include <cstdio>

#include <functional>
#include <optional>
#include <vector>

#include "block_shape.h"
#include "wal/async/notify.h"
#include "wal/async/scope.h"
#include "wal/core/assert.h"
#include "wal/env/random.h"

namespace wal::bench {

namespace {

double cpu_seconds(clockid_t clock) {
  timespec now{};
  WAL_ASSERT_EQ(::clock_gettime(clock, &now), 0);  // both clocks exist on Linux
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

// Seconds the calling thread has spent runnable but waiting for a CPU (the second field of
// /proc/thread-self/schedstat), or 0 if the kernel does not keep the statistic.
double runqueue_wait_seconds() {
  FILE* file = std::fopen("/proc/thread-self/schedstat", "r");
  if (file == nullptr) return 0;
  unsigned long long run_ns = 0;
  unsigned long long wait_ns = 0;
  const int matched = std::fscanf(file, "%llu %llu", &run_ns, &wait_ns);
  std::fclose(file);
  return matched == 2 ? static_cast<double>(wait_ns) * 1e-9 : 0;
}

struct CpuSnapshot {
  // All taken on the loop thread.
  double loop_seconds = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
  double loop_runqueue_wait_seconds = runqueue_wait_seconds();
  double process_seconds = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
};

// The writer's counters and the CPU clocks at one instant. The case reports the difference
// between the start and the end of the measured window, so warm-up, drain and close do not blur
// the rates. (The stores' tallies are reset at the start instead.)
struct Snapshot {
  CpuSnapshot cpu;
  WriterStats writer_stats;
};

WriterStats stats_between(const WriterStats& start, const WriterStats& end) {
  WAL_ASSERT_GE(end.blocks_put, start.blocks_put);
  WAL_ASSERT_GE(end.bytes_acknowledged, start.bytes_acknowledged);
  WriterStats delta;
  delta.blocks_put = end.blocks_put - start.blocks_put;
  delta.put_attempts = end.put_attempts - start.put_attempts;
  delta.unknown_outcomes_settled = end.unknown_outcomes_settled - start.unknown_outcomes_settled;
  delta.segments_sealed = end.segments_sealed - start.segments_sealed;
  delta.checkpoints_written = end.checkpoints_written - start.checkpoints_written;
  delta.bytes_acknowledged = end.bytes_acknowledged - start.bytes_acknowledged;
  return delta;
}

Bytes make_payload(uint64_t entry_bytes) {
  Xoshiro256 random(entry_bytes);
  Bytes payload(entry_bytes);
  for (std::byte& b : payload) b = static_cast<std::byte>(random.next_u64());
  WAL_ASSERT_EQ(payload.size(), entry_bytes);
  return payload;
}

// When the measured window opens and closes, and what to do then. The callbacks run on the loop
// from timers, so they may run a little late when the loop is busy; counting uses exact times.
struct MeasureWindow {
  TimePoint start;
  TimePoint end;
  std::function<void()> on_start;
  std::function<void()> on_end;
};

// Keeps `lanes_count` appends outstanding until the window ends (see wal_append_case.h).
class AppendDriver {
 public:
  AppendDriver(EventLoop& loop, LogWriter& writer, uint64_t entry_bytes, MeasureWindow window)
      : window_(std::move(window)),
        loop_(loop),
        writer_(writer),
        payload_(make_payload(entry_bytes)),
        lanes_done_(loop),
        scope_(loop) {
    WAL_ASSERT(window_.start <= window_.end);
  }
  ~AppendDriver() {
    loop_.cancel(start_timer_);
    loop_.cancel(end_timer_);
  }
  AppendDriver(const AppendDriver&) = delete;
  AppendDriver& operator=(const AppendDriver&) = delete;

  // Completes when every lane has stopped: past the window, or after the first error.
  Task<void> run(uint64_t lanes_count) {
    WAL_ASSERT_GT(lanes_count, uint64_t{0});
    WAL_ASSERT_EQ(lanes_running_, uint64_t{0});
    start_timer_ = loop_.call_at(window_.start, [this] { window_.on_start(); });
    end_timer_ = loop_.call_at(window_.end, [this] { window_.on_end(); });
    lanes_running_ = lanes_count;
    for (uint64_t i = 0; i < lanes_count; ++i) scope_.spawn(lane());
    while (lanes_running_ > 0) co_await lanes_done_.wait();
  }

  [[nodiscard]] const std::optional<Error>& error() const { return error_; }
  [[nodiscard]] uint64_t entries_in_window_count() const { return entries_in_window_count_; }
  [[nodiscard]] std::vector<uint64_t>& latencies_us() { return latencies_us_; }

 private:
  Task<void> lane() {
    while (!error_ && loop_.now() < window_.end) {
      Bytes payload = payload_;
      const TimePoint called = loop_.now();
      Result<EntryId> id = co_await writer_.append(std::move(payload));
      const TimePoint acknowledged = loop_.now();
      if (!id.ok()) {
        if (!error_) error_ = id.error();
        break;
      }
      if (called >= window_.start) {
        latencies_us_.push_back(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(acknowledged - called)
                .count()));
      }
      if (acknowledged > window_.start && acknowledged <= window_.end) {
        ++entries_in_window_count_;
      }
    }
    WAL_ASSERT_GT(lanes_running_, uint64_t{0});
    if (--lanes_running_ == 0) lanes_done_.notify_all();
  }

  MeasureWindow window_;
  EventLoop& loop_;
  LogWriter& writer_;
  const Bytes payload_;
  TimerId start_timer_ = 0;
  TimerId end_timer_ = 0;
  uint64_t lanes_running_ = 0;
  uint64_t entries_in_window_count_ = 0;
  std::vector<uint64_t> latencies_us_;  // appends called within the window
  std::optional<Error> error_;
  Notify lanes_done_;
  Scope scope_;  // last: the lanes die before the members they use
};

uint64_t window_for(const WalCaseConfig& config) {
  const uint64_t limit = config.writer.inflight_bytes_max;
  return (limit + config.entry_bytes - 1) / config.entry_bytes + config.window_extra_count;
}

// Fills in the numbers of a finished case from the driver and the counters.
void collect(const WalCaseConfig& config, AppendDriver& driver, const Snapshot& start,
             const Snapshot& end, WalCaseResult& result) {
  result.entries_count = driver.entries_in_window_count();
  result.payload_bytes = result.entries_count * config.entry_bytes;
  result.seconds = std::chrono::duration<double>(config.duration).count();
  result.entries_per_second = static_cast<double>(result.entries_count) / result.seconds;
  result.mib_per_second = static_cast<double>(result.payload_bytes) / (1 << 20) / result.seconds;
  result.latency = summarize_latencies(driver.latencies_us());
  result.writer_stats = stats_between(start.writer_stats, end.writer_stats);
  result.loop_cpu_seconds = end.cpu.loop_seconds - start.cpu.loop_seconds;
  result.loop_runqueue_wait_seconds =
      end.cpu.loop_runqueue_wait_seconds - start.cpu.loop_runqueue_wait_seconds;
  result.process_cpu_seconds = end.cpu.process_seconds - start.cpu.process_seconds;
  WAL_ASSERT_GT(result.seconds, 0.0);
  WAL_ASSERT_GE(result.loop_cpu_seconds, 0.0);
}

Task<Result<WalCaseResult>> wal_case(WalRuntime& runtime, WalCaseConfig config,
                                     uint64_t expected_block_bytes) {
  LogClient& client = runtime.client();
  WAL_CO_TRY(co_await client.create_log(config.log_name));
  Result<std::unique_ptr<LogWriter>> opened =
      co_await client.open_writer(config.log_name, config.writer);
  if (!opened.ok()) co_return std::move(opened).error();
  LogWriter& writer = **opened;
  WalCaseResult result;
  result.window_count = window_for(config);
  Snapshot start;
  Snapshot end;
  MeasureWindow window;
  window.start = runtime.loop().now() + config.warmup;
  window.end = window.start + config.duration;
  window.on_start = [&runtime, &writer, &start, expected_block_bytes] {
    runtime.objects().reset(expected_block_bytes);
    runtime.meta().reset();
    start = Snapshot{CpuSnapshot{}, writer.stats()};
  };
  window.on_end = [&runtime, &writer, &end, &result] {
    end = Snapshot{CpuSnapshot{}, writer.stats()};
    result.puts = runtime.objects().tally();
    result.meta = runtime.meta().tally();
  };
  {
    AppendDriver driver(runtime.loop(), writer, config.entry_bytes, std::move(window));
    co_await driver.run(result.window_count);
    if (driver.error()) co_return *driver.error();
    collect(config, driver, start, end, result);
  }
  WAL_CO_TRY(co_await writer.close());
  opened->reset();
  if (config.delete_log_after) WAL_CO_TRY(co_await client.delete_log(config.log_name));
  co_return result;
}

}  // namespace

Result<WalCaseResult> run_wal_case(WalRuntime& runtime, const WalCaseConfig& config) {
  WAL_ASSERT_GT(config.entry_bytes, uint64_t{0});
  WAL_ASSERT_GT(config.duration.count(), 0);
  const uint64_t expected_block_bytes =
      saturated_block_shape(config.entry_bytes, config.writer.block_size_bytes_max).block_bytes;
  return runtime.run(wal_case(runtime, config, expected_block_bytes));
}

}  // namespace wal::bench
