#pragma once
// A planted bug (SimBug, wal/env/fault_points.h) switched on in a real process, so that runs of
// real processes (chaos/) can show their checkers catch it. Only in builds configured with
// -DWAL_PLANTED_BUGS=ON (the default for development and test builds; release packages turn it
// off): there the environment variable WAL_PLANT_BUG names one bug by its sim_bug_name
// ("quorum_ack_on_one", ...). Without the option the variable is ignored and nothing is planted.
#include "wal/core/result.h"
#include "wal/env/fault_points.h"

namespace wal::cli {

class PlantedBugFaults final : public FaultPoints {
 public:
  [[nodiscard]] bool bug(SimBug bug) const override {
    return bug != SimBug::none && bug == planted_;
  }
  void reached(CoverageMark) const override {}
  void plant(SimBug bug) { planted_ = bug; }
  [[nodiscard]] SimBug planted() const { return planted_; }

 private:
  SimBug planted_ = SimBug::none;
};

// Reads WAL_PLANT_BUG (test builds only; SimBug::none otherwise or when unset), and on a planted
// bug prints one line to stderr so that no log of such a run can be mistaken for a real one.
// Errors: invalid_argument for a name that is no SimBug (definite).
[[nodiscard]] Result<SimBug> planted_bug_from_environment(const char* program);

// What --version prints: "<program> <version> (<build type>; planted bugs: honoured via
// WAL_PLANT_BUG, a test build | compiled out)", so that a deployment can check it runs a build
// in which no environment variable can switch a bug on.
[[nodiscard]] std::string version_text(const char* program);

}  // namespace wal::cli
