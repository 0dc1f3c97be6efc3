// The reader roles. A tailing reader records every entry it returns (one session per opened
// reader: its reads are consecutive ids) and, after an error, opens a new session at the next
// id. The final read reads the whole log and records it as `final` and `final_entry` lines.
#include <chrono>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "chaos_client.h"
#include "wal/async/sleep.h"
#include "wal/log/log_reader.h"

namespace wal::chaos {

namespace {

Task<int> tail(cli::WpRuntime& runtime, EventLog& events, const ReaderArgs& args) {
  Env& env = runtime.env();
  uint64_t session = 0;
  std::optional<EntryId> next_id;  // nullopt: from the log's first kept entry
  for (;;) {
    const ReadPosition start = next_id ? ReadPosition::at(*next_id) : ReadPosition::earliest();
    Result<std::unique_ptr<LogReader>> reader =
        co_await runtime.client().open_reader(args.log, start, runtime.config().reader);
    if (!reader.ok()) {
      events.record(fmt::format(R"("type":"read_error","error":{},"at_ns":{})",
                                json_string(reader.error().describe()), events.now_ns()));
      co_await sleep_for(env.clock, std::chrono::milliseconds(200));
      continue;
    }
    ++session;
    for (;;) {
      const int64_t invoked_ns = events.now_ns();
      Result<LogEntry> entry = co_await (*reader)->next();
      if (!entry.ok()) {
        events.record(fmt::format(R"("type":"read_error","session":{},"error":{},"at_ns":{})",
                                  session, json_string(entry.error().describe()), events.now_ns()));
        co_await sleep_for(env.clock, std::chrono::milliseconds(200));
        break;
      }
      events.record(fmt::format(R"("type":"read","session":{},"id":{},"payload_hash":"{}",)"
                                R"("invoked_ns":{},"at_ns":{})",
                                session, entry->id, payload_hash(entry->payload), invoked_ns,
                                events.now_ns()));
      next_id = entry->id + 1;
    }
  }
}

struct FinalRead {
  EntryId first_kept = 0;
  std::vector<std::pair<EntryId, std::string>> entries;  // id, payload hash
};

Task<Result<FinalRead>> read_all(cli::WpRuntime& runtime, const ReaderArgs& args) {
  Result<std::unique_ptr<LogReader>> reader = co_await runtime.client().open_reader(
      args.log, ReadPosition::earliest(), runtime.config().reader);
  if (!reader.ok()) co_return std::move(reader).error();
  FinalRead read;
  read.first_kept = (*reader)->position();
  for (;;) {
    Result<std::optional<LogEntry>> entry = co_await (*reader)->try_next();
    if (!entry.ok()) co_return std::move(entry).error();
    if (!*entry) co_return read;
    read.entries.emplace_back((*entry)->id, payload_hash((*entry)->payload));
  }
}

Task<int> final_read(cli::WpRuntime& runtime, EventLog& events, const ReaderArgs& args) {
  std::optional<Error> last_error;
  for (uint64_t attempt = 0; attempt < args.attempts_max; ++attempt) {
    if (attempt > 0) co_await sleep_for(runtime.env().clock, std::chrono::seconds(1));
    Result<FinalRead> read = co_await read_all(runtime, args);
    if (!read.ok()) {
      last_error = read.error();
      continue;
    }
    for (const auto& [id, hash] : read->entries) {
      events.record(fmt::format(R"("type":"final_entry","id":{},"payload_hash":"{}")", id, hash));
    }
    events.record(fmt::format(R"("type":"final","outcome":"ok","first_kept":{},"end":{},)"
                              R"("at_ns":{})",
                              read->first_kept, read->first_kept + read->entries.size(),
                              events.now_ns()));
    co_return 0;
  }
  events.record(fmt::format(R"("type":"final","outcome":"failed","error":{},"at_ns":{})",
                            json_string(last_error->describe()), events.now_ns()));
  co_return 1;
}

}  // namespace

int run_reader(cli::WpRuntime& runtime, EventLog& events, const ReaderArgs& args) {
  return runtime.run(tail(runtime, events, args));
}

int run_final_read(cli::WpRuntime& runtime, EventLog& events, const ReaderArgs& args) {
  return runtime.run(final_read(runtime, events, args));
}

}  // namespace wal::chaos
