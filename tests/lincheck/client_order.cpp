#include "tests/lincheck/client_order.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/core.h>

namespace lincheck {

namespace {

void check_readers(const LogHistory& log, std::vector<Finding>& out) {
  std::map<std::pair<uint64_t, uint64_t>, std::vector<const Read*>> sessions;
  for (const Read& r : log.reads) sessions[{r.node, r.session}].push_back(&r);
  for (auto& [session, reads] : sessions) {
    std::stable_sort(reads.begin(), reads.end(),
                     [](const Read* x, const Read* y) { return x->at_ns < y->at_ns; });
    for (size_t i = 1; i < reads.size(); ++i) {
      if (reads[i]->id == reads[i - 1]->id + 1) continue;
      out.push_back(Finding{"reader_order",
                            fmt::format("node {} session {}: id {} (line {}) came after id {} "
                                        "(line {})", session.first, session.second,
                                        reads[i]->id, reads[i]->line, reads[i - 1]->id,
                                        reads[i - 1]->line)});
      break;  // one per session is enough to read
    }
  }
}

void check_writers(const LogHistory& log, std::vector<Finding>& out) {
  std::unordered_map<uint64_t, uint64_t> seen_at;  // payload -> id: final read, then readers
  if (log.final_read) {
    for (const auto& [id, payload] : log.final_read->entries) seen_at.emplace(payload, id);
  }
  for (const Read& r : log.reads) seen_at.emplace(r.payload, r.id);
  struct Call {
    int64_t invoked_ns;
    uint64_t id;
    size_t line;
  };
  std::map<uint64_t, std::vector<Call>> calls_of_writer;
  for (const Append& a : log.appends) {
    std::optional<uint64_t> id = a.id;
    if (!id) {
      const auto found = seen_at.find(a.payload);
      if (found != seen_at.end()) id = found->second;
    }
    if (id) calls_of_writer[a.writer].push_back(Call{a.invoked_ns, *id, a.line});
  }
  for (auto& [writer, calls] : calls_of_writer) {
    std::stable_sort(calls.begin(), calls.end(),
                     [](const Call& x, const Call& y) { return x.invoked_ns < y.invoked_ns; });
    for (size_t i = 1; i < calls.size(); ++i) {
      const Call& earlier = calls[i - 1];
      const Call& later = calls[i];
      if (later.invoked_ns == earlier.invoked_ns || later.id > earlier.id) continue;
      out.push_back(Finding{"writer_order",
                            fmt::format("writer {}: the append of line {} got id {}, not above "
                                        "id {} of the append of line {} invoked before it",
                                        writer, later.line, later.id, earlier.id, earlier.line)});
      break;
    }
  }
}

}  // namespace

std::vector<Finding> check_client_order(const LogHistory& log) {
  std::vector<Finding> out;
  check_readers(log, out);
  check_writers(log, out);
  return out;
}

}  // namespace lincheck
