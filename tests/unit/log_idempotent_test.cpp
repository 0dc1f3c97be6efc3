// Idempotent appends (LogWriter::append with an AppendKey): a retried key is applied at most
// once, through the same writer, a concurrent duplicate, a segment roll, a clean reopen, and a
// writer killed at every step of a workload; readers never see the key prefix.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/support/wal_fixture.h"
#include "wal/async/scope.h"
#include "wal/log/log_verify.h"

using namespace std::chrono_literals;

namespace wal::testing {
namespace {

constexpr uint64_t producer = 77;

AppendKey key_for(uint64_t sequence) { return AppendKey{producer, sequence}; }

// Appends `count` keyed entries pipelined: payload_for(i) with key (producer, i).
struct KeyedAppends {
  std::map<uint64_t, std::optional<Result<EntryId>>> results;  // sequence -> result
};

void spawn_keyed(Scope& scope, LogWriter& writer, KeyedAppends& out, uint64_t first,
                 uint64_t count) {
  for (uint64_t i = first; i < first + count; ++i) {
    out.results[i];
    scope.spawn([](LogWriter& w, uint64_t sequence, KeyedAppends& log) -> Task<void> {
      log.results[sequence].emplace(co_await w.append(payload_for(sequence), key_for(sequence)));
    }(writer, i, out));
  }
}

bool all_done(const KeyedAppends& log) {
  for (const auto& [sequence, result] : log.results) {
    if (!result) return false;
  }
  return true;
}

// Payload -> every id it was read back at.
std::map<std::string, std::vector<EntryId>> ids_by_payload(WalFixture& f, const std::string& name) {
  std::map<std::string, std::vector<EntryId>> out;
  for (const LogEntry& entry : f.read_all(name)) {
    out[to_string(entry.payload)].push_back(entry.id);
  }
  return out;
}

TEST(idempotent_append, retry_of_an_acknowledged_key_returns_its_id_and_adds_nothing) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("k")).ok());
  auto writer = f.open_writer("k");
  ASSERT_TRUE(f.run(writer->append(to_bytes("before"))).ok());
  auto first = f.run(writer->append(to_bytes("keyed"), key_for(1)));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, 1u);
  auto retry = f.run(writer->append(to_bytes("keyed"), key_for(1)));
  ASSERT_TRUE(retry.ok()) << retry.error().describe();
  EXPECT_EQ(*retry, *first);
  EXPECT_EQ(writer->stats().duplicate_appends, 1u);
  EXPECT_EQ(writer->next_entry_id(), 2u);
  auto next = f.run(writer->append(to_bytes("next"), key_for(2)));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, 2u);
  auto entries = f.read_all("k");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(to_string(entries[1].payload), "keyed");
}

TEST(idempotent_append, a_lower_sequence_or_producer_zero_is_invalid_argument) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("low")).ok());
  auto writer = f.open_writer("low");
  ASSERT_TRUE(f.run(writer->append(to_bytes("five"), key_for(5))).ok());
  auto lower = f.run(writer->append(to_bytes("three"), key_for(3)));
  ASSERT_FALSE(lower.ok());
  EXPECT_EQ(lower.error().code, Errc::invalid_argument);
  EXPECT_FALSE(lower.error().unknown());
  auto zero = f.run(writer->append(to_bytes("zero"), AppendKey{0, 1}));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().code, Errc::invalid_argument);
  // Another producer has its own sequences; a gap is fine.
  ASSERT_TRUE(f.run(writer->append(to_bytes("other"), AppendKey{producer + 1, 1})).ok());
  ASSERT_TRUE(f.run(writer->append(to_bytes("six"), key_for(9))).ok());
  EXPECT_EQ(f.read_all("low").size(), 3u);
}

