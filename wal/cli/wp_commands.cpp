#include "wp_commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "wal/async/notify.h"
#include "wal/async/scope.h"
#include "wal/log/log_verify.h"
#include "wp_append_target.h"

namespace wal::cli {

namespace {

std::string to_hex(ByteView bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    out.push_back(digits[static_cast<uint8_t>(b) >> 4]);
    out.push_back(digits[static_cast<uint8_t>(b) & 0xf]);
  }
  return out;
}

Result<Bytes> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return make_error(Errc::invalid_argument, "odd-length hex line");
  Bytes out;
  for (size_t i = 0; i < text.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int high = nibble(text[i]);
    const int low = nibble(text[i + 1]);
    if (high < 0 || low < 0) return make_error(Errc::invalid_argument, "not a hex line");
    out.push_back(static_cast<std::byte>(high * 16 + low));
  }
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct StdinChunk {
  std::vector<std::string> lines;
  bool eof = false;
};

// Reads up to 4096 lines or 4 MiB from stdin (blocking, so it runs on the pool).
StdinChunk read_stdin_chunk() {
  StdinChunk chunk;
  size_t bytes = 0;
  std::string line;
  while (chunk.lines.size() < 4096 && bytes < (4u << 20)) {
    if (!std::getline(std::cin, line)) {
      chunk.eof = true;
      break;
    }
    bytes += line.size();
    chunk.lines.push_back(std::move(line));
  }
  return chunk;
}

// Pipelines appends, keeping at most `window` outstanding, and remembers the first error.
class AppendPump {
 public:
  AppendPump(WpRuntime& runtime, AppendTarget& writer)
      : writer_(writer), scope_(runtime.loop()), progress_(runtime.loop()) {}

  Task<void> push(Bytes payload, std::optional<AppendKey> key) {
    while (outstanding_ >= window_) co_await progress_.wait();
    ++outstanding_;
    scope_.spawn(run_one(std::move(payload), key));
  }
  Task<void> drain() {
    while (outstanding_ > 0) co_await progress_.wait();
  }
  [[nodiscard]] const std::optional<Error>& error() const { return error_; }
  [[nodiscard]] uint64_t acknowledged() const { return acknowledged_; }
  [[nodiscard]] std::optional<EntryId> first_id() const { return first_id_; }
  [[nodiscard]] EntryId last_id() const { return last_id_; }
  // Keyed entries the log held already (LogWriter::append's rules for a repeated key).
  [[nodiscard]] uint64_t already_present() const { return already_present_; }

 private:
  Task<void> run_one(Bytes payload, std::optional<AppendKey> key) {
    Result<EntryId> id = co_await writer_.append(std::move(payload), key);
    if (id.ok() && key && *id < end_at_open_) {
      ++already_present_;  // the producer's last key: its original id
    } else if (id.ok()) {
      ++acknowledged_;
      if (!first_id_) first_id_ = *id;
      last_id_ = std::max(last_id_, *id);
    } else if (key && id.error().code == Errc::invalid_argument) {
      ++already_present_;  // below the producer's last sequence: in the log (dense sequences)
    } else if (!error_) {
      error_ = id.error();
    }
    --outstanding_;
    progress_.notify_all();
  }
  static constexpr uint64_t window_ = 16384;  // bounds coroutine frames, not bytes (the
                                              // writer's inflight_bytes_max bounds those)
  AppendTarget& writer_;
  EntryId end_at_open_ = writer_.next_entry_id();  // ids below existed before this run
  uint64_t already_present_ = 0;
  Scope scope_;
  Notify progress_;
  uint64_t outstanding_ = 0;
  uint64_t acknowledged_ = 0;
  std::optional<EntryId> first_id_;
  EntryId last_id_ = 0;
  std::optional<Error> error_;
};

}  // namespace

int report_error(const Error& error) {
  std::fprintf(stderr, "wp: error: %s\n", error.describe().c_str());
  return 1;
}

