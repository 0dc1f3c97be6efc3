// Fencing and recovery of the MemoryBuffer WAL: a new writer fences the old one by token, in both
// fencing modes; a writer killed at every step of a flush and a seal loses no acknowledged entry;
// recovery costs O(1) reads.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <variant>

#include "tests/support/scripted_meta_store.h"
#include "tests/support/wal_fixture.h"
#include "wal/async/scope.h"

using namespace std::chrono_literals;

namespace wal::testing {
namespace {

// Appends `count` entries pipelined, recording each result as it arrives.
struct AppendLog {
  std::map<uint64_t, std::optional<Result<EntryId>>> results;  // payload index -> result
};

bool all_done(const AppendLog& log) {
  for (const auto& [index, result] : log.results) {
    if (!result) return false;
  }
  return true;
}

void spawn_appends(Scope& scope, LogWriter& writer, AppendLog& log, uint64_t first,
                   uint64_t count) {
  for (uint64_t i = first; i < first + count; ++i) {
    log.results[i];
    scope.spawn([](LogWriter& w, uint64_t index, AppendLog& out) -> Task<void> {
      out.results[index].emplace(co_await w.append(payload_for(index)));
    }(writer, i, log));
  }
}

// Every acknowledged append must be read back at its id with its bytes; every definite failure
// must be absent; the log must be dense from 0.
void check_log(WalFixture& f, const std::string& name, const AppendLog& log) {
  auto entries = f.read_all(name);
  std::map<std::string, EntryId> id_of_payload;
  for (uint64_t i = 0; i < entries.size(); ++i) {
    ASSERT_EQ(entries[i].id, i) << "ids must be dense";
    const bool fresh = id_of_payload.emplace(to_string(entries[i].payload), i).second;
    ASSERT_TRUE(fresh) << "duplicate payload at id " << i;
  }
  for (const auto& [index, result] : log.results) {
    const std::string payload = to_string(payload_for(index));
    const auto found = id_of_payload.find(payload);
    if (!result.has_value()) continue;  // never completed: either outcome is allowed
    if (result->ok()) {
      ASSERT_NE(found, id_of_payload.end()) << "acknowledged entry " << index << " lost";
      EXPECT_EQ(found->second, **result) << "entry " << index << " moved";
    } else if (!result->error().unknown()) {
      EXPECT_EQ(found, id_of_payload.end())
          << "entry " << index << " failed definitely (" << result->error().describe()
          << ") but is visible";
    }
  }
}

TEST(fencing, new_writer_fences_old_one_with_a_fence_object) {
  WalFixture f;
  f.slow_objects.latency = 7ms;
  ASSERT_TRUE(f.run(f.client.create_log("f")).ok());
  auto old_writer = f.open_writer("f");
  AppendLog log;
  Scope scope(f.loop);
  spawn_appends(scope, *old_writer, log, 0, 50);
  f.loop.run_for(15ms);  // some blocks landed, some in flight
  auto new_writer = f.open_writer("f");
  EXPECT_GT(new_writer->epoch(), old_writer->epoch());
  spawn_appends(scope, *old_writer, log, 50, 10);  // the zombie keeps trying
  spawn_appends(scope, *new_writer, log, 100, 10);
  f.loop.run_until_condition([&] { return all_done(log); });
  for (uint64_t i = 50; i < 60; ++i) {
    ASSERT_TRUE(log.results[i].has_value());
    ASSERT_FALSE(log.results[i]->ok());
    EXPECT_EQ(log.results[i]->error().code, Errc::fenced);
    EXPECT_FALSE(log.results[i]->error().unknown());  // fence_object mode: definite
  }
  for (uint64_t i = 100; i < 110; ++i) ASSERT_TRUE(log.results[i]->ok());
  check_log(f, "f", log);
}

TEST(fencing, meta_confirm_mode_fences_without_conditional_puts) {
  WalFixture f;
  f.slow_objects.latency = 7ms;
  ASSERT_TRUE(f.run(f.client.create_log("m")).ok());
  WriterOptions options;
  options.fencing = FencingMode::meta_confirm;
  auto old_writer = f.open_writer("m", options);
  AppendLog log;
  Scope scope(f.loop);
  spawn_appends(scope, *old_writer, log, 0, 50);
  f.loop.run_for(15ms);
  auto new_writer = f.open_writer("m", options);
  spawn_appends(scope, *old_writer, log, 50, 10);
  spawn_appends(scope, *new_writer, log, 100, 10);
  f.loop.run_until_condition([&] { return all_done(log); });
  for (uint64_t i = 50; i < 60; ++i) EXPECT_EQ(log.results[i]->error().code, Errc::fenced);
  for (uint64_t i = 100; i < 110; ++i) ASSERT_TRUE(log.results[i]->ok());
  // No fence object was written.
  for (const std::string& key : f.objects.keys()) {
    auto object = f.objects.find(key);
    ASSERT_TRUE(object.has_value());
    EXPECT_FALSE(object->body.size() == 24) << key;
  }
  check_log(f, "m", log);
}

// Kills the writer after every possible number of scheduler steps of a workload that flushes,
// checkpoints and rolls segments, then recovers with a new writer and checks the log.
class crash_at_every_step : public ::testing::TestWithParam<FencingMode> {};

TEST_P(crash_at_every_step, loses_no_acknowledged_entry) {
  for (uint64_t steps = 0; steps < 400; steps += 3) {
    WalFixture f;
    f.slow_objects.latency = 2ms;
    ASSERT_TRUE(f.run(f.client.create_log("c")).ok());
    WriterOptions options;
    options.fencing = GetParam();
    options.block_size_bytes_max = 200;
    options.segment_size_bytes_max = 900;
    options.checkpoint_interval_blocks = 2;
    AppendLog log;
    {
      auto writer = f.open_writer("c", options);
      Scope scope(f.loop);
      spawn_appends(scope, *writer, log, 0, 40);
      for (uint64_t i = 0; i < steps && f.loop.run_one(); ++i) {
      }
      // Crash: the scope and the writer die with every task and buffer they hold.
    }
    f.loop.run_for(1s);  // let requests already "on the wire" land or not
    auto next = f.open_writer("c", options);
    Scope scope(f.loop);
    spawn_appends(scope, *next, log, 1000, 5);
    f.loop.run_until_condition([&] {
      for (uint64_t i = 1000; i < 1005; ++i) {
        if (!log.results[i]) return false;
      }
      return true;
    });
    for (uint64_t i = 1000; i < 1005; ++i) ASSERT_TRUE(log.results[i]->ok()) << "steps " << steps;
    SCOPED_TRACE("crash after " + std::to_string(steps) + " steps");
    check_log(f, "c", log);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(modes, crash_at_every_step,
                         ::testing::Values(FencingMode::fence_object, FencingMode::meta_confirm));

TEST(recovery, costs_a_bounded_number_of_reads_however_long_the_segment) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("long")).ok());
  WriterOptions options;
  options.block_size_bytes_max = 120;  // one entry per block
  options.inflight_blocks_max = 4;
  options.checkpoint_interval_blocks = 32;
  options.segment_size_bytes_max = 1ull << 30;
  AppendLog log;
  {
    auto writer = f.open_writer("long", options);
    Scope scope(f.loop);
    spawn_appends(scope, *writer, log, 0, 1000);
    f.loop.run_until_condition([&] { return all_done(log); });
    ASSERT_GE(writer->stats().blocks_put, 500u);  // one or two entries per block
    ASSERT_GE(writer->stats().checkpoints_written, 15u);
  }  // crash with the segment open
  f.objects.reset_op_counts();
  auto next = f.open_writer("long", options);
  const auto& counts = f.objects.op_counts();
  // One checkpoint manifest, at most interval + in-flight header probes, one miss, one fence.
  EXPECT_LE(counts.get_count, 1u + 32u + 4u + 1u);
  EXPECT_EQ(counts.list_count, 0u);
  EXPECT_EQ(next->next_entry_id(), 1000u);
  check_log(f, "long", log);
}

TEST(recovery, a_fenced_writer_cannot_seal_roll_or_publish) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("z")).ok());
  auto zombie = f.open_writer("z");
  ASSERT_TRUE(f.run(zombie->append(to_bytes("a"))).ok());
  auto fresh = f.open_writer("z");
  auto late = f.run(zombie->append(to_bytes("b")));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Errc::fenced);
  Status closed = f.run(zombie->close());
  EXPECT_FALSE(closed.ok());
  ASSERT_TRUE(f.run(fresh->append(to_bytes("c"))).ok());
  auto entries = f.read_all("z");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(to_string(entries[0].payload), "a");
  EXPECT_EQ(to_string(entries[1].payload), "c");
}

