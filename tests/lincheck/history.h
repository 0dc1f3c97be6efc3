#pragma once
// A recorded history of a write-ahead log, as read from the JSON-lines format of
// docs/history.md (version 1). This checker reads the file a run wrote and nothing else: it
// shares no code or types with the simulator, so it can judge histories of real processes too.
//
// parse_history(): the whole text, or the first problem with its line number. Bad input is
// reported, never asserted on: the file comes from another program.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lincheck {

inline constexpr uint32_t format_version = 1;
inline constexpr std::string_view format_name = "woodpecker-wal-history";

enum class Outcome : uint8_t {
  ok,               // acknowledged: it happened, with the id given
  failed_definite,  // it did not happen and never will
  failed_unknown,   // it may or may not have happened, also later
  abandoned,        // the client died first: either
  pending,          // no answer when the history ended: either
};

struct Resend {  // keyed appends: a later writer sent the same entry again
  uint64_t writer = 0;
  uint64_t epoch = 0;
  int64_t invoked_ns = 0;
};

struct Append {
  size_t line = 0;  // in the file, for reports
  uint64_t index = 0;
  uint64_t node = 0;
  uint64_t writer = 0;
  uint64_t epoch = 0;
  uint64_t payload = 0;  // hash
  int64_t invoked_ns = 0;
  std::optional<int64_t> completed_ns;
  Outcome outcome = Outcome::pending;
  std::optional<uint64_t> id;  // with outcome ok
  bool keyed = false;          // re-sends of a keyed append are deduplicated
  std::vector<Resend> resends;
};

struct Open {
  size_t line = 0;
  uint64_t writer = 0;
  uint64_t node = 0;
  uint64_t epoch = 0;
  int64_t opened_ns = 0;
};

struct Read {
  size_t line = 0;
  uint64_t node = 0;
  uint64_t session = 0;  // with node: one reader session, whose reads are consecutive ids
  uint64_t id = 0;
  uint64_t payload = 0;
  std::optional<int64_t> invoked_ns;  // when the read call started, if recorded
  int64_t at_ns = 0;                  // when it returned
};

struct Truncate {
  size_t line = 0;
  uint64_t point = 0;  // entries below may go
  int64_t invoked_ns = 0;
  std::optional<int64_t> completed_ns;
  Outcome outcome = Outcome::pending;
};

struct FinalRead {
  size_t line = 0;
  bool ok = false;
  std::string error;
  int64_t at_ns = 0;
  uint64_t first_kept = 0;
  uint64_t end = 0;
  std::vector<std::pair<uint64_t, uint64_t>> entries;  // (id, payload), in file order
};

// Everything recorded about one log.
struct LogHistory {
  std::string name;
  std::vector<Open> opens;
  std::vector<Append> appends;
  std::vector<Read> reads;
  std::vector<Truncate> truncations;
  std::optional<FinalRead> final_read;
};

struct History {
  std::string source;
  std::map<std::string, LogHistory> logs;  // by name
};

struct Parsed {
  std::optional<History> history;
  std::string error;  // "line 12: append without payload_hash" when history is empty
};
[[nodiscard]] Parsed parse_history(std::string_view text);

[[nodiscard]] std::string_view outcome_name(Outcome outcome);

}  // namespace lincheck