Task<int> cmd_log_create(WpRuntime& runtime, std::string name) {
  Result<LogInfo> info = co_await runtime.client().create_log(name);
  if (!info.ok()) co_return report_error(info.error());
  std::fprintf(stderr, "created log '%s' (id %llu)\n", name.c_str(),
               static_cast<unsigned long long>(info->meta.log_id));
  co_return 0;
}

Task<int> cmd_log_list(WpRuntime& runtime) {
  Result<std::vector<LogInfo>> logs = co_await runtime.client().list_logs();
  if (!logs.ok()) co_return report_error(logs.error());
  for (const LogInfo& info : *logs) {
    std::printf("%s\t%llu\n", info.name.c_str(), static_cast<unsigned long long>(info.meta.log_id));
  }
  co_return 0;
}

Task<int> cmd_log_delete(WpRuntime& runtime, std::string name) {
  Status deleted = co_await runtime.client().delete_log(name);
  if (!deleted.ok()) co_return report_error(deleted.error());
  std::fprintf(stderr, "deleted log '%s'\n", name.c_str());
  co_return 0;
}

Task<int> cmd_append(WpRuntime& runtime, AppendArgs args) {
  Result<std::unique_ptr<AppendTarget>> writer = co_await open_append_target(runtime, args.name, args.producer.has_value());
  if (!writer.ok()) co_return report_error(writer.error());
  AppendPump pump(runtime, **writer);
  const auto start = std::chrono::steady_clock::now();
  auto last_progress = start;
  uint64_t sent = 0;
  uint64_t bytes = 0;
  const bool show_progress = !args.quiet && isatty(STDERR_FILENO);
  auto key_for = [&](uint64_t index) -> std::optional<AppendKey> {
    if (!args.producer) return std::nullopt;
    return AppendKey{*args.producer, args.sequence_start + index};
  };
  auto maybe_progress = [&] {
    if (!show_progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_progress < std::chrono::seconds(1)) return;
    last_progress = now;
    std::fprintf(stderr, "\rappended %llu entries, %.1f MiB...",
                 static_cast<unsigned long long>(pump.acknowledged()), bytes / 1048576.0);
  };
  if (args.count > 0) {
    Xoshiro256 generator(args.count * 7919 + args.size_bytes);
    for (uint64_t i = 0; i < args.count && !pump.error(); ++i) {
      std::string payload = fmt::format("wp-{}-", i);
      while (payload.size() < args.size_bytes) {
        payload.push_back(static_cast<char>('a' + generator.below(26)));
      }
      payload.resize(std::max<size_t>(args.size_bytes, 1));
      bytes += payload.size();
      co_await pump.push(to_bytes(payload), key_for(sent));
      ++sent;
      maybe_progress();
    }
  } else {
    bool eof = false;
    while (!eof && !pump.error()) {
      auto job = [] { return read_stdin_chunk(); };  // named: see docs/style-notes.md
      StdinChunk chunk = co_await runtime.pool().run(std::move(job));
      eof = chunk.eof;
      for (std::string& line : chunk.lines) {
        Bytes payload;
        if (args.format == PayloadFormat::hex) {
          Result<Bytes> decoded = from_hex(line);
          if (!decoded.ok()) co_return report_error(decoded.error());
          payload = std::move(decoded).value();
        } else {
          payload = to_bytes(line);
        }
        bytes += payload.size();
        co_await pump.push(std::move(payload), key_for(sent));
        ++sent;
      }
      maybe_progress();
    }
  }
  co_await pump.drain();
  if (show_progress) std::fprintf(stderr, "\r");
  if (pump.error()) {
    // What is durable despite the error (a fenced writer's earlier entries stay in the log).
    if (pump.first_id()) {
      std::fprintf(stderr, "wp: %llu entries were acknowledged before the error (ids %llu..%llu)\n",
                   static_cast<unsigned long long>(pump.acknowledged()),
                   static_cast<unsigned long long>(*pump.first_id()),
                   static_cast<unsigned long long>(pump.last_id()));
    }
    co_return report_error(*pump.error());
  }
  Status closed = co_await (*writer)->close();
  if (!closed.ok()) co_return report_error(closed.error());
  const double seconds = seconds_since(start);
  if (!args.quiet) {
    if (pump.already_present() > 0) {
      std::fprintf(stderr, "%llu entries were in the log already (producer %llu); not appended again\n",
                   static_cast<unsigned long long>(pump.already_present()),
                   static_cast<unsigned long long>(*args.producer));
    }
    if (pump.first_id()) {
      std::fprintf(stderr, "appended %llu entries (ids %llu..%llu), %.2f MiB in %.2f s (%.1f MiB/s)\n",
                   static_cast<unsigned long long>(pump.acknowledged()),
                   static_cast<unsigned long long>(*pump.first_id()),
                   static_cast<unsigned long long>(pump.last_id()), bytes / 1048576.0, seconds,
                   seconds > 0 ? bytes / 1048576.0 / seconds : 0.0);
    } else if (pump.already_present() == 0) {
      std::fprintf(stderr, "appended nothing (empty input)\n");
    }
  }
  co_return 0;
}

