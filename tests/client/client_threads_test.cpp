// The client library under threads (wal/include/wal/client/client.h, "Threading" and
// "Shutdown"): calls from many threads at once, callbacks on the loop thread, shutdown while
// calls run, handles that outlive their client, and calls abandoned at close_timeout.
// scripts/tsan.sh runs these under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "client_test_support.h"
#include "stalling_s3_server.h"

namespace wal::client {
namespace {

using testing::open_embedded;
using wal::testing::TempDir;

constexpr int thread_count = 4;

TEST(client_threads, appends_from_many_threads_get_dense_ids_in_each_threads_order) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("busy"));
  Result<Writer> writer = client->open_writer("busy");
  WAL_CLIENT_ASSERT_OK(writer);
  constexpr int appends_per_thread = 300;
  std::vector<std::vector<EntryId>> ids(thread_count);
  std::vector<std::thread> threads;
  for (int thread = 0; thread < thread_count; ++thread) {
    threads.emplace_back([&, thread] {
      for (int index = 0; index < appends_per_thread; ++index) {
        const std::string text = std::to_string(thread) + ":" + std::to_string(index);
        // The three forms, interleaved: one core under them.
        Result<EntryId> id = make_error(Errc::io_error, "unset");
        if (index % 3 == 0) {
          id = writer->append(as_bytes(text));
        } else if (index % 3 == 1) {
          id = writer->append_async(to_bytes(text)).get();
        } else {
          std::promise<Result<EntryId>> done;
          writer->append_async(to_bytes(text),
                               [&done](Result<EntryId> result) { done.set_value(result); });
          id = done.get_future().get();
        }
        ASSERT_TRUE(id.ok()) << id.error().describe();
        ids[thread].push_back(*id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<EntryId> all;
  for (const auto& per_thread : ids) {
    for (size_t index = 1; index < per_thread.size(); ++index) {
      EXPECT_LT(per_thread[index - 1], per_thread[index]);  // call order within a thread
    }
    all.insert(per_thread.begin(), per_thread.end());
  }
  ASSERT_EQ(all.size(), static_cast<size_t>(thread_count * appends_per_thread));
  EXPECT_EQ(*all.rbegin(), all.size() - 1);  // dense: 0 .. count - 1
  // Every entry holds what its thread appended under that id.
  std::map<EntryId, std::string> expected;
  for (int thread = 0; thread < thread_count; ++thread) {
    for (int index = 0; index < appends_per_thread; ++index) {
      expected[ids[thread][index]] = std::to_string(thread) + ":" + std::to_string(index);
    }
  }
  Result<Reader> reader = client->open_reader("busy");
  WAL_CLIENT_ASSERT_OK(reader);
  for (const auto& [id, text] : expected) {
    Result<Entry> entry = reader->next();
    WAL_CLIENT_ASSERT_OK(entry);
    EXPECT_EQ(entry->id, id);
    EXPECT_EQ(entry->text(), text);
  }
}

TEST(client_threads, callbacks_run_once_on_the_loop_thread_where_blocking_calls_are_refused) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("cb"));
  Result<Writer> writer = client->open_writer("cb");
  WAL_CLIENT_ASSERT_OK(writer);
  std::promise<void> finished;
  std::atomic<int> calls{0};
  std::thread::id callback_thread;
  Result<EntryId> nested = make_error(Errc::io_error, "unset");
  writer->append_async(to_bytes("a"), [&](Result<EntryId> id) {
    ++calls;
    callback_thread = std::this_thread::get_id();
    EXPECT_TRUE(id.ok());
    nested = writer->append(as_bytes("b"));  // would deadlock if it blocked
    finished.set_value();
  });
  finished.get_future().get();
  WAL_CLIENT_ASSERT_OK(writer->close());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_NE(callback_thread, std::this_thread::get_id());
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.error().code, Errc::invalid_argument);
}

TEST(client_threads, two_threads_reading_one_reader_get_each_entry_once) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("shared"));
  Result<Reader> reader = client->open_reader("shared");
  WAL_CLIENT_ASSERT_OK(reader);
  constexpr int entry_count = 400;
  std::mutex mutex;
  std::multiset<EntryId> seen;
  std::vector<std::thread> readers;
  for (int thread = 0; thread < 2; ++thread) {
    readers.emplace_back([&] {
      while (true) {
        Result<std::optional<Entry>> entry = reader->next_for(std::chrono::milliseconds(500));
        ASSERT_TRUE(entry.ok()) << entry.error().describe();
        if (!entry->has_value()) return;  // quiet for half a second: the writer is done
        std::lock_guard lock(mutex);
        seen.insert((*entry)->id);
      }
    });
  }
  Result<Writer> writer = client->open_writer("shared");
  WAL_CLIENT_ASSERT_OK(writer);
  std::vector<std::future<Result<EntryId>>> appends;
  for (int index = 0; index < entry_count; ++index) {
    appends.push_back(writer->append_async(to_bytes(std::to_string(index))));
  }
  for (auto& append : appends) WAL_CLIENT_ASSERT_OK(append.get());
  for (auto& thread : readers) thread.join();
  ASSERT_EQ(seen.size(), static_cast<size_t>(entry_count));
  EXPECT_EQ(std::set<EntryId>(seen.begin(), seen.end()).size(), seen.size());  // no duplicate
}

