#pragma once
// wp-lincheck's library: judges a recorded history (docs/history.md) of one or more logs.
// Each log is checked on its own (linearizability is compositional): the order each client
// sees (client_order.h), then a linearizability search of the log as a sequential object
// (log_model.h, search.h). It reads the exported text and shares nothing with the simulator's
// own checkers (sim/checkers.h), so the two can be compared run by run.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tests/lincheck/client_order.h"
#include "tests/lincheck/search.h"

namespace lincheck {

enum class Verdict : uint8_t {
  linearizable,  // every log passed
  violation,     // some log has a finding
  exhausted,     // no finding, but a search ran out of steps: no verdict
  malformed,     // the text is not a history this checker reads (see Report::error)
};
[[nodiscard]] std::string_view verdict_name(Verdict verdict);

struct LogReport {
  std::string log;
  Verdict verdict = Verdict::linearizable;
  std::vector<Finding> findings;
  uint64_t operations = 0;      // in the search
  uint64_t search_steps = 0;
  uint64_t linearized_max = 0;  // on a violation: the most operations a partial order reached
};

struct Report {
  Verdict verdict = Verdict::linearizable;
  std::string error;  // malformed: the line and what is wrong with it
  std::vector<LogReport> logs;
  // "linearizable (2 logs, 31,204 operations)" or the first finding.
  [[nodiscard]] std::string summary() const;
};

struct Options {
  uint64_t search_steps_max = search_steps_max_default;  // per log
};

[[nodiscard]] Report check_history_text(std::string_view jsonl, const Options& options = {});
[[nodiscard]] LogReport check_log(const LogHistory& log, const Options& options = {});

}  // namespace lincheck
