// `wp append`: one entry per stdin line (or --count generated entries), pipelined through one
// writer. The first line that cannot be appended stops the command: every line before it is in
// the log and nothing after it was sent, so the log stays a prefix of the input and a re-run
// with --producer appends exactly what is missing.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "wal/async/notify.h"
#include "wal/async/scope.h"
#include "wal/format/block_format.h"
#include "wp_append_target.h"
#include "wp_commands.h"
#include "wp_text.h"

namespace wal::cli {

namespace {

// Pipelines appends, keeping at most `window` outstanding, and remembers the first error with
// the input line it came from.
class AppendPump {
 public:
  AppendPump(WpRuntime& runtime, AppendTarget& writer)
      : writer_(writer), scope_(runtime.loop()), progress_(runtime.loop()) {}

  Task<void> push(Bytes payload, std::optional<AppendKey> key, uint64_t line) {
    while (outstanding_ >= window_) co_await progress_.wait();
    ++outstanding_;
    scope_.spawn(run_one(std::move(payload), key, line));
  }
  Task<void> drain() {
    while (outstanding_ > 0) co_await progress_.wait();
  }
  [[nodiscard]] const std::optional<Error>& error() const { return error_; }
  [[nodiscard]] uint64_t error_line() const { return error_line_; }
  [[nodiscard]] uint64_t acknowledged() const { return acknowledged_; }
  [[nodiscard]] std::optional<EntryId> first_id() const { return first_id_; }
  [[nodiscard]] EntryId last_id() const { return last_id_; }

