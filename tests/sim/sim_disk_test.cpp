// The simulated disk: timing, call order, crashes (in-flight and unsynced writes), and each
// fault kind.
#include <gtest/gtest.h>

#include <bit>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/sim_disk.h"
#include "sim/trace.h"

using namespace std::chrono_literals;

namespace wal::sim {
namespace {

template <typename T>
using Slot = std::shared_ptr<std::optional<T>>;

template <typename T>
Slot<T> start(NodeRuntime& runtime, Task<T> task) {
  auto slot = std::make_shared<std::optional<T>>();
  runtime.spawn([](Task<T> inner, Slot<T> out) -> Task<void> {
    out->emplace(co_await std::move(inner));
  }(std::move(task), slot));
  return slot;
}

DiskFaults quiet() {
  DiskFaults faults;
  faults.read_latency.base = 10us;
  faults.write_latency.base = 20us;
  faults.sync_latency.base = 200us;
  return faults;
}

class SimDiskTest : public ::testing::Test {
 protected:
  SimDiskTest() : streams_(31), runtime_(scheduler_, 1), disk_(runtime_, streams_, trace_,
                                                                quiet()) {}
  ~SimDiskTest() override {
    if (runtime_.alive()) runtime_.crash();  // node frames die before the disk
  }

  template <typename T>
  T call(Task<T> task) {
    Slot<T> slot = start(runtime_, std::move(task));
    scheduler_.run_while([&] { return !slot->has_value(); }, scheduler_.now() + 60s);
    EXPECT_TRUE(slot->has_value()) << "call never completed";
    if (!slot->has_value()) std::abort();
    return std::move(**slot);
  }
  std::string contents(const std::string& path) const {
    const std::optional<Bytes> bytes = disk_.state().contents(path);
    return bytes ? to_string(*bytes) : "<absent>";
  }
  std::string synced(const std::string& path) const {
    const std::optional<Bytes> bytes = disk_.state().synced_contents(path);
    return bytes ? to_string(*bytes) : "<absent>";
  }
  // Crashes the node, then the disk, then brings the node back.
  void crash_and_restart() {
    runtime_.crash();
    disk_.crash();
    runtime_.restart();
  }

