// Faults between the S3 client and a real S3 server (Ceph RGW, the CTest fixture `rgw`), and of
// the server itself, with the outcome each must have (wal/real/s3_errors.h):
//  - an answer lost after the server did the PUT (a TCP reset): the PUT is unknown, and the WAL
//    settles it by reading, acknowledging every entry exactly once;
//  - a request cut before its body was whole: definite, and the store sends it again itself;
//  - a path that goes dark (a stall): the attempt times out, the outcome is unknown, and the WAL
//    finishes once new connections work;
//  - the gateway SIGKILLed and restarted in the middle of a run of appends.
// A TcpFaultProxy (tests/support/tcp_fault_proxy.h) sits between client and server; the killed
// gateway is one of its own (scripts/rgw.sh start-gateway), so other tests keep theirs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "tests/support/s3_test_bucket.h"
#include "tests/support/s3_wal_harness.h"
#include "tests/support/tcp_fault_proxy.h"

namespace wal::testing {
namespace {

using namespace std::chrono_literals;

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < 20; ++i) out += lines[i] + "\n";
  return out;
}

uint16_t port_of(const std::string& endpoint) {
  return static_cast<uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
}

// A bucket, and options that reach it through a fault proxy.
struct ProxiedBucket {
  EventLoop loop;
  std::unique_ptr<S3TestBucket> bucket = S3TestBucket::create(loop);
  std::unique_ptr<TcpFaultProxy> proxy;
  S3Options options;

  bool available() {
    if (bucket == nullptr) return false;
    proxy = std::make_unique<TcpFaultProxy>("127.0.0.1", port_of(bucket->options().endpoint));
    options = bucket->options();
    options.endpoint = proxy->endpoint();
    return true;
  }
};

TEST(s3_fault, a_put_whose_answer_is_lost_is_unknown_although_it_landed) {
  ProxiedBucket world;
  if (!world.available()) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  std::unique_ptr<S3ObjectStore> store = open_s3_store(world.loop, world.options);
  world.proxy->reset_next_responses(1);
  Result<ObjectInfo> put =
      world.loop.run(store->put("k", to_bytes("landed"), PutCondition::create_only()));
  ASSERT_FALSE(put.ok());
  EXPECT_TRUE(put.error().unknown()) << put.error().describe();
  EXPECT_EQ(world.proxy->responses_reset(), 1);
  EXPECT_EQ(store->stats().unknown_outcomes, 1u);
  // It did land: reading settles what the answer could not say.
  Result<ObjectData> read = world.loop.run(store->get("k", std::nullopt));
  ASSERT_TRUE(read.ok()) << read.error().describe();
  EXPECT_EQ(to_string(read->body), "landed");
}