Task<int> cmd_read(WpRuntime& runtime, ReadArgs args) {
  ReadPosition position = ReadPosition::earliest();
  if (args.from == "latest") {
    position = ReadPosition::latest();
  } else if (args.from != "earliest") {
    char* end = nullptr;
    const unsigned long long id = std::strtoull(args.from.c_str(), &end, 10);
    if (end == args.from.c_str() || *end != '\0') {
      co_return report_error(make_error(Errc::invalid_argument,
                                        "--from takes 'earliest', 'latest' or an entry id"));
    }
    position = ReadPosition::at(id);
  }
  Result<std::unique_ptr<LogReader>> reader =
      co_await runtime.client().open_reader(args.name, position, runtime.config().reader);
  if (!reader.ok()) co_return report_error(reader.error());
  if (args.last) {
    // Start `last` entries before the acknowledged end, but not below what is still kept.
    const EntryId first_kept = (*reader)->position();
    const EntryId end = co_await (*reader)->acknowledged_end();
    const EntryId start = std::max(first_kept, end > *args.last ? end - *args.last : 0);
    reader = co_await runtime.client().open_reader(args.name, ReadPosition::at(start),
                                                   runtime.config().reader);
    if (!reader.ok()) co_return report_error(reader.error());
  }
  std::string out;
  uint64_t printed = 0;
  auto flush = [&] {
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    out.clear();
  };
  while (!args.limit || printed < *args.limit) {
    std::optional<LogEntry> entry;
    if (args.follow) {
      if (!out.empty()) flush();  // show what we have before waiting
      Result<LogEntry> next = co_await (*reader)->next();
      if (!next.ok()) co_return report_error(next.error());
      entry = std::move(next).value();
    } else {
      Result<std::optional<LogEntry>> next = co_await (*reader)->try_next();
      if (!next.ok()) {
        flush();
        co_return report_error(next.error());
      }
      if (!*next) break;
      entry = std::move(**next);
    }
    if (args.with_ids) out += std::to_string(entry->id) + "\t";
    if (args.format == PayloadFormat::hex) {
      out += to_hex(entry->payload);
    } else {
      out.append(reinterpret_cast<const char*>(entry->payload.data()), entry->payload.size());
    }
    out.push_back('\n');
    ++printed;
    if (out.size() > (1u << 20)) flush();
  }
  flush();
  co_return 0;
}

Task<int> cmd_truncate(WpRuntime& runtime, std::string name, uint64_t first_kept_entry_id) {
  Status truncated = co_await runtime.client().truncate(name, first_kept_entry_id);
  if (!truncated.ok()) co_return report_error(truncated.error());
  std::fprintf(stderr, "entries of '%s' below %llu are truncated; run `wp gc %s` to free them\n",
               name.c_str(), static_cast<unsigned long long>(first_kept_entry_id), name.c_str());
  co_return 0;
}

