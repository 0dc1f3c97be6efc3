#pragma once
// The log as a sequential object, and one log's history as operations on it.
//
// State: the entries (id -> payload, ids dense from 0), the current epoch (the highest writer
// open so far), the truncation point. Operations:
//   open(epoch)              the epoch becomes current (the highest seen stays current)
//   attempt(entry, writer)   the entry takes the next id, if its writer's epoch is current and
//                            the entry is not in the log yet; an attempt may also do nothing
//   confirm(entry, id)       the entry is in the log at id (a keyed append's acknowledgement)
//   read(id, payload)        the log holds payload at id
//   truncate(point)          ids below point may go from now on
//   final(first_kept, ...)   the log ends where the final read ended, holds what it returned
//                            from first_kept on, and first_kept is at most the truncation point
//
// An acknowledged append is one attempt that must take effect between its call and its return.
// An append whose outcome is unknown (or abandoned, or pending) is an attempt that never has to
// return: it may take effect at any later point or never. A keyed append re-sent by later
// writers is one attempt per sender, of which at most one takes effect (deduplication), plus a
// confirm at its acknowledgement. A definitely failed append is no operation at all.
//
// The model knows in advance where each entry must land: at its acknowledged id, else where the
// history saw it (final read, readers). An entry nobody saw may fill only an id nobody saw
// ("free"); those entries of one writer are interchangeable, so they fill free ids in call
// order, which keeps the search from trying every permutation of them.

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "tests/lincheck/history.h"

namespace lincheck {

enum class OpKind : uint8_t { open, attempt, confirm, read, truncate, final_read };

struct Op {
  OpKind kind = OpKind::read;
  int64_t call_ns = 0;
  std::optional<int64_t> return_ns;  // none: the operation never has to take effect
  uint64_t epoch = 0;                // open: its epoch; attempt: its writer's epoch
  uint64_t writer = 0;               // attempt
  size_t entry = 0;                  // attempt, confirm: index into Model::entries
  uint64_t id = 0;                   // confirm, read: the id; truncate: the point
  uint64_t payload = 0;              // read
  size_t line = 0;                   // where the history recorded it
};

// One append's entry: its payload, where it must land, whether it was acknowledged.
struct Entry {
  uint64_t payload = 0;
  std::optional<uint64_t> target_id;  // acknowledged or seen id; none: seen nowhere
  bool keyed = false;
  size_t line = 0;
};

class Model {
 public:
  // Builds the operations of one log's history.
  explicit Model(const LogHistory& log);

  [[nodiscard]] const std::vector<Op>& ops() const { return ops_; }
  [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }

  // Applies `op` if the state allows it; on refusal leaves the state unchanged and, if `why`
  // is given, says why. undo() reverts the last apply (applies are undone last-in, first-out).
  [[nodiscard]] bool apply(size_t op_index, std::string* why);
  void undo(size_t op_index);

  // Operations that only look at the state, or only widen what later ones may do (reads,
  // confirms, truncations, the final read): applying one as early as possible never rules out
  // a linearization, so the search does not branch on them.
  [[nodiscard]] bool is_greedy(size_t op_index) const;

  // The attempts that may take the next id now (apply() has the last word): those whose entry
  // must land there and, if the id is free, the next filler of each writer and the unseen
  // keyed attempts. Appended to `out`.
  void attempts_for_next_id(std::vector<size_t>& out) const;

  [[nodiscard]] std::string describe(size_t op_index) const;
  [[nodiscard]] uint64_t next_id() const { return next_id_; }

 private:
  void add_append(const Append& a, std::optional<uint64_t> seen_at);
  void add_reads_truncations_final(const LogHistory& log);
  void find_free_ids(const std::vector<uint64_t>& observed);
  void index_fillers(size_t free_count);
  [[nodiscard]] bool apply_attempt(const Op& op, std::string* why);
  [[nodiscard]] bool apply_final(std::string* why) const;
  [[nodiscard]] bool is_free(uint64_t id) const;

  std::vector<Op> ops_;
  std::vector<Entry> entries_;
  const FinalRead* final_ = nullptr;
  std::vector<bool> observed_ids_;  // ids someone acknowledged or saw, below free_limit_
  uint64_t free_limit_ = 0;         // ids at or above: not free (past every entry's reach)
  // Free-id fillers per writer, in call order, and how many of them are applied.
  std::vector<std::vector<size_t>> fillers_of_writer_;
  std::vector<size_t> filler_rank_;       // per op: its index in its writer's list, or npos
  std::vector<size_t> writer_slot_of_op_;  // per op: index into fillers_of_writer_
  std::vector<size_t> fillers_applied_;
  std::unordered_map<uint64_t, std::vector<size_t>> attempts_by_target_;  // id -> attempts
  std::vector<size_t> keyed_fillers_;                            // unseen keyed attempts

  // State, with what undo needs.
  uint64_t next_id_ = 0;
  uint64_t epoch_ = 0;
  uint64_t truncation_point_ = 0;
  std::vector<uint64_t> payload_at_;           // by id, below next_id_
  std::vector<std::optional<uint64_t>> entry_id_;  // where each entry landed
  std::vector<uint64_t> undo_values_;          // epoch or truncation point before an apply
};

}  // namespace lincheck