TEST(s3_fault, the_wal_settles_puts_whose_answers_were_lost) {
  ProxiedBucket world;
  if (!world.available()) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  TempDir dir;
  RealWal wal(world.options, dir.path() + "/meta.sqlite", planted_bug_from_environment());
  ASSERT_TRUE(wal.run(wal.client().create_log("reset")).ok());
  Result<std::unique_ptr<LogWriter>> writer = wal.run(wal.client().open_writer("reset"));
  ASSERT_TRUE(writer.ok()) << writer.error().describe();
  AppendRecord record;
  ASSERT_TRUE(append_all(wal, **writer, record, 0, 500));  // warm: blocks in flight
  world.proxy->reset_next_responses(8);  // the next 8 answers, PUTs and settling reads alike
  ASSERT_TRUE(append_all(wal, **writer, record, 500, 4000));
  EXPECT_EQ(world.proxy->responses_reset(), 8);
  ASSERT_TRUE(wal.run((*writer)->close()).ok());
  std::printf("unknown outcomes reported by the store: %llu, settled by the writer: %llu\n",
              static_cast<unsigned long long>(wal.store().stats().unknown_outcomes),
              static_cast<unsigned long long>((*writer)->stats().unknown_outcomes_settled));
  EXPECT_GT(wal.store().stats().unknown_outcomes, 0u);
  EXPECT_GT((*writer)->stats().unknown_outcomes_settled, 0u);
  EXPECT_EQ(record.acknowledged(), 4500u);
  const std::vector<std::string> problems = check_log(wal, "reset", record);
  EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST(s3_fault, a_request_cut_before_its_body_was_whole_is_sent_again_by_the_store) {
  ProxiedBucket world;
  if (!world.available()) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  std::unique_ptr<S3ObjectStore> store = open_s3_store(world.loop, world.options);
  // 32 MiB: more than the socket buffers between curl and the proxy hold, so curl has not
  // taken the whole body when the connection breaks (and knows the server cannot have it).
  Bytes body(32u << 20);
  for (size_t i = 0; i < body.size(); ++i) body[i] = std::byte{static_cast<uint8_t>(i * 31)};
  world.proxy->cut_next_requests(1, 64u << 10);  // 64 KiB of the PUT reach the server
  Result<ObjectInfo> put = world.loop.run(store->put("big", body, PutCondition::create_only()));
  ASSERT_TRUE(put.ok()) << put.error().describe();
  EXPECT_EQ(world.proxy->requests_cut(), 1);
  EXPECT_EQ(store->stats().retries, 1u);
  EXPECT_EQ(store->stats().unknown_outcomes, 0u);
  Result<ObjectData> read = world.loop.run(store->get("big", std::nullopt));
  ASSERT_TRUE(read.ok()) << read.error().describe();
  EXPECT_TRUE(read->body == body);
}

TEST(s3_fault, a_path_that_goes_dark_times_out_and_the_wal_finishes_on_new_connections) {
  ProxiedBucket world;
  if (!world.available()) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  world.options.attempt_timeout = 500ms;  // the handling under test: a per-attempt deadline
  TempDir dir;
  RealWal wal(world.options, dir.path() + "/meta.sqlite", planted_bug_from_environment());
  ASSERT_TRUE(wal.run(wal.client().create_log("stall")).ok());
  Result<std::unique_ptr<LogWriter>> writer = wal.run(wal.client().open_writer("stall"));
  ASSERT_TRUE(writer.ok()) << writer.error().describe();
  AppendRecord record;
  ASSERT_TRUE(append_all(wal, **writer, record, 0, 500));
  world.proxy->stall_for(300ms);  // every connection of the next 300 ms is frozen for good
  // Without a working deadline the frozen PUTs never return: the time limit fails the test.
  ASSERT_TRUE(append_all(wal, **writer, record, 500, 3000, std::chrono::seconds(60)))
      << "appends did not finish after the stall";
  ASSERT_TRUE(wal.run((*writer)->close()).ok());
  std::printf("unknown outcomes reported by the store: %llu\n",
              static_cast<unsigned long long>(wal.store().stats().unknown_outcomes));
  EXPECT_GT(wal.store().stats().unknown_outcomes, 0u);
  EXPECT_EQ(record.acknowledged(), 3500u);
  const std::vector<std::string> problems = check_log(wal, "stall", record);
  EXPECT_TRUE(problems.empty()) << join(problems);
}

TEST(s3_fault, gateway_killed_and_restarted_mid_appends_loses_no_acknowledged_entry) {
  const std::optional<RgwSettings> settings = rgw_settings();
  if (!settings) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  EventLoop loop;
  std::unique_ptr<S3TestBucket> bucket = S3TestBucket::create(loop);
  const std::string gateway = "k" + std::to_string(getpid());
  const std::string started = run_rgw_script("start-gateway " + settings->dir + " " + gateway);
  const size_t at = started.find("S3_ENDPOINT=");
  ASSERT_NE(at, std::string::npos) << started;
  S3Options options = bucket->options();
  options.endpoint = started.substr(at + 12, started.find('\n', at) - at - 12);
  TempDir dir;
  RealWal wal(options, dir.path() + "/meta.sqlite", planted_bug_from_environment());
  ASSERT_TRUE(wal.run(wal.client().create_log("killed")).ok());
  Result<std::unique_ptr<LogWriter>> writer = wal.run(wal.client().open_writer("killed"));
  ASSERT_TRUE(writer.ok()) << writer.error().describe();
  AppendRecord record;
  // 4 KiB entries: a batch of 1000 is a few 4 MiB PUTs, so PUTs are in flight nearly all the
  // time and the crash finds some (the store must report those unknown).
  record.padding_bytes = 4096;
  ASSERT_TRUE(append_all(wal, **writer, record, 0, 500));
  // While the loop appends batch after batch, another thread crashes the gateway and brings it
  // back. A kill that falls between two PUTs finds nothing in flight (the next PUT is refused,
  // a definite failure), so the loop asks for another crash, up to crash_cycles_max, until the
  // store has reported an unknown outcome; one more batch runs after the last crash.
  constexpr int crash_cycles_max = 5;
  std::string crash_log;
  std::atomic<int> crashes_requested{1};
  std::atomic<int> crashes_done{0};
  std::atomic<bool> stop_crasher{false};
  std::thread crasher([&] {
    for (int cycle = 0; cycle < crash_cycles_max; ++cycle) {
      while (crashes_requested.load() <= cycle && !stop_crasher.load()) {
        std::this_thread::sleep_for(10ms);
      }
      if (stop_crasher.load()) return;
      std::this_thread::sleep_for(200ms + cycle * 70ms);  // vary the moment within a batch
      crash_log += run_rgw_script("kill-gateway " + settings->dir + " " + gateway);
      std::this_thread::sleep_for(1s);
      crash_log += run_rgw_script("restart-gateway " + settings->dir + " " + gateway);
      crashes_done = cycle + 1;
    }
  });
  uint64_t next = 500;
  bool finished = true;
  for (bool last = false; finished && !last; next += 1000) {
    const int done = crashes_done.load();
    if (done == crashes_requested.load()) {
      // The last crash asked for is over (the gateway is back): was a PUT in flight?
      if (wal.store().stats().unknown_outcomes > 0 || done == crash_cycles_max) {
        last = true;
      } else {
        crashes_requested = done + 1;
      }
    }
    finished = append_all(wal, **writer, record, next, 1000, std::chrono::seconds(60));
  }
  stop_crasher = true;
  crasher.join();
  ASSERT_TRUE(finished) << "appends did not finish after the gateway came back";
  std::printf("%s%d crashes; unknown outcomes reported by the store: %llu, settled by the "
              "writer: %llu\n",
              crash_log.c_str(), crashes_done.load(),
              static_cast<unsigned long long>(wal.store().stats().unknown_outcomes),
              static_cast<unsigned long long>((*writer)->stats().unknown_outcomes_settled));
  ASSERT_TRUE(wal.run((*writer)->close()).ok());
  EXPECT_GT(wal.store().stats().unknown_outcomes, 0u)
      << "no PUT was in flight at any of " << crashes_done.load() << " crashes";
  EXPECT_EQ(record.acknowledged(), next);
  const std::vector<std::string> problems = check_log(wal, "killed", record);
  EXPECT_TRUE(problems.empty()) << join(problems);
  run_rgw_script("kill-gateway " + settings->dir + " " + gateway);
}

}  // namespace
}  // namespace wal::testing