TEST(idempotent_append, a_duplicate_in_flight_waits_for_the_original_and_shares_its_result) {
  WalFixture f;
  f.slow_objects.latency = 10ms;
  ASSERT_TRUE(f.run(f.client.create_log("dup")).ok());
  auto writer = f.open_writer("dup");
  KeyedAppends log;
  std::optional<Result<EntryId>> duplicate;
  std::optional<Result<EntryId>> lower;
  Scope scope(f.loop);
  spawn_keyed(scope, *writer, log, 10, 3);
  f.loop.run_for(1ms);  // all three in flight, none acknowledged
  ASSERT_EQ(writer->acknowledged_end(), 0u);
  scope.spawn([](LogWriter& w, std::optional<Result<EntryId>>& out) -> Task<void> {
    out.emplace(co_await w.append(payload_for(11), key_for(11)));
  }(*writer, duplicate));
  scope.spawn([](LogWriter& w, std::optional<Result<EntryId>>& out) -> Task<void> {
    out.emplace(co_await w.append(to_bytes("late"), key_for(5)));  // below 12, in flight
  }(*writer, lower));
  f.loop.run_until_condition([&] { return all_done(log) && duplicate && lower; });
  ASSERT_TRUE(log.results[11]->ok());
  ASSERT_TRUE(duplicate->ok()) << duplicate->error().describe();
  EXPECT_EQ(**duplicate, **log.results[11]);
  EXPECT_EQ(writer->stats().duplicate_appends, 1u);
  ASSERT_FALSE(lower->ok());
  EXPECT_EQ(lower->error().code, Errc::invalid_argument);
  auto ids = ids_by_payload(f, "dup");
  ASSERT_EQ(ids.size(), 3u);
  for (const auto& [payload, where] : ids) EXPECT_EQ(where.size(), 1u) << payload;
}

TEST(idempotent_append, a_duplicate_in_flight_shares_the_failure_too) {
  WalFixture f;
  f.slow_objects.latency = 10ms;
  ASSERT_TRUE(f.run(f.client.create_log("fail")).ok());
  auto writer = f.open_writer("fail");
  auto fencer = f.open_writer("fail");  // the old writer does not know yet
  KeyedAppends log;
  std::optional<Result<EntryId>> duplicate;
  Scope scope(f.loop);
  spawn_keyed(scope, *writer, log, 0, 1);
  f.loop.run_for(1ms);  // its PUT is on its way to the fence
  scope.spawn([](LogWriter& w, std::optional<Result<EntryId>>& out) -> Task<void> {
    out.emplace(co_await w.append(payload_for(0), key_for(0)));
  }(*writer, duplicate));
  f.loop.run_until_condition([&] { return all_done(log) && duplicate; });
  EXPECT_EQ(writer->stats().duplicate_appends, 1u);
  ASSERT_FALSE(log.results[0]->ok());
  ASSERT_FALSE(duplicate->ok());
  EXPECT_EQ(duplicate->error().code, log.results[0]->error().code);
  EXPECT_EQ(duplicate->error().outcome, log.results[0]->error().outcome);
}

TEST(idempotent_append, keys_survive_segment_rolls_and_a_clean_reopen) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("roll")).ok());
  WriterOptions options;
  options.segment_size_bytes_max = 1000;
  options.block_size_bytes_max = 400;
  options.checkpoint_interval_blocks = 2;
  auto writer = f.open_writer("roll", options);
  auto early = f.run(writer->append(payload_for(0), key_for(0)));
  ASSERT_TRUE(early.ok());
  auto other = f.run(writer->append(to_bytes("other"), AppendKey{5, 50}));
  ASSERT_TRUE(other.ok());
  KeyedAppends log;
  {
    Scope scope(f.loop);
    spawn_keyed(scope, *writer, log, 1, 100);
    f.loop.run_until_condition([&] { return all_done(log); });
  }
  ASSERT_GE(writer->segment_id(), 3u);  // producer 5's key is three footers back
  auto retry_last = f.run(writer->append(payload_for(100), key_for(100)));
  ASSERT_TRUE(retry_last.ok());
  EXPECT_EQ(*retry_last, **log.results[100]);
  ASSERT_TRUE(f.run(writer->close()).ok());
  const std::vector<ManifestProducer> before = writer->producers().snapshot();
  writer.reset();

  auto reopened = f.open_writer("roll", options);
  EXPECT_EQ(reopened->producers().snapshot(), before);
  auto again = f.run(reopened->append(payload_for(100), key_for(100)));
  ASSERT_TRUE(again.ok()) << again.error().describe();
  EXPECT_EQ(*again, **log.results[100]);
  auto other_again = f.run(reopened->append(to_bytes("other"), AppendKey{5, 50}));
  ASSERT_TRUE(other_again.ok());
  EXPECT_EQ(*other_again, *other);
  auto stale = f.run(reopened->append(payload_for(3), key_for(3)));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::invalid_argument);
  auto fresh = f.run(reopened->append(payload_for(101), key_for(101)));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(*fresh, reopened->next_entry_id() - 1);
  auto ids = ids_by_payload(f, "roll");
  EXPECT_EQ(ids.size(), 103u);
  for (const auto& [payload, where] : ids) EXPECT_EQ(where.size(), 1u) << payload;
}

