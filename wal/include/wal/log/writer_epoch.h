#pragma once
// Taking a log's writer epoch: the fencing token every writer (MemoryBuffer or QuorumBuffer)
// takes when it opens. The epoch is bumped with a compare on the epoch key's mod_revision, so of
// two concurrent openers the later bump wins and the earlier writer's later compares fail.
//
// take_writer_epoch() returns the new epoch and the epoch key's mod_revision after the bump (the
// writer's later txns compare against it). Errors: not_found (no such log), corrupt (a malformed
// epoch record), unavailable (the MetaStore kept failing), and non-retryable MetaStore errors.
// An unknown txn outcome is settled by reading the record back: a random writer instance number
// tells our bump from another's.

#include "wal/async/task.h"
#include "wal/core/result.h"
#include "wal/env/env.h"
#include "wal/log/keys.h"
#include "wal/log/options.h"
#include "wal/log/retry.h"

namespace wal {

struct TakenEpoch {
  Epoch epoch = 0;
  int64_t mod_revision = 0;
};

Task<Result<TakenEpoch>> take_writer_epoch(Env& env, const LogKeys& keys, Backoff backoff);

}  // namespace wal
