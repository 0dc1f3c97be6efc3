#pragma once
// What a simulation run observed, for the checkers: every append with its invocation and
// completion, every writer open (with its epoch), every entry a reader returned, every
// truncation asked for, and the final log read after the heal phase. Payloads are kept as 64-bit
// hashes plus sizes. sim/history_export.h writes it as JSON lines (docs/history.md).

#include <cstdint>
#include <string>
#include <vector>

#include <optional>

#include "wal/core/result.h"
#include "wal/env/clock.h"
#include "wal/format/append_key.h"
#include "wal/log/options.h"

namespace wal::sim {

enum class AppendOutcome : uint8_t {
  pending,          // no answer yet
  ok,               // acknowledged with `id`
  failed_definite,  // the WAL says it did not and will not happen
  failed_unknown,   // the WAL says it may or may not have happened
  abandoned,        // the process died (crash) before an answer: either outcome is allowed
};
[[nodiscard]] std::string_view append_outcome_name(AppendOutcome outcome);

// Keyed mode: one re-send of an append by a later writer (same key, same bytes).
struct AppendAttempt {
  uint64_t writer_index = 0;
  TimePoint invoked{};
};

struct AppendRecord {
  uint32_t node = 0;
  uint64_t writer_index = 0;  // which writer open (WriterOpenRecord::writer_index) sent it
  Epoch epoch = 0;            // that writer's epoch
  uint64_t payload_hash = 0;
  uint32_t payload_size = 0;
  TimePoint invoked{};
  TimePoint completed{};
  AppendOutcome outcome = AppendOutcome::pending;
  EntryId id = 0;
  std::string error;
  // Keyed mode: the re-sends that may have written the entry (their outcome unknown, or a new id
  // assigned by the re-sending writer). A re-send that returned the original's id, or was
  // refused, wrote nothing and is not listed. With re-sends, the fencing checker accepts the
  // entry if any candidate writer (the original or one of these) was not fenced at its send.
  std::vector<AppendAttempt> resends;
  std::optional<AppendKey> key;  // keyed mode: the producer id and sequence it was sent with
};

struct WriterOpenRecord {
  uint64_t writer_index = 0;
  uint32_t node = 0;
  Epoch epoch = 0;
  TimePoint opened{};  // when open() completed: from then on every older epoch is fenced
};

struct ReadRecord {
  uint32_t node = 0;
  uint64_t session = 0;
  EntryId id = 0;
  uint64_t payload_hash = 0;
  TimePoint at{};
};

// One call of LogClient::truncate: every entry below `point` may go. `outcome` uses the append
// outcomes: ok (applied), failed_definite (not applied), failed_unknown, pending or abandoned
// (either).
struct TruncateRecord {
  uint32_t node = 0;
  EntryId point = 0;
  TimePoint invoked{};
  TimePoint completed{};
  AppendOutcome outcome = AppendOutcome::pending;
  std::string error;
};

// A writer's "fenced" answer: the first append or close of a writer open that failed with
// Errc::fenced, and the newest epoch etcd held at that instant. Fenced means a newer writer took
// the epoch, so that epoch is above the writer's (epochs never go back).
struct FencedRecord {
  uint32_t node = 0;
  uint64_t writer_index = 0;
  Epoch epoch = 0;         // the fenced writer's
  Epoch newest_epoch = 0;  // etcd's when the answer came
  TimePoint at{};
  std::string error;
};

struct FinalLog {
  bool ended = false;  // the read ended, well or not; false: the heal stopped before it (liveness)
  bool read_ok = false;
  std::string error;
  TimePoint at{};  // when the read ended
  EntryId first_kept = 0;
  std::vector<EntryId> ids;
  std::vector<uint64_t> payload_hashes;
};

struct History {
  std::vector<AppendRecord> appends;
  std::vector<WriterOpenRecord> opens;
  std::vector<ReadRecord> reads;
  std::vector<TruncateRecord> truncations;
  std::vector<FencedRecord> fenced;
  FinalLog final_log;
};

struct Anomaly {
  std::string name;    // e.g. "lost_write"
  std::string detail;  // which entry, which ids, which times
};

}  // namespace wal::sim
