#pragma once
// Writes a run's History as JSON lines, the format docs/history.md specifies (version 1): one
// header line, then one line per writer open, append, truncation and read, then the final read
// and one line per entry it returned. Any tool can check a run from this file alone
// (tests/lincheck reads it); a real-process runner writes the same format.
//
// Times are nanoseconds since the run began; payload hashes are 16 lowercase hex digits (a
// 64-bit hash does not fit a JSON number exactly in every reader). Writing cannot fail: the
// text is built in memory; write_history reports an unwritable file as io_error.

#include <string>
#include <string_view>

#include "sim/history.h"

namespace wal::sim {

inline constexpr uint32_t history_format_version = 1;
inline constexpr std::string_view history_format_name = "woodpecker-wal-history";

// What the header line says about where the history came from.
struct HistoryHeader {
  std::string source = "wp-sim";  // the program that recorded it
  std::string log = "sim";        // the log every record belongs to (histories may hold several)
  std::string run_json = "{}";    // a JSON object describing the run (seed, mode, commit, ...)
};

[[nodiscard]] std::string history_to_jsonl(const History& history, const HistoryHeader& header);
[[nodiscard]] Status write_history(const std::string& path, const History& history,
                                   const HistoryHeader& header);

}  // namespace wal::sim