Task<int> cmd_gc(WpRuntime& runtime, std::string name) {
  Result<GcReport> report = co_await runtime.client().collect_garbage(name, /*full=*/true);
  if (!report.ok()) co_return report_error(report.error());
  std::fprintf(stderr, "gc '%s': %llu segments deleted (%llu objects), %llu orphans deleted\n",
               name.c_str(), static_cast<unsigned long long>(report->segments_deleted),
               static_cast<unsigned long long>(report->objects_deleted),
               static_cast<unsigned long long>(report->orphans_deleted));
  co_return 0;
}

Task<int> cmd_inspect(WpRuntime& runtime, std::string name, bool with_blocks) {
  Result<LogInfo> info = co_await runtime.client().get_log(name);
  if (!info.ok()) co_return report_error(info.error());
  const LogKeys keys = runtime.client().keys_for(*info);
  Result<VerifyReport> report = co_await verify_log(runtime.env(), keys);
  if (!report.ok()) co_return report_error(report.error());
  std::printf("log %s (id %llu)\n", name.c_str(), static_cast<unsigned long long>(info->meta.log_id));
  if (report->epoch) {
    std::printf("  writer epoch   %llu (instance %016llx)\n",
                static_cast<unsigned long long>(report->epoch->epoch),
                static_cast<unsigned long long>(report->epoch->writer_instance));
  } else {
    std::printf("  writer epoch   none (never opened for writing)\n");
  }
  if (report->tail) {
    std::printf("  tail           segment %llu, acknowledged end %llu (epoch %llu)\n",
                static_cast<unsigned long long>(report->tail->segment_id),
                static_cast<unsigned long long>(report->tail->end_entry_id),
                static_cast<unsigned long long>(report->tail->epoch));
  }
  std::printf("  truncated below %llu\n",
              static_cast<unsigned long long>(report->truncation.first_kept_entry_id));
  std::printf("  %-8s %-7s %-6s %-22s %-8s %-12s %s\n", "segment", "state", "epoch", "entries",
              "blocks", "bytes", "checkpoint");
  for (const SegmentSummary& s : report->segments) {
    const SegmentMeta& m = s.meta;
    const EntryId end = m.state == SegmentState::sealed ? m.end_entry_id : s.end_found;
    std::printf("  %-8llu %-7s %-6llu %-22s %-8llu %-12llu %llu blocks\n",
                static_cast<unsigned long long>(m.segment_id),
                std::string(segment_state_name(m.state)).c_str(),
                static_cast<unsigned long long>(m.epoch),
                fmt::format("[{}, {})", m.first_entry_id, end).c_str(),
                static_cast<unsigned long long>(m.state == SegmentState::sealed ? m.block_count
                                                                               : s.blocks_read),
                static_cast<unsigned long long>(m.size_bytes),
                static_cast<unsigned long long>(m.checkpoint_block_count));
    if (with_blocks) {
      std::printf("           objects under %s\n", keys.segment_object_prefix(m.segment_id).c_str());
    }
  }
  for (const std::string& problem : report->problems) std::printf("  PROBLEM: %s\n", problem.c_str());
  co_return report->problems.empty() ? 0 : 1;
}

Task<int> cmd_verify(WpRuntime& runtime, std::string name) {
  Result<LogInfo> info = co_await runtime.client().get_log(name);
  if (!info.ok()) co_return report_error(info.error());
  Result<VerifyReport> report = co_await verify_log(runtime.env(), runtime.client().keys_for(*info));
  if (!report.ok()) co_return report_error(report.error());
  for (const std::string& problem : report->problems) {
    std::fprintf(stderr, "wp: corrupt: %s\n", problem.c_str());
  }
  if (!report->problems.empty()) {
    std::fprintf(stderr, "verify '%s': FAILED with %zu problem(s)\n", name.c_str(),
                 report->problems.size());
    co_return 1;
  }
  std::fprintf(stderr, "verify '%s': ok: %llu entries in %llu blocks across %zu segments, "
                       "every checksum and id checked\n",
               name.c_str(), static_cast<unsigned long long>(report->entries_checked),
               static_cast<unsigned long long>(report->blocks_checked), report->segments.size());
  co_return 0;
}

}  // namespace wal::cli
