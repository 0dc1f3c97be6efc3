#include "compare_wal.h"

#include <unistd.h>

#include <vector>

#include "wal/async/notify.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"
#include "wal/core/assert.h"
#include "wp_append_target.h"
#include "wp_runtime.h"

namespace wal::bench {

namespace {

Duration to_duration(double seconds) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

// The appends and the reader of one case, on the runtime's loop.
class WalCase {
 public:
  WalCase(EventLoop& loop, cli::AppendTarget& target, CaseRecorder& recorder,
          uint64_t entry_bytes)
      : loop_(loop), target_(target), recorder_(recorder), payload_(entry_bytes),
        changed_(loop), scope_(loop) {
    for (uint64_t i = 0; i < entry_bytes; ++i) payload_[i] = std::byte('a' + i % 26);
  }

  void issue(Steady::time_point due) {
    ++outstanding_;
    Bytes payload = payload_;
    CaseRecorder::stamp(payload, due);
    scope_.spawn(one(std::move(payload), due));
  }
  Task<void> wait_below(uint64_t outstanding_max) {
    while (outstanding_ >= outstanding_max) co_await changed_.wait();
  }
  void start_reader(LogReader& reader) {
    reading_ = true;
    scope_.spawn(read_loop(reader));
  }
  // Waits until the reader has every acknowledged entry or `seconds` passed; false on timeout.
  Task<bool> wait_for_reader(double seconds) {
    const TimePoint give_up = loop_.now() + to_duration(seconds);
    while (reading_ && recorder_.received_total() < recorder_.acknowledged_total()) {
      if (loop_.now() >= give_up) co_return false;
      co_await sleep_for(loop_, std::chrono::milliseconds(2));
    }
    co_return recorder_.received_total() >= recorder_.acknowledged_total();
  }
  Task<void> wait_reader_stopped(double seconds) {
    const TimePoint give_up = loop_.now() + to_duration(seconds);
    while (reading_ && loop_.now() < give_up) {
      co_await sleep_for(loop_, std::chrono::milliseconds(2));
    }
  }
  [[nodiscard]] const std::string& reader_error() const { return reader_error_; }

 private:
  Task<void> one(Bytes payload, Steady::time_point due) {
    Result<EntryId> id = co_await target_.append(std::move(payload), std::nullopt);
    if (id.ok()) {
      recorder_.acknowledged(due, Steady::now());
    } else {
      recorder_.failed(id.error().describe());
    }
    --outstanding_;
    changed_.notify_all();
  }
  // Reads until close() ends it (the error `closed`) or another error stops it.
  Task<void> read_loop(LogReader& reader) {
    while (true) {
      Result<LogEntry> entry = co_await reader.next();
      if (!entry.ok()) {
        if (entry.error().code != Errc::closed) reader_error_ = entry.error().describe();
        break;
      }
      const std::optional<Steady::time_point> due = CaseRecorder::read_stamp(entry->payload);
      if (due) recorder_.received(*due, Steady::now());
    }
    reading_ = false;
  }

  EventLoop& loop_;
  cli::AppendTarget& target_;
  CaseRecorder& recorder_;
  Bytes payload_;
  uint64_t outstanding_ = 0;
  bool reading_ = false;
  std::string reader_error_;
  Notify changed_;
  Scope scope_;  // last: its tasks die before the members they use
};

// Issues the workload point's appends until the window ends, then waits for all of them.
Task<void> drive(EventLoop& loop, WalCase& wal_case, const CaseRecorder& recorder,
                 uint64_t window, double rate) {
  const TimePoint loop_start = loop.now();
  const Steady::time_point steady_start = Steady::now();
  if (rate == 0) {
    while (Steady::now() < recorder.window_end()) {
      co_await wal_case.wait_below(window);
      wal_case.issue(Steady::now());
    }
  } else {
    const Duration interval = to_duration(1.0 / rate);
    for (int64_t i = 0;; ++i) {
      const Steady::time_point due = steady_start + interval * i;
      if (due >= recorder.window_end()) break;
      const TimePoint loop_due = loop_start + interval * i;
      if (loop.now() < loop_due) co_await sleep_until(loop, loop_due);
      wal_case.issue(due);
    }
  }
  co_await wal_case.wait_below(1);
}

class WpSystem final : public WalSystem {
 public:
  explicit WpSystem(std::unique_ptr<cli::WpRuntime> runtime) : runtime_(std::move(runtime)) {}