TEST(client_threads, close_finishes_accepted_appends_and_ends_waiting_reads) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("closing"));
  Result<Writer> writer = client->open_writer("closing");
  WAL_CLIENT_ASSERT_OK(writer);
  Result<Reader> reader = client->open_reader("closing", StartAt::id(1'000'000));
  WAL_CLIENT_ASSERT_OK(reader);
  std::future<Result<Entry>> waiting = reader->next_async();
  std::vector<std::future<Result<EntryId>>> appends;
  for (int index = 0; index < 2000; ++index) {
    appends.push_back(writer->append_async(to_bytes("entry " + std::to_string(index))));
  }
  WAL_CLIENT_ASSERT_OK(client->close());
  for (auto& append : appends) WAL_CLIENT_ASSERT_OK(append.get());  // accepted: completed
  Result<Entry> ended = waiting.get();
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().code, Errc::closed);
  // The handles outlive the client: every call is refused, definitely.
  Result<EntryId> late = writer->append(as_bytes("late"));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Errc::closed);
  EXPECT_EQ(late.error().outcome, Outcome::definite);
  EXPECT_EQ(reader->next().error().code, Errc::closed);
  bool called_inline = false;
  writer->append_async(to_bytes("late"), [&](Result<EntryId> id) {
    called_inline = !id.ok() && id.error().code == Errc::closed;
  });
  EXPECT_TRUE(called_inline);
  // What was acknowledged is in the log: a new client reads all 2,000 entries.
  Result<Client> reopened = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(reopened);
  Result<Reader> check = reopened->open_reader("closing", StartAt::id(1999));
  WAL_CLIENT_ASSERT_OK(check);
  EXPECT_EQ(check->next()->text(), "entry 1999");
}

// Threads keep calling while another closes the client: every call ends exactly once, ok or
// closed, and nothing crashes or races (the point of running this under TSan).
TEST(client_threads, closing_while_other_threads_call_ends_every_call_once) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("race"));
  Result<Writer> writer = client->open_writer("race");
  WAL_CLIENT_ASSERT_OK(writer);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> issued{0}, acknowledged{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < thread_count; ++thread) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        ++issued;
        writer->append_async(to_bytes("x"), [&](Result<EntryId> id) {
          if (id.ok()) {
            ++acknowledged;
          } else if (id.error().code == Errc::closed) {
            ++refused;
          } else {
            ++other;
          }
        });
        Result<std::vector<std::string>> logs = client->list_logs();
        if (!logs.ok()) {
          EXPECT_EQ(logs.error().code, Errc::closed);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  WAL_CLIENT_ASSERT_OK(client->close());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // calls after close, refused
  stop = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(acknowledged + refused + other, issued.load());
  EXPECT_EQ(other.load(), 0u);
  EXPECT_GT(acknowledged.load(), 0u);
  EXPECT_GT(refused.load(), 0u);
}

// close_timeout bounds shutdown: an append whose PUT never returns is abandoned, and its
// caller learns the outcome is unknown (it may have landed) rather than waiting forever.
TEST(client_threads, close_abandons_what_does_not_finish_in_time_as_unknown) {
  TempDir dir;
  testing::StallingS3Server server;
  ClientOptions options;
  options.data_dir = dir.path();
  options.close_timeout = std::chrono::milliseconds(300);
  options.config_json = R"({"object_store": {"type": "s3", "endpoint": ")" +
                        server.endpoint() + R"(", "bucket": "wal", "probe": false,
      "access_key_id": "k", "secret_access_key": "s", "attempt_timeout_ms": 600000,
      "call_timeout_ms": 600000}})";
  Result<Client> client = Client::open(options);
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("stuck"));
  Result<Writer> writer = client->open_writer("stuck");
  WAL_CLIENT_ASSERT_OK(writer);
  server.stall_puts();
  std::future<Result<EntryId>> append = writer->append_async(to_bytes("never stored"));
  EXPECT_EQ(append.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  EXPECT_GE(server.stalled_puts(), 1);
  const auto started = std::chrono::steady_clock::now();
  Status closed = client->close();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, Errc::timeout);
  EXPECT_EQ(closed.error().outcome, Outcome::unknown);
  ASSERT_EQ(append.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  Result<EntryId> abandoned = append.get();
  ASSERT_FALSE(abandoned.ok());
  EXPECT_EQ(abandoned.error().code, Errc::closed);
  EXPECT_EQ(abandoned.error().outcome, Outcome::unknown);
}

}  // namespace
}  // namespace wal::client
