#pragma once
// FaultPoints: the one way simulation reaches inside WAL logic. Production passes NoFaults,
// whose bug() is always false and whose reached() does nothing, so a fault site or a coverage
// mark costs one virtual call.
// Most faults are injected behind the seam instead (the simulated store times out, the
// simulated disk tears writes); a FaultPoint is for what only the WAL itself can do: force a
// rare branch, shrink a knob, or switch on a planted bug (SimBug) that the checkers must catch.

#include <cstdint>
#include <string_view>

#include "wal/env/coverage_mark.h"

namespace wal {

// Planted bugs: each one breaks a guarantee on purpose so the test suite can prove its
// checkers fail. Off in production; see docs/simulation.md for what each breaks.
enum class SimBug : uint16_t {
  none = 0,
  ack_before_put,               // acknowledge an append before its block PUT completed
  retry_blindly_after_unknown,  // re-send a block after an unknown PUT outcome, new block number
  unknown_as_success,           // treat an unknown PUT outcome as success
  skip_fence_on_open,           // a new writer does not fence the previous one
  seal_one_short,               // seal a segment one entry short of its last acknowledged entry
  reader_skips_checksum,        // reader accepts blocks without verifying the CRC
  truncate_needed_segment,      // truncation GC deletes the segment just above the point
  fence_by_lease_only,          // writer trusts its lease instead of the epoch token
  append_key_ignored,           // the writer treats every append key as new (no deduplication)
  gc_sweeps_undeleted_segment,  // GC's leftover sweep takes a segment whose delete lost a race
                                // to an overlapping pass for gone, and deletes its objects
  // QuorumBuffer (docs/protocol.md names the invariant each one breaks).
  quorum_min_of_fence_replies,    // recovery ends the segment at the MINIMUM reply (woodpecker#320)
  quorum_seal_from_lagging,       // recovery seals at the first reply's end, however lagging (#242)
  quorum_ack_before_fsync,        // a LogStore answers an add before its journal sync
  quorum_ack_on_one,              // the writer acknowledges once 1 of 3 replicas has an entry
  quorum_fence_in_memory_only,    // a LogStore does not persist the fence epoch
  quorum_recovery_without_fence,  // recovery asks replicas for their end without fencing them
  quorum_unknown_as_absent,       // recovery counts an "unknown" fence reply as known
  quorum_stale_epoch_accepted,    // a LogStore accepts adds below the segment's fence epoch
  // Metadata txns (MemoryBuffer and QuorumBuffer).
  seal_unknown_as_failure,  // a seal txn with an unknown outcome is taken for one that did not
                            // happen: an own seal that landed is then read as another's
  count_,                   // number of values; not a bug
};

[[nodiscard]] std::string_view sim_bug_name(SimBug bug);

class FaultPoints {
 public:
  virtual ~FaultPoints() = default;
  // True if the planted bug `bug` is switched on for this run.
  [[nodiscard]] virtual bool bug(SimBug bug) const = 0;
  // The code reached the rare path `mark` (wal/env/coverage_mark.h). Counted by the simulator,
  // ignored in production; never changes what the code does.
  virtual void reached(CoverageMark mark) const = 0;
};

class NoFaults final : public FaultPoints {
 public:
  [[nodiscard]] bool bug(SimBug) const override { return false; }
  void reached(CoverageMark) const override {}
};

}  // namespace wal
