#pragma once
// Writing segment keys under the writer's epoch: create a segment, seal one, seal one and
// create the next in the same txn (a roll), or record a checkpoint of the writer's open segment,
// and settling an unknown outcome by reading back. Every seal and create of both writers
// (LogWriter, QuorumWriter) and of both recoveries, and every checkpoint of the LogWriter, goes
// through commit_segment_txn, so there is one answer to "did my txn land?" (docs/protocol.md,
// I8, I13 and I15).
//
// Each txn compares the epoch key's mod revision, so once a newer writer has taken the epoch
// nothing this writer sent can land, however late it arrives. A seal also compares the segment
// key's mod revision; a create compares the new key's absence.
//
// Settling. A txn that failed its compare did not land; one that returned an error (timeout,
// unavailable) may have, now or later: an etcd request can be applied after its client gave
// up. So the helper remembers, across its attempts, whether ANY attempt may have landed, and
// after every failed attempt reads the keys back:
//  - seal: the segment sealed by our epoch, when an attempt may have landed, is our seal (and,
//    in a roll, the next segment is ours too, unless a newer writer has sealed it meanwhile).
//    Sealed by another epoch: a newer writer recovered it; we are fenced. Still open at the
//    revision we compared: nothing landed yet; try again (if an earlier attempt lands later,
//    the retry's compare fails and the next read finds our seal). Open, but a checkpoint moved
//    it (a LogStore records checkpoints, I11; a writer's own checkpoint txn may land late): if
//    the epoch is still ours, seal again on top of that revision. Anything else: fenced.
//  - create: the key with our epoch and open is ours (adopted at its current revision). With
//    our epoch but sealed: our create landed and a newer writer has since recovered and sealed
//    it. The writer is fenced: it must never write into that segment, and never create another
//    one in its place (the newer writer's log continues after it). Another epoch's segment, or
//    the key absent after a failed compare: the epoch changed; fenced.
//  - checkpoint: the key open with our epoch and our checkpoint is ours (adopted at its current
//    revision). Still at the revision we compared: nothing landed yet; try again. Open with our
//    epoch but an older checkpoint at another revision: an earlier checkpoint txn of ours landed
//    late; if the epoch is still ours, checkpoint again on top of it. Sealed, absent, or another
//    epoch's: fenced. So a checkpoint of ours that lands late never fences its own writer.
//
// Errors:
//   fenced       a newer writer took the epoch or sealed the segment. Definite: the read-back
//                proved that no attempt landed and none can land later. Except: our create
//                landed (alone, or with our seal in a roll) and a newer writer has since sealed
//                the created segment; the txn did happen, so that error's outcome is unknown.
//   not_found    the segment key vanished while being settled.
//   corrupt      a key does not decode, or holds our epoch's segment with other contents.
//   unavailable  read_attempts_max attempts, or the reads settling them, all failed.
//   and the MetaStore's other errors (invalid_argument, ...).
//   Apart from fenced, an error's outcome is unknown exactly when some attempt may have landed.
// Threading: the Env's executor. Reads retry with `backoff`; attempts back off the same way.

#include <cstdint>
#include <optional>

#include "wal/async/task.h"
#include "wal/core/result.h"
#include "wal/env/env.h"
#include "wal/log/keys.h"
#include "wal/log/log_state.h"
#include "wal/log/metadata.h"
#include "wal/log/retry.h"

namespace wal {

struct SegmentTxnContext {
  Env& env;
  const LogKeys& keys;
  Backoff backoff;
  Epoch epoch = 0;                 // the writer's epoch
  int64_t epoch_mod_revision = 0;  // the epoch key's mod revision when the writer took it
};

struct SegmentTxn {
  // The sealed value to write (state sealed, sealed_by_epoch = our epoch), and the mod revision
  // the segment key must still have.
  std::optional<SegmentMeta> seal;
  int64_t seal_mod_revision = 0;
  // The segment to create (state open, epoch = ours); its key must be absent.
  std::optional<SegmentMeta> create;
  // A checkpoint: our open segment with new checkpoint_* fields, and the mod revision the
  // segment key must still have. Never together with a seal or a create.
  std::optional<SegmentMeta> checkpoint;
  int64_t checkpoint_mod_revision = 0;
};

// A segment as the MetaStore holds it after the txn, with create_revision filled in.
// `sealed` is set when the txn had a seal, `created` when it had a create, `checkpointed` when
// it had a checkpoint.
struct SegmentTxnResult {
  std::optional<StoredSegment> sealed;
  std::optional<StoredSegment> created;
  std::optional<StoredSegment> checkpointed;
};

// Precondition: `txn` has a seal, a create, both, or a checkpoint alone; their epochs are
// context.epoch.
[[nodiscard]] Task<Result<SegmentTxnResult>> commit_segment_txn(SegmentTxnContext context,
                                                                SegmentTxn txn);

}  // namespace wal