 private:
  Task<void> run_one(Bytes payload, std::optional<AppendKey> key, uint64_t line) {
    Result<EntryId> id = co_await writer_.append(std::move(payload), key);
    if (id.ok()) {
      ++acknowledged_;
      if (!first_id_ || *id < *first_id_) first_id_ = *id;
      last_id_ = std::max(last_id_, *id);
    } else if (!error_ || line < error_line_) {
      // The writer fails every append after a failed one, so the earliest line is the cause.
      error_ = id.error();
      error_line_ = line;
    }
    --outstanding_;
    progress_.notify_all();
  }
  static constexpr uint64_t window_ = 16384;  // bounds coroutine frames, not bytes (the
                                              // writer's inflight_bytes_max bounds those)
  AppendTarget& writer_;
  Scope scope_;
  Notify progress_;
  uint64_t outstanding_ = 0;
  uint64_t acknowledged_ = 0;
  std::optional<EntryId> first_id_;
  EntryId last_id_ = 0;
  std::optional<Error> error_;
  uint64_t error_line_ = 0;
};

// --producer: lines whose sequence is at or below the producer's last one in the log were
// appended by an earlier run, if this is a re-run of the same input. The line carrying the last
// sequence itself is compared with the entry that holds it: equal, and the earlier lines are
// taken as present; different (or never reached), and the input is not that run's, which is an
// error, never "already in the log".
struct ProducerCheck {
  uint64_t producer = 0;
  std::optional<ProducerTable::Last> last;  // in the log when the writer opened
  uint64_t below_count = 0;                 // lines below the last sequence, not sent
  bool confirmed = false;                   // the line with the last sequence matched
  uint64_t first_sequence = 0;
};

struct AppendRun {
  WpRuntime& runtime;
  const AppendArgs& args;
  AppendPump& pump;
  ProducerCheck check;
  uint64_t lines = 0;  // lines (or generated entries) taken from the input so far
  uint64_t bytes = 0;
  const char* unit = "line";           // what an input item is called in messages
  const char* units = "lines";
  std::optional<std::string> failure;  // "line N: why": the line that stopped the run
  bool failure_at_end = false;         // the failure is about the input as a whole
};

Task<Result<Bytes>> read_entry(WpRuntime& runtime, const std::string& name, EntryId id) {
  Result<std::unique_ptr<LogReader>> reader = co_await runtime.client().open_reader(
      name, ReadPosition::at(id), runtime.config().reader);
  if (!reader.ok()) co_return std::move(reader).error();
  Result<std::optional<LogEntry>> entry = co_await (*reader)->try_next();
  if (!entry.ok()) co_return std::move(entry).error();
  if (!*entry || (*entry)->id != id) {
    co_return make_error(Errc::not_found, "entry " + std::to_string(id) + " is not readable");
  }
  co_return std::move((*entry)->payload);
}

// Decides what to do with input line `line` (1-based). Returns the key to append with, or
// std::nullopt with run.failure unset when the line is already in the log.
Task<std::optional<std::optional<AppendKey>>> key_for_line(AppendRun& run, uint64_t line,
                                                           const Bytes& payload) {
  using Decision = std::optional<std::optional<AppendKey>>;
  if (!run.args.producer) co_return Decision(std::optional<AppendKey>());
  ProducerCheck& check = run.check;
  const uint64_t index = line - 1;
  if (index > UINT64_MAX - run.args.sequence_start) {
    run.failure = fmt::format("{} {}: its sequence would pass {} (--sequence-start {} plus "
                              "its index)", run.unit, line, UINT64_MAX, run.args.sequence_start);
    co_return Decision();
  }
  const AppendKey key{*run.args.producer, run.args.sequence_start + index};
  if (!check.last || key.sequence > check.last->sequence) co_return Decision(key);
  if (key.sequence < check.last->sequence) {
    ++check.below_count;
    co_return Decision();
  }
  Result<Bytes> stored = co_await read_entry(run.runtime, run.args.name, check.last->entry_id);
  if (!stored.ok()) {
    run.failure = fmt::format("{} {}: cannot compare it with entry {}, which holds producer "
                              "{}'s sequence {}: {}", run.unit, line, check.last->entry_id,
                              key.producer_id, key.sequence, stored.error().describe());
  } else if (*stored != payload) {
    run.failure = fmt::format(
        "{} {} has producer {}'s sequence {}, which the log holds in entry {} with other "
        "bytes: this input is not the one that was appended; use another --producer or a "
        "--sequence-start above {}", run.unit, line, key.producer_id, key.sequence,
        check.last->entry_id, key.sequence);
  } else {
    check.confirmed = true;
    ++check.below_count;  // counted with the lines before it: all in the log
  }
  co_return Decision();
}

// Takes one input line: checks it, then sends it. False once the run must stop.
Task<bool> take_line(AppendRun& run, std::string_view text) {
  const uint64_t line = ++run.lines;
  Bytes payload;
  if (run.args.format == PayloadFormat::hex) {
    Result<Bytes> decoded = from_hex(text);
    if (!decoded.ok()) {
      run.failure = fmt::format("{} {}: {}", run.unit, line, decoded.error().message);
      co_return false;
    }
    payload = std::move(decoded).value();
  } else {
    payload = to_bytes(text);
  }
  if (payload.size() > limits::entry_size_bytes_max) {
    run.failure = fmt::format("{} {}: an entry of {} bytes is over the limit of {} bytes",
                              run.unit, line, payload.size(), limits::entry_size_bytes_max);
    co_return false;
  }
  std::optional<std::optional<AppendKey>> key = co_await key_for_line(run, line, payload);
  if (run.failure) co_return false;
  if (!key) co_return true;  // in the log already
  run.bytes += payload.size();
  co_await run.pump.push(std::move(payload), *key, line);
  co_return !run.pump.error();
}

std::string generated_payload(uint64_t index, uint64_t size_bytes, Xoshiro256& generator) {
  std::string payload = fmt::format("wp-{}-", index);
  while (payload.size() < size_bytes) {
    payload.push_back(static_cast<char>('a' + generator.below(26)));
  }
  payload.resize(size_bytes);
  return payload;
}

class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled && isatty(STDERR_FILENO)) {}
  ~Progress() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
  }
  void maybe_show(const AppendRun& run) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::seconds(1)) return;
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "\rappended %llu entries, %.1f MiB...",
                 static_cast<unsigned long long>(run.pump.acknowledged()), run.bytes / 1048576.0);
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

Task<void> feed(AppendRun& run, Progress& progress) {
  if (run.args.count > 0) {
    Xoshiro256 generator(run.args.count * 7919 + run.args.size_bytes);
    for (uint64_t i = 0; i < run.args.count; ++i) {
      const std::string payload = generated_payload(i, run.args.size_bytes, generator);
      if (!co_await take_line(run, payload)) co_return;
      progress.maybe_show(run);
    }
    co_return;
  }
  // Lines may be as long as an entry (twice that in hex), not longer: a huge line without a
  // newline is an error at its number, never an unbounded buffer.
  const size_t line_bytes_max = (run.args.format == PayloadFormat::hex ? 2 : 1) *
                                size_t{limits::entry_size_bytes_max};
  LineReader reader(stdin, line_bytes_max);
  while (true) {
    auto job = [&reader] { return reader.next_chunk(); };  // named: see docs/style-notes.md
    LineChunk chunk = co_await run.runtime.pool().run(std::move(job));
    for (const std::string& line : chunk.lines) {
      if (!co_await take_line(run, line)) co_return;
    }
    progress.maybe_show(run);
    if (chunk.error) {
      run.failure = fmt::format("{} {}: {}", run.unit, run.lines + 1, *chunk.error);
      co_return;
    }
    if (chunk.eof) co_return;
  }
}