// Regression (found by wp-sim seeds 47 and 59): a stale writer whose roll failed its compare
// used to find the segment sealed at exactly its own end by the new writer, take that seal for
// its own, and adopt the new writer's next segment, making fenced appends visible.
TEST(recovery, a_stale_writer_never_adopts_the_next_segment) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("s")).ok());
  WriterOptions options;
  options.segment_age_max = std::chrono::milliseconds(1000);
  auto stale = f.open_writer("s", options);
  ASSERT_TRUE(f.run(stale->append(to_bytes("first"))).ok());
  f.loop.run_for(10ms);
  auto fresh = f.open_writer("s", options);  // seals segment 0 at end 1, creates segment 1
  f.loop.run_for(2000ms);                    // the stale writer's age timer tries to roll
  EXPECT_EQ(stale->segment_id(), 0u);        // it must not have taken segment 1
  auto late = f.run(stale->append(to_bytes("stale")));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, Errc::fenced);
  ASSERT_TRUE(f.run(fresh->append(to_bytes("fresh"))).ok());
  auto entries = f.read_all("s");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(to_string(entries[0].payload), "first");
  EXPECT_EQ(to_string(entries[1].payload), "fresh");
}

LogKeys create_log(WalFixture& f, const std::string& name) {
  WAL_ASSERT(f.run(f.client.create_log(name)).ok());
  auto info = f.run(f.client.get_log(name));
  WAL_ASSERT(info.ok());
  return f.client.keys_for(*info);
}

