// The library's own refusals of misuse: truncation beyond the end, log names that mean
// something else in paths and keys, writer options a writer cannot work with, interrupted log
// deletions, and stores that do not belong together (store identity).
#include <gtest/gtest.h>

#include "tests/support/forwarding_stores.h"
#include "tests/support/wal_fixture.h"
#include "wal/async/scope.h"
#include "wal/log/store_identity.h"

namespace wal {
namespace {

using testing::ForwardingObjectStore;
using testing::WalFixture;

std::vector<std::string> keys_with_prefix(const MemObjectStore& objects,
                                          const std::string& prefix) {
  std::vector<std::string> found;
  for (const std::string& key : objects.keys()) {
    if (key.starts_with(prefix)) found.push_back(key);
  }
  return found;
}

// Appends `count` entries and waits for all; closes the writer unless `keep_open`.
std::unique_ptr<LogWriter> append_entries(WalFixture& f, const std::string& name, uint64_t count,
                                          WriterOptions options = {}, bool keep_open = false) {
  auto writer = testing::append_and_wait(f, name, count, options);
  if (!keep_open) {
    WAL_ASSERT(f.run(writer->close()).ok());
    writer.reset();
  }
  return writer;
}

// ---- truncation ----

// Regression: truncating past the end used to succeed, and entries appended afterwards got ids
// below the point: acknowledged, never readable, and deleted by gc. Shown to fail with the
// check removed from LogClient::truncate (the truncation was accepted).
TEST(truncate, beyond_the_end_is_refused_and_later_appends_stay_readable) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("t")).ok());
  append_entries(f, "t", 100);
  for (const EntryId point : {EntryId{101}, EntryId{1'000'000}, UINT64_MAX}) {
    const Status refused = f.run(f.client.truncate("t", point));
    ASSERT_FALSE(refused.ok()) << point;
    EXPECT_EQ(refused.error().code, Errc::out_of_range);
    EXPECT_FALSE(refused.error().unknown());
    EXPECT_NE(refused.error().message.find("ends at 100"), std::string::npos)
        << refused.error().message;
  }
  ASSERT_TRUE(f.run(f.client.truncate("t", 100)).ok());  // exactly the end: everything
  append_entries(f, "t", 5);
  ASSERT_TRUE(f.run(f.client.collect_garbage("t")).ok());
  const std::vector<LogEntry> entries = f.read_all("t");
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries.front().id, 100u);
}

TEST(truncate, an_empty_log_can_only_be_truncated_at_zero) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("e")).ok());
  EXPECT_TRUE(f.run(f.client.truncate("e", 0)).ok());
  const Status refused = f.run(f.client.truncate("e", 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::out_of_range);
}

// A writer publishes its tail at most every tail_publish_interval_min: entries it acknowledged
// but did not publish yet are in storage, and truncating up to them is fine (the probe of the
// open segment finds them). Shown to fail with the probe removed (refused at the published
// tail).
TEST(truncate, up_to_entries_stored_but_not_yet_published_is_allowed) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("p")).ok());
  WriterOptions options;
  options.publish_tail = false;  // the metadata knows no tail at all
  options.block_size_bytes_max = 200;
  auto writer = append_entries(f, "p", 30, options, /*keep_open=*/true);
  EXPECT_TRUE(f.run(f.client.truncate("p", 30)).ok());
  const Status refused = f.run(f.client.truncate("p", 31));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::out_of_range);
}

// ---- log names ----

TEST(log_names, dots_separators_control_characters_and_long_names_are_refused) {
  const std::vector<std::string> refused = {".",          "..",          "a/b",
                                            "a\\b",       "tab\there",   "new\nline",
                                            "caf\xc3\xa9", std::string(), std::string(201, 'x'),
                                            std::string("a\0b", 3)};
  for (const std::string& name : refused) {
    const Status status = validate_log_name(name);
    EXPECT_FALSE(status.ok()) << name;
    if (!status.ok()) {
      EXPECT_EQ(status.error().code, Errc::invalid_argument);
      // The message never echoes the bytes (they may be control characters).
      EXPECT_EQ(status.error().message.find('\n'), std::string::npos);
    }
  }
  const std::vector<std::string> accepted = {"a", "...", ".hidden", "orders-2024.v1_x",
                                             std::string(200, 'y')};
  for (const std::string& name : accepted) {
    EXPECT_TRUE(validate_log_name(name).ok()) << name;
  }
  WalFixture f;
  EXPECT_EQ(f.run(f.client.create_log("..")).error().code, Errc::invalid_argument);
}

