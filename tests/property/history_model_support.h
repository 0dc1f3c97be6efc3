#pragma once
// Histories made from a sequential model of the log, for property tests of the checkers.
//
// A Script is a list of steps (rapidcheck generates and shrinks it); build_history() plays it
// against a model log with a virtual clock and writes the History clients would have seen:
// appends overlap in time (each takes effect at a point inside its call), some end with an
// unknown outcome (taking effect or not), some fail definitely, crashes abandon what is in
// flight, new writers fence old ones (whose later appends fail), readers read consecutive ids
// after they exist, and truncations cut the log's front. Every history it builds is correct:
// both checkers must accept it. mutate() then breaks one fact, and both must refuse it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/history.h"

namespace wal::sim::model {

enum class StepKind : uint8_t { append, open_writer, crash, read, new_session, truncate, zombie };

enum class Fate : uint8_t { ok, unknown_taken, unknown_lost, definite };

struct Step {
  StepKind kind = StepKind::append;
  uint32_t gap_ms = 0;      // virtual time before the step
  uint32_t delay_ms = 0;    // append: invocation to effect; truncate: how far below the end
  uint32_t latency_ms = 0;  // append: effect to answer
  Fate fate = Fate::ok;
};

struct Script {
  std::vector<Step> steps;
};

[[nodiscard]] History build_history(const Script& script);

enum class Mutation : uint8_t {
  drop_acknowledged,    // an acknowledged entry at or above the truncation point leaves the log
  swap_ids,             // two acknowledged appends trade ids (at least one of them was seen)
  duplicate_entry,      // an entry of the final log appears again at its end
  read_before_append,   // a read happens before its append was invoked
  fenced_entry_through  // an entry is relabelled as written by a writer fenced before its call
};
[[nodiscard]] std::string_view mutation_name(Mutation mutation);

// Applies `mutation`, choosing what to break with `choice` (any number). False when this
// history has nothing it applies to (then `history` is unchanged).
[[nodiscard]] bool mutate(History& history, Mutation mutation, uint64_t choice);

}  // namespace wal::sim::model
