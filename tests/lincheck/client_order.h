#pragma once
// What each client sees in order, beside linearizability of the log as a whole:
//   reader_order   within one reader session (node, session), reads return consecutive ids
//                  in the order they returned;
//   writer_order   one writer's appends that have an id (acknowledged, or seen in the final
//                  read or by a reader) get ids in the order they were invoked (appends
//                  invoked at the same instant are unordered).
// Both follow from the log's interface (a reader is a cursor; a writer's appends are queued in
// call order) rather than from the log's sequential specification, so they are checked here,
// directly, and not by the search.

#include <string>
#include <vector>

#include "tests/lincheck/history.h"

namespace lincheck {

struct Finding {
  std::string rule;    // reader_order, writer_order, not_linearizable, ...
  std::string detail;  // what, where (line numbers of the history)
};

[[nodiscard]] std::vector<Finding> check_client_order(const LogHistory& log);

}  // namespace lincheck
