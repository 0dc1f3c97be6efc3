#include "tests/lincheck/log_model.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <fmt/core.h>

namespace lincheck {

namespace {

constexpr size_t none = static_cast<size_t>(-1);

std::string hex(uint64_t payload) { return fmt::format("{:016x}", payload); }

}  // namespace

Model::Model(const LogHistory& log) {
  if (log.final_read) final_ = &*log.final_read;
  // Where the history saw each payload: the final read first, then the readers.
  std::unordered_map<uint64_t, uint64_t> seen;
  seen.reserve(log.reads.size() + (final_ != nullptr ? final_->entries.size() : 0));
  std::vector<uint64_t> observed;
  if (final_ != nullptr) {
    for (const auto& [id, payload] : final_->entries) {
      seen.emplace(payload, id);
      observed.push_back(id);
    }
  }
  for (const Read& r : log.reads) {
    seen.emplace(r.payload, r.id);
    observed.push_back(r.id);
  }
  ops_.reserve(log.opens.size() + 2 * log.appends.size() + log.reads.size() +
               log.truncations.size() + 1);
  entries_.reserve(log.appends.size());
  for (const Open& o : log.opens) {
    ops_.push_back(Op{OpKind::open, o.opened_ns, o.opened_ns, o.epoch, o.writer, 0, 0, 0, o.line});
  }
  for (const Append& a : log.appends) {
    if (a.id) observed.push_back(*a.id);
    const auto found = seen.find(a.payload);
    add_append(a, found == seen.end() ? std::nullopt : std::optional<uint64_t>(found->second));
  }
  add_reads_truncations_final(log);
  find_free_ids(observed);
  entry_id_.assign(entries_.size(), std::nullopt);
}

void Model::add_append(const Append& a, std::optional<uint64_t> seen_at) {
  const bool original_may_act = a.outcome != Outcome::failed_definite;
  if (!original_may_act && a.resends.empty()) return;  // it did not happen: no operation
  const size_t entry_index = entries_.size();
  entries_.push_back(Entry{a.payload, a.id ? a.id : seen_at, a.keyed, a.line});
  const bool single = a.outcome == Outcome::ok && a.resends.empty();
  // An acknowledged append with one sender must take effect before its return; any other
  // attempt may take effect whenever (or never), and an acknowledgement is then a confirm.
  if (original_may_act) {
    ops_.push_back(Op{OpKind::attempt, a.invoked_ns, single ? a.completed_ns : std::nullopt,
                      a.epoch, a.writer, entry_index, 0, 0, a.line});
  }
  for (const Resend& r : a.resends) {
    ops_.push_back(Op{OpKind::attempt, r.invoked_ns, std::nullopt, r.epoch, r.writer,
                      entry_index, 0, 0, a.line});
  }
  if (a.outcome == Outcome::ok && !single) {
    ops_.push_back(Op{OpKind::confirm, *a.completed_ns, *a.completed_ns, 0, 0, entry_index,
                      *a.id, 0, a.line});
  }
}

void Model::add_reads_truncations_final(const LogHistory& log) {
  for (const Read& r : log.reads) {
    ops_.push_back(Op{OpKind::read, r.invoked_ns.value_or(r.at_ns), r.at_ns, 0, 0, 0, r.id,
                      r.payload, r.line});
  }
  for (const Truncate& t : log.truncations) {
    if (t.outcome == Outcome::failed_definite) continue;  // it did not happen
    ops_.push_back(Op{OpKind::truncate, t.invoked_ns,
                      t.outcome == Outcome::ok ? t.completed_ns : std::nullopt, 0, 0, 0,
                      t.point, 0, t.line});
  }
  if (final_ != nullptr) {
    ops_.push_back(Op{OpKind::final_read, final_->at_ns, final_->at_ns, 0, 0, 0, 0, 0,
                      final_->line});
  }
}

// Free ids: below every reachable id (each entry fills at most one) and, with a final read,
// below its end; not acknowledged or seen by anyone. Then which attempts may fill them, and
// which attempts may take which id.
void Model::find_free_ids(const std::vector<uint64_t>& observed) {
  free_limit_ = entries_.size();
  if (final_ != nullptr && final_->ok) free_limit_ = std::min<uint64_t>(free_limit_, final_->end);
  observed_ids_.assign(free_limit_, false);
  for (uint64_t id : observed) {
    if (id < free_limit_) observed_ids_[id] = true;
  }
  const auto free_count =
      static_cast<size_t>(std::count(observed_ids_.begin(), observed_ids_.end(), false));
  index_fillers(free_count);
  fillers_applied_.assign(fillers_of_writer_.size(), 0);
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    if (op.kind != OpKind::attempt) continue;
    const Entry& e = entries_[op.entry];
    if (e.target_id) {
      attempts_by_target_[*e.target_id].push_back(i);
    } else if (e.keyed) {
      keyed_fillers_.push_back(i);
    }
  }
}

