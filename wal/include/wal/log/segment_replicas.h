#pragma once
// SegmentReplicas: where a reader finds the entries of a QuorumBuffer segment that is not yet in
// the object store. Until a LogStore uploads it, such a segment lives only on the LogStores of its
// ensemble; the quorum module implements this interface over the LogStore protocol
// (wal/quorum/replica_reads.h), so the log module never speaks that protocol itself. A reader
// given none reads such a segment only up to its last checkpoint (in object storage) and
// otherwise waits for the upload.
//
// Both calls only read, so no outcome is unknown, and neither fails: an unreachable replica, a
// malformed reply or a node that may have lost data (Knowledge::unknown) is skipped, and "no
// replica could answer" is an ordinary answer (std::nullopt, or the caller's floor). Entries
// returned are below the writer's last-add-confirmed on the node that sent them: acknowledged,
// so they can never change (one writer wrote each id, recovery only copies those bytes).
// Threading: the executor of the reader's Env. `keys` and `segment` must stay alive until the
// returned task completes; the object must outlive every reader given it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "wal/async/task.h"
#include "wal/core/bytes.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"

namespace wal {

struct ReplicaEntries {
  size_t replica_index = 0;     // the member of segment.ensemble that answered
  std::vector<Bytes> payloads;  // ids from, from + 1, ...; never empty
};

class SegmentReplicas {
 public:
  virtual ~SegmentReplicas() = default;

  // The highest confirmed end any member of segment.ensemble reports, and at least `floor`.
  // Asks every member once.
  virtual Task<EntryId> confirmed_end(const LogKeys& keys, const SegmentMeta& segment,
                                      EntryId floor) = 0;

  // Acknowledged entries of `segment` from id `from` on (about `bytes_max` of them), asking the
  // members of segment.ensemble in turn, starting with `replica_first`. A member with nothing at
  // `from` ends the search when `wait_ms` > 0 (it was a long poll: the member already waited that
  // long for a writer); otherwise the next member is asked, as it may have heard of a later
  // confirmed end. std::nullopt: nothing readable at `from` now.
  virtual Task<std::optional<ReplicaEntries>> read(const LogKeys& keys, const SegmentMeta& segment,
                                                   EntryId from, uint64_t bytes_max,
                                                   uint32_t wait_ms, size_t replica_first) = 0;
};

}  // namespace wal
