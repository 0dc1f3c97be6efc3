#include "tests/property/history_model_support.h"

#include <algorithm>
#include <map>

namespace wal::sim::model {

namespace {

TimePoint at_ms(int64_t ms) { return TimePoint{} + std::chrono::milliseconds(ms); }
int64_t ms_of(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The model log and the clients' state while a script plays.
class Player {
 public:
  History play(const Script& script) {
    open_writer();
    for (const Step& step : script.steps) {
      now_ += step.gap_ms;
      switch (step.kind) {
        case StepKind::append: append(step); break;
        case StepKind::open_writer: open_writer(); break;
        case StepKind::crash: crash(); break;
        case StepKind::read: read(); break;
        case StepKind::new_session: ++session_; break;
        case StepKind::truncate: truncate(step); break;
        case StepKind::zombie: zombie(step); break;
      }
    }
    finish();
    return std::move(history_);
  }

 private:
  void open_writer() {
    // A new writer's open completes after every entry that took effect so far: its recovery
    // found them all.
    now_ = std::max(now_, last_effect_ + 1);
    ++epoch_;
    in_flight_.clear();  // the old writer's calls go on in its own process, a zombie now
    writer_ = history_.opens.size() + 1;
    history_.opens.push_back(WriterOpenRecord{writer_, 1, epoch_, at_ms(now_)});
  }

  void append(const Step& step) {
    AppendRecord a;
    a.node = 1;
    a.writer_index = writer_;
    a.epoch = epoch_;
    a.payload_hash = 1000 + history_.appends.size();
    a.payload_size = 16;
    a.invoked = at_ms(now_);
    // The effect comes after the invocation and after the previous effect (ids go in order).
    const int64_t effect = std::max<int64_t>(now_ + step.delay_ms, last_effect_ + 1);
    a.completed = at_ms(effect + step.latency_ms);
    switch (step.fate) {
      case Fate::ok: a.outcome = AppendOutcome::ok; break;
      case Fate::unknown_taken:
      case Fate::unknown_lost: a.outcome = AppendOutcome::failed_unknown; break;
      case Fate::definite: a.outcome = AppendOutcome::failed_definite; break;
    }
    if (step.fate == Fate::ok || step.fate == Fate::unknown_taken) {
      a.id = log_.size();
      if (a.outcome != AppendOutcome::ok) a.id = 0;
      effect_of_id_.push_back(effect);
      log_.push_back(a.payload_hash);
      last_effect_ = effect;
    }
    in_flight_.push_back(history_.appends.size());
    history_.appends.push_back(a);
  }

  // The writer's process dies: what is still in flight is abandoned (taken or not, as
  // played); a new writer opens.
  void crash() {
    for (size_t index : in_flight_) {
      AppendRecord& a = history_.appends[index];
      if (ms_of(a.completed) <= now_) continue;
      a.outcome = AppendOutcome::abandoned;
      a.id = 0;
      a.completed = at_ms(now_);
    }
    in_flight_.clear();
    open_writer();
  }

  // The previous writer, fenced, tries once more: it fails, and nothing takes effect.
  void zombie(const Step& step) {
    if (writer_ < 2) return;
    AppendRecord a;
    a.node = 2;
    a.writer_index = writer_ - 1;
    a.epoch = history_.opens[writer_ - 2].epoch;
    a.payload_hash = 1000 + history_.appends.size();
    a.payload_size = 16;
    a.invoked = at_ms(now_);
    a.completed = at_ms(now_ + step.latency_ms);
    a.outcome = step.fate == Fate::definite ? AppendOutcome::failed_definite
                                            : AppendOutcome::failed_unknown;
    a.error = "fenced";
    history_.appends.push_back(a);
  }

  void read() {
    // A new session starts at the truncation point; reads go on from where it is.
    auto [cursor, fresh] = cursor_.emplace(session_, truncation_point_);
    (void)fresh;
    if (cursor->second >= log_.size()) return;
    const int64_t ready = effect_of_id_[cursor->second];
    now_ = std::max(now_, ready);
    history_.reads.push_back(ReadRecord{3, session_, cursor->second, log_[cursor->second],
                                        at_ms(now_)});
    ++cursor->second;
  }

  void truncate(const Step& step) {
    if (log_.empty()) return;
    const EntryId point = log_.size() - std::min<uint64_t>(step.delay_ms % 8, log_.size());
    truncation_point_ = std::max(truncation_point_, point);
    history_.truncations.push_back(
        TruncateRecord{4, point, at_ms(now_), at_ms(now_ + 1), AppendOutcome::ok, {}});
    ++session_;  // readers behind the point start again
  }

  void finish() {
    int64_t end = now_;
    for (const AppendRecord& a : history_.appends) end = std::max(end, ms_of(a.completed));
    FinalLog& log = history_.final_log;
    log.ended = true;
    log.read_ok = true;
    log.at = at_ms(end + 1);
    log.first_kept = truncation_point_;
    for (EntryId id = truncation_point_; id < log_.size(); ++id) {
      log.ids.push_back(id);
      log.payload_hashes.push_back(log_[id]);
    }
  }

  History history_;
  std::vector<uint64_t> log_;            // payload hash by id
  std::vector<int64_t> effect_of_id_;    // when each id took effect (ms)
  std::vector<size_t> in_flight_;        // the current writer's appends
  std::map<uint64_t, EntryId> cursor_;   // reader session -> next id
  int64_t now_ = 10;
  int64_t last_effect_ = 0;
  Epoch epoch_ = 0;
  uint64_t writer_ = 0;
  uint64_t session_ = 1;
  EntryId truncation_point_ = 0;
};

}  // namespace

History build_history(const Script& script) { return Player().play(script); }

std::string_view mutation_name(Mutation mutation) {
  switch (mutation) {
    case Mutation::drop_acknowledged: return "drop_acknowledged";
    case Mutation::swap_ids: return "swap_ids";
    case Mutation::duplicate_entry: return "duplicate_entry";
    case Mutation::read_before_append: return "read_before_append";
    case Mutation::fenced_entry_through: return "fenced_entry_through";
  }
  return "?";
}

namespace {

template <typename T>
const T* pick(const std::vector<const T*>& options, uint64_t choice) {
  return options.empty() ? nullptr : options[choice % options.size()];
}

bool seen(const History& h, uint64_t payload) {
  for (uint64_t p : h.final_log.payload_hashes) {
    if (p == payload) return true;
  }
  for (const ReadRecord& r : h.reads) {
    if (r.payload_hash == payload) return true;
  }
  return false;
}

bool drop_acknowledged(History& h, uint64_t choice) {
  std::vector<const AppendRecord*> kept;
  for (const AppendRecord& a : h.appends) {
    if (a.outcome == AppendOutcome::ok && a.id >= h.final_log.first_kept) kept.push_back(&a);
  }
  const AppendRecord* victim = pick(kept, choice);
  if (victim == nullptr) return false;
  FinalLog& log = h.final_log;
  const size_t position = victim->id - log.first_kept;
  log.ids.erase(log.ids.begin() + static_cast<std::ptrdiff_t>(position));
  log.payload_hashes.erase(log.payload_hashes.begin() + static_cast<std::ptrdiff_t>(position));
  return true;
}

bool swap_ids(History& h, uint64_t choice) {
  std::vector<AppendRecord*> acked;
  for (AppendRecord& a : h.appends) {
    if (a.outcome == AppendOutcome::ok) acked.push_back(&a);
  }
  if (acked.size() < 2) return false;
  // The first of the pair is seen (in the final log or by a reader): a swap of two entries
  // nobody saw cannot be told from the truth.
  std::vector<size_t> visible;
  for (size_t i = 0; i < acked.size(); ++i) {
    if (seen(h, acked[i]->payload_hash)) visible.push_back(i);
  }
  if (visible.empty()) return false;
  const size_t first = visible[choice % visible.size()];
  const size_t second = (first + 1 + (choice / 7) % (acked.size() - 1)) % acked.size();
  std::swap(acked[first]->id, acked[second]->id);
  return true;
}

bool duplicate_entry(History& h, uint64_t choice) {
  FinalLog& log = h.final_log;
  if (log.ids.empty()) return false;
  const size_t copied = choice % log.ids.size();
  log.payload_hashes.push_back(log.payload_hashes[copied]);
  log.ids.push_back(log.first_kept + log.ids.size());
  return true;
}

bool read_before_append(History& h, uint64_t choice) {
  if (h.reads.empty()) return false;
  ReadRecord& r = h.reads[choice % h.reads.size()];
  for (const AppendRecord& a : h.appends) {
    if (a.payload_hash == r.payload_hash) {
      r.at = a.invoked - std::chrono::milliseconds(1);
      return true;
    }
  }
  return false;
}

bool fenced_entry_through(History& h, uint64_t choice) {
  std::vector<AppendRecord*> candidates;
  for (AppendRecord& a : h.appends) {
    // Written (acknowledged or seen) by writer k >= 2, so writer k - 1 was fenced when it was
    // invoked (writer k opened before).
    const bool written = a.outcome == AppendOutcome::ok || seen(h, a.payload_hash);
    if (written && a.writer_index >= 2 && a.invoked > h.opens[a.writer_index - 1].opened) {
      candidates.push_back(&a);
    }
  }
  if (candidates.empty()) return false;
  AppendRecord& a = *candidates[choice % candidates.size()];
  a.writer_index -= 1;
  a.epoch = h.opens[a.writer_index - 1].epoch;
  return true;
}

}  // namespace

bool mutate(History& history, Mutation mutation, uint64_t choice) {
  switch (mutation) {
    case Mutation::drop_acknowledged: return drop_acknowledged(history, choice);
    case Mutation::swap_ids: return swap_ids(history, choice);
    case Mutation::duplicate_entry: return duplicate_entry(history, choice);
    case Mutation::read_before_append: return read_before_append(history, choice);
    case Mutation::fenced_entry_through: return fenced_entry_through(history, choice);
  }
  return false;
}

}  // namespace wal::sim::model