  Trace trace_;
  Scheduler scheduler_{trace_};
  RandomStreams streams_;
  NodeRuntime runtime_;
  SimDisk disk_;
};

TEST_F(SimDiskTest, calls_take_their_latency_and_round_trip_with_faults_off) {
  ASSERT_TRUE(call(disk_.write("f", 0, to_bytes("hello"))).ok());
  EXPECT_EQ(scheduler_.now(), TimePoint(20us));
  const Result<uint64_t> offset = call(disk_.append("f", to_bytes(" world")));
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, 5u);
  ASSERT_TRUE(call(disk_.sync("f")).ok());
  EXPECT_EQ(scheduler_.now(), TimePoint(240us));
  const Result<Bytes> read = call(disk_.read("f", 6, 5));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(to_string(*read), "world");
  EXPECT_EQ(*call(disk_.size("f")), 11u);
  ASSERT_TRUE(call(disk_.rename("f", "g")).ok());
  EXPECT_EQ(*call(disk_.list("")), std::vector<std::string>{"g"});
  ASSERT_TRUE(call(disk_.truncate("g", 5)).ok());
  EXPECT_EQ(contents("g"), "hello");
  ASSERT_TRUE(call(disk_.remove("g")).ok());
  EXPECT_EQ(call(disk_.read("g", 0, 1)).error().code, Errc::not_found);
  EXPECT_EQ(disk_.stats().of(DiskOp::append).replied_count, 1u);
  EXPECT_EQ(disk_.stats().of(DiskOp::read).sent_count, 2u);
}

TEST_F(SimDiskTest, calls_apply_in_the_order_they_were_made) {
  // The read is faster than the write but was made after it: it must see the write.
  Slot<Status> write = start(runtime_, disk_.write("f", 0, to_bytes("data")));
  Slot<Result<Bytes>> read = start(runtime_, disk_.read("f", 0, 4));
  scheduler_.run_until(TimePoint(1ms));
  ASSERT_TRUE(write->has_value());
  ASSERT_TRUE(read->has_value());
  ASSERT_TRUE((*read)->ok()) << (*read)->error().describe();
  EXPECT_EQ(to_string((*read)->value()), "data");
}

TEST_F(SimDiskTest, crash_loses_unsynced_data_but_keeps_synced_data) {
  ASSERT_TRUE(call(disk_.append("journal", to_bytes("durable;"))).ok());
  ASSERT_TRUE(call(disk_.sync("journal")).ok());
  int lost = 0;
  for (int round = 0; round < 20; ++round) {
    ASSERT_TRUE(call(disk_.append("journal", to_bytes("volatile"))).ok());
    crash_and_restart();
    const std::string after = contents("journal");
    EXPECT_EQ(after.substr(0, 8), "durable;");  // synced bytes always survive exactly
    if (after.size() < 16) ++lost;
    ASSERT_TRUE(call(disk_.truncate("journal", 8)).ok());
    ASSERT_TRUE(call(disk_.sync("journal")).ok());
  }
  EXPECT_GT(lost, 0);  // unsynced appends do get lost
  EXPECT_LT(lost, 20);  // ... or kept
  EXPECT_EQ(disk_.stats().crash_count, 20u);
}

TEST_F(SimDiskTest, a_write_not_yet_applied_when_the_node_crashes_never_happens) {
  Slot<Status> write = start(runtime_, disk_.write("f", 0, to_bytes("never")));
  scheduler_.run_until(TimePoint(5us));  // applies at 10 us
  crash_and_restart();
  scheduler_.run_until(TimePoint(1ms));
  EXPECT_FALSE(write->has_value());
  EXPECT_EQ(contents("f"), "<absent>");
  EXPECT_EQ(disk_.stats().of(DiskOp::write).applied_count, 0u);
}

TEST_F(SimDiskTest, a_write_applied_but_not_acknowledged_is_unsynced_and_left_to_the_crash) {
  ASSERT_TRUE(call(disk_.write("f", 0, to_bytes("old"))).ok());
  ASSERT_TRUE(call(disk_.sync("f")).ok());
  const TimePoint issued = scheduler_.now();
  Slot<Status> write = start(runtime_, disk_.write("f", 3, to_bytes("new")));
  scheduler_.run_until(issued + 15us);  // applied at +10 us, acknowledged at +20 us
  EXPECT_EQ(contents("f"), "oldnew");
  EXPECT_EQ(synced("f"), "old");
  runtime_.crash();
  EXPECT_FALSE(write->has_value());
  Xoshiro256 random(4);
  const MemDiskCrashSummary summary = disk_.crash(random);
  EXPECT_EQ(summary.writes_kept_count + summary.writes_lost_count + summary.writes_torn_count,
            1u);
  EXPECT_EQ(contents("f").substr(0, 3), "old");
}

TEST_F(SimDiskTest, a_crash_while_the_node_is_up_fails_its_queued_calls) {
  Slot<Status> write = start(runtime_, disk_.write("f", 0, to_bytes("x")));
  scheduler_.run_until(TimePoint(5us));
  disk_.crash();  // the device resets under a running node
  scheduler_.run_until(TimePoint(1ms));
  ASSERT_TRUE(write->has_value());
  EXPECT_EQ((*write)->error().code, Errc::io_error);
  EXPECT_EQ(contents("f"), "<absent>");
  EXPECT_EQ(disk_.stats().reset_failed_count, 1u);
}

TEST_F(SimDiskTest, wipe_deletes_everything) {
  ASSERT_TRUE(call(disk_.append("a", to_bytes("1"))).ok());
  ASSERT_TRUE(call(disk_.sync("a")).ok());
  runtime_.crash();
  disk_.wipe();
  runtime_.restart();
  EXPECT_TRUE(call(disk_.list(""))->empty());
  EXPECT_EQ(disk_.stats().wipe_count, 1u);
}

// ---- faults ------------------------------------------------------------------------------------

TEST_F(SimDiskTest, injected_io_errors_fail_definitely_without_effect) {
  DiskFaults faults = quiet();
  faults.io_error_ppm = 1'000'000;
  disk_.set_faults(faults);
  const Status write = call(disk_.write("f", 0, to_bytes("x")));
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, Errc::io_error);
  EXPECT_EQ(write.error().outcome, Outcome::definite);
  EXPECT_EQ(call(disk_.read("f", 0, 1)).error().code, Errc::io_error);
  EXPECT_EQ(contents("f"), "<absent>");
  EXPECT_EQ(disk_.stats().io_error_count, 2u);
}

TEST_F(SimDiskTest, capacity_gives_no_space) {
  disk_.set_capacity_bytes(8);
  ASSERT_TRUE(call(disk_.append("f", to_bytes("12345678"))).ok());
  const Result<uint64_t> full = call(disk_.append("f", to_bytes("9")));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, Errc::no_space);
  EXPECT_EQ(contents("f"), "12345678");
}

