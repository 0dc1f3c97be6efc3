// The writer role: opens the log's writer (retrying until --open-timeout-s): a QuorumWriter or a
// MemoryBuffer LogWriter by the config's mode (wal/cli/wp_append_target.h); invokes
// --count appends with unique payloads, at most --window outstanding, one every --pace-ms, and
// records each invocation and answer. A failed writer (a replica error it could not roll past,
// an unreachable etcd) is replaced by a new open in the same process, as an application would;
// a fenced one is not: a newer writer owns the log, and fighting it back is no fault of ours.
#include <chrono>
#include <memory>

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
  bool fenced = false;  // a newer writer took over: stop
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

Task<std::unique_ptr<AppendTarget>> open_writer(WriterRun& run) {
  Env& env = run.runtime.env();
  const TimePoint deadline = env.clock.now() + std::chrono::seconds(run.args.open_timeout_s);
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
    co_await sleep_for(env.clock, std::chrono::milliseconds(200));
  }
  co_return nullptr;
}

// Appends with one writer until the count is reached or it fails; then waits for the rest.
Task<void> pump(WriterRun& run, AppendTarget& writer) {
  Env& env = run.runtime.env();
  Scope scope(run.runtime.loop());
  Notify progress(run.runtime.loop());
  const auto in_time = [&] {
    return run.args.until_ns == 0 || run.events.now_ns() < run.args.until_ns;
  };
  while (run.next_index < run.args.count && !run.failed && in_time()) {
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
