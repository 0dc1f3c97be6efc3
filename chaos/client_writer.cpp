// The writer role: opens the log's writer (retrying until --open-timeout-s): a QuorumWriter or a
// MemoryBuffer LogWriter by the config's mode (wal/cli/wp_append_target.h); invokes
// --count appends with unique payloads, at most --window outstanding, one every --pace-ms, and
// records each invocation and answer. A failed writer (a replica error it could not roll past,
// an unreachable etcd) is replaced by a new open in the same process, as an application would;
// a fenced one is not: a newer writer owns the log, and fighting it back is no fault of ours.
// Unless --reopen-when-fenced-ms asks for exactly that: writer processes that keep taking the
// log from each other until --until-ns (concurrent writers, wp-chaos --writers).
#include <algorithm>
#include <chrono>
#include <memory>
#include <random>

#include <fmt/format.h>

#include "chaos_client.h"
#include "wal/async/notify.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"
#include "wp_append_target.h"

namespace wal::chaos {

namespace {

using cli::AppendTarget;

struct WriterRun {
  cli::WpRuntime& runtime;
  EventLog& events;
  uint64_t process;
  const WriterArgs& args;
  uint64_t next_index = 0;
  uint64_t opens = 0;
  uint64_t outstanding = 0;
  bool failed = false;  // the current writer failed: open a new one
  bool fenced = false;  // a newer writer took over: stop (or reopen, when asked to)
};

std::string payload_for(uint64_t process, uint64_t index, uint64_t size) {
  std::string text = fmt::format("chaos-p{}-i{}-", process, index);
  while (text.size() < size) text += static_cast<char>('a' + (text.size() % 26));
  return text;
}

void record_error(WriterRun& run, uint64_t index, const Error& error) {
  const char* outcome = error.unknown() ? "failed_unknown" : "failed_definite";
  run.events.record(fmt::format(R"("type":"answer","writer":{},"index":{},"outcome":"{}",)"
                                R"("error":{},"at_ns":{})",
                                run.opens, index, outcome, json_string(error.describe()),
                                run.events.now_ns()));
  if (error.code == Errc::fenced) run.fenced = true;
  run.failed = true;
}

Task<void> append_one(WriterRun& run, AppendTarget& writer, Notify& progress, uint64_t index) {
  const std::string text = payload_for(run.process, index, run.args.payload_bytes);
  run.events.record(fmt::format(R"("type":"invoke","writer":{},"index":{},"payload_hash":"{}",)"
                                R"("payload_size":{},"at_ns":{})",
                                run.opens, index, payload_hash(as_bytes(text)), text.size(),
                                run.events.now_ns()));
  Result<EntryId> id = co_await writer.append(to_bytes(text), std::nullopt);
  if (id.ok()) {
    run.events.record(fmt::format(R"("type":"answer","writer":{},"index":{},"outcome":"ok",)"
                                  R"("id":{},"at_ns":{})",
                                  run.opens, index, *id, run.events.now_ns()));
  } else {
    record_error(run, index, id.error());
  }
  --run.outstanding;
  progress.notify_all();
}

void record_open_failure(WriterRun& run, const Error& error) {
  run.events.record(fmt::format(R"("type":"open_failed","error":{},"at_ns":{})",
                                json_string(error.describe()), run.events.now_ns()));
}

// Two processes that open the same log at once pre-empt each other: each open takes a newer
// epoch, and the other's recovery then fails its seal ("the epoch changed"). Retrying after a
// fixed pause repeats that duel for as long as a recovery takes longer than the pause (seen for
// 60 s in a real run), so the pause grows and is jittered, as for any contended lock.
std::chrono::milliseconds open_retry_pause(uint64_t failures, std::mt19937_64& random) {
  const uint64_t base_ms = 200ull << std::min<uint64_t>(failures, 4);  // 200 ms .. 3.2 s
  return std::chrono::milliseconds(
      std::uniform_int_distribution<uint64_t>(base_ms / 2, base_ms * 3 / 2)(random));
}

Task<std::unique_ptr<AppendTarget>> open_writer(WriterRun& run) {
  Env& env = run.runtime.env();
  const TimePoint deadline = env.clock.now() + std::chrono::seconds(run.args.open_timeout_s);
  std::mt19937_64 random(run.process * 7919 + run.opens);  // jitter differs between processes
  uint64_t failures = 0;
  while (env.clock.now() < deadline) {
    Result<std::unique_ptr<AppendTarget>> writer =
        co_await cli::open_append_target(run.runtime, run.args.log, /*keyed=*/false);
    if (writer.ok()) {
      ++run.opens;
      run.events.record(fmt::format(R"("type":"open","writer":{},"epoch":{},"at_ns":{})", run.opens,
                                    (*writer)->epoch(), run.events.now_ns()));
      co_return std::move(writer).value();
    }
    record_open_failure(run, writer.error());
    co_await sleep_for(env.clock, open_retry_pause(failures++, random));
  }
  co_return nullptr;
}

bool before_deadline(const WriterRun& run) {
  return run.args.until_ns == 0 || run.events.now_ns() < run.args.until_ns;
}

// Appends with one writer until the count is reached or it fails; then waits for the rest.
Task<void> pump(WriterRun& run, AppendTarget& writer) {
  Env& env = run.runtime.env();
  Scope scope(run.runtime.loop());
  Notify progress(run.runtime.loop());
  while (run.next_index < run.args.count && !run.failed && before_deadline(run)) {
    while (run.outstanding >= run.args.window) co_await progress.wait();
    if (run.failed) break;
    ++run.outstanding;
    scope.spawn(append_one(run, writer, progress, run.next_index++));
    co_await sleep_for(env.clock, std::chrono::milliseconds(run.args.pace_ms));
  }
  while (run.outstanding > 0) co_await progress.wait();
}

Task<int> writer_main(WriterRun& run) {
  while (!run.fenced) {
    std::unique_ptr<AppendTarget> writer = co_await open_writer(run);
    if (!writer) co_return 1;
    run.failed = false;
    co_await pump(run, *writer);
    if (run.fenced && run.args.reopen_when_fenced_ms > 0 && before_deadline(run)) {
      writer.reset();
      co_await sleep_for(run.runtime.env().clock,
                         std::chrono::milliseconds(run.args.reopen_when_fenced_ms));
      run.fenced = false;
      continue;  // take the log back
    }
    if (run.failed) continue;  // open a new writer (or stop, when fenced)
    Status closed = co_await writer->close();
    run.events.record(fmt::format(R"("type":"closed","writer":{},"ok":{},"error":{},"at_ns":{})",
                                  run.opens, closed.ok() ? "true" : "false",
                                  json_string(closed.ok() ? "" : closed.error().describe()),
                                  run.events.now_ns()));
    if (closed.ok()) co_return 0;
  }
  co_return 0;
}

}  // namespace

int run_writer(cli::WpRuntime& runtime, EventLog& events, uint64_t process,
               const WriterArgs& args) {
  WriterRun run{runtime, events, process, args};
  return runtime.run(writer_main(run));
}

}  // namespace wal::chaos
