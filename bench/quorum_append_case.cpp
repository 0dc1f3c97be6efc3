#include "quorum_append_case.h"

#include <chrono>
#include <vector>

#include "wal/async/notify.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"

namespace wal::bench {

namespace {

// What the appends of one case share: the samples, the count in flight, the wake-up.
class CaseState {
 public:
  CaseState(EventLoop& loop, uint64_t entry_bytes)
      : loop_(loop), scope_(loop), changed_(loop), payload_(entry_bytes),
        started_(loop.now()) {
    for (uint64_t i = 0; i < entry_bytes; ++i) payload_[i] = std::byte('a' + i % 26);
  }

  [[nodiscard]] TimePoint started() const { return started_; }
  void issue(cli::AppendTarget& target, TimePoint timed_from) {
    ++outstanding_;
    scope_.spawn(one(target, Bytes(payload_), timed_from));
  }
  Task<void> wait_below(uint64_t outstanding_max) {
    while (outstanding_ >= outstanding_max) co_await changed_.wait();
  }
  Task<void> drain() { co_await wait_below(1); }

  QuorumCaseResult finish() {
    QuorumCaseResult result;
    result.acknowledged_count = samples_us_.size();
    result.failed_count = failed_count_;
    result.first_error = first_error_;
    result.seconds = std::chrono::duration<double>(last_ack_ - started_).count();
    result.latency = summarize_latencies(samples_us_);
    return result;
  }

 private:
  Task<void> one(cli::AppendTarget& target, Bytes payload, TimePoint timed_from) {
    Result<EntryId> id = co_await target.append(std::move(payload), std::nullopt);
    const TimePoint now = loop_.now();
    if (id.ok()) {
      samples_us_.push_back(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(now - timed_from).count()));
      last_ack_ = now;
    } else {
      ++failed_count_;
      if (!first_error_) first_error_ = id.error();
    }
    --outstanding_;
    changed_.notify_all();
  }

  EventLoop& loop_;
  Scope scope_;
  Notify changed_;
  Bytes payload_;
  TimePoint started_;
  uint64_t outstanding_ = 0;
  std::vector<uint64_t> samples_us_;
  uint64_t failed_count_ = 0;
  std::optional<Error> first_error_;
  TimePoint last_ack_{};
};

Duration to_duration(double seconds) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

}  // namespace

Task<QuorumCaseResult> run_paced_appends(cli::WpRuntime& runtime, cli::AppendTarget& target,
                                         uint64_t entry_bytes, double rate_per_second,
                                         double seconds) {
  EventLoop& loop = runtime.loop();
  CaseState state(loop, entry_bytes);
  const Duration interval = to_duration(1.0 / rate_per_second);
  const auto count = static_cast<uint64_t>(rate_per_second * seconds);
  for (uint64_t i = 0; i < count; ++i) {
    const TimePoint due = state.started() + interval * static_cast<int64_t>(i);
    if (loop.now() < due) co_await sleep_until(loop, due);
    state.issue(target, due);
  }
  co_await state.drain();
  co_return state.finish();
}

Task<QuorumCaseResult> run_saturated_appends(cli::WpRuntime& runtime, cli::AppendTarget& target,
                                             uint64_t entry_bytes, uint64_t window,
                                             double seconds) {
  EventLoop& loop = runtime.loop();
  CaseState state(loop, entry_bytes);
  const TimePoint stop_at = state.started() + to_duration(seconds);
  while (loop.now() < stop_at) {
    co_await state.wait_below(window);
    state.issue(target, loop.now());
  }
  co_await state.drain();
  co_return state.finish();
}

}  // namespace wal::bench