TEST(idempotent_append, readers_and_verify_see_payloads_without_the_key_prefix) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("mix")).ok());
  auto writer = f.open_writer("mix");
  std::vector<std::string> appended;
  KeyedAppends log;
  {
    Scope scope(f.loop);
    f.slow_objects.latency = 5ms;  // keyed and unkeyed entries share blocks
    for (uint64_t i = 0; i < 20; ++i) {
      appended.push_back(to_string(payload_for(i)));
      if (i % 3 == 0) {
        spawn_keyed(scope, *writer, log, i, 1);
      } else {
        scope.spawn([](LogWriter& w, uint64_t index) -> Task<void> {
          WAL_ASSERT((co_await w.append(payload_for(index))).ok());
        }(*writer, i));
      }
    }
    f.loop.run_until_condition([&] { return writer->acknowledged_end() == 20; });
  }
  auto entries = f.read_all("mix");
  ASSERT_EQ(entries.size(), 20u);
  for (uint64_t i = 0; i < 20; ++i) EXPECT_EQ(to_string(entries[i].payload), appended[i]);
  auto info = f.run(f.client.get_log("mix"));
  ASSERT_TRUE(info.ok());
  auto report = f.run(verify_log(f.env, f.client.keys_for(*info)));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->problems.empty()) << report->problems.front();
  EXPECT_EQ(report->entries_checked, 20u);
  // The stored blocks do carry the keys: one object holds the producer id's bytes.
  bool prefixed = false;
  for (const std::string& key : f.objects.keys()) {
    auto object = f.objects.find(key);
    if (object && to_string(object->body).find("entry-3") != std::string::npos &&
        object->body.size() > 68 && static_cast<uint8_t>(object->body[9]) == 1) {
      prefixed = true;
    }
  }
  EXPECT_TRUE(prefixed);
}

TEST(idempotent_append, forgotten_producers_lose_the_guarantee_as_documented) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("lru")).ok());
  WriterOptions options;
  options.producers_max = 2;
  auto writer = f.open_writer("lru", options);
  for (uint64_t p = 1; p <= 3; ++p) {
    ASSERT_TRUE(f.run(writer->append(to_bytes("p" + std::to_string(p)), AppendKey{p, 1})).ok());
  }
  EXPECT_FALSE(writer->producers().find(1).has_value());
  auto retried = f.run(writer->append(to_bytes("p1"), AppendKey{1, 1}));
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(*retried, 3u);  // appended again
  auto remembered = f.run(writer->append(to_bytes("p3"), AppendKey{3, 1}));
  ASSERT_TRUE(remembered.ok());
  EXPECT_EQ(*remembered, 2u);
}

// A segment's producer table must not live only in the previous segment's footer: truncation
// lets garbage collection delete that segment while this one is open without a checkpoint, and
// the next writer then forgot every key (wp-sim keyed seed 6000861 appended three keys twice).
TEST(idempotent_append, keys_survive_gc_of_the_segment_before_an_open_one) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("gc")).ok());
  WriterOptions options;
  options.checkpoint_interval_blocks = 1000;  // no checkpoint: the table is the segment's base
  EntryId keyed_id = 0;
  {
    auto first = f.open_writer("gc", options);
    for (uint64_t sequence = 1; sequence <= 3; ++sequence) {
      auto id = f.run(first->append(payload_for(sequence), key_for(sequence)));
      ASSERT_TRUE(id.ok());
      keyed_id = *id;
    }
  }  // crash: segment 0 open; the next writer seals it with the table in its footer
  {
    auto second = f.open_writer("gc", options);
    ASSERT_EQ(second->segment_id(), 1u);
    ASSERT_TRUE(f.run(second->append(to_bytes("unkeyed"))).ok());
  }  // crash: segment 1 open, no checkpoint
  ASSERT_TRUE(f.run(f.client.truncate("gc", keyed_id + 1)).ok());
  auto gc = f.run(f.client.collect_garbage("gc"));
  ASSERT_TRUE(gc.ok());
  ASSERT_EQ(gc->segments_deleted, 1u);  // segment 0, footer included
  auto third = f.open_writer("gc", options);
  auto retried = f.run(third->append(payload_for(3), key_for(3)));
  ASSERT_TRUE(retried.ok()) << retried.error().describe();
  EXPECT_EQ(*retried, keyed_id);  // not appended again
  EXPECT_EQ(third->next_entry_id(), keyed_id + 2);
}