// ---- writer options ----

TEST(writer_options, ones_a_writer_cannot_work_with_are_invalid_argument_not_an_abort) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("w")).ok());
  std::vector<WriterOptions> bad(6);
  bad[0].inflight_blocks_max = 0;
  bad[1].inflight_blocks_max = 100;  // above unacknowledged_blocks_max: asserted in the writer
  bad[2].block_size_bytes_max = limits::block_size_bytes_max + 1;
  bad[3].segment_age_max = std::chrono::milliseconds(0);
  bad[4].producers_max = 0;
  bad[5].retry_backoff_max = std::chrono::milliseconds(1);  // below the minimum
  for (const WriterOptions& options : bad) {
    auto writer = f.run(f.client.open_writer("w", options));
    ASSERT_FALSE(writer.ok());
    EXPECT_EQ(writer.error().code, Errc::invalid_argument);
  }
  EXPECT_TRUE(validate(WriterOptions{}).ok());
}

// ---- deletion ----

// Fails remove_many after `removals_allowed` calls, like a process killed mid-deletion.
class FailingRemovals final : public ForwardingObjectStore {
 public:
  using ForwardingObjectStore::ForwardingObjectStore;
  int removals_allowed = 1'000'000;
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override {
    if (removals_allowed-- <= 0) {
      co_return make_error(Errc::io_error, "injected: the process died here");
    }
    co_return co_await inner_.remove_many(std::move(keys));
  }
};

// Regression: a deletion killed after its metadata went left its objects for good (nothing
// named them any more). Shown to fail without the deletion marker (the re-run said not_found
// and the objects stayed).
TEST(delete_log, an_interrupted_deletion_is_finished_by_a_rerun_or_by_finish_deletions) {
  for (const bool by_rerun : {true, false}) {
    WalFixture f;
    FailingRemovals failing(f.objects);
    Env env{f.loop, f.loop, f.random, f.faults, &failing, &f.meta, nullptr, nullptr};
    LogClient client(env);
    ASSERT_TRUE(f.run(client.create_log("d")).ok());
    ASSERT_TRUE(f.run(client.create_log("other")).ok());
    WriterOptions options;
    options.block_size_bytes_max = 200;
    append_entries(f, "d", 50, options);
    append_entries(f, "other", 3);
    const LogKeys keys = client.keys_for(*f.run(client.get_log("d")));
    failing.removals_allowed = 0;
    ASSERT_FALSE(f.run(client.delete_log("d")).ok());
    EXPECT_EQ(f.run(client.get_log("d")).error().code, Errc::not_found);
    EXPECT_FALSE(keys_with_prefix(f.objects, keys.log_object_prefix()).empty());
    failing.removals_allowed = 1'000'000;
    if (by_rerun) {
      ASSERT_TRUE(f.run(client.delete_log("d")).ok());
    } else {
      auto finished = f.run(client.finish_deletions());
      ASSERT_TRUE(finished.ok());
      ASSERT_EQ(finished->size(), 1u);
      EXPECT_EQ(finished->front().name, "d");
    }
    EXPECT_TRUE(keys_with_prefix(f.objects, keys.log_object_prefix()).empty());
    EXPECT_EQ(f.run(client.delete_log("d")).error().code, Errc::not_found);  // nothing left
    EXPECT_TRUE(f.run(client.finish_deletions())->empty());
    EXPECT_EQ(f.read_all("other").size(), 3u);  // another log is untouched
  }
}

// ---- store identity ----

struct IdentityFixture : WalFixture {
  Result<std::optional<std::string>> check(IdentityAccess access = IdentityAccess::read_write) {
    return run(check_store_identity(env, client.options(), access));
  }
};

TEST(store_identity, a_fresh_store_gets_one_id_in_both_stores) {
  IdentityFixture f;
  auto id = f.check();
  ASSERT_TRUE(id.ok()) << id.error().describe();
  ASSERT_TRUE(id->has_value());
  EXPECT_EQ(**f.check(), **id);  // stable
  EXPECT_TRUE(f.objects.find(store_id_object_key(f.client.options())).has_value());
}