TEST_F(SimDiskTest, bit_flips_land_inside_what_was_written) {
  ASSERT_TRUE(call(disk_.write("f", 0, Bytes(64, std::byte{0}))).ok());
  DiskFaults faults = quiet();
  faults.bit_flip_ppm = 1'000'000;
  disk_.set_faults(faults);
  ASSERT_TRUE(call(disk_.write("f", 16, Bytes(8, std::byte{0}))).ok());
  const Bytes after = *disk_.state().contents("f");
  int flipped = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    const int bits = std::popcount(static_cast<uint8_t>(after[i]));
    if (bits > 0) {
      EXPECT_GE(i, 16u);
      EXPECT_LT(i, 24u);
    }
    flipped += bits;
  }
  EXPECT_EQ(flipped, 1);
  ASSERT_TRUE(call(disk_.sync("f")).ok());
  EXPECT_EQ(*disk_.state().synced_contents("f"), after);  // silent and durable
  EXPECT_EQ(disk_.stats().bit_flip_count, 1u);
}

TEST_F(SimDiskTest, a_misdirected_write_lands_one_sector_away_and_reports_success) {
  ASSERT_TRUE(call(disk_.write("f", 0, Bytes(2048, std::byte{'.'}))).ok());
  DiskFaults faults = quiet();
  faults.misdirected_write_ppm = 1'000'000;
  disk_.set_faults(faults);
  ASSERT_TRUE(call(disk_.write("f", 1024, to_bytes("XY"))).ok());
  const std::string after = contents("f");
  EXPECT_EQ(after.substr(1024, 2), "..");  // the intended place keeps its old bytes
  const bool forward = after.substr(1536, 2) == "XY";
  const bool backward = after.substr(512, 2) == "XY";
  EXPECT_TRUE(forward != backward);
  EXPECT_EQ(disk_.stats().misdirected_write_count, 1u);
}

TEST_F(SimDiskTest, slow_fsync_spikes_delay_the_sync) {
  DiskFaults faults = quiet();
  faults.sync_latency.spike_ppm = 1'000'000;
  faults.sync_latency.spike_min = 80ms;
  faults.sync_latency.spike_max = 80ms;
  disk_.set_faults(faults);
  ASSERT_TRUE(call(disk_.append("f", to_bytes("x"))).ok());
  const TimePoint before = scheduler_.now();
  ASSERT_TRUE(call(disk_.sync("f")).ok());
  EXPECT_EQ(scheduler_.now() - before, Duration(80ms + 200us));
  EXPECT_EQ(disk_.stats().slow_sync_count, 1u);
}

TEST_F(SimDiskTest, corrupt_bit_on_demand_flips_one_stored_bit) {
  ASSERT_TRUE(call(disk_.write("f", 0, to_bytes("A"))).ok());
  disk_.corrupt_bit("f", 1);
  EXPECT_EQ(contents("f"), "C");  // 0x41 ^ 0x02
}

TraceHash run_faulty_disk(uint64_t seed) {
  Trace trace;
  Scheduler scheduler(trace);
  RandomStreams streams(seed);
  NodeRuntime runtime(scheduler, 2);
  DiskFaults faults = quiet();
  faults.write_latency.tail_mean = 50us;
  faults.sync_latency.spike_ppm = 100'000;
  faults.io_error_ppm = 50'000;
  faults.bit_flip_ppm = 50'000;
  SimDisk disk(runtime, streams, trace, faults);
  runtime.spawn([](SimDisk& d) -> Task<void> {
    for (int i = 0; i < 50; ++i) {
      const Result<uint64_t> appended = co_await d.append("j", to_bytes(std::to_string(i)));
      WAL_MAYBE(appended.ok());
      if (i % 5 == 0) {
        const Status synced = co_await d.sync("j");
        WAL_MAYBE(synced.ok());
      }
    }
  }(disk));
  scheduler.run_until(TimePoint(100ms));
  runtime.crash();
  const MemDiskCrashSummary summary = disk.crash();
  WAL_MAYBE(summary.writes_lost_count > 0);
  return trace.hash();
}

TEST(sim_disk, same_seed_gives_the_same_trace) {
  EXPECT_EQ(run_faulty_disk(3), run_faulty_disk(3));
  EXPECT_NE(run_faulty_disk(3), run_faulty_disk(4));
}

}  // namespace
}  // namespace wal::sim