  Result<CaseResult> run_case(const Workload& workload, uint64_t entry_bytes,
                              double rate) override {
    return runtime_->run(one_case(workload, entry_bytes, rate));
  }

 private:
  Task<Result<CaseResult>> one_case(Workload workload, uint64_t entry_bytes, double rate);
  std::unique_ptr<cli::WpRuntime> runtime_;
  uint64_t cases_count_ = 0;
};

Task<Result<CaseResult>> WpSystem::one_case(Workload workload, uint64_t entry_bytes,
                                            double rate) {
  cli::WpRuntime& runtime = *runtime_;
  const std::string name = "compare-" + std::to_string(::getpid()) + "-" +
                           std::to_string(cases_count_++);
  WAL_CO_TRY(co_await runtime.client().create_log(name));
  std::unique_ptr<cli::AppendTarget> target;
  WAL_CO_ASSIGN(target, co_await cli::open_append_target(runtime, name, false));
  std::unique_ptr<LogReader> reader;
  if (workload.consumers > 0) {
    WAL_CO_ASSIGN(reader, co_await runtime.client().open_reader(
                              name, ReadPosition::earliest(), runtime.config().reader));
  }
  CaseResult result;
  result.entry_bytes = entry_bytes;
  result.window = rate == 0 ? workload.saturation_window(entry_bytes) : 0;
  result.offered_rate_per_second = rate == 0 ? 0 : workload.offered_rate(rate, entry_bytes);
  const Steady::time_point start = Steady::now() + std::chrono::milliseconds(1);
  const auto warmup = std::chrono::duration_cast<Steady::duration>(
      std::chrono::duration<double>(workload.warmup_seconds));
  const auto duration = std::chrono::duration_cast<Steady::duration>(
      std::chrono::duration<double>(workload.duration_seconds));
  CaseRecorder recorder(start + warmup, start + warmup + duration);
  {
    WalCase wal_case(runtime.loop(), *target, recorder, entry_bytes);
    if (reader) wal_case.start_reader(*reader);
    co_await drive(runtime.loop(), wal_case, recorder, result.window,
                   result.offered_rate_per_second);
    if (reader && !co_await wal_case.wait_for_reader(reader_wait_seconds_max)) {
      result.note = "the reader had not received every entry after " +
                    std::to_string(static_cast<int>(reader_wait_seconds_max)) + " s";
    }
    if (reader) reader->close();
    co_await wal_case.wait_reader_stopped(10);
    if (!wal_case.reader_error().empty()) result.note = "reader: " + wal_case.reader_error();
  }
  Status closed = co_await target->close();
  if (!closed.ok()) recorder.failed("close: " + closed.error().describe());
  recorder.finish(result);
  target.reset();
  reader.reset();
  Status deleted = co_await runtime.client().delete_log(name);
  if (!deleted.ok() && result.note.empty()) {
    result.note = "log not deleted: " + deleted.error().describe();
  }
  co_return result;
}

}  // namespace

Result<std::unique_ptr<WalSystem>> WalSystem::open(const std::string& config_path) {
  cli::WpConfig config;
  Status loaded = cli::load_config_file(config_path, config);
  if (!loaded.ok()) return std::move(loaded).error();
  Result<std::unique_ptr<cli::WpRuntime>> runtime =
      cli::WpRuntime::open(config, cli::StoreAccess::create);
  if (!runtime.ok()) return std::move(runtime).error();
  return std::unique_ptr<WalSystem>(new WpSystem(std::move(runtime).value()));
}

}  // namespace wal::bench
