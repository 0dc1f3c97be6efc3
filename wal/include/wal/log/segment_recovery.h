#pragma once
// Recovery of a segment that a previous writer left open: find its exact end in O(1) reads and
// seal it. This is what makes "every acknowledged entry survives a writer crash" true.
//
//  1. Start from the segment's last checkpoint (SegmentMeta.checkpoint_*): blocks below it are
//     known acknowledged. Read the checkpoint manifest for their records.
//  2. Probe forward block by block with a ranged GET of the header (never a full scan): at most
//     checkpoint_interval_blocks + unacknowledged_blocks_max probes.
//  3. fence_object mode: at the first missing key put a fence object, create-only. If the old
//     writer's block got there first (already_exists), it is data: keep probing. Once the fence
//     stands, the old writer can never acknowledge anything at or after it (it acknowledges in
//     order), so the contiguous blocks below the fence are exactly the segment.
//     meta_confirm mode: the first missing key ends the segment; the old writer re-reads its
//     epoch before acknowledging, and our epoch bump happened before this probe, so everything
//     it acknowledged is below that key.
//     A probed block with entry keys (idempotent appends) is read whole once, to add its keys to
//     the producer table: the checkpoint's table, or without a checkpoint the one the segment
//     started with (`producers_at_start`, the previous segment's footer). Logs without keyed
//     appends never pay this read.
//  4. Seal with one MetaStore txn that compares our epoch and the segment's mod_revision, and
//     write the segment's footer manifest.
// A fence object with a higher epoch than ours means a newer writer took over: Errc::fenced.

#include "wal/env/env.h"
#include "wal/format/segment_manifest.h"
#include "wal/log/retry.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"
#include "wal/log/options.h"

namespace wal {

struct SealedSegment {
  SegmentMeta meta;
  int64_t mod_revision = 0;
  std::vector<ManifestProducer> producers;  // the producer table at the segment's end
};

struct RecoveryContext {
  Env& env;
  const LogKeys& keys;
  const WriterOptions& options;
  Epoch epoch;                 // ours, already stored
  int64_t epoch_mod_revision;  // of the epoch key holding it
};

// Seals `segment` (state open, at `segment_mod_revision`). Returns the sealed metadata and the
// producer table at its end. `producers_at_start`: the table when the segment was created (the
// previous segment's footer); only used when the segment has no checkpoint.
Task<Result<SealedSegment>> recover_and_seal(RecoveryContext context, SegmentMeta segment,
                                             int64_t segment_mod_revision,
                                             std::vector<ManifestProducer> producers_at_start);

// Writes the footer manifest of a sealed segment (create-only; an existing identical one is
// fine). Used by recovery and by a writer sealing its own segment.
Task<Status> write_manifest(Env& env, const LogKeys& keys, const SegmentManifest& manifest,
                            Backoff backoff);

// Reads manifest m<block_count> of a segment, retrying reads.
Task<Result<SegmentManifest>> read_manifest(Env& env, const LogKeys& keys, SegmentId segment_id,
                                            uint64_t block_count, Backoff backoff);

}  // namespace wal