// Regression: after the metadata was lost, a new log got the old log's id and its readers
// returned the old log's entries. Shown to fail with the check skipped (the lost log's entries
// were read through the new log).
TEST(store_identity, objects_without_their_metadata_are_refused) {
  IdentityFixture f;
  ASSERT_TRUE(f.check().ok());
  ASSERT_TRUE(f.run(f.client.create_log("lost")).ok());
  append_entries(f, "lost", 10);
  MemMetaStore fresh(f.loop, f.loop);  // the metadata is gone
  Env env{f.loop, f.loop, f.random, f.faults, &f.objects, &fresh, nullptr, nullptr};
  for (const IdentityAccess access : {IdentityAccess::read_write, IdentityAccess::read_only}) {
    auto refused = f.run(check_store_identity(env, f.client.options(), access));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, Errc::corrupt);
    EXPECT_NE(refused.error().message.find("Recovery"), std::string::npos);
  }
}

TEST(store_identity, a_store_from_before_store_ids_without_metadata_is_refused) {
  IdentityFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("old")).ok());
  append_entries(f, "old", 3);  // objects, but no store id anywhere
  MemMetaStore fresh(f.loop, f.loop);
  Env env{f.loop, f.loop, f.random, f.faults, &f.objects, &fresh, nullptr, nullptr};
  auto refused = f.run(check_store_identity(env, f.client.options(), IdentityAccess::read_write));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::corrupt);
  auto adopted = f.check();  // with its own metadata it is adopted
  ASSERT_TRUE(adopted.ok()) << adopted.error().describe();
  EXPECT_TRUE(adopted->has_value());
}

TEST(store_identity, stores_of_two_deployments_are_refused_and_half_initialised_is_finished) {
  IdentityFixture f;
  MemObjectStore other_objects;
  Env half{f.loop, f.loop, f.random, f.faults, &other_objects, &f.meta, nullptr, nullptr};
  ASSERT_TRUE(f.check().ok());
  // Another object store with an id of its own.
  MemMetaStore other_meta(f.loop, f.loop);
  Env other{f.loop, f.loop, f.random, f.faults, &other_objects, &other_meta, nullptr, nullptr};
  ASSERT_TRUE(f.run(check_store_identity(other, f.client.options(), IdentityAccess::read_write))
                  .ok());
  auto mixed = f.run(check_store_identity(half, f.client.options(), IdentityAccess::read_write));
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().code, Errc::corrupt);
  // An initialisation that wrote its object and died before the key: finished, not refused.
  MemObjectStore lone_objects;
  MemMetaStore empty_meta(f.loop, f.loop);
  ASSERT_TRUE(lone_objects
                  .apply_put(store_id_object_key(f.client.options()),
                             to_bytes("wpstore1 0123456789abcdef0123456789abcdef\n"), {})
                  .ok());
  Env lone{f.loop, f.loop, f.random, f.faults, &lone_objects, &empty_meta, nullptr, nullptr};
  auto finished = f.run(check_store_identity(lone, f.client.options(), IdentityAccess::read_write));
  ASSERT_TRUE(finished.ok()) << finished.error().describe();
  EXPECT_EQ(**finished, "wpstore1 0123456789abcdef0123456789abcdef\n");
}

// Metadata restored from an older copy: same store id, but the log-id counter went back, so
// the next log would get the id of a log created after the copy. Shown to fail with
// skip_log_ids_with_objects off (the new log read the forgotten log's entries).
TEST(store_identity, a_new_log_never_gets_an_id_that_has_objects) {
  IdentityFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("kept")).ok());
  RangeRequest everything;
  everything.key = f.client.options().meta_root;
  everything.range_end = prefix_end(everything.key);
  const std::vector<KeyValue> snapshot = f.meta.apply_range(everything)->kvs;
  ASSERT_TRUE(f.run(f.client.create_log("forgotten")).ok());
  append_entries(f, "forgotten", 5);
  MemMetaStore restored(f.loop, f.loop);
  for (const KeyValue& kv : snapshot) {
    TxnRequest put;
    put.success = {PutOp{kv.key, kv.value, 0}};
    ASSERT_TRUE(restored.apply_txn(put).ok());
  }
  ClientOptions options;
  options.skip_log_ids_with_objects = true;
  Env env{f.loop, f.loop, f.random, f.faults, &f.objects, &restored, nullptr, nullptr};
  LogClient client(env, options);
  auto created = f.run(client.create_log("new"));
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->meta.log_id, 3u);  // 2 belongs to "forgotten"
  auto reader = f.run(client.open_reader("new", ReadPosition::earliest()));
  ASSERT_TRUE(reader.ok());
  auto entry = f.run((*reader)->try_next());
  ASSERT_TRUE(entry.ok());
  EXPECT_FALSE(entry->has_value());
}

}  // namespace
}  // namespace wal
