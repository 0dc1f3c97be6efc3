// The whole-history rules: judged on everything clients were told and saw during the run, not
// only on the final log, so a loss that a later truncation removed from the log is still found.
#include <algorithm>
#include <unordered_map>

#include <fmt/core.h>

#include "sim/checker_support.h"

namespace wal::sim::checker_support {

namespace {

// An id is acknowledged to one payload only; a payload sits at one id only.
void check_acknowledged_ids(const History& history, const Observed& observed,
                            std::vector<Anomaly>& out) {
  std::unordered_map<EntryId, const AppendRecord*> acknowledged;
  for (const AppendRecord& a : history.appends) {
    if (a.outcome != AppendOutcome::ok) continue;
    const auto [first, fresh] = acknowledged.emplace(a.id, &a);
    if (!fresh && first->second->payload_hash != a.payload_hash) {
      add(out, "conflicting_ack",
          fmt::format("id {} was acknowledged twice, with other bytes: {}, then {}", a.id,
                      who(*first->second), who(a)));
    }
    const auto read = observed.read_id.find(a.payload_hash);
    if (read != observed.read_id.end() && read->second != a.id) {
      add(out, "moved_write", fmt::format("{} was acknowledged as id {} but a reader saw it at "
                                          "id {}", who(a), a.id, read->second));
    }
  }
}

// Every read of an id returns the same bytes for the whole run, before and after truncation,
// and those of the append acknowledged with that id; no payload is read at two ids.
void check_reads(const History& history, std::vector<Anomaly>& out) {
  // id -> the first to say what it holds: an acknowledged append, else a read.
  struct Source {
    uint64_t hash = 0;
    const AppendRecord* append = nullptr;
    const ReadRecord* read = nullptr;
  };
  std::unordered_map<EntryId, Source> bytes_of;
  for (const AppendRecord& a : history.appends) {
    if (a.outcome == AppendOutcome::ok) bytes_of.emplace(a.id, Source{a.payload_hash, &a, nullptr});
  }
  std::unordered_map<uint64_t, const ReadRecord*> first_read_of;  // payload hash -> first read
  for (const ReadRecord& r : history.reads) {
    const auto [known, fresh] = bytes_of.emplace(r.id, Source{r.payload_hash, nullptr, &r});
    if (!fresh && known->second.hash != r.payload_hash) {
      const Source& s = known->second;
      add(out, "divergent_read",
          fmt::format("node {} read other bytes for id {} at {}ms than the {}", r.node, r.id,
                      ms(r.at),
                      s.append != nullptr ? who(*s.append)
                                          : fmt::format("node {} read at {}ms", s.read->node,
                                                        ms(s.read->at))));
    }
    const auto [first, first_time] = first_read_of.emplace(r.payload_hash, &r);
    if (!first_time && first->second->id != r.id) {
      add(out, "duplicate_entry", fmt::format("readers saw the same entry at ids {} and {}",
                                              first->second->id, r.id));
    }
  }
}

// A read returns bytes some append sent, and not before that append was invoked.
void check_read_sources(const History& history, const Observed& observed,
                        std::vector<Anomaly>& out) {
  for (const ReadRecord& r : history.reads) {
    const auto append = observed.append_of.find(r.payload_hash);
    if (append == observed.append_of.end()) {
      add(out, "phantom_read", fmt::format("node {} read id {} at {}ms: bytes no append sent",
                                           r.node, r.id, ms(r.at)));
    } else if (r.at < append->second->invoked) {
      add(out, "premature_read", fmt::format("node {} read id {} at {}ms, before its {}", r.node,
                                             r.id, ms(r.at), who(*append->second)));
    }
  }
}

// Truncation never removes anything above the highest point asked for (by a call that may
// have taken effect).
void check_truncation(const History& history, std::vector<Anomaly>& out) {
  const FinalLog& log = history.final_log;
  if (!log.read_ok) return;
  EntryId bound = 0;
  for (const TruncateRecord& t : history.truncations) {
    if (t.outcome != AppendOutcome::failed_definite) bound = std::max(bound, t.point);
  }
  if (log.first_kept > bound) {
    add(out, "over_truncation", fmt::format("the final log starts at id {}, but no truncation "
                                            "that may have taken effect asked for more than {}",
                                            log.first_kept, bound));
  }
}

}  // namespace

std::vector<Anomaly> whole_history(const History& history, const Observed& observed) {
  std::vector<Anomaly> out;
  check_acknowledged_ids(history, observed, out);
  check_reads(history, out);
  check_read_sources(history, observed, out);
  check_truncation(history, out);
  check_ids_accounted(history, observed, out);
  return out;
}

}  // namespace wal::sim::checker_support
