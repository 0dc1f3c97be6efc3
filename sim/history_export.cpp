#include "sim/history_export.h"

#include <fstream>
#include <map>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace wal::sim {

namespace {

int64_t ns(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

std::string json_string(std::string_view text) { return nlohmann::json(text).dump(); }

std::string hash_hex(uint64_t hash) { return fmt::format("\"{:016x}\"", hash); }

// `,"error":"..."` when there is one: optional fields are left out rather than empty.
std::string error_field(const std::string& error) {
  return error.empty() ? std::string() : ",\"error\":" + json_string(error);
}

bool resolved(AppendOutcome outcome) {
  return outcome != AppendOutcome::pending && outcome != AppendOutcome::abandoned;
}

void append_line(std::string& out, const AppendRecord& a, size_t index, const std::string& log,
                 const std::map<uint64_t, Epoch>& epoch_of_writer) {
  out += fmt::format("{{\"type\":\"append\",\"log\":{},\"index\":{},\"node\":{},\"writer\":{},"
                     "\"epoch\":{},\"payload_hash\":{},\"payload_size\":{},\"invoked_ns\":{}",
                     log, index, a.node, a.writer_index, a.epoch, hash_hex(a.payload_hash),
                     a.payload_size, ns(a.invoked));
  // An abandoned append's "completion" is the crash that cut it off: kept, it says when.
  if (a.outcome != AppendOutcome::pending) {
    out += fmt::format(",\"completed_ns\":{}", ns(a.completed));
  }
  out += fmt::format(",\"outcome\":\"{}\"", append_outcome_name(a.outcome));
  if (a.outcome == AppendOutcome::ok) out += fmt::format(",\"id\":{}", a.id);
  out += error_field(a.error);
  if (a.key) {
    out += fmt::format(",\"key\":{{\"producer\":{},\"sequence\":{}}}", a.key->producer_id,
                       a.key->sequence);
  }
  if (!a.resends.empty()) {
    out += ",\"resends\":[";
    for (size_t i = 0; i < a.resends.size(); ++i) {
      const AppendAttempt& r = a.resends[i];
      const auto epoch = epoch_of_writer.find(r.writer_index);
      out += fmt::format("{}{{\"writer\":{},\"epoch\":{},\"invoked_ns\":{}}}", i == 0 ? "" : ",",
                         r.writer_index, epoch == epoch_of_writer.end() ? 0 : epoch->second,
                         ns(r.invoked));
    }
    out += "]";
  }
  out += "}\n";
}

void final_lines(std::string& out, const FinalLog& f, const std::string& log) {
  if (!f.ended) return;  // the heal stopped before the final read: there is none to report
  const EntryId end = f.first_kept + f.ids.size();
  out += fmt::format("{{\"type\":\"final\",\"log\":{},\"outcome\":\"{}\",\"at_ns\":{}", log,
                     f.read_ok ? "ok" : "failed", ns(f.at));
  if (f.read_ok) out += fmt::format(",\"first_kept\":{},\"end\":{}", f.first_kept, end);
  out += error_field(f.error) + "}\n";
  if (!f.read_ok) return;
  for (size_t i = 0; i < f.ids.size(); ++i) {
    out += fmt::format("{{\"type\":\"final_entry\",\"log\":{},\"id\":{},\"payload_hash\":{}}}\n",
                       log, f.ids[i], hash_hex(f.payload_hashes[i]));
  }
}

}  // namespace

std::string history_to_jsonl(const History& history, const HistoryHeader& header) {
  const std::string log = json_string(header.log);
  std::string out = fmt::format("{{\"type\":\"header\",\"format\":\"{}\",\"version\":{},"
                                "\"source\":{},\"run\":{}}}\n",
                                history_format_name, history_format_version,
                                json_string(header.source), header.run_json);
  std::map<uint64_t, Epoch> epoch_of_writer;
  for (const WriterOpenRecord& o : history.opens) {
    epoch_of_writer[o.writer_index] = o.epoch;
    out += fmt::format("{{\"type\":\"open\",\"log\":{},\"writer\":{},\"node\":{},\"epoch\":{},"
                       "\"opened_ns\":{}}}\n",
                       log, o.writer_index, o.node, o.epoch, ns(o.opened));
  }
  for (size_t i = 0; i < history.appends.size(); ++i) {
    append_line(out, history.appends[i], i, log, epoch_of_writer);
  }
  for (const TruncateRecord& t : history.truncations) {
    out += fmt::format("{{\"type\":\"truncate\",\"log\":{},\"node\":{},\"point\":{},"
                       "\"invoked_ns\":{}",
                       log, t.node, t.point, ns(t.invoked));
    if (resolved(t.outcome)) out += fmt::format(",\"completed_ns\":{}", ns(t.completed));
    out += fmt::format(",\"outcome\":\"{}\"{}}}\n", append_outcome_name(t.outcome),
                       error_field(t.error));
  }
  for (const ReadRecord& r : history.reads) {
    out += fmt::format("{{\"type\":\"read\",\"log\":{},\"node\":{},\"session\":{},\"id\":{},"
                       "\"payload_hash\":{},\"at_ns\":{}}}\n",
                       log, r.node, r.session, r.id, hash_hex(r.payload_hash), ns(r.at));
  }
  final_lines(out, history.final_log, log);
  return out;
}

Status write_history(const std::string& path, const History& history,
                     const HistoryHeader& header) {
  std::ofstream out(path, std::ios::binary);
  out << history_to_jsonl(history, header);
  out.flush();
  if (!out) return make_error(Errc::io_error, "cannot write " + path);
  return Status{};
}

}  // namespace wal::sim
