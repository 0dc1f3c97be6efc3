#pragma once
// The linearizability search of Wing & Gong with Lowe's memoisation, as Porcupine and Knossos
// do it: the history's calls and returns in time order in a linked list; repeatedly linearise
// the first operation the model accepts and whose resulting set of linearised operations was
// not tried before; when a return is reached whose operation is not linearised, undo the last
// choice and try the next candidate. The history is linearizable when every operation with a
// return is linearised (operations without one, unknown outcomes, may stay out).
//
// Operations the model calls greedy (log_model.h) are linearised as soon as they can be,
// before any choice, and never branched on; so the state is a function of the choices, and
// Lowe's cache holds sets of non-greedy operations only. That keeps a refutation (every order
// tried) near linear in the history for this model: the appends' order is fixed by their ids,
// and the choices left are few (opens against the appends in flight, fillers of free ids).
// Sets are remembered as 128-bit Zobrist hashes: a collision (odds about n^2 / 2^128) could
// only prune a branch, that is report a violation that is not one.

#include <cstdint>
#include <string>

#include "tests/lincheck/log_model.h"

namespace lincheck {

// A search longer than this reports `exhausted` rather than run on: each step is one apply
// (about 0.1-0.3 us). The longest refutation seen needed 40 M steps (append_key_ignored seed
// 262, keyed: many attempts that never have to return); passing runs need about one step per
// operation.
inline constexpr uint64_t search_steps_max_default = 100'000'000;

struct SearchResult {
  enum class Kind : uint8_t { linearizable, not_linearizable, exhausted };
  Kind kind = Kind::linearizable;
  uint64_t steps = 0;              // applies tried
  uint64_t linearized_max = 0;     // the most operations any partial linearisation reached
  std::string stuck;               // at that point: the operation that could not go, and why
};

[[nodiscard]] SearchResult search(Model& model, uint64_t steps_max);

}  // namespace lincheck
