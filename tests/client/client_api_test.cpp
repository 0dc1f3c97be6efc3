// The client library's API as one thread uses it (wal/include/wal/client/client.h): opening,
// every operation in its blocking form, idempotent appends across writers, truncation, reads
// with timeouts, and refusals of bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "client_test_support.h"

namespace wal::client {
namespace {

using testing::open_embedded;
using wal::testing::TempDir;

TEST(client_api, appends_come_back_in_order_through_a_reader) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("orders"));
  Result<Writer> writer = client->open_writer("orders");
  WAL_CLIENT_ASSERT_OK(writer);
  for (int index = 0; index < 50; ++index) {
    Result<EntryId> id = writer->append(as_bytes("order " + std::to_string(index)));
    WAL_CLIENT_ASSERT_OK(id);
    EXPECT_EQ(*id, static_cast<EntryId>(index));
  }
  WAL_CLIENT_ASSERT_OK(writer->close());
  Result<Reader> reader = client->open_reader("orders", StartAt::id(10));
  WAL_CLIENT_ASSERT_OK(reader);
  for (int index = 10; index < 50; ++index) {
    Result<Entry> entry = reader->next();
    WAL_CLIENT_ASSERT_OK(entry);
    EXPECT_EQ(entry->id, static_cast<EntryId>(index));
    EXPECT_EQ(entry->text(), "order " + std::to_string(index));
  }
  Result<std::optional<Entry>> past_end = reader->next_for(std::chrono::milliseconds(50));
  WAL_CLIENT_ASSERT_OK(past_end);
  EXPECT_FALSE(past_end->has_value());
  WAL_CLIENT_ASSERT_OK(client->close());
}

TEST(client_api, logs_are_created_listed_and_deleted) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("b"));
  WAL_CLIENT_ASSERT_OK(client->create_log("a"));
  Status again = client->create_log("a");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_EQ(again.error().outcome, Outcome::definite);
  Result<std::vector<std::string>> names = client->list_logs();
  WAL_CLIENT_ASSERT_OK(names);
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b"}));
  WAL_CLIENT_ASSERT_OK(client->delete_log("a"));
  EXPECT_EQ(*client->list_logs(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(client->open_writer("a").error().code, Errc::not_found);
  EXPECT_EQ(client->open_reader("a").error().code, Errc::not_found);
  EXPECT_EQ(client->create_log("no spaces").error().code, Errc::invalid_argument);
}

TEST(client_api, a_reader_at_latest_sees_only_later_entries_and_waits_for_them) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("tail"));
  Result<Writer> writer = client->open_writer("tail");
  WAL_CLIENT_ASSERT_OK(writer);
  WAL_CLIENT_ASSERT_OK(writer->append(as_bytes("before")));
  Result<Reader> reader = client->open_reader("tail", StartAt::latest());
  WAL_CLIENT_ASSERT_OK(reader);
  std::future<Result<Entry>> waiting = reader->next_async();
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  WAL_CLIENT_ASSERT_OK(writer->append(as_bytes("after")));
  Result<Entry> entry = waiting.get();
  WAL_CLIENT_ASSERT_OK(entry);
  EXPECT_EQ(entry->id, 1u);
  EXPECT_EQ(entry->text(), "after");
}

// A read that times out while the reader is fetching must not drop what the fetch returns.
TEST(client_api, an_entry_arriving_after_a_read_timed_out_goes_to_the_next_read) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("late"));
  Result<Writer> writer = client->open_writer("late");
  WAL_CLIENT_ASSERT_OK(writer);
  Result<Reader> reader = client->open_reader("late");
  WAL_CLIENT_ASSERT_OK(reader);
  for (int round = 0; round < 20; ++round) {
    Result<std::optional<Entry>> nothing = reader->next_for(std::chrono::milliseconds(0));
    WAL_CLIENT_ASSERT_OK(nothing);
    EXPECT_FALSE(nothing->has_value());
    WAL_CLIENT_ASSERT_OK(writer->append(as_bytes("entry " + std::to_string(round))));
    // Whether the pending fetch or a new one returns it, this read gets exactly that entry.
    Result<std::optional<Entry>> got = reader->next_for(std::chrono::seconds(10));
    WAL_CLIENT_ASSERT_OK(got);
    ASSERT_TRUE(got->has_value()) << "round " << round;
    EXPECT_EQ((*got)->id, static_cast<EntryId>(round));
    EXPECT_EQ((*got)->text(), "entry " + std::to_string(round));
  }
}

TEST(client_api, keyed_appends_apply_once_and_a_new_writer_knows_where_a_producer_stopped) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("keyed"));
  {
    Result<Writer> writer = client->open_writer("keyed");
    WAL_CLIENT_ASSERT_OK(writer);
    EXPECT_FALSE(writer->last_appended(7)->has_value());
    for (uint64_t sequence = 1; sequence <= 5; ++sequence) {
      WAL_CLIENT_ASSERT_OK(writer->append(as_bytes("p7"), AppendKey{7, sequence}));
    }
    Result<EntryId> retry = writer->append(as_bytes("p7 again"), AppendKey{7, 5});
    WAL_CLIENT_ASSERT_OK(retry);
    EXPECT_EQ(*retry, 4u);  // the id it already had: nothing added
    Result<EntryId> stale = writer->append(as_bytes("p7 old"), AppendKey{7, 2});
    ASSERT_FALSE(stale.ok());
    EXPECT_EQ(stale.error().code, Errc::invalid_argument);
    EXPECT_EQ(writer->append(as_bytes("x"), AppendKey{0, 1}).error().code,
              Errc::invalid_argument);
  }  // dropped without close(): closed in the background
  Result<Writer> next_writer = client->open_writer("keyed");
  WAL_CLIENT_ASSERT_OK(next_writer);
  Result<std::optional<ProducerPosition>> last = next_writer->last_appended(7);
  WAL_CLIENT_ASSERT_OK(last);
  ASSERT_TRUE(last->has_value());
  EXPECT_EQ((*last)->sequence, 5u);
  EXPECT_EQ((*last)->entry_id, 4u);
  EXPECT_EQ(*next_writer->append(as_bytes("p7"), AppendKey{7, 5}), 4u);
  EXPECT_EQ(*next_writer->append(as_bytes("p7"), AppendKey{7, 6}), 5u);
}

