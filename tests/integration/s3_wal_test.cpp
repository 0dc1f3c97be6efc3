// The MemoryBuffer WAL end to end on a real S3 server (Ceph RGW, the CTest fixture `rgw`):
//  - writer processes killed with SIGKILL at random moments lose no acknowledged entry (the
//    next writer recovers what they left, and the log is dense and duplicate-free);
//  - a second writer fences the first, in both fencing modes.
// WAL_PLANT_BUG=<name> switches on a planted bug in every writer (tests/support/s3_wal_harness.h)
// to show a test fails when what it checks is broken.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/s3_test_bucket.h"
#include "tests/support/s3_wal_harness.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"

namespace wal::testing {
namespace {

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < 20; ++i) out += lines[i] + "\n";
  return out;
}

// The child: a writer appending until it is killed; after each acknowledgement it writes
// "<payload index> <entry id>\n" to `ack_fd` (one write, atomic in a pipe).
[[noreturn]] void run_doomed_writer(const S3Options& options, const std::string& meta_path,
                                    uint64_t first_index, int ack_fd) {
  try {
    RealWal wal(options, meta_path, planted_bug_from_environment());
    Result<std::unique_ptr<LogWriter>> writer = wal.run(wal.client().open_writer("crash"));
    if (!writer.ok()) _exit(3);
    wal.run([](EventLoop& loop, LogWriter& w, uint64_t first, int fd) -> Task<void> {
      Scope scope(loop);
      for (uint64_t index = first;; ++index) {
        // At most 500 appends waiting at once; the writer's own limits decide the rest.
        while (scope.running_count() >= 500) co_await sleep_for(loop, std::chrono::milliseconds(2));
        scope.spawn([](LogWriter& appender, uint64_t i, int out) -> Task<void> {
          Task<Result<EntryId>> append = appender.append(to_bytes(payload_text(i)));
          Result<EntryId> id = co_await std::move(append);
          if (!id.ok()) co_return;
          const std::string line = std::to_string(i) + " " + std::to_string(*id) + "\n";
          if (write(out, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(4);
        }(w, index, fd));
      }
    }(wal.loop(), **writer, first_index, ack_fd));
  } catch (...) {
    _exit(5);
  }
  _exit(6);  // unreachable: the loop above never ends
}

// Reads every "<index> <id>" line in `text` into `record` as acknowledged.
void record_acks(const std::string& text, AppendRecord& record) {
  std::istringstream lines(text);
  uint64_t index = 0;
  uint64_t id = 0;
  while (lines >> index >> id) record.results[index].emplace(Result<EntryId>(id));
}

TEST(s3_wal, writer_processes_killed_with_sigkill_lose_no_acknowledged_entry) {
  EventLoop loop;  // no threads of its own: children are forked while only this thread runs
  std::unique_ptr<S3TestBucket> bucket = S3TestBucket::create(loop);
  if (bucket == nullptr) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  TempDir dir;
  const std::string meta_path = dir.path() + "/meta.sqlite";
  {
    RealWal setup(bucket->options(), meta_path);
    ASSERT_TRUE(setup.run(setup.client().create_log("crash")).ok());
  }
  AppendRecord record;
  std::mt19937 random(std::random_device{}());
  constexpr int kill_count = 4;
  for (int round = 0; round < kill_count; ++round) {
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(pipe_fds[0]);
      run_doomed_writer(bucket->options(), meta_path, (round + 1) * 10'000'000ull, pipe_fds[1]);
    }
    close(pipe_fds[1]);
    // Wait for the writer's first acknowledgement (it first recovers what the previous victim
    // left), then kill it at a random moment of its appending. The pipe is drained all along:
    // a full pipe would block the writer instead of letting it run.
    std::string acks;
    const auto drain = [&](int timeout_ms) {
      char buffer[65536];
      pollfd readable{pipe_fds[0], POLLIN, 0};
      if (poll(&readable, 1, timeout_ms) != 1) return;
      const ssize_t got = read(pipe_fds[0], buffer, sizeof buffer);
      if (got > 0) acks.append(buffer, static_cast<size_t>(got));
    };
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (acks.empty() && std::chrono::steady_clock::now() < give_up) drain(100);
    ASSERT_FALSE(acks.empty()) << "no acknowledgement within 30 s";
    const auto life = std::chrono::milliseconds(random() % 1000);
    const auto kill_at = std::chrono::steady_clock::now() + life;
    while (std::chrono::steady_clock::now() < kill_at) drain(5);
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer exited by itself, status " << status;
    char buffer[65536];
    while (ssize_t got = read(pipe_fds[0], buffer, sizeof buffer)) {
      if (got < 0) break;
      acks.append(buffer, static_cast<size_t>(got));
    }
    close(pipe_fds[0]);
    const uint64_t before = record.acknowledged();
    record_acks(acks, record);
    std::printf("round %d: writer killed %lld ms after its first acknowledgement, %llu appends "
                "acknowledged\n", round,
                static_cast<long long>(life.count()),
                static_cast<unsigned long long>(record.acknowledged() - before));
  }
  ASSERT_GT(record.acknowledged(), 0u) << "no writer got an append acknowledged before it died";
  RealWal checker(bucket->options(), meta_path);
  // A new writer recovers the open segment the last victim left, then seals it.
  Result<std::unique_ptr<LogWriter>> last = checker.run(checker.client().open_writer("crash"));
  ASSERT_TRUE(last.ok()) << last.error().describe();
  ASSERT_TRUE(checker.run((*last)->close()).ok());
  uint64_t entries = 0;
  const std::vector<std::string> problems = check_log(checker, "crash", record, &entries);
  EXPECT_TRUE(problems.empty()) << join(problems);
  std::printf("%llu acknowledged appends checked among %llu entries in the log\n",
              static_cast<unsigned long long>(record.acknowledged()),
              static_cast<unsigned long long>(entries));
}

// Writer A is open and appending; writer B opens (fencing A); A can never make another entry
// visible, B appends, and the log holds what each got acknowledged.
void second_writer_fences_the_first(FencingMode mode) {
  EventLoop loop;
  std::unique_ptr<S3TestBucket> bucket = S3TestBucket::create(loop);
  if (bucket == nullptr) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  TempDir dir;
  RealWal wal(bucket->options(), dir.path() + "/meta.sqlite", planted_bug_from_environment());
  ASSERT_TRUE(wal.run(wal.client().create_log("fenced")).ok());
  WriterOptions options;
  options.fencing = mode;
  Result<std::unique_ptr<LogWriter>> first = wal.run(wal.client().open_writer("fenced", options));
  ASSERT_TRUE(first.ok()) << first.error().describe();
  AppendRecord record;
  ASSERT_TRUE(append_all(wal, **first, record, 0, 300));
  EXPECT_EQ(record.acknowledged(), 300u);
  Result<std::unique_ptr<LogWriter>> second =
      wal.run(wal.client().open_writer("fenced", options));
  ASSERT_TRUE(second.ok()) << second.error().describe();
  EXPECT_GT((*second)->epoch(), (*first)->epoch());
  // The zombie keeps trying; every one of its appends must fail.
  ASSERT_TRUE(append_all(wal, **first, record, 1000, 50));
  for (uint64_t index = 1000; index < 1050; ++index) {
    ASSERT_TRUE(record.results[index].has_value());
    EXPECT_FALSE(record.results[index]->ok()) << "the fenced writer got entry " << index
                                              << " acknowledged";
  }
  ASSERT_TRUE(append_all(wal, **second, record, 2000, 300));
  ASSERT_TRUE(wal.run((*second)->close()).ok());
  uint64_t entries = 0;
  const std::vector<std::string> problems = check_log(wal, "fenced", record, &entries);
  EXPECT_TRUE(problems.empty()) << join(problems);
  EXPECT_EQ(entries, 600u);
}

TEST(s3_wal, second_writer_fences_the_first_with_a_fence_object) {
  second_writer_fences_the_first(FencingMode::fence_object);
}

TEST(s3_wal, second_writer_fences_the_first_by_metastore_confirmation) {
  second_writer_fences_the_first(FencingMode::meta_confirm);
}

}  // namespace
}  // namespace wal::testing
