#include "config_planted_bug.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace wal::cli {

Result<SimBug> planted_bug_from_environment(const char* program) {
#ifdef WAL_PLANTED_BUGS
  const char* name = std::getenv("WAL_PLANT_BUG");  // wal/cli: the environment is allowed here
  if (name == nullptr || *name == '\0') return SimBug::none;
  for (uint16_t value = 1; value < static_cast<uint16_t>(SimBug::count_); ++value) {
    const auto bug = static_cast<SimBug>(value);
    if (sim_bug_name(bug) != name) continue;
    std::fprintf(stderr, "%s: PLANTED BUG %s is switched on (WAL_PLANT_BUG, a test build)\n",
                 program, name);
    return bug;
  }
  return make_error(Errc::invalid_argument,
                    std::string("WAL_PLANT_BUG: no planted bug is called '") + name + "'");
#else
  (void)program;
  return SimBug::none;
#endif
}

std::string version_text(const char* program) {
#ifdef WAL_PLANTED_BUGS
  const char* planted =
      "honoured via WAL_PLANT_BUG (a test build: configure with "
      "-DWAL_PLANTED_BUGS=OFF for a release)";
#else
  const char* planted = "compiled out";
#endif
  return std::string(program) + " " + WAL_VERSION + " (" + WAL_BUILD_TYPE +
         "; planted bugs: " + planted + ")";
}

}  // namespace wal::cli
