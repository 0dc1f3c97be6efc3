#include "wp_commands.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "wal/log/log_verify.h"
#include "wp_args.h"
#include "wp_text.h"

namespace wal::cli {

int report_error(const Error& error) { return report_failure(error.describe()); }

int report_stdout_failure() {
  return report_failure(std::string("cannot write to stdout: ") + std::strerror(errno));
}

int report_failure(const std::string& message) {
  // One line: a message that came from a store may hold a newline.
  std::string line = message;
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::fprintf(stderr, "wp: error: %s\n", line.c_str());
  return exit_failed;
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

Task<int> cmd_read(WpRuntime& runtime, ReadArgs args) {
  ReadPosition position = ReadPosition::earliest();
  if (args.from == "latest") {
    position = ReadPosition::latest();
  } else if (args.from != "earliest") {
    Result<uint64_t> id = parse_uint(args.from, "--from (earliest, latest or an entry id)", 0,
                                     UINT64_MAX);
    if (!id.ok()) co_return report_error(id.error());
    position = ReadPosition::at(*id);
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
  // A failed write to stdout (a full disk under `wp read > file`) must not look like success.
  auto flush = [&]() -> bool {
    const bool whole = std::fwrite(out.data(), 1, out.size(), stdout) == out.size();
    out.clear();
    return whole && std::fflush(stdout) == 0 && !std::ferror(stdout);
  };
  while (!args.limit || printed < *args.limit) {
    std::optional<LogEntry> entry;
    if (args.follow) {
      if (!out.empty() && !flush()) break;  // show what we have before waiting
      Result<LogEntry> next = co_await (*reader)->next();
      if (!next.ok()) co_return report_error(next.error());
      entry = std::move(next).value();
    } else {
      Result<std::optional<LogEntry>> next = co_await (*reader)->try_next();
      if (!next.ok()) {
        const bool flushed = flush();
        co_return flushed ? report_error(next.error()) : report_stdout_failure();
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
    if (out.size() > (1u << 20) && !flush()) break;
  }
  if (!flush()) co_return report_stdout_failure();
  co_return exit_ok;
}

Task<int> cmd_truncate(WpRuntime& runtime, std::string name, uint64_t first_kept_entry_id) {
  Status truncated = co_await runtime.client().truncate(name, first_kept_entry_id);
  if (!truncated.ok()) co_return report_error(truncated.error());
  std::fprintf(stderr, "entries of '%s' below %llu are truncated; run `wp gc %s` to free them\n",
               name.c_str(), static_cast<unsigned long long>(first_kept_entry_id), name.c_str());
  co_return exit_ok;
}

namespace {

Task<int> gc_one(WpRuntime& runtime, const std::string& name) {
  Result<GcReport> report = co_await runtime.client().collect_garbage(name, /*full=*/true);
  if (!report.ok()) co_return report_error(report.error());
  std::fprintf(stderr, "gc '%s': %llu segments deleted (%llu objects), %llu orphans deleted\n",
               name.c_str(), static_cast<unsigned long long>(report->segments_deleted),
               static_cast<unsigned long long>(report->objects_deleted),
               static_cast<unsigned long long>(report->orphans_deleted));
  co_return exit_ok;
}

}  // namespace

Task<int> cmd_gc(WpRuntime& runtime, std::optional<std::string> name) {
  std::optional<std::string> every_log;  // no temporary in a co_await expression
  Result<std::vector<PendingDeletion>> finished =
      co_await runtime.client().finish_deletions(std::move(every_log));
  if (!finished.ok()) co_return report_error(finished.error());
  for (const PendingDeletion& deletion : *finished) {
    std::fprintf(stderr, "gc: finished deleting log '%s' (id %llu)\n", deletion.name.c_str(),
                 static_cast<unsigned long long>(deletion.log_id));
  }
  if (name) co_return co_await gc_one(runtime, *name);
  Result<std::vector<LogInfo>> logs = co_await runtime.client().list_logs();
  if (!logs.ok()) co_return report_error(logs.error());
  for (const LogInfo& info : *logs) {
    if (const int status = co_await gc_one(runtime, info.name); status != exit_ok) {
      co_return status;
    }
  }
  co_return exit_ok;
}

namespace {

void print_segments(const VerifyReport& report, const LogKeys& keys, bool with_blocks) {
  std::printf("  %-8s %-7s %-6s %-22s %-8s %-12s %s\n", "segment", "state", "epoch", "entries",
              "blocks", "bytes", "checkpoint");
  for (const SegmentSummary& s : report.segments) {
    const SegmentMeta& m = s.meta;
    const bool sealed = m.state == SegmentState::sealed;
    const EntryId end = sealed ? m.end_entry_id : s.end_found;
    std::printf("  %-8llu %-7s %-6llu %-22s %-8llu %-12llu %llu blocks\n",
                static_cast<unsigned long long>(m.segment_id),
                std::string(segment_state_name(m.state)).c_str(),
                static_cast<unsigned long long>(m.epoch),
                fmt::format("[{}, {})", m.first_entry_id, end).c_str(),
                static_cast<unsigned long long>(sealed ? m.block_count : s.blocks_read),
                static_cast<unsigned long long>(m.size_bytes),
                static_cast<unsigned long long>(m.checkpoint_block_count));
    if (with_blocks) {
      std::printf("           objects under %s\n",
                  keys.segment_object_prefix(m.segment_id).c_str());
    }
  }
}

}  // namespace

Task<int> cmd_inspect(WpRuntime& runtime, std::string name, bool with_blocks) {
  Result<LogInfo> info = co_await runtime.client().get_log(name);
  if (!info.ok()) co_return report_error(info.error());
  const LogKeys keys = runtime.client().keys_for(*info);
  Result<VerifyReport> report = co_await verify_log(runtime.env(), keys);
  if (!report.ok()) co_return report_error(report.error());
  std::printf("log %s (id %llu)\n", name.c_str(),
              static_cast<unsigned long long>(info->meta.log_id));
  if (report->epoch) {
    std::printf("  writer epoch   %llu (instance %016llx)\n",
                static_cast<unsigned long long>(report->epoch->epoch),
                static_cast<unsigned long long>(report->epoch->writer_instance));
  } else {
    std::printf("  writer epoch   none (never opened for writing)\n");
  }
  // The end readers see, from the segments: the tail record alone lags behind a sealed segment
  // (a writer publishes it at most every tail_publish_interval_min, and not when it seals).
  std::printf("  end            %llu (the next entry gets this id)\n",
              static_cast<unsigned long long>(report->acknowledged_end));
  if (report->tail) {
    std::printf("  tail record    segment %llu, end %llu (epoch %llu)%s\n",
                static_cast<unsigned long long>(report->tail->segment_id),
                static_cast<unsigned long long>(report->tail->end_entry_id),
                static_cast<unsigned long long>(report->tail->epoch),
                report->tail->end_entry_id < report->acknowledged_end
                    ? ", behind the end: the writer sealed past it"
                    : "");
  }
  std::printf("  truncated below %llu\n",
              static_cast<unsigned long long>(report->truncation.first_kept_entry_id));
  print_segments(*report, keys, with_blocks);
  for (const std::string& note : report->notes) std::printf("  note: %s\n", note.c_str());
  for (const std::string& problem : report->problems) {
    std::printf("  PROBLEM: %s\n", problem.c_str());
  }
  co_return report->problems.empty() ? exit_ok : exit_failed;
}

Task<int> cmd_verify(WpRuntime& runtime, std::string name) {
  Result<LogInfo> info = co_await runtime.client().get_log(name);
  if (!info.ok()) co_return report_error(info.error());
  const LogKeys keys = runtime.client().keys_for(*info);  // no temporary in a co_await
  Result<VerifyReport> report = co_await verify_log(runtime.env(), keys);
  if (!report.ok()) co_return report_error(report.error());
  const VerifyReport& r = *report;
  for (const std::string& note : r.notes) std::fprintf(stderr, "wp: note: %s\n", note.c_str());
  for (const std::string& problem : r.problems) {
    std::fprintf(stderr, "wp: corrupt: %s\n", problem.c_str());
  }
  const EntryId first = r.truncation.first_kept_entry_id;
  const std::string range = r.acknowledged_end > first
                                ? fmt::format("entries {}..{}", first, r.acknowledged_end - 1)
                                : std::string("no entries");
  if (!r.problems.empty()) {
    const std::string readable =
        r.readers_stop_at
            ? (*r.readers_stop_at > first
                   ? fmt::format("a reader from the start reads entries {}..{} and fails at {}",
                                 first, *r.readers_stop_at - 1, *r.readers_stop_at)
                   : fmt::format("a reader from the start fails at once, at {}", first))
            : std::string("every entry is readable from the start");
    std::fprintf(stderr, "verify '%s': FAILED with %zu problem(s); the log holds %s; %s\n",
                 name.c_str(), r.problems.size(), range.c_str(), readable.c_str());
    co_return exit_failed;
  }
  std::fprintf(stderr, "verify '%s': ok: %s readable; %llu entries in %llu blocks across %zu "
                       "segments, every checksum and id checked\n",
               name.c_str(), range.c_str(), static_cast<unsigned long long>(r.entries_checked),
               static_cast<unsigned long long>(r.blocks_checked), r.segments.size());
  co_return exit_ok;
}

}  // namespace wal::cli
