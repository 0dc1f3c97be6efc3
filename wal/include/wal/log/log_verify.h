#pragma once
// Offline checks of a log, for `wp verify` and `wp inspect`: reads every block of every stored
// segment and checks its checksums, that it is the block the metadata says (log, segment, ids),
// and that ids continue without a gap or overlap from block to block and segment to segment.
// Needs no writer; safe while a writer runs. Costs one GET per block.
//
// The report says what a reader can and cannot read, in entry ids, the way LogReader reads:
//  - a missing or damaged block loses exactly its entries: the ids come from the footer or
//    checkpoint manifest when one lists the block, otherwise from the next block found (the
//    probe of an open segment goes on past a hole up to the acknowledged end);
//  - a reader reading from the start stops at the first lost entry (`readers_stop_at`);
//  - a sealed segment whose footer manifest is missing or damaged is still read front to back,
//    but a reader starting inside it (read --from ID, tail -n N) cannot locate its block;
//  - damage wholly below the truncation point is a note, not a problem: no reader reads there.
// Entries stored in an open segment past the published tail are not a problem either: they are
// not yet visible, and the next writer's recovery keeps them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wal/env/env.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"

namespace wal {

struct SegmentSummary {
  SegmentMeta meta;
  uint64_t blocks_read = 0;  // blocks found intact
  EntryId end_found = 0;     // the id after the last entry of the last intact block
};

// Entries [first, end) that no reader can read, and why.
struct LostRange {
  EntryId first = 0;
  EntryId end = 0;
  std::string why;
};

struct VerifyReport {
  std::vector<SegmentSummary> segments;
  std::vector<std::string> problems;  // empty: every acknowledged entry above the truncation
                                      // point is readable, from anywhere
  std::vector<std::string> notes;     // facts worth knowing that are not damage
  std::vector<LostRange> lost;        // by id; also listed (in words) in problems or notes
  uint64_t blocks_checked = 0;
  uint64_t entries_checked = 0;
  uint64_t bytes_checked = 0;
  TruncationRecord truncation;
  std::optional<TailRecord> tail;
  std::optional<EpochRecord> epoch;
  EntryId acknowledged_end = 0;           // what readers may read up to, as the metadata says
  std::optional<EntryId> readers_stop_at; // the first id above the truncation point, below
                                          // acknowledged_end, that a reader cannot read
};

// Errors only when the metadata cannot be read at all; every problem with the data itself is
// listed in the report.
Task<Result<VerifyReport>> verify_log(Env& env, const LogKeys& keys);

}  // namespace wal