// Fillers: attempts of entries seen nowhere. With F free ids at most F of them ever take
// effect; unkeyed ones of one writer fill in call order, so only the first F of each writer
// stay operations (the rest, often thousands of abandoned appends, could never go).
void Model::index_fillers(size_t free_count) {
  std::map<uint64_t, std::vector<size_t>> by_writer;
  std::vector<bool> dropped(ops_.size(), false);
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    if (op.kind != OpKind::attempt || entries_[op.entry].target_id) continue;
    if (free_count == 0) {
      dropped[i] = true;
    } else if (!entries_[op.entry].keyed) {
      by_writer[op.writer].push_back(i);
    }
  }
  for (auto& [writer, list] : by_writer) {
    std::stable_sort(list.begin(), list.end(),
                     [&](size_t x, size_t y) { return ops_[x].call_ns < ops_[y].call_ns; });
    for (size_t rank = free_count; rank < list.size(); ++rank) dropped[list[rank]] = true;
  }
  std::vector<Op> kept;
  for (size_t i = 0; i < ops_.size(); ++i) {
    if (!dropped[i]) kept.push_back(ops_[i]);
  }
  ops_ = std::move(kept);
  filler_rank_.assign(ops_.size(), none);
  writer_slot_of_op_.assign(ops_.size(), none);
  std::map<uint64_t, std::vector<size_t>> fillers;
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    if (op.kind == OpKind::attempt && !entries_[op.entry].target_id && !entries_[op.entry].keyed) {
      fillers[op.writer].push_back(i);
    }
  }
  for (auto& [writer, list] : fillers) {
    std::stable_sort(list.begin(), list.end(),
                     [&](size_t x, size_t y) { return ops_[x].call_ns < ops_[y].call_ns; });
    for (size_t rank = 0; rank < list.size(); ++rank) {
      filler_rank_[list[rank]] = rank;
      writer_slot_of_op_[list[rank]] = fillers_of_writer_.size();
    }
    fillers_of_writer_.push_back(list);
  }
}

void Model::attempts_for_next_id(std::vector<size_t>& out) const {
  const auto targeted = attempts_by_target_.find(next_id_);
  if (targeted != attempts_by_target_.end()) {
    for (size_t op : targeted->second) {
      if (!entry_id_[ops_[op].entry]) out.push_back(op);
    }
  }
  if (!is_free(next_id_)) return;
  for (size_t slot = 0; slot < fillers_of_writer_.size(); ++slot) {
    if (fillers_applied_[slot] < fillers_of_writer_[slot].size()) {
      out.push_back(fillers_of_writer_[slot][fillers_applied_[slot]]);
    }
  }
  for (size_t op : keyed_fillers_) {
    if (!entry_id_[ops_[op].entry]) out.push_back(op);
  }
}

bool Model::is_free(uint64_t id) const { return id < free_limit_ && !observed_ids_[id]; }

bool Model::is_greedy(size_t op_index) const {
  const OpKind kind = ops_[op_index].kind;
  return kind != OpKind::open && kind != OpKind::attempt;
}

bool Model::apply_attempt(const Op& op, std::string* why) {
  const Entry& e = entries_[op.entry];
  if (entry_id_[op.entry]) {
    if (why) *why = fmt::format("its entry is in the log already, at id {}", *entry_id_[op.entry]);
    return false;
  }
  if (op.epoch != epoch_) {
    if (why) {
      *why = fmt::format("its writer's epoch {} is not current (epoch {} is)", op.epoch, epoch_);
    }
    return false;
  }
  const size_t slot = writer_slot_of_op_[&op - ops_.data()];
  if (e.target_id) {
    if (*e.target_id != next_id_) {
      if (why) {
        *why = fmt::format("it must land at id {}, but the next id is {}", *e.target_id,
                           next_id_);
      }
      return false;
    }
  } else {
    if (!is_free(next_id_)) {
      if (why) {
        *why = fmt::format("it was seen nowhere, and the next id {} is someone else's", next_id_);
      }
      return false;
    }
    if (slot != none && fillers_applied_[slot] != filler_rank_[&op - ops_.data()]) {
      if (why) *why = "an earlier unseen append of the same writer fills free ids first";
      return false;
    }
  }
  if (slot != none) ++fillers_applied_[slot];
  entry_id_[op.entry] = next_id_;
  payload_at_.push_back(e.payload);
  ++next_id_;
  return true;
}

