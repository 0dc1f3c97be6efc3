#pragma once
// Offline checks of a log, for `wp verify` and `wp inspect`: reads every block of every stored
// segment and checks its checksums, that it is the block the metadata says (log, segment, ids),
// and that ids continue without a gap or overlap from block to block and segment to segment.
// Needs no writer; safe while a writer runs (it reads an open segment up to its first missing
// block). Costs one GET per block.

#include <cstdint>
#include <string>
#include <vector>

#include "wal/env/env.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"

namespace wal {

struct SegmentSummary {
  SegmentMeta meta;
  uint64_t blocks_read = 0;
  EntryId end_found = 0;  // the id after the last entry found in its blocks
};

struct VerifyReport {
  std::vector<SegmentSummary> segments;
  std::vector<std::string> problems;  // empty: the log is intact
  uint64_t blocks_checked = 0;
  uint64_t entries_checked = 0;
  uint64_t bytes_checked = 0;
  TruncationRecord truncation;
  std::optional<TailRecord> tail;
  std::optional<EpochRecord> epoch;
};

// Errors only when the metadata cannot be read at all; every problem with the data itself is
// listed in the report.
Task<Result<VerifyReport>> verify_log(Env& env, const LogKeys& keys);

}  // namespace wal
