#pragma once
// Recovery of a QuorumBuffer segment a previous writer left open (docs/protocol.md, "Recovery"):
// fence every replica at the new epoch, take the MAXIMUM durable end over at least 2 "known"
// replies, copy every entry below it to at least 2 replicas, then seal with a CAS.
//
// Returns the sealed SegmentMeta (ours, or the one another writer sealed first with our epoch
// still current is impossible: a seal by anyone else means we are fenced). Errors:
//   fenced       a newer epoch fenced a replica or changed the MetaStore (definite for the open).
//   unavailable  fewer than 2 replicas answered "known" within fence_rounds_max rounds.
//   corrupt      a replica returned entries that do not match the segment.
//   and the MetaStore's non-retryable errors.

#include "wal/async/scope.h"
#include "wal/env/env.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"
#include "wal/log/segment_txn.h"
#include "wal/quorum/quorum_writer.h"

namespace wal::quorum {

struct QuorumRecoveryContext {
  Env& env;
  const LogKeys& keys;
  const QuorumWriterOptions& options;
  Epoch epoch = 0;
  int64_t epoch_mod_revision = 0;
  Scope& scope;  // fan-out requests run here
  QuorumWriterStats& stats;
};

Task<Result<SegmentMeta>> recover_quorum_segment(QuorumRecoveryContext context, SegmentMeta open,
                                                 int64_t mod_revision);

// Seals `segment` at `end` with a CAS on the epoch key and the segment key, through
// commit_segment_txn (wal/log/segment_txn.h: how an unknown outcome is settled, and every
// error). Used by recovery and by the writer's own rolls (with `next`, the next segment is
// created in the same txn). Returns the sealed meta and, when `next` was given, the next segment
// as stored. A compare that failed only because a LogStore recorded a checkpoint of the
// still-open segment is retried on top of it (the seal keeps the checkpoint).
struct SealResult {
  SegmentMeta sealed;
  std::optional<StoredSegment> next;
};
Task<Result<SealResult>> seal_quorum_segment(Env& env, const LogKeys& keys, Backoff backoff,
                                             Epoch epoch, int64_t epoch_mod_revision,
                                             const SegmentMeta& segment, int64_t mod_revision,
                                             EntryId end, const SegmentMeta* next);

}  // namespace wal::quorum
