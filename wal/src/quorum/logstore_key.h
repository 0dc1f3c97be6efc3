#pragma once
// The key of one segment on a LogStore node: log id and segment id.
#include <compare>
#include <cstdint>

#include "wal/quorum/protocol.h"

namespace wal::quorum {

struct SegmentKey {
  uint64_t log_id = 0;
  SegmentId segment_id = 0;
  auto operator<=>(const SegmentKey&) const = default;
};

}  // namespace wal::quorum