// Kills the writer after every few scheduler steps of keyed appends that flush, checkpoint and
// roll segments; a new writer retries every sequence in order, as a producer that never skips a
// sequence after an unknown outcome would. Each key must end up in the log exactly once, and an
// acknowledged key's retry must return its original id.
class idempotent_crash_at_every_step : public ::testing::TestWithParam<FencingMode> {};

TEST_P(idempotent_crash_at_every_step, every_key_lands_exactly_once) {
  for (uint64_t steps = 0; steps < 400; steps += 3) {
    SCOPED_TRACE("crash after " + std::to_string(steps) + " steps");
    WalFixture f;
    f.slow_objects.latency = 2ms;
    ASSERT_TRUE(f.run(f.client.create_log("c")).ok());
    WriterOptions options;
    options.fencing = GetParam();
    options.block_size_bytes_max = 200;
    options.segment_size_bytes_max = 900;
    options.checkpoint_interval_blocks = 2;
    constexpr uint64_t count = 40;
    KeyedAppends first;
    {
      auto writer = f.open_writer("c", options);
      Scope scope(f.loop);
      spawn_keyed(scope, *writer, first, 0, count);
      for (uint64_t i = 0; i < steps && f.loop.run_one(); ++i) {
      }
    }  // crash
    f.loop.run_for(1s);  // requests on the wire land or not
    auto next = f.open_writer("c", options);
    std::map<uint64_t, Result<EntryId>> retried;
    for (uint64_t i = 0; i < count; ++i) {
      retried.emplace(i, f.run(next->append(payload_for(i), key_for(i))));
    }
    auto ids = ids_by_payload(f, "c");
    ASSERT_EQ(ids.size(), count);
    for (uint64_t i = 0; i < count; ++i) {
      const auto where = ids.find(to_string(payload_for(i)));
      ASSERT_NE(where, ids.end()) << "sequence " << i << " missing";
      ASSERT_EQ(where->second.size(), 1u) << "sequence " << i << " appended twice";
      const Result<EntryId>& again = retried.at(i);
      const std::optional<Result<EntryId>>& original = first.results[i];
      if (original && original->ok()) {
        // Acknowledged: the retry returns its id, unless a later sequence of the same writer
        // landed too (then only the last is remembered and the retry is refused as lower).
        if (again.ok()) {
          EXPECT_EQ(*again, **original) << i;
        } else {
          EXPECT_EQ(again.error().code, Errc::invalid_argument) << i;
        }
      } else if (!again.ok()) {
        EXPECT_EQ(again.error().code, Errc::invalid_argument) << i;
      }
      if (again.ok()) {
        EXPECT_EQ(where->second.front(), *again) << i;
      }
    }
    if (HasFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(modes, idempotent_crash_at_every_step,
                         ::testing::Values(FencingMode::fence_object, FencingMode::meta_confirm));

TEST(idempotent_append, recovery_reads_only_keyed_tail_blocks_beyond_the_checkpoint) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("long")).ok());
  WriterOptions options;
  options.block_size_bytes_max = 120;  // one entry per block
  options.checkpoint_interval_blocks = 32;
  options.segment_size_bytes_max = 1ull << 30;
  KeyedAppends log;
  std::vector<ManifestProducer> before;
  {
    auto writer = f.open_writer("long", options);
    Scope scope(f.loop);
    spawn_keyed(scope, *writer, log, 0, 500);
    f.loop.run_until_condition([&] { return all_done(log); });
    before = writer->producers().snapshot();
  }  // crash with the segment open
  f.objects.reset_op_counts();
  auto next = f.open_writer("long", options);
  // One checkpoint manifest, at most interval + in-flight probes each followed by one whole
  // read of the keyed block, one miss.
  EXPECT_LE(f.objects.op_counts().get_count, 1u + 2u * (32u + 4u) + 1u);
  EXPECT_EQ(next->producers().snapshot(), before);
  auto retry = f.run(next->append(payload_for(499), key_for(499)));
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(*retry, **log.results[499]);
}

}  // namespace
}  // namespace wal::testing
