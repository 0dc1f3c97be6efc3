#pragma once
// One log's metadata decoded from a single range read of LogKeys::log_prefix(): the writer
// epoch, the truncation point, the published tail and every segment, each segment with the mod
// revision of its key (and SegmentMeta::create_revision filled in). GC, truncation and `wp`'s
// quorum commands all judge one consistent view of the log from it.
//
// Errors: corrupt when one of these keys holds a value that does not decode (the message names
// the key). Pure decoding: never unknown. Keys under the prefix that are none of these are
// ignored.

#include <cstdint>
#include <optional>
#include <vector>

#include "wal/core/result.h"
#include "wal/env/meta_store.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"

namespace wal {

struct StoredSegment {
  SegmentMeta meta;
  int64_t mod_revision = 0;
};

struct LogState {
  std::optional<EpochRecord> epoch;
  TruncationRecord truncation;
  int64_t truncation_mod_revision = 0;  // 0: the key is absent
  std::optional<TailRecord> tail;
  std::vector<StoredSegment> segments;  // in segment id order
};

[[nodiscard]] Result<LogState> decode_log_state(const LogKeys& keys, const RangeResponse& all);

}  // namespace wal
