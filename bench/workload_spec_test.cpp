// Workload files: what compare_bench reads, and the clear errors for bad ones.
#include "workload_spec.h"

#include <gtest/gtest.h>

#include <string>

namespace wal::bench {
namespace {

// The error of a workload that must be refused; the test fails if it was accepted.
std::string refusal(const std::string& json) {
  Result<Workload> workload = parse_workload(json);
  if (workload.ok()) return "accepted";
  EXPECT_EQ(workload.error().code, Errc::invalid_argument);
  return workload.error().message;
}

TEST(WorkloadSpec, AnEmptyObjectIsTheDefault) {
  Result<Workload> workload = parse_workload("{}");
  ASSERT_TRUE(workload.ok());
  EXPECT_EQ(workload->entry_sizes_bytes, (std::vector<uint64_t>{1024, 65536, 1048576}));
  EXPECT_EQ(workload->saturation_window(1024), 16384u);
  EXPECT_EQ(workload->saturation_window(65536), 256u);
  EXPECT_EQ(workload->saturation_window(1048576), 16u);
}

TEST(WorkloadSpec, TheDefaultFileIsTheDefault) {
  Result<Workload> file = load_workload(WAL_SOURCE_DIR "/bench/workloads/default.json");
  ASSERT_TRUE(file.ok()) << file.error().describe();
  const Workload defaults;
  EXPECT_EQ(file->entry_sizes_bytes, defaults.entry_sizes_bytes);
  EXPECT_EQ(file->rates_per_second, defaults.rates_per_second);
  EXPECT_EQ(file->inflight_bytes_max, defaults.inflight_bytes_max);
  EXPECT_EQ(file->inflight_entries_max, defaults.inflight_entries_max);
  EXPECT_EQ(file->consumers, defaults.consumers);
  EXPECT_DOUBLE_EQ(file->duration_seconds, defaults.duration_seconds);
}

TEST(WorkloadSpec, EveryKeyIsRead) {
  Result<Workload> workload = parse_workload(
      R"({"name": "x", "entry_sizes_bytes": [100, 2000], "rates_per_second": [0, 10],
          "paced_bytes_per_second_max": 10000, "inflight_bytes_max": 1000,
          "inflight_entries_max": 3, "consumers": 0, "warmup_seconds": 0,
          "duration_seconds": 0.5})");
  ASSERT_TRUE(workload.ok()) << workload.error().describe();
  EXPECT_EQ(workload->name, "x");
  EXPECT_EQ(workload->entry_sizes_bytes, (std::vector<uint64_t>{100, 2000}));
  EXPECT_EQ(workload->consumers, 0u);
  EXPECT_EQ(workload->saturation_window(100), 3u);   // 10 by bytes, cut to 3 entries
  EXPECT_EQ(workload->saturation_window(2000), 1u);  // at least one
  EXPECT_DOUBLE_EQ(workload->offered_rate(10, 100), 10.0);
  EXPECT_DOUBLE_EQ(workload->offered_rate(10, 2000), 5.0);  // 10,000 B/s at most
  EXPECT_DOUBLE_EQ(workload->duration_seconds, 0.5);
}

TEST(WorkloadSpec, BadWorkloadsAreRefusedNamingTheKey) {
  EXPECT_NE(refusal(R"({"duration": 5})").find("\"duration\" is not a workload key"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"consumers": "one"})").find("\"consumers\""), std::string::npos);
  EXPECT_NE(refusal(R"({"consumers": 2})").find("\"consumers\" must be in 0 .. 1"),
            std::string::npos);
  EXPECT_NE(refusal(R"({"consumers": -1})").find("\"consumers\" is negative"), std::string::npos);
  EXPECT_NE(refusal(R"({"entry_sizes_bytes": [8]})").find("\"entry_sizes_bytes\""),
            std::string::npos);
  EXPECT_NE(refusal(R"({"entry_sizes_bytes": [1024.5]})").find("whole numbers"), std::string::npos);
  EXPECT_NE(refusal(R"({"entry_sizes_bytes": []})").find("non-empty"), std::string::npos);
  EXPECT_NE(refusal(R"({"rates_per_second": [-1]})").find("\"rates_per_second\""),
            std::string::npos);
  EXPECT_NE(refusal(R"({"duration_seconds": 0})").find("\"duration_seconds\""), std::string::npos);
  EXPECT_NE(refusal(R"({"name": ""})").find("\"name\""), std::string::npos);
  EXPECT_NE(refusal("[1, 2]").find("not an object"), std::string::npos);
  EXPECT_NE(refusal("{").find("not JSON"), std::string::npos);
}

TEST(WorkloadSpec, AMissingFileIsNotFound) {
  Result<Workload> workload = load_workload("/nonexistent/workload.json");
  ASSERT_FALSE(workload.ok());
  EXPECT_EQ(workload.error().code, Errc::not_found);
}

}  // namespace
}  // namespace wal::bench