TEST(client_api, truncation_hides_entries_and_gc_frees_whole_segments) {
  TempDir dir;
  // 1 MiB segments of 64 KiB blocks: 3,000 entries of 1,000 bytes roll two segments.
  Result<Client> client = open_embedded(
      dir.path(), R"({"block_size_bytes_max": 65536, "segment_size_bytes_max": 1048576})");
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("old"));
  Result<Writer> writer = client->open_writer("old");
  WAL_CLIENT_ASSERT_OK(writer);
  std::vector<std::future<Result<EntryId>>> appends;
  for (int index = 0; index < 3000; ++index) {
    appends.push_back(writer->append_async(Bytes(1000, std::byte{'x'})));
  }
  for (auto& append : appends) WAL_CLIENT_ASSERT_OK(append.get());
  WAL_CLIENT_ASSERT_OK(client->truncate("old", 2500));
  Result<Reader> from_start = client->open_reader("old", StartAt::id(0));
  WAL_CLIENT_ASSERT_OK(from_start);
  Result<Entry> gone = from_start->next();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, Errc::out_of_range);
  Result<Reader> earliest = client->open_reader("old", StartAt::earliest());
  WAL_CLIENT_ASSERT_OK(earliest);
  EXPECT_EQ(earliest->next()->id, 2500u);
  Result<GarbageReport> report = client->collect_garbage("old");
  WAL_CLIENT_ASSERT_OK(report);
  EXPECT_GT(report->segments_deleted, 0u);
  EXPECT_GT(report->objects_deleted, 0u);
}

TEST(client_api, a_newer_writer_fences_the_older_one) {
  TempDir dir;
  Result<Client> client = open_embedded(dir.path());
  WAL_CLIENT_ASSERT_OK(client);
  WAL_CLIENT_ASSERT_OK(client->create_log("fenced"));
  Result<Writer> first = client->open_writer("fenced");
  WAL_CLIENT_ASSERT_OK(first);
  WAL_CLIENT_ASSERT_OK(first->append(as_bytes("one")));
  Result<Writer> second = client->open_writer("fenced");
  WAL_CLIENT_ASSERT_OK(second);
  Result<EntryId> stale = first->append(as_bytes("from the fenced writer"));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::fenced);
  EXPECT_EQ(*second->append(as_bytes("two")), 1u);
}

TEST(client_api, bad_options_and_configurations_are_one_line_errors) {
  TempDir dir;
  auto error_of = [](ClientOptions options) {
    Result<Client> client = Client::open(std::move(options));
    EXPECT_FALSE(client.ok());
    return client.ok() ? Error{Errc::io_error, Outcome::definite, "opened"}
                       : std::move(client).error();
  };
  Error no_dir = error_of({});
  EXPECT_EQ(no_dir.code, Errc::invalid_argument);
  EXPECT_NE(no_dir.message.find("data_dir"), std::string::npos) << no_dir.message;
  Error both = error_of({.config_file = "a.json", .config_json = "{}", .data_dir = dir.path()});
  EXPECT_EQ(both.code, Errc::invalid_argument);
  Error typo = error_of({.config_json = R"({"writer": {"block_size": 1}})",
                         .data_dir = dir.path()});
  EXPECT_NE(typo.message.find("writer.block_size"), std::string::npos) << typo.message;
  Error not_json = error_of({.config_json = "{", .data_dir = dir.path()});
  EXPECT_NE(not_json.message.find("not valid JSON"), std::string::npos) << not_json.message;
  Error no_file = error_of({.config_file = dir.path() + "/missing.json"});
  EXPECT_EQ(no_file.code, Errc::not_found);
  Error no_parent = error_of({.data_dir = dir.path() + "/a/b"});
  EXPECT_EQ(no_parent.code, Errc::not_found);
  EXPECT_EQ(error_of({.data_dir = dir.path(), .io_threads = 0}).code, Errc::invalid_argument);
  for (const Error& error : {no_dir, both, typo, not_json, no_file, no_parent}) {
    EXPECT_EQ(error.message.find('\n'), std::string::npos) << error.message;
    EXPECT_EQ(error.outcome, Outcome::definite);
  }
}

TEST(client_api, a_config_file_is_read_like_wp_reads_it) {
  TempDir dir;
  const std::string path = dir.path() + "/wal.json";
  std::ofstream(path) << R"({"data_dir": ")" << dir.path() << R"(/data",
      "writer": {"fencing": "meta_confirm"}, "reader": {"prefetch_blocks": 2},
      "meta_store": {"type": "sqlite"}, "object_store": {"type": "local"}})";
  Result<Client> client = Client::open({.config_file = path});
  WAL_CLIENT_ASSERT_OK(client);
  EXPECT_NE(client->describe().find(dir.path() + "/data/objects"), std::string::npos)
      << client->describe();
  EXPECT_NE(client->describe().find("SQLite"), std::string::npos) << client->describe();
  WAL_CLIENT_ASSERT_OK(client->create_log("configured"));
  EXPECT_STREQ(library_version(), WOODPECKER_WAL_VERSION);
}

}  // namespace
}  // namespace wal::client
