#pragma once
// Coverage marks: named rare paths that the simulator must be seen to reach, as FoundationDB's
// CODE_PROBE and TigerBeetle's coverage marks. Code on such a path calls
//   env.faults.reached(CoverageMark::seal_settled_as_ours);
// Production's NoFaults ignores it (one virtual call that does nothing); the simulator counts
// the marks of each run, `wp-sim sweep --marks` reports which marks a sweep reached, and
// tests/sim/coverage_marks_test.cpp fails when a mark it lists is never reached by its sample
// sweep: a checker cannot catch a bug on a path no schedule takes.
//
// A mark says nothing about correctness and changes nothing: it is never read by WAL code.
// Add one where a branch exists for a rare event (an unknown outcome settled one way or the
// other, a race lost, a repair) and list it in the test once a sample sweep reaches it.

#include <cstdint>
#include <string_view>

namespace wal {

// X(name, what it means). The order is the listing order; names are stable identifiers.
#define WAL_COVERAGE_MARKS(X)                                                                    \
  X(epoch_settled_as_ours, "an epoch bump with an unknown outcome read back as ours")            \
  X(epoch_settled_as_lost, "an epoch bump with an unknown outcome read back as not ours")        \
  X(create_settled_as_ours, "a segment create with an unknown outcome adopted as ours")          \
  X(create_refused_moved_on,                                                                     \
    "our segment create landed, and a newer writer sealed the segment before we adopted it")     \
  X(seal_settled_as_ours, "a seal with an unknown outcome read back as our own seal")            \
  X(seal_settled_as_another,                                                                     \
    "a seal with an unknown outcome read back as sealed by a newer writer")                      \
  X(seal_retried_after_unknown, "a seal with an unknown outcome had not landed: sent again")     \
  X(seal_on_top_of_checkpoint, "a seal's compare failed on a checkpoint: sealed on top of it")   \
  X(checkpoint_settled_by_reading, "a checkpoint txn with an unknown outcome, re-read")          \
  X(block_put_settled_as_ours, "a block PUT with an unknown outcome found our block at its key") \
  X(block_put_met_fence, "a block PUT found a newer writer's fence at its key")                  \
  X(meta_confirm_epoch_changed, "meta_confirm: the epoch changed before blocks were confirmed")  \
  X(writer_stopped_on_newer_epoch,                                                               \
    "a writer saw a newer epoch in a MetaStore compare and stopped sending blocks")              \
  X(recovery_from_checkpoint, "recovery started from a checkpoint manifest")                     \
  X(recovery_found_own_fence, "recovery probed a fence of its own epoch (an earlier attempt)")   \
  X(recovery_fenced_by_newer, "recovery probed a newer writer's fence")                          \
  X(recovery_fence_race_lost, "recovery's fence PUT found the key taken (a late block)")         \
  X(fence_damaged_in_transit, "a fence object read back damaged; read again")                    \
  X(quorum_fence_reply_unknown, "quorum recovery got an 'unknown' fence reply")                  \
  X(quorum_rereplicated, "quorum recovery copied entries to a lagging replica")                  \
  X(quorum_fruitless_roll, "a QuorumWriter roll that acknowledged nothing since the last one")   \
  X(logstore_repaired, "a LogStore repaired a sealed segment it had lost")                       \
  X(logstore_torn_tail, "a LogStore journal replay found a torn tail")

enum class CoverageMark : uint16_t {
#define WAL_COVERAGE_MARK_ENUM(name, text) name,
  WAL_COVERAGE_MARKS(WAL_COVERAGE_MARK_ENUM)
#undef WAL_COVERAGE_MARK_ENUM
      count_,  // number of marks; not a mark
};

inline constexpr size_t coverage_mark_count = static_cast<size_t>(CoverageMark::count_);

[[nodiscard]] std::string_view coverage_mark_name(CoverageMark mark);
[[nodiscard]] std::string_view coverage_mark_meaning(CoverageMark mark);

}  // namespace wal