std::string id_range(const AppendPump& pump) {
  if (!pump.first_id()) return "nothing was appended";
  if (pump.acknowledged() == 1) return fmt::format("appended 1 entry (id {})", pump.last_id());
  return fmt::format("appended {} entries (ids {}..{})", pump.acknowledged(), *pump.first_id(),
                     pump.last_id());
}

// The one-line error of a stopped run: what stopped it and exactly what is in the log.
std::string stopped_message(const AppendRun& run) {
  const AppendPump& pump = run.pump;
  const std::string_view unit = run.unit;
  const std::string_view units = run.units;
  if (run.failure && run.failure_at_end) return *run.failure + "; " + id_range(pump);
  if (run.failure) {
    return fmt::format("{}; {} from the {} before it; nothing after it was sent",
                       *run.failure, id_range(pump), units);
  }
  WAL_ASSERT(pump.error().has_value());
  const Error& error = *pump.error();
  if (error.unknown()) {
    return fmt::format("{} {}: {}; {} from the {} before it; {} {} and later may or may not be "
                       "in the log (`wp read` shows it; --producer re-runs append each {} "
                       "once)", unit, pump.error_line(), error.describe(), id_range(pump), units,
                       unit, pump.error_line(), unit);
  }
  return fmt::format("{} {}: {}; {} from the {} before it; nothing after it is in the log",
                     unit, pump.error_line(), error.describe(), id_range(pump), units);
}

void print_summary(const AppendRun& run, double seconds) {
  const AppendPump& pump = run.pump;
  const ProducerCheck& check = run.check;
  if (check.below_count > 0) {
    std::fprintf(stderr,
                 "%llu entries were in the log already (producer %llu, sequences %llu..%llu; "
                 "the last one checked against entry %llu); not appended again\n",
                 static_cast<unsigned long long>(check.below_count),
                 static_cast<unsigned long long>(check.producer),
                 static_cast<unsigned long long>(run.args.sequence_start),
                 static_cast<unsigned long long>(check.last->sequence),
                 static_cast<unsigned long long>(check.last->entry_id));
  }
  if (pump.first_id()) {
    const double mib = run.bytes / 1048576.0;
    std::fprintf(stderr, "%s, %.2f MiB in %.2f s (%.1f MiB/s)\n", id_range(pump).c_str(), mib,
                 seconds, seconds > 0 ? mib / seconds : 0.0);
  } else if (check.below_count == 0) {
    std::fprintf(stderr, "appended nothing (empty input)\n");
  }
}

}  // namespace

Task<int> cmd_append(WpRuntime& runtime, AppendArgs args) {
  Result<std::unique_ptr<AppendTarget>> writer =
      co_await open_append_target(runtime, args.name, args.producer.has_value());
  if (!writer.ok()) co_return report_error(writer.error());
  AppendPump pump(runtime, **writer);
  const bool generated = args.count > 0;
  AppendRun run{runtime, args, pump, {}, 0, 0, generated ? "generated entry" : "line",
                generated ? "generated entries" : "lines", std::nullopt, false};
  if (args.producer) {
    run.check.producer = *args.producer;
    run.check.last = (*writer)->last_of_producer(*args.producer);
  }
  const auto start = std::chrono::steady_clock::now();
  {
    Progress progress(!args.quiet);
    co_await feed(run, progress);
    co_await pump.drain();
  }
  if (!run.failure && !pump.error() && run.check.last && !run.check.confirmed &&
      run.check.below_count > 0) {
    run.failure = fmt::format(
        "the input ends at line {} with producer {}'s sequence {}, below its last sequence {} "
        "in the log (entry {}): it is not a re-run of the input that was appended; use another "
        "--producer or a --sequence-start above {}", run.lines, run.check.producer,
        args.sequence_start + run.lines - 1, run.check.last->sequence, run.check.last->entry_id,
        run.check.last->sequence);
    run.failure_at_end = true;
  }
  // Close even after a failure: what was acknowledged is then sealed for the next writer.
  Status closed = co_await (*writer)->close();
  if (run.failure || pump.error()) {
    co_return report_failure(stopped_message(run));
  }
  if (!closed.ok()) co_return report_error(closed.error());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.quiet) print_summary(run, seconds);
  co_return exit_ok;
}

}  // namespace wal::cli
