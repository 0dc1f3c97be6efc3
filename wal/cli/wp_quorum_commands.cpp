#include "wp_quorum_commands.h"

#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "wal/log/log_state.h"
#include "wal/log/retry.h"
#include "wal/quorum/logstore.h"
#include "wal/quorum/protocol.h"
#include "wp_commands.h"

namespace wal::cli {

namespace {

// The log's keys and its metadata at one revision.
struct QuorumLogView {
  LogKeys keys;
  LogState meta;
};

Task<Result<QuorumLogView>> load_log_state(WpRuntime& runtime, const std::string& name) {
  Result<LogInfo> info = co_await runtime.client().get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  QuorumLogView view{runtime.client().keys_for(*info), {}};
  const std::string prefix = view.keys.log_prefix();  // no temporary in a co_await expression
  Result<RangeResponse> all = co_await read_prefix(runtime.env(), prefix);
  if (!all.ok()) co_return std::move(all).error();
  WAL_CO_ASSIGN(view.meta, decode_log_state(view.keys, *all));
  co_return view;
}

// One LogStore's view of a segment, as an ordinary read reports it.
Task<std::string> logstore_view(WpRuntime& runtime, const LogKeys& keys,
                                const SegmentMeta& segment, const std::string& node) {
  quorum::ReadRequest request;
  request.segment = {keys.name, keys.log_id, segment.segment_id, segment.first_entry_id,
                     segment.create_revision};
  request.from = segment.first_entry_id;
  request.bytes_max = 1;
  Env& env = runtime.env();
  Result<Bytes> reply = co_await env.network->call(
      node, std::string(quorum::method_read), quorum::encode(request),
      env.clock.now() + std::chrono::seconds(2));
  if (!reply.ok()) co_return "no answer: " + reply.error().describe();
  Result<quorum::ReadReply> decoded = quorum::decode_read_reply(*reply);
  if (!decoded.ok()) co_return "bad answer: " + decoded.error().describe();
  co_return fmt::format("{}, durable end {}, confirmed end {}",
                        decoded->knowledge == quorum::Knowledge::known
                            ? "known"
                            : "IN LIMBO (may have lost entries)",
                        decoded->durable_end, decoded->confirmed_end);
}

Task<void> print_logstores(WpRuntime& runtime) {
  const std::string prefix = quorum::logstore_registry_prefix(runtime.client().options().meta_root);
  RangeRequest request;
  request.key = prefix;
  request.range_end = prefix_end(prefix);
  Result<RangeResponse> nodes = co_await runtime.env().meta_store->range(request);
  if (!nodes.ok()) {
    std::printf("  LogStores      cannot list: %s\n", nodes.error().describe().c_str());
    co_return;
  }
  std::printf("  LogStores      %zu registered\n", nodes->kvs.size());
  for (const KeyValue& kv : nodes->kvs) {
    const nlohmann::json value = nlohmann::json::parse(kv.value, nullptr, false);
    const auto field = [&](const char* key) {
      return value.is_object() && value.contains(key) && value[key].is_string()
                 ? value[key].get<std::string>()
                 : std::string("-");
    };
    std::printf("    %-16s address %-22s zone %s\n", kv.key.substr(prefix.size()).c_str(),
                field("address").c_str(), field("zone").c_str());
  }
}

}  // namespace

Task<int> cmd_quorum_inspect(WpRuntime& runtime, std::string name) {
  Result<QuorumLogView> state = co_await load_log_state(runtime, name);
  if (!state.ok()) co_return report_error(state.error());
  std::printf("log %s (id %llu), QuorumBuffer\n", name.c_str(),
              static_cast<unsigned long long>(state->keys.log_id));
  std::printf("  writer epoch   %s\n",
              state->meta.epoch ? std::to_string(state->meta.epoch->epoch).c_str() : "none");
  std::printf("  truncated below %llu\n",
              static_cast<unsigned long long>(state->meta.truncation.first_kept_entry_id));
  co_await print_logstores(runtime);
  std::printf("  %-8s %-7s %-6s %-22s %-8s %s\n", "segment", "state", "epoch", "entries",
              "uploaded", "ensemble / checkpoint");
  for (const StoredSegment& stored : state->meta.segments) {
    const SegmentMeta& m = stored.meta;
    const std::string ids =
        m.state == SegmentState::sealed ? fmt::format("[{}, {})", m.first_entry_id, m.end_entry_id)
                                        : fmt::format("[{}, ...)", m.first_entry_id);
    std::printf("  %-8llu %-7s %-6llu %-22s %-8s %s\n",
                static_cast<unsigned long long>(m.segment_id),
                std::string(segment_state_name(m.state)).c_str(),
                static_cast<unsigned long long>(m.epoch), ids.c_str(),
                !m.quorum() ? "(memory)" : m.uploaded ? "yes" : "no",
                fmt::format("{}; checkpoint {} blocks, entries below {}",
                            fmt::join(m.ensemble, ","), m.checkpoint_block_count,
                            m.checkpoint_end_entry_id)
                    .c_str());
    if (!m.quorum() || m.uploaded) continue;
    for (const std::string& node : m.ensemble) {
      const std::string view = co_await logstore_view(runtime, state->keys, m, node);
      std::printf("           %-16s %s\n", node.c_str(), view.c_str());
    }
  }
  co_return 0;
}

Task<int> cmd_quorum_verify(WpRuntime& runtime, std::string name) {
  Result<QuorumLogView> state = co_await load_log_state(runtime, name);
  if (!state.ok()) co_return report_error(state.error());
  std::vector<std::string> problems;
  std::optional<EntryId> expected_first;
  for (const StoredSegment& stored : state->meta.segments) {
    const SegmentMeta& m = stored.meta;
    if (expected_first && m.first_entry_id != *expected_first) {
      problems.push_back(fmt::format("segment {} starts at id {} but the previous one ends at {}",
                                     m.segment_id, m.first_entry_id, *expected_first));
    }
    if (m.state == SegmentState::sealed) expected_first = m.end_entry_id;
  }
  const EntryId first = state->meta.truncation.first_kept_entry_id;
  Result<std::unique_ptr<LogReader>> reader =
      co_await runtime.client().open_reader(name, ReadPosition::at(first), runtime.config().reader);
  if (!reader.ok()) co_return report_error(reader.error());
  const EntryId end = co_await (*reader)->acknowledged_end();
  EntryId next = first;
  uint64_t bytes = 0;
  while (next < end) {
    Result<std::optional<LogEntry>> entry = co_await (*reader)->try_next();
    if (!entry.ok()) {
      problems.push_back(fmt::format("entry {}: {}", next, entry.error().describe()));
      break;
    }
    if (!*entry) {
      problems.push_back(fmt::format("entries {}..{} are acknowledged but not readable now (are "
                                     "their LogStores down?)", next, end - 1));
      break;
    }
    if ((*entry)->id != next) {
      problems.push_back(fmt::format("expected id {}, read id {}", next, (*entry)->id));
      break;
    }
    bytes += (*entry)->payload.size();
    ++next;
  }
  for (const std::string& problem : problems) std::fprintf(stderr, "wp: problem: %s\n", problem.c_str());
  if (!problems.empty()) {
    std::fprintf(stderr, "verify '%s': FAILED with %zu problem(s)\n", name.c_str(), problems.size());
    co_return 1;
  }
  // Ranges are inclusive, as in `wp verify` of MemoryBuffer logs.
  const std::string range =
      end > first ? fmt::format("entries {}..{}", first, end - 1) : std::string("no entries");
  std::fprintf(stderr, "verify '%s': ok: %s (%.2f MiB) read back in order across %zu segments, "
                       "from object storage and LogStores, every block checksum checked\n",
               name.c_str(), range.c_str(), bytes / 1048576.0, state->meta.segments.size());
  co_return 0;
}

}  // namespace wal::cli
