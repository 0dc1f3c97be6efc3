#pragma once
// The value types of the client library's public API (wal/client/client.h): entry ids, entries,
// where a reader starts, idempotent-append keys, and the callback type of the asynchronous
// calls. Results and errors are wal::Result<T> and wal::Error (wal/core/result.h): every error
// has a code and says whether its outcome is definite (the call had no effect) or unknown (it
// may have taken effect).

#include <cstdint>
#include <functional>
#include <string_view>

#include "wal/core/bytes.h"
#include "wal/core/result.h"
#include "wal/format/append_key.h"

namespace wal::client {

// Dense per log, from 0: the n-th entry ever appended to a log has id n - 1. Truncation never
// renumbers entries.
using EntryId = uint64_t;

// An idempotent append's identity: {producer_id (not 0, stable across the producer's
// restarts), sequence (strictly increasing per producer; gaps allowed)}. See Writer::append.
using wal::AppendKey;

// The completion handler of an asynchronous call. It is called exactly once: on the client's
// event loop thread, or on the calling thread before the call returns when the client is
// closed already (Errc::closed, definite). It must not block: every other call of the client
// waits while it runs. A blocking call made from it fails with invalid_argument instead of
// deadlocking.
template <typename T>
using Callback = std::function<void(Result<T>)>;

struct Entry {
  EntryId id = 0;
  Bytes payload;  // exactly the bytes appended

  [[nodiscard]] std::string_view text() const { return as_string_view(payload); }
};

// Where a new reader starts.
struct StartAt {
  enum class Kind : uint8_t { earliest, latest, id };
  Kind kind = Kind::earliest;
  EntryId entry_id = 0;

  // The first entry not truncated.
  static StartAt earliest() { return {Kind::earliest, 0}; }
  // The end of what is acknowledged when the reader opens: only entries appended later.
  static StartAt latest() { return {Kind::latest, 0}; }
  // Entry `entry_id`. An id below the truncation point makes the first read fail with
  // out_of_range; an id past the end waits for it to be appended.
  static StartAt id(EntryId entry_id) { return {Kind::id, entry_id}; }
};

// A producer's last idempotent append that the log holds (Writer::last_appended).
struct ProducerPosition {
  uint64_t sequence = 0;
  EntryId entry_id = 0;
};

// What Client::collect_garbage deleted.
struct GarbageReport {
  uint64_t segments_deleted = 0;
  uint64_t objects_deleted = 0;
  uint64_t orphans_deleted = 0;  // objects no segment owns (a crashed writer's leftovers)
};

}  // namespace wal::client