// A LogClient on the fixture's stores whose MetaStore txns meet scripted fates.
struct SlowMetaClient {
  explicit SlowMetaClient(WalFixture& f)
      : meta(f.meta),
        env{f.loop, f.loop, f.random, f.faults, &f.slow_objects, &meta, nullptr, nullptr},
        client(env) {}
  ScriptedMetaStore meta;
  Env env;
  LogClient client;
};

// A roll's seal txn times out and lands only after the writer read the segment back and found it
// still open, so the retry's compare fails: the seal is the writer's own (segment_txn.h), and
// it goes on in the next segment instead of failing as "sealed by a newer writer".
TEST(recovery, a_roll_whose_seal_lands_late_goes_on_in_the_next_segment) {
  WalFixture f;
  const LogKeys keys = create_log(f, "late");
  SlowMetaClient slow(f);
  WriterOptions options;
  options.segment_age_max = 500ms;
  auto writer = f.run(slow.client.open_writer("late", options));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(f.run((*writer)->append(to_bytes("first"))).ok());
  slow.meta.script(keys.segment_key(0), {ScriptedMetaStore::Fate::hold_then_timeout});
  f.loop.run_for(3000ms);  // the age timer rolls; its seal lands late
  EXPECT_EQ(slow.meta.held_landed_count, 1u);
  EXPECT_EQ((*writer)->segment_id(), 1u);
  ASSERT_TRUE(f.run((*writer)->append(to_bytes("second"))).ok());
  auto entries = f.read_all("late");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(to_string(entries[1].payload), "second");
}

// A checkpoint txn times out and lands only after the writer read the segment back and found it
// unchanged. The next checkpoint's compare then fails on the revision the late one made: that is
// the writer's own checkpoint, not a newer writer, so checkpoints and tail publication go on.
TEST(recovery, a_checkpoint_that_lands_late_does_not_stop_checkpoints_or_the_tail) {
  WalFixture f;
  const LogKeys keys = create_log(f, "cp");
  SlowMetaClient slow(f);
  WriterOptions options;
  options.checkpoint_interval_blocks = 1;
  auto writer = f.run(slow.client.open_writer("cp", options));
  ASSERT_TRUE(writer.ok());
  slow.meta.script(keys.segment_key(0), {ScriptedMetaStore::Fate::hold_then_timeout});
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(f.run((*writer)->append(to_bytes("e" + std::to_string(i)))).ok());
    f.loop.run_for(200ms);  // the block's checkpoint (and the tail) settle
  }
  EXPECT_EQ(slow.meta.held_landed_count, 1u);
  EXPECT_EQ((*writer)->stats().checkpoints_written, 4u);
  auto stored = f.run(f.meta.get(keys.segment_key(0)));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  auto meta = decode_segment(keys.segment_key(0), (**stored).value);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta->checkpoint_block_count, 4u);
  EXPECT_EQ(f.read_all("cp").size(), 4u);  // the tail was published up to the last entry
}

// Regression (rapidcheck schedule property, seed 102): a writer's create-segment txn had an
// unknown outcome, a newer writer recovered and sealed that segment meanwhile, and the settling
// read found the segment with our epoch and adopted it although it was sealed (an assertion
// aborted the process; without it the stale writer would write into a sealed segment).
TEST(recovery, an_opener_whose_new_segment_was_sealed_meanwhile_is_fenced) {
  WalFixture f;
  const LogKeys keys = create_log(f, "n");
  // The create txn is applied, its reply lost; meanwhile another writer opens on the real store
  // (it recovers and seals that segment): a timeout during a partition with a takeover.
  ScriptedMetaStore takeover(f.meta);
  takeover.script(keys.segment_key(0), {ScriptedMetaStore::Fate::apply_then_timeout});
  std::unique_ptr<LogWriter> taker;
  takeover.meanwhile = [&]() -> Task<void> {
    Result<std::unique_ptr<LogWriter>> opened = co_await f.client.open_writer("n", {});
    WAL_ASSERT(opened.ok());
    taker = std::move(opened).value();
  };
  Env stale_env{f.loop, f.loop, f.random, f.faults, &f.slow_objects, &takeover, nullptr, nullptr};
  LogClient stale_client(stale_env);
  auto stale = f.run(stale_client.open_writer("n", {}));
  ASSERT_TRUE(taker != nullptr);  // the takeover did happen inside the open
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, Errc::fenced);
  ASSERT_TRUE(f.run(taker->append(to_bytes("after"))).ok());
  auto entries = f.read_all("n");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id, 0u);
}

}  // namespace
}  // namespace wal::testing