bool Model::apply_final(std::string* why) const {
  if (!final_->ok) {
    if (why) *why = "the final read failed: " + final_->error;
    return false;
  }
  if (next_id_ != final_->end) {
    if (why) *why = fmt::format("the log ends at {}, not at {}", next_id_, final_->end);
    return false;
  }
  if (final_->first_kept > truncation_point_) {
    if (why) {
      *why = fmt::format("it starts at id {}, above the truncation point {}", final_->first_kept,
                         truncation_point_);
    }
    return false;
  }
  for (size_t i = 0; i < final_->entries.size(); ++i) {
    const auto [id, payload] = final_->entries[i];
    if (id != final_->first_kept + i || payload_at_[id] != payload) {
      if (why) {
        *why = fmt::format("its entry {} is id {} with payload {}; the log has {} there", i, id,
                           hex(payload),
                           id < payload_at_.size() ? hex(payload_at_[id]) : "nothing");
      }
      return false;
    }
  }
  return true;
}

bool Model::apply(size_t op_index, std::string* why) {
  const Op& op = ops_[op_index];
  switch (op.kind) {
    case OpKind::open:
      undo_values_.push_back(epoch_);
      epoch_ = std::max(epoch_, op.epoch);
      return true;
    case OpKind::attempt: return apply_attempt(op, why);
    case OpKind::confirm:
      if (entry_id_[op.entry] == op.id) return true;
      if (why) {
        *why = entry_id_[op.entry] ? fmt::format("its entry is at id {}", *entry_id_[op.entry])
                                   : std::string("its entry is not in the log");
      }
      return false;
    case OpKind::read:
      if (op.id < next_id_ && payload_at_[op.id] == op.payload) return true;
      if (why) {
        *why = op.id < next_id_ ? fmt::format("the log holds {} there", hex(payload_at_[op.id]))
                                : fmt::format("the log ends at {}", next_id_);
      }
      return false;
    case OpKind::truncate:
      undo_values_.push_back(truncation_point_);
      truncation_point_ = std::max(truncation_point_, op.id);
      return true;
    case OpKind::final_read: return apply_final(why);
  }
  return false;
}

void Model::undo(size_t op_index) {
  const Op& op = ops_[op_index];
  switch (op.kind) {
    case OpKind::open:
      epoch_ = undo_values_.back();
      undo_values_.pop_back();
      return;
    case OpKind::attempt: {
      const size_t slot = writer_slot_of_op_[op_index];
      if (slot != none) --fillers_applied_[slot];
      entry_id_[op.entry].reset();
      payload_at_.pop_back();
      --next_id_;
      return;
    }
    case OpKind::truncate:
      truncation_point_ = undo_values_.back();
      undo_values_.pop_back();
      return;
    case OpKind::confirm:
    case OpKind::read:
    case OpKind::final_read: return;
  }
}

std::string Model::describe(size_t op_index) const {
  const Op& op = ops_[op_index];
  switch (op.kind) {
    case OpKind::open:
      return fmt::format("open of writer {} with epoch {} at {} ns (line {})", op.writer, op.epoch,
                         op.call_ns, op.line);
    case OpKind::attempt: {
      const Entry& e = entries_[op.entry];
      return fmt::format("append by writer {} (epoch {}) invoked at {} ns, payload {}{} (line {})",
                         op.writer, op.epoch, op.call_ns, hex(e.payload),
                         e.target_id ? fmt::format(", at id {}", *e.target_id) : std::string(),
                         op.line);
    }
    case OpKind::confirm:
      return fmt::format("acknowledgement of a keyed append as id {} at {} ns (line {})", op.id,
                         op.call_ns, op.line);
    case OpKind::read:
      return fmt::format("read of id {} returning {} at {} ns (line {})", op.id, hex(op.payload),
                         *op.return_ns, op.line);
    case OpKind::truncate:
      return fmt::format("truncation below {} invoked at {} ns (line {})", op.id, op.call_ns,
                         op.line);
    case OpKind::final_read:
      return fmt::format("final read at {} ns (line {})", op.call_ns, op.line);
  }
  return "?";
}

}  // namespace lincheck
