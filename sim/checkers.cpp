#include "sim/checkers.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>

namespace wal::sim {

namespace {

constexpr size_t anomalies_max = 20;  // per checker: enough to read, bounded output

int64_t ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string who(const AppendRecord& a) {
  return fmt::format("append from node {} writer #{} invoked at {}ms ({})", a.node, a.writer_index,
                     ms(a.invoked), append_outcome_name(a.outcome));
}

// payload hash -> position in the final log
std::map<uint64_t, size_t> final_positions(const FinalLog& log) {
  std::map<uint64_t, size_t> positions;
  for (size_t i = 0; i < log.payload_hashes.size(); ++i) positions.emplace(log.payload_hashes[i], i);
  return positions;
}

void add(std::vector<Anomaly>& out, std::string name, std::string detail) {
  if (out.size() < anomalies_max) out.push_back(Anomaly{std::move(name), std::move(detail)});
}

}  // namespace

std::string_view append_outcome_name(AppendOutcome outcome) {
  switch (outcome) {
    case AppendOutcome::pending: return "pending";
    case AppendOutcome::ok: return "ok";
    case AppendOutcome::failed_definite: return "failed_definite";
    case AppendOutcome::failed_unknown: return "failed_unknown";
    case AppendOutcome::abandoned: return "abandoned";
  }
  WAL_UNREACHABLE();
}

std::vector<Anomaly> check_durability(const History& history) {
  std::vector<Anomaly> out;
  const FinalLog& log = history.final_log;
  const auto positions = final_positions(log);
  for (const AppendRecord& a : history.appends) {
    if (a.outcome != AppendOutcome::ok || a.id < log.first_kept) continue;
    const auto found = positions.find(a.payload_hash);
    if (found == positions.end()) {
      add(out, "lost_write", fmt::format("{} was acknowledged as id {} but is not in the log "
                                         "(first kept {}, {} entries)",
                                         who(a), a.id, log.first_kept, log.ids.size()));
    } else if (log.ids[found->second] != a.id) {
      add(out, "moved_write", fmt::format("{} was acknowledged as id {} but sits at id {}", who(a),
                                          a.id, log.ids[found->second]));
    }
  }
  return out;
}

std::vector<Anomaly> check_ordering(const History& history) {
  std::vector<Anomaly> out;
  const FinalLog& log = history.final_log;
  for (size_t i = 0; i < log.ids.size(); ++i) {
    const EntryId expected = log.first_kept + i;
    if (log.ids[i] != expected) {
      add(out, "id_gap", fmt::format("final log position {} has id {}, expected {}", i,
                                     log.ids[i], expected));
      break;
    }
  }
  std::map<uint64_t, EntryId> seen;
  for (size_t i = 0; i < log.ids.size(); ++i) {
    const auto [it, fresh] = seen.emplace(log.payload_hashes[i], log.ids[i]);
    if (!fresh) {
      add(out, "duplicate_entry", fmt::format("ids {} and {} hold the same entry", it->second,
                                              log.ids[i]));
    }
  }
  std::map<uint64_t, const AppendRecord*> by_hash;
  for (const AppendRecord& a : history.appends) by_hash.emplace(a.payload_hash, &a);
  for (size_t i = 0; i < log.ids.size(); ++i) {
    if (by_hash.count(log.payload_hashes[i]) == 0) {
      add(out, "phantom_entry", fmt::format("id {} holds bytes no append sent", log.ids[i]));
    }
  }
  // Readers: same bytes as the final log for every id still kept; consecutive within a session.
  const EntryId end = log.first_kept + log.ids.size();
  std::map<std::pair<uint32_t, uint64_t>, EntryId> last_in_session;
  for (const ReadRecord& r : history.reads) {
    if (r.id >= end) {
      add(out, "phantom_read", fmt::format("node {} read id {} at {}ms; the log ends at {}",
                                           r.node, r.id, ms(r.at), end));
    } else if (r.id >= log.first_kept && log.payload_hashes[r.id - log.first_kept] != r.payload_hash) {
      add(out, "divergent_read", fmt::format("node {} read other bytes for id {} at {}ms than "
                                             "the final log holds", r.node, r.id, ms(r.at)));
    }
    const auto key = std::make_pair(r.node, r.session);
    const auto previous = last_in_session.find(key);
    if (previous != last_in_session.end()) {
      if (r.id == previous->second) {
        add(out, "reader_duplicate", fmt::format("node {} read id {} twice in one session",
                                                 r.node, r.id));
      } else if (r.id != previous->second + 1) {
        add(out, "reader_gap", fmt::format("node {} read id {} right after id {}", r.node, r.id,
                                           previous->second));
      }
    }
    last_in_session[key] = r.id;
  }
  return out;
}

std::vector<Anomaly> check_fencing(const History& history) {
  std::vector<Anomaly> out;
  const auto positions = final_positions(history.final_log);
  std::map<uint64_t, Epoch> epoch_of_writer;
  for (const WriterOpenRecord& open : history.opens) epoch_of_writer[open.writer_index] = open.epoch;
  // The open that had fenced `writer_index` by `invoked`, if any.
  auto fenced_by = [&](uint64_t writer_index, TimePoint invoked) -> const WriterOpenRecord* {
    const auto epoch = epoch_of_writer.find(writer_index);
    if (epoch == epoch_of_writer.end()) return nullptr;
    for (const WriterOpenRecord& open : history.opens) {
      if (open.epoch > epoch->second && open.opened < invoked) return &open;
    }
    return nullptr;
  };
  for (const AppendRecord& a : history.appends) {
    if (positions.count(a.payload_hash) == 0) continue;
    const WriterOpenRecord* open = fenced_by(a.writer_index, a.invoked);
    if (open == nullptr) continue;
    // Keyed re-sends: the entry may be the work of any of them; one unfenced sender explains it.
    bool explained = false;
    for (const AppendAttempt& resend : a.resends) {
      explained = explained || fenced_by(resend.writer_index, resend.invoked) == nullptr;
    }
    if (explained) continue;
    add(out, "fenced_write_visible",
        fmt::format("{} (epoch {}) is visible although writer #{} (epoch {}) opened at {}ms{}",
                    who(a), epoch_of_writer.at(a.writer_index), open->writer_index, open->epoch,
                    ms(open->opened),
                    a.resends.empty() ? "" : fmt::format(" (and all {} re-sends were fenced too)",
                                                          a.resends.size())));
  }
  return out;
}

std::vector<Anomaly> check_outcomes(const History& history) {
  std::vector<Anomaly> out;
  const auto positions = final_positions(history.final_log);
  for (const AppendRecord& a : history.appends) {
    if (a.outcome == AppendOutcome::failed_definite && positions.count(a.payload_hash) > 0) {
      add(out, "definite_failure_visible",
          fmt::format("{} failed definitely ({}) but is in the log at id {}", who(a), a.error,
                      history.final_log.ids[positions.at(a.payload_hash)]));
    }
  }
  return out;
}

std::vector<Anomaly> check_linearizable(const History& history) {
  std::vector<Anomaly> out;
  const FinalLog& log = history.final_log;
  const auto positions = final_positions(log);
  // Real-time order: if X was acknowledged before Y was invoked and both are in the log, X
  // comes first. Unknown and abandoned appends count when visible, at their visible position.
  std::vector<std::pair<TimePoint, EntryId>> acknowledged;  // (completed, id), ok and visible
  for (const AppendRecord& a : history.appends) {
    if (a.outcome == AppendOutcome::ok && positions.count(a.payload_hash) > 0) {
      acknowledged.emplace_back(a.completed, log.ids[positions.at(a.payload_hash)]);
    }
  }
  std::sort(acknowledged.begin(), acknowledged.end());
  std::vector<EntryId> prefix_max(acknowledged.size());
  for (size_t i = 0; i < acknowledged.size(); ++i) {
    prefix_max[i] = std::max(i > 0 ? prefix_max[i - 1] : 0, acknowledged[i].second);
  }
  std::map<uint64_t, std::vector<std::pair<TimePoint, EntryId>>> by_writer;
  for (const AppendRecord& a : history.appends) {
    const auto found = positions.find(a.payload_hash);
    if (found == positions.end()) continue;
    const EntryId id = log.ids[found->second];
    by_writer[a.writer_index].emplace_back(a.invoked, id);
    const auto before = std::lower_bound(acknowledged.begin(), acknowledged.end(),
                                         std::make_pair(a.invoked, EntryId{0}));
    if (before == acknowledged.begin()) continue;
    const size_t index = static_cast<size_t>(before - acknowledged.begin()) - 1;
    if (prefix_max[index] > id) {
      add(out, "order_violation", fmt::format("{} sits at id {} but id {} was acknowledged before "
                                              "it was invoked", who(a), id, prefix_max[index]));
    }
  }
  for (auto& [writer, calls] : by_writer) {
    std::stable_sort(calls.begin(), calls.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t i = 1; i < calls.size(); ++i) {
      if (calls[i].first > calls[i - 1].first && calls[i].second < calls[i - 1].second) {
        add(out, "writer_order_violation",
            fmt::format("writer #{}: an append invoked at {}ms got id {}, before id {} of an "
                        "earlier call", writer, ms(calls[i].first), calls[i].second,
                        calls[i - 1].second));
      }
    }
  }
  return out;
}

std::vector<Anomaly> check_unreadable(const History& history) {
  const FinalLog& log = history.final_log;
  // Not read at all, or a read that never finished (a liveness failure): nothing to judge.
  if (log.read_ok || log.error.empty()) return {};
  uint64_t count = 0;
  const AppendRecord* lowest = nullptr;
  for (const AppendRecord& a : history.appends) {
    if (a.outcome != AppendOutcome::ok || a.id < log.first_kept) continue;
    ++count;
    if (lowest == nullptr || a.id < lowest->id) lowest = &a;
  }
  if (count == 0) return {};
  return {Anomaly{"unreadable_write",
                  fmt::format("{} acknowledged appends at or above the truncation point {} "
                              "cannot be read after the heal, from id {} ({}): {}",
                              count, log.first_kept, lowest->id, who(*lowest), log.error)}};
}

std::vector<Anomaly> check_safety(const History& history) {
  std::vector<Anomaly> all;
  for (auto checker : {check_durability, check_ordering, check_fencing, check_outcomes,
                       check_linearizable}) {
    std::vector<Anomaly> found = checker(history);
    all.insert(all.end(), found.begin(), found.end());
  }
  return all;
}

}  // namespace wal::sim
