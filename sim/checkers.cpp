#include "sim/checkers.h"

#include <algorithm>
#include <map>

#include <fmt/core.h>

#include "sim/checker_support.h"

namespace wal::sim {

using checker_support::observe;
using checker_support::Observed;

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

namespace checker_support {

std::vector<Anomaly> durability(const History& history, const Observed& observed) {
  std::vector<Anomaly> out;
  const FinalLog& log = history.final_log;
  if (!log.read_ok) return out;
  for (const AppendRecord& a : history.appends) {
    if (a.outcome != AppendOutcome::ok || a.id < log.first_kept) continue;
    const auto found = observed.final_id.find(a.payload_hash);
    if (found == observed.final_id.end()) {
      add(out, "lost_write", fmt::format("{} was acknowledged as id {} but is not in the log "
                                         "(first kept {}, {} entries)",
                                         who(a), a.id, log.first_kept, log.ids.size()));
    } else if (found->second != a.id) {
      add(out, "moved_write", fmt::format("{} was acknowledged as id {} but sits at id {}", who(a),
                                          a.id, found->second));
    }
  }
  return out;
}

namespace {

// Readers: consecutive ids within a session, whatever the final log says.
void check_sessions(const History& history, std::vector<Anomaly>& out) {
  std::map<std::pair<uint32_t, uint64_t>, EntryId> last_in_session;
  for (const ReadRecord& r : history.reads) {
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
}

void check_final_log_shape(const History& history, const Observed& observed,
                           std::vector<Anomaly>& out) {
  const FinalLog& log = history.final_log;
  for (size_t i = 0; i < log.ids.size(); ++i) {
    const EntryId expected = log.first_kept + i;
    if (log.ids[i] != expected) {
      add(out, "id_gap", fmt::format("final log position {} has id {}, expected {}", i,
                                     log.ids[i], expected));
      break;
    }
  }
  std::unordered_map<uint64_t, EntryId> seen;
  for (size_t i = 0; i < log.ids.size(); ++i) {
    const auto [it, fresh] = seen.emplace(log.payload_hashes[i], log.ids[i]);
    if (!fresh) {
      add(out, "duplicate_entry", fmt::format("ids {} and {} hold the same entry", it->second,
                                              log.ids[i]));
    }
  }
  for (size_t i = 0; i < log.ids.size(); ++i) {
    if (observed.append_of.count(log.payload_hashes[i]) == 0) {
      add(out, "phantom_entry", fmt::format("id {} holds bytes no append sent", log.ids[i]));
    }
  }
  // Readers: same bytes as the final log for every id still kept, nothing past its end.
  const EntryId end = log.first_kept + log.ids.size();
  for (const ReadRecord& r : history.reads) {
    if (r.id >= end) {
      add(out, "phantom_read", fmt::format("node {} read id {} at {}ms; the log ends at {}",
                                           r.node, r.id, ms(r.at), end));
    } else if (r.id >= log.first_kept &&
               log.payload_hashes[r.id - log.first_kept] != r.payload_hash) {
      add(out, "divergent_read", fmt::format("node {} read other bytes for id {} at {}ms than "
                                             "the final log holds", r.node, r.id, ms(r.at)));
    }
  }
}

}  // namespace

std::vector<Anomaly> ordering(const History& history, const Observed& observed) {
  std::vector<Anomaly> out;
  if (history.final_log.read_ok) check_final_log_shape(history, observed, out);
  check_sessions(history, out);
  return out;
}

std::vector<Anomaly> fencing(const History& history, const Observed& observed) {
  std::vector<Anomaly> out;
  const std::map<uint64_t, Epoch>& epoch_of_writer = observed.epoch_of_writer;
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
    // Seen in the final log or by a reader, or acknowledged: either way the WAL let it through.
    const bool visible = observed.visible(a.payload_hash);
    if (!visible && a.outcome != AppendOutcome::ok) continue;
    const WriterOpenRecord* open = fenced_by(a.writer_index, a.invoked);
    if (open == nullptr) continue;
    // Keyed re-sends: the entry may be the work of any of them; one unfenced sender explains it.
    bool explained = false;
    for (const AppendAttempt& resend : a.resends) {
      explained = explained || fenced_by(resend.writer_index, resend.invoked) == nullptr;
    }
    if (explained) continue;
    add(out, visible ? "fenced_write_visible" : "fenced_write_acknowledged",
        fmt::format("{} (epoch {}) is {} although writer #{} (epoch {}) opened at {}ms{}",
                    who(a), epoch_of_writer.at(a.writer_index),
                    visible ? "visible" : fmt::format("acknowledged as id {}", a.id),
                    open->writer_index, open->epoch, ms(open->opened),
                    a.resends.empty() ? "" : fmt::format(" (and all {} re-sends were fenced too)",
                                                          a.resends.size())));
  }
  return out;
}

std::vector<Anomaly> outcomes(const History& history, const Observed& observed) {
  std::vector<Anomaly> out;
  for (const AppendRecord& a : history.appends) {
    if (a.outcome != AppendOutcome::failed_definite) continue;
    if (const auto id = observed.id_of(a.payload_hash)) {
      add(out, "definite_failure_visible",
          fmt::format("{} failed definitely ({}) but is in the log at id {}", who(a), a.error,
                      *id));
    }
  }
  return out;
}

std::vector<Anomaly> linearizable(const History& history, const Observed& observed) {
  std::vector<Anomaly> out;
  // Real-time order: once id k was acknowledged or read, an append invoked later gets an id
  // above k. Appends count with the id they are known by: acknowledged, or where they were seen
  // (so an unknown or abandoned append that became visible counts at its visible position).
  std::vector<std::pair<TimePoint, EntryId>> known_to_exist;  // (when, id)
  for (const AppendRecord& a : history.appends) {
    if (a.outcome == AppendOutcome::ok) known_to_exist.emplace_back(a.completed, a.id);
  }
  for (const ReadRecord& r : history.reads) known_to_exist.emplace_back(r.at, r.id);
  std::sort(known_to_exist.begin(), known_to_exist.end());
  std::vector<EntryId> prefix_max(known_to_exist.size());
  for (size_t i = 0; i < known_to_exist.size(); ++i) {
    prefix_max[i] = std::max(i > 0 ? prefix_max[i - 1] : 0, known_to_exist[i].second);
  }
  std::map<uint64_t, std::vector<std::pair<TimePoint, EntryId>>> by_writer;
  for (const AppendRecord& a : history.appends) {
    const std::optional<EntryId> id = known_id(a, observed);
    if (!id) continue;
    by_writer[a.writer_index].emplace_back(a.invoked, *id);
    const auto before = std::lower_bound(known_to_exist.begin(), known_to_exist.end(),
                                         std::make_pair(a.invoked, EntryId{0}));
    if (before == known_to_exist.begin()) continue;
    const size_t index = static_cast<size_t>(before - known_to_exist.begin()) - 1;
    if (prefix_max[index] >= *id) {
      add(out, "order_violation", fmt::format("{} has id {} but id {} was acknowledged or read "
                                              "before it was invoked", who(a), *id,
                                              prefix_max[index]));
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

}  // namespace checker_support

std::vector<Anomaly> check_durability(const History& h) { return durability(h, observe(h)); }
std::vector<Anomaly> check_history(const History& h) { return whole_history(h, observe(h)); }
std::vector<Anomaly> check_ordering(const History& h) { return ordering(h, observe(h)); }
std::vector<Anomaly> check_fencing(const History& h) { return fencing(h, observe(h)); }
std::vector<Anomaly> check_outcomes(const History& h) { return outcomes(h, observe(h)); }
std::vector<Anomaly> check_linearizable(const History& h) { return linearizable(h, observe(h)); }

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
                              count, log.first_kept, lowest->id, checker_support::who(*lowest), log.error)}};
}

std::vector<Anomaly> check_fenced_answers(const History& history) {
  std::vector<Anomaly> out;
  // "Fenced" tells the client a newer writer took over; said while the writer's own epoch was
  // still the newest, it is a wrong definite answer (e.g. its own seal, landed late, taken for
  // a newer writer's).
  for (const FencedRecord& f : history.fenced) {
    if (f.newest_epoch > f.epoch) continue;
    checker_support::add(
        out, "fenced_without_newer_writer",
        fmt::format("node {} writer #{} (epoch {}) was told at {}ms it is fenced ({}), but the "
                    "newest epoch was {}",
                    f.node, f.writer_index, f.epoch, checker_support::ms(f.at), f.error,
                    f.newest_epoch));
  }
  return out;
}

std::vector<Anomaly> check_safety(const History& history) {
  const Observed observed = observe(history);
  std::vector<Anomaly> all;
  for (auto checker : {checker_support::durability, checker_support::whole_history,
                       checker_support::ordering, checker_support::fencing,
                       checker_support::outcomes, checker_support::linearizable}) {
    std::vector<Anomaly> found = checker(history, observed);
    all.insert(all.end(), found.begin(), found.end());
  }
  return all;
}

}  // namespace wal::sim
