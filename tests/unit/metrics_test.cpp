// The metrics registry's Prometheus text and the metering decorators: they count, time and
// size every call, and change nothing about it (same results, same errors, same outcomes).
#include <gtest/gtest.h>

#include "tests/unit/logstore_fixture.h"
#include "wal/async/sleep.h"
#include "wal/mem/manual_loop.h"
#include "wal/mem/mem_disk.h"
#include "wal/mem/mem_object_store.h"
#include "wal/metrics/metered_stores.h"
#include "wal/metrics/metrics.h"

using namespace std::chrono_literals;

namespace wal::metrics {
namespace {

// The lines of `text` that start with `prefix`.
std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.starts_with(prefix)) out.push_back(line);
    start = end + 1;
  }
  return out;
}

TEST(metrics, counters_gauges_and_functions_render_in_prometheus_text) {
  Registry registry;
  registry.counter("wp_requests_total", "Requests", {{"method", "add"}}).add(3);
  registry.counter("wp_requests_total", "Requests", {{"method", "read"}}).add();
  registry.gauge("wp_open", "Open things").set(7);
  uint64_t held = 42;
  registry.gauge_function("wp_held", "Held", {}, [&] { return static_cast<double>(held); });
  registry.counter_function("wp_done_total", "Done", {}, [] { return 1e6; });
  held = 43;  // read at render time
  EXPECT_EQ(registry.render(),
            "# HELP wp_done_total Done\n"
            "# TYPE wp_done_total counter\n"
            "wp_done_total 1000000\n"
            "# HELP wp_held Held\n"
            "# TYPE wp_held gauge\n"
            "wp_held 43\n"
            "# HELP wp_open Open things\n"
            "# TYPE wp_open gauge\n"
            "wp_open 7\n"
            "# HELP wp_requests_total Requests\n"
            "# TYPE wp_requests_total counter\n"
            "wp_requests_total{method=\"add\"} 3\n"
            "wp_requests_total{method=\"read\"} 1\n");
}

TEST(metrics, histogram_buckets_are_cumulative_with_sum_count_and_inf) {
  Registry registry;
  const double bounds[] = {0.001, 0.01, 0.1};
  Histogram& h = registry.histogram("wp_latency_seconds", "Latency", bounds, {{"op", "put"}});
  for (double v : {0.0005, 0.001, 0.002, 0.05, 0.05, 3.0}) h.observe(v);
  const std::string text = registry.render();
  EXPECT_EQ(lines_starting(text, "wp_latency_seconds"),
            (std::vector<std::string>{
                "wp_latency_seconds_bucket{op=\"put\",le=\"0.001\"} 2",  // le: <= the bound
                "wp_latency_seconds_bucket{op=\"put\",le=\"0.01\"} 3",
                "wp_latency_seconds_bucket{op=\"put\",le=\"0.1\"} 5",
                "wp_latency_seconds_bucket{op=\"put\",le=\"+Inf\"} 6",
                "wp_latency_seconds_sum{op=\"put\"} 3.1035",
                "wp_latency_seconds_count{op=\"put\"} 6"}));
}

TEST(metrics, label_values_are_escaped) {
  Registry registry;
  registry.counter("wp_errors_total", "Errors", {{"why", "a \"b\"\\c\nd"}}).add();
  EXPECT_EQ(lines_starting(registry.render(), "wp_errors_total{"),
            (std::vector<std::string>{"wp_errors_total{why=\"a \\\"b\\\"\\\\c\\nd\"} 1"}));
}

// A store whose calls take 5 ms and fail on demand, under the meter.
struct MeteredFixture {
  ManualLoop loop;
  Registry registry;
  MemObjectStore objects;
  MeteredObjectStore metered{objects, registry, loop};
  template <typename T>
  T run(Task<T> task) {
    return loop.run(std::move(task));
  }
};

TEST(metered_object_store, forwards_every_result_unchanged_and_counts_it) {
  MeteredFixture f;
  auto put = f.run(f.metered.put("k", to_bytes("hello"), PutCondition::create_only()));
  ASSERT_TRUE(put.ok());
  auto again = f.run(f.metered.put("k", to_bytes("other"), PutCondition::create_only()));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);  // the store's own answer
  auto got = f.run(f.metered.get("k", std::nullopt));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->body, to_bytes("hello"));
  auto missing = f.run(f.metered.get("absent", std::nullopt));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  const std::string text = f.registry.render();
  const auto has = [&](const std::string& line) {
    return !lines_starting(text, line).empty();
  };
  EXPECT_TRUE(has("woodpecker_object_storage_operations_total{operation=\"put\",status=\"ok\"} 1"));
  EXPECT_TRUE(has("woodpecker_object_storage_operations_total{operation=\"put\","
                  "status=\"already_exists\"} 1"));
  EXPECT_TRUE(has("woodpecker_object_storage_operations_total{operation=\"get\",status=\"ok\"} 1"));
  EXPECT_TRUE(has("woodpecker_object_storage_operations_total{operation=\"get\","
                  "status=\"not_found\"} 1"));
  // Bytes of the successful put and get only.
  EXPECT_TRUE(has("woodpecker_object_storage_request_bytes_total{operation=\"put\"} 5"));
  EXPECT_TRUE(has("woodpecker_object_storage_request_bytes_total{operation=\"get\"} 5"));
  EXPECT_TRUE(has("woodpecker_object_storage_operation_latency_seconds_count{operation=\"put\"} 2"));
}

// Journal fsync latency comes from the node's clock, and the bytes per fsync are what was
// written to that file since its previous sync.
TEST(metered_disk, fsync_latency_and_bytes_per_fsync_follow_the_journal) {
  ManualLoop loop;
  Registry registry;
  MemDisk disk;
  quorum::testing::SlowSyncDisk slow(disk, loop);
  slow.sync_latency = 3ms;
  MeteredDisk metered(slow, registry, loop);
  ASSERT_TRUE(loop.run(metered.append("j", Bytes(100))).ok());
  ASSERT_TRUE(loop.run(metered.append("j", Bytes(50))).ok());
  ASSERT_TRUE(loop.run(metered.append("other", Bytes(7))).ok());
  ASSERT_TRUE(loop.run(metered.sync("j")).ok());
  ASSERT_TRUE(loop.run(metered.sync("j")).ok());  // nothing new: 0 bytes
  const std::string text = registry.render();
  EXPECT_EQ(lines_starting(text, "woodpecker_flush_block_bytes_sum"),
            std::vector<std::string>{"woodpecker_flush_block_bytes_sum 150"});
  EXPECT_EQ(lines_starting(text, "woodpecker_flush_block_bytes_count"),
            std::vector<std::string>{"woodpecker_flush_block_bytes_count 2"});
  EXPECT_EQ(lines_starting(text, "woodpecker_file_flush_latency_seconds_sum"),
            std::vector<std::string>{"woodpecker_file_flush_latency_seconds_sum 0.006"});
  EXPECT_EQ(lines_starting(text, "woodpecker_file_flush_latency_seconds_bucket{le=\"0.0025\"}"),
            std::vector<std::string>{"woodpecker_file_flush_latency_seconds_bucket{le=\"0.0025\"} 0"});
  EXPECT_EQ(lines_starting(text, "woodpecker_file_flush_latency_seconds_bucket{le=\"0.005\"}"),
            std::vector<std::string>{"woodpecker_file_flush_latency_seconds_bucket{le=\"0.005\"} 2"});
}

}  // namespace
}  // namespace wal::metrics
