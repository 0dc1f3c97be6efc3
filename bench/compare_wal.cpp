#include "compare_wal.h"

#include <unistd.h>

#include <atomic>
#include <thread>
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

// The tailing reader of one case: a LogReader on a runtime of its own (its own event loop, on a
// thread of its own), as a consumer in another process would have, so reading does not take
// the writer's loop thread.
class ReaderThread {
 public:
  ReaderThread(cli::WpRuntime& runtime, std::string name, CaseRecorder& recorder)
      : runtime_(runtime),
        name_(std::move(name)),
        recorder_(recorder),
        thread_([this] { runtime_.run(read_all()); }) {}
  ~ReaderThread() { stop(); }
  // Closes the reader and joins its thread; idempotent.
  void stop() {
    if (!thread_.joinable()) return;
    // close() must run on the reader's loop; the reader ends its next() with `closed`. The
    // callback holds only the shared state: if the reader ended first, it runs in a later
    // case's loop and finds no reader.
    runtime_.loop().post([shared = shared_] {
      shared->closing = true;
      if (shared->reader != nullptr) shared->reader->close();
    });
    thread_.join();
  }
  ReaderThread(const ReaderThread&) = delete;
  ReaderThread& operator=(const ReaderThread&) = delete;

  [[nodiscard]] bool stopped() const { return stopped_; }
  // After stopped(): what the reader fetched (blocks, manifests, metadata reloads).
  [[nodiscard]] ReaderStats stats() const { return stopped_ ? stats_ : ReaderStats{}; }
  // After stopped(): why it stopped early, if it did.
  [[nodiscard]] std::string error() const { return stopped_ ? error_ : std::string(); }

 private:
  Task<void> read_all() {
    Result<std::unique_ptr<LogReader>> opened = co_await runtime_.client().open_reader(
        name_, ReadPosition::earliest(), runtime_.config().reader);
    if (!opened.ok()) error_ = "open: " + opened.error().describe();
    std::unique_ptr<LogReader> reader = opened.ok() ? std::move(opened).value() : nullptr;
    shared_->reader = reader.get();
    while (reader && !shared_->closing) {
      Result<LogEntry> entry = co_await reader->next();
      if (!entry.ok()) {
        if (entry.error().code != Errc::closed) error_ = entry.error().describe();
        break;
      }
      const std::optional<Steady::time_point> due = CaseRecorder::read_stamp(entry->payload);
      if (due) recorder_.received(*due, Steady::now());
    }
    if (reader) stats_ = reader->stats();
    shared_->reader = nullptr;
    stopped_ = true;
  }

  cli::WpRuntime& runtime_;
  const std::string name_;
  CaseRecorder& recorder_;
  // Used on the reader's loop thread only.
  struct Shared {
    bool closing = false;
    LogReader* reader = nullptr;
  };
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::string error_;  // written before stopped_
  ReaderStats stats_;  // written before stopped_
  std::atomic<bool> stopped_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

// The appends of one case, on the writer runtime's loop.
class WalCase {
 public:
  WalCase(EventLoop& loop, cli::AppendTarget& target, CaseRecorder& recorder, uint64_t entry_bytes)
      : loop_(loop),
        target_(target),
        recorder_(recorder),
        payload_(entry_bytes),
        changed_(loop),
        scope_(loop) {
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
  // Waits until the reader has every acknowledged entry or `seconds` passed; false on timeout.
  Task<bool> wait_for_reader(const ReaderThread& reader, double seconds) {
    const TimePoint give_up = loop_.now() + to_duration(seconds);
    while (!reader.stopped() && recorder_.received_total() < recorder_.acknowledged_total()) {
      if (loop_.now() >= give_up) co_return false;
      co_await sleep_for(loop_, std::chrono::milliseconds(1));
    }
    co_return recorder_.received_total() >= recorder_.acknowledged_total();
  }

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
  EventLoop& loop_;
  cli::AppendTarget& target_;
  CaseRecorder& recorder_;
  Bytes payload_;
  uint64_t outstanding_ = 0;
  Notify changed_;
  Scope scope_;  // last: its tasks die before the members they use
};

// Issues the workload point's appends until the window ends, then waits for all of them.
Task<void> drive(EventLoop& loop, WalCase& wal_case, const CaseRecorder& recorder, uint64_t window,
                 double rate) {
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
  WpSystem(std::unique_ptr<cli::WpRuntime> runtime, std::unique_ptr<cli::WpRuntime> reader)
      : runtime_(std::move(runtime)), reader_runtime_(std::move(reader)) {}

  Result<CaseResult> run_case(const Workload& workload, uint64_t entry_bytes,
                              double rate) override {
    return runtime_->run(one_case(workload, entry_bytes, rate));
  }

 private:
  Task<Result<CaseResult>> one_case(Workload workload, uint64_t entry_bytes, double rate);
  std::unique_ptr<cli::WpRuntime> runtime_;
  std::unique_ptr<cli::WpRuntime> reader_runtime_;
  uint64_t cases_count_ = 0;
};

Task<Result<CaseResult>> WpSystem::one_case(Workload workload, uint64_t entry_bytes, double rate) {
  cli::WpRuntime& runtime = *runtime_;
  const std::string name =
      "compare-" + std::to_string(::getpid()) + "-" + std::to_string(cases_count_++);
  WAL_CO_TRY(co_await runtime.client().create_log(name));
  std::unique_ptr<cli::AppendTarget> target;
  WAL_CO_ASSIGN(target, co_await cli::open_append_target(runtime, name, false));
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
    std::optional<ReaderThread> reader;
    if (workload.consumers > 0) reader.emplace(*reader_runtime_, name, recorder);
    WalCase wal_case(runtime.loop(), *target, recorder, entry_bytes);
    co_await drive(runtime.loop(), wal_case, recorder, result.window,
                   result.offered_rate_per_second);
    if (reader && !co_await wal_case.wait_for_reader(*reader, reader_wait_seconds_max)) {
      result.note = "the reader had not received every entry after " +
                    std::to_string(static_cast<int>(reader_wait_seconds_max)) + " s";
    }
    if (reader && reader->stopped() && !reader->error().empty()) {
      result.note = "reader: " + reader->error();
    }
    if (reader) {
      reader->stop();  // its counters are final now
      const ReaderStats stats = reader->stats();
      result.reader_blocks_read = stats.blocks_read;
      result.reader_manifest_reads = stats.manifest_reads;
      result.reader_metadata_reloads = stats.metadata_reloads;
    }
  }
  Status closed = co_await target->close();
  if (!closed.ok()) recorder.failed("close: " + closed.error().describe());
  recorder.finish(result);
  target.reset();
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
  Result<std::unique_ptr<cli::WpRuntime>> reader =
      cli::WpRuntime::open(config, cli::StoreAccess::read_write);
  if (!reader.ok()) return std::move(reader).error();
  return std::unique_ptr<WalSystem>(
      new WpSystem(std::move(runtime).value(), std::move(reader).value()));
}

}  // namespace wal::bench
