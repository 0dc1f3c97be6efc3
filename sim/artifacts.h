#pragma once
// Artifacts a person can read for a failing run (docs/simulation.md):
//   nodes.log      one column per node, one line per event (crashes, opens, errors, faults)
//   timeline.html  the failing log's history: one lane per writer open, a bar per append from
//                  invocation to completion coloured by outcome, the reads, the anomalies
//   history.jsonl  what clients invoked and saw, in the format of docs/history.md
//   trace.jsonl    the full event trace (written by the Trace while re-running the seed)
//   replay.txt     the replay token and the result line

#include <string>

#include "sim/runner.h"

namespace wal::sim {

[[nodiscard]] std::string render_column_log(const SimResult& result, uint32_t node_count);
[[nodiscard]] std::string render_html_timeline(const RunSpec& spec, const SimResult& result);

// Writes every artifact into `directory` (created if needed), re-running the spec once with the
// JSONL trace on. Returns the paths written, or the error.
[[nodiscard]] Result<std::vector<std::string>> write_artifacts(const RunSpec& spec,
                                                               const SimResult& result,
                                                               const std::string& directory);

}  // namespace wal::sim
