// Replays the regression corpus in traces/: every minimised failing schedule found so far. A
// trace made with a planted bug must still fail with its anomaly when the bug is on, and pass
// when it is off; a trace of a real bug (no "bug" field) must pass now that it is fixed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/runner.h"

namespace wal::sim {
namespace {

std::vector<std::filesystem::path> corpus() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(WAL_SOURCE_DIR "/traces")) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(traces_corpus, every_trace_replays_as_recorded) {
  const auto files = corpus();
  // An empty or misplaced corpus would pass without replaying anything.
  ASSERT_FALSE(files.empty()) << "no *.json trace in " WAL_SOURCE_DIR "/traces";
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    const auto trace = nlohmann::json::parse(text.str(), nullptr, false);
    ASSERT_FALSE(trace.is_discarded()) << "not JSON";
    ASSERT_TRUE(trace.contains("token") && trace.contains("description"));
    auto spec = decode_token(trace["token"].get<std::string>());
    ASSERT_TRUE(spec.ok()) << spec.error().describe();
    const SimResult result = run_simulation(config_for(*spec));
    if (trace.contains("anomaly") && !spec->bugs.empty()) {
      const std::string expected = trace["anomaly"].get<std::string>();
      bool found = false;
      for (const Anomaly& a : result.anomalies) found = found || a.name == expected;
      EXPECT_TRUE(found) << "expected " << expected << ", got " << result_line(*spec, result);
      RunSpec clean = *spec;
      clean.bugs.clear();
      const SimResult fixed = run_simulation(config_for(clean));
      EXPECT_EQ(fixed.verdict, Verdict::pass) << "without the bug: " << result_line(clean, fixed);
    } else {
      EXPECT_EQ(result.verdict, Verdict::pass) << result_line(*spec, result);
    }
  }
  std::cout << files.size() << " traces replayed\n";
}

}  // namespace
}  // namespace wal::sim
