#pragma once
// Listing and deleting objects: the one way garbage collection and log deletion remove objects.
// sweep_objects() lists a prefix in key order, asks the caller what to do with each object,
// deletes the chosen ones a page at a time and checks the status of every key: a key whose
// delete failed is never counted as deleted, and makes the sweep fail.
//
// Deleting is idempotent (a missing key succeeds, S3 semantics), so a batch whose outcome is
// unknown, and keys that failed with a retryable error, are simply sent again; nothing here
// can delete a key twice in a harmful way. Which keys may be deleted at all is the caller's
// decision: see LogClient::collect_garbage for the rule that keeps a segment's objects while
// its metadata exists (docs/protocol.md, G1).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "wal/async/task.h"
#include "wal/core/result.h"
#include "wal/env/env.h"

namespace wal {

enum class SweepChoice : uint8_t {
  keep,                 // leave the object
  remove,               // delete it
  remove_unless_fence,  // delete it only if a verified read proves it is no fence object
  stop,                 // leave it and every later key: the sweep is past what it may delete
};

// Called once per listed object, in key order. Must not suspend (it runs between the list and
// the delete of one page) and must not keep the reference.
using SweepChooser = std::function<SweepChoice(const ObjectInfo&)>;

// Returns how many objects were deleted. Errors, all definite for the sweep (what it deleted
// stays deleted; a later sweep lists what is left): the list's errors after read retries; a
// batch delete failing with a non-retryable error, or still failing after
// limits::read_attempts_max attempts; a key whose own status is an error (the message names
// the key). An object whose fence check cannot be settled is kept, never deleted.
[[nodiscard]] Task<Result<uint64_t>> sweep_objects(Env& env, std::string prefix,
                                                   SweepChooser choose);

// Deletes `keys` (at most limits::list_page_keys_max), checking each key's status; the same
// retries and errors as sweep_objects. Returns how many were deleted (all of them on success).
[[nodiscard]] Task<Result<uint64_t>> remove_objects_checked(Env& env,
                                                            std::vector<std::string> keys);

// A verified read of the object at `key`: true for a fence whose CRC holds, false for nothing
// at all or a data block whose header CRC holds. A read damaged in transit is retried; damage
// that stays is corrupt. Callers keep an object they cannot classify: a fence deleted because
// its bytes were damaged on the way lets a zombie writer's create-only PUT land (property
// seed 101, tests/unit/log_gc_test.cpp).
[[nodiscard]] Task<Result<bool>> is_fence_object(Env& env, const std::string& key);

}  // namespace wal
