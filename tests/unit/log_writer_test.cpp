// MemoryBuffer writer and reader on in-memory stores: ids, order, group commit, rolling,
// back-pressure, limits.
#include <gtest/gtest.h>

#include <deque>
#include <set>

#include "tests/support/forwarding_stores.h"
#include "tests/support/wal_fixture.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"
#include "wal/log/retry.h"

using namespace std::chrono_literals;

namespace wal::testing {
namespace {

// Starts `count` appends at once (pipelined) and runs until all complete.
std::vector<Result<EntryId>> append_concurrently(WalFixture& f, LogWriter& writer,
                                                 uint64_t first_payload, uint64_t count) {
  std::vector<std::optional<Result<EntryId>>> results(count);
  Scope scope(f.loop);
  for (uint64_t i = 0; i < count; ++i) {
    scope.spawn([](LogWriter& w, Bytes payload, std::optional<Result<EntryId>>& out) -> Task<void> {
      out.emplace(co_await w.append(std::move(payload)));
    }(writer, payload_for(first_payload + i), results[i]));
  }
  f.loop.run_until_condition([&] {
    for (auto& result : results) {
      if (!result) return false;
    }
    return true;
  });
  std::vector<Result<EntryId>> done;
  for (auto& result : results) {
    WAL_ASSERT(result.has_value());
    done.push_back(std::move(*result));
  }
  return done;
}

TEST(log_writer, pipelined_appends_get_dense_ids_in_call_order_and_read_back_identically) {
  WalFixture f;
  f.slow_objects.latency = 5ms;
  ASSERT_TRUE(f.run(f.client.create_log("orders")).ok());
  auto writer = f.open_writer("orders");
  auto results = append_concurrently(f, *writer, 0, 1000);
  for (uint64_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].error().describe();
    EXPECT_EQ(*results[i], i);
  }
  auto entries = f.read_all("orders");
  ASSERT_EQ(entries.size(), 1000u);
  for (uint64_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].id, i);
    EXPECT_EQ(entries[i].payload, payload_for(i));
  }
}

TEST(log_writer, idle_append_is_sent_at_once_without_a_timer) {
  WalFixture f;
  f.slow_objects.latency = 20ms;
  ASSERT_TRUE(f.run(f.client.create_log("idle")).ok());
  auto writer = f.open_writer("idle");
  const TimePoint start = f.loop.now();
  auto id = f.run(writer->append(to_bytes("one")));
  ASSERT_TRUE(id.ok());
  // One PUT of latency (no batching delay); the tail publication runs in the background.
  EXPECT_EQ(f.loop.now() - start, 20ms);
}

// The tail key's value and how many times it was written (etcd's per-key version).
struct TailSeen {
  EntryId end_entry_id = 0;
  int64_t writes_count = 0;
};
TailSeen read_tail(WalFixture& f, const std::string& name) {
  auto info = f.run(f.client.get_log(name));
  WAL_ASSERT(info.ok());
  const LogKeys keys = f.client.keys_for(*info);
  auto kv = f.run(f.meta.get(keys.tail_key()));
  WAL_ASSERT(kv.ok());
  if (!*kv) return {};
  auto tail = decode_tail((*kv)->key, (*kv)->value);
  WAL_ASSERT(tail.ok());
  return {tail->end_entry_id, (*kv)->version};
}

TEST(log_writer, tail_is_published_at_once_when_idle_and_at_most_once_per_interval_when_busy) {
  WalFixture f;
  f.slow_objects.latency = 1ms;
  ASSERT_TRUE(f.run(f.client.create_log("t")).ok());
  WriterOptions options;
  options.tail_publish_interval_min = 50ms;
  auto writer = f.open_writer("t", options);
  // Idle: the first acknowledgement is published without waiting for the interval.
  ASSERT_TRUE(f.run(writer->append(to_bytes("first"))).ok());
  f.loop.run_for(1ms);
  EXPECT_EQ(read_tail(f, "t").end_entry_id, 1u);
  // Busy: 200 appends one after another, each acknowledged after its 1 ms PUT, over ~200 ms.
  f.loop.run_for(1s);
  const TimePoint busy_start = f.loop.now();
  const int64_t writes_before = read_tail(f, "t").writes_count;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(f.run(writer->append(payload_for(i))).ok());
  const auto busy = f.loop.now() - busy_start;
  ASSERT_GE(busy, 200ms);
  const int64_t writes_busy = read_tail(f, "t").writes_count - writes_before;
  // One per started interval (the first at once), where one per acknowledgement would be 200.
  EXPECT_LE(writes_busy, busy / 50ms + 1);
  EXPECT_GE(writes_busy, 2);
  // The last acknowledgement is published within one interval.
  f.loop.run_for(50ms);
  EXPECT_EQ(read_tail(f, "t").end_entry_id, 201u);
}

TEST(log_writer, tail_publication_interval_zero_publishes_after_every_round_trip) {
  WalFixture f;
  f.slow_objects.latency = 1ms;
  ASSERT_TRUE(f.run(f.client.create_log("t")).ok());
  WriterOptions options;
  options.tail_publish_interval_min = 0ms;
  auto writer = f.open_writer("t", options);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(f.run(writer->append(payload_for(i))).ok());
  f.loop.run_for(1ms);
  // The in-memory MetaStore answers at once, so every acknowledgement gets its own write.
  EXPECT_EQ(read_tail(f, "t").writes_count, 50);
  EXPECT_EQ(read_tail(f, "t").end_entry_id, 50u);
}

TEST(log_writer, entries_batch_into_fewer_blocks_under_load) {
  WalFixture f;
  f.slow_objects.latency = 10ms;
  ASSERT_TRUE(f.run(f.client.create_log("busy")).ok());
  WriterOptions options;
  options.inflight_blocks_max = 2;
  auto writer = f.open_writer("busy", options);
  auto results = append_concurrently(f, *writer, 0, 500);
  for (auto& r : results) ASSERT_TRUE(r.ok());
  EXPECT_LT(writer->stats().blocks_put, 20u);  // not one PUT per entry
  EXPECT_GE(writer->stats().blocks_put, 2u);
}

TEST(log_writer, back_pressure_keeps_order_and_bounds_buffered_bytes) {
  WalFixture f;
  f.slow_objects.latency = 3ms;
  ASSERT_TRUE(f.run(f.client.create_log("bp")).ok());
  WriterOptions options;
  options.inflight_bytes_max = 256;  // a handful of entries
  options.inflight_blocks_max = 1;
  auto writer = f.open_writer("bp", options);
  auto results = append_concurrently(f, *writer, 0, 200);
  for (uint64_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].ok());
    EXPECT_EQ(*results[i], i);
  }
  EXPECT_EQ(f.read_all("bp").size(), 200u);
}

TEST(log_writer, segments_roll_by_size_and_ids_continue_across_them) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("roll")).ok());
  WriterOptions options;
  options.segment_size_bytes_max = 2000;
  options.block_size_bytes_max = 700;
  auto writer = f.open_writer("roll", options);
  auto results = append_concurrently(f, *writer, 0, 300);
  for (auto& r : results) ASSERT_TRUE(r.ok());
  EXPECT_GE(writer->segment_id(), 3u);
  EXPECT_GE(writer->stats().segments_sealed, 3u);
  auto entries = f.read_all("roll");
  ASSERT_EQ(entries.size(), 300u);
  for (uint64_t i = 0; i < entries.size(); ++i) EXPECT_EQ(entries[i].payload, payload_for(i));
}

TEST(log_writer, an_idle_log_rolls_by_age) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("aging")).ok());
  WriterOptions options;
  options.segment_age_max = 1000ms;
  auto writer = f.open_writer("aging", options);
  ASSERT_TRUE(f.run(writer->append(to_bytes("lonely"))).ok());
  EXPECT_EQ(writer->segment_id(), 0u);
  f.loop.run_for(1500ms);  // no writes at all
  EXPECT_EQ(writer->segment_id(), 1u);
  EXPECT_EQ(writer->stats().segments_sealed, 1u);
  f.loop.run_for(5000ms);  // an empty segment does not roll again
  EXPECT_EQ(writer->segment_id(), 1u);
}

TEST(log_writer, oversized_entry_is_rejected_and_the_writer_goes_on) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("big")).ok());
  auto writer = f.open_writer("big");
  Bytes huge(limits::entry_size_bytes_max + 1);
  auto rejected = f.run(writer->append(std::move(huge)));
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, Errc::too_large);
  EXPECT_FALSE(rejected.error().unknown());
  auto accepted = f.run(writer->append(to_bytes("fine")));
  ASSERT_TRUE(accepted.ok());
  EXPECT_EQ(*accepted, 0u);
}

// Fails every PUT with `outage` while it is set, as a store that is gone does: a timeout (the
// writer cannot tell whether the PUT landed) or a 503 (it did not).
class DownObjectStore final : public ForwardingObjectStore {
 public:
  using ForwardingObjectStore::ForwardingObjectStore;
  std::optional<Error> outage;
  uint64_t puts_failed = 0;

  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override {
    if (!outage) return inner_.put(std::move(key), std::move(body), std::move(condition));
    ++puts_failed;
    return fail(*outage);
  }

 private:
  static Task<Result<ObjectInfo>> fail(Error error) { co_return error; }
};

// Three entries acknowledged, then the store goes down for good: the fourth append must end with
// the store's error once limits::block_put_attempts_max PUTs failed (not wait forever), and
// nothing acknowledged may be lost.
void check_writer_gives_up_on_a_dead_store(const Error& outage) {
  WalFixture f;
  DownObjectStore store(f.objects);
  Env env{f.loop, f.loop, f.random, f.faults, &store, &f.meta, nullptr, nullptr};
  LogClient client(env);
  ASSERT_TRUE(f.run(client.create_log("outage")).ok());
  auto writer = f.run(client.open_writer("outage"));
  ASSERT_TRUE(writer.ok());
  for (uint64_t i = 0; i < 3; ++i) ASSERT_TRUE(f.run((*writer)->append(payload_for(i))).ok());
  store.outage = outage;
  const TimePoint outage_start = f.loop.now();
  std::optional<Result<EntryId>> appended;
  std::optional<TimePoint> answered_at;
  Scope scope(f.loop);
  scope.spawn([](LogWriter& w, std::optional<Result<EntryId>>& out, std::optional<TimePoint>& at,
                 Clock& clock) -> Task<void> {
    out.emplace(co_await w.append(payload_for(3)));
    at = clock.now();
  }(**writer, appended, answered_at, f.loop));
  f.loop.run_for(30min);  // far past the bound; a writer that retries forever is still waiting
  ASSERT_TRUE(appended.has_value()) << "the append is still waiting after 30 min of outage";
  ASSERT_FALSE(appended->ok());
  EXPECT_EQ(appended->error().code, outage.code);
  EXPECT_EQ(appended->error().outcome, outage.outcome);
  EXPECT_NE(appended->error().message.find("PUT failed 64 times"), std::string::npos)
      << appended->error().describe();
  EXPECT_EQ(store.puts_failed, limits::block_put_attempts_max);
  // The bound's comment says about 90 s with the default backoff: each pause after the first
  // seven is 1 to 2 s.
  EXPECT_GT(*answered_at - outage_start, 55s);
  EXPECT_LT(*answered_at - outage_start, 120s);
  EXPECT_FALSE(f.run((*writer)->append(payload_for(4))).ok());  // the writer stays failed
  // The store comes back: the acknowledged entries are all there, and the next writer goes on
  // right after them (the failed block never landed).
  store.outage.reset();
  writer->reset();
  auto reader = f.run(client.open_reader("outage", ReadPosition::earliest()));
  ASSERT_TRUE(reader.ok());
  for (uint64_t i = 0; i < 3; ++i) {
    auto entry = f.run((*reader)->try_next());
    ASSERT_TRUE(entry.ok() && entry->has_value());
    EXPECT_EQ((*entry)->id, i);
    EXPECT_EQ((*entry)->payload, payload_for(i));
  }
  auto next = f.run(client.open_writer("outage"));
  ASSERT_TRUE(next.ok());
  auto after = f.run((*next)->append(payload_for(5)));
  ASSERT_TRUE(after.ok()) << after.error().describe();
  EXPECT_EQ(*after, 3u);
}

TEST(log_writer, block_put_gives_up_after_its_bound_when_the_store_times_out) {
  check_writer_gives_up_on_a_dead_store(make_unknown(Errc::timeout, "store gone"));
}

TEST(log_writer, block_put_gives_up_after_its_bound_when_the_store_refuses) {
  check_writer_gives_up_on_a_dead_store(make_error(Errc::unavailable, "503 SlowDown"));
}

TEST(log_writer, close_seals_so_the_next_writer_has_nothing_to_recover) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("closing")).ok());
  auto writer = f.open_writer("closing");
  append_concurrently(f, *writer, 0, 10);
  ASSERT_TRUE(f.run(writer->close()).ok());
  auto after = f.run(writer->append(to_bytes("late")));
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, Errc::closed);
  f.objects.reset_op_counts();
  auto next = f.open_writer("closing");
  EXPECT_EQ(f.objects.op_counts().get_count, 0u);  // no probing needed
  EXPECT_EQ(next->next_entry_id(), 10u);
}

// A writer that goes on appending after a newer writer took the log. The newer writer's
// recovery probes the old writer's blocks one GET at a time, so if the old writer kept putting
// blocks faster than that, the takeover would never finish. Once a MetaStore compare (here the
// tail publication) shows the newer epoch, the old writer sends no more blocks: the takeover
// finishes while the old writer is still being called, its later appends fail definitely
// (fenced), and none of those is ever readable.
TEST(log_writer, a_writer_that_sees_a_newer_epoch_stops_sending_so_a_takeover_finishes) {
  WalFixture f;
  f.slow_objects.latency = 5ms;  // a probe takes 5 ms; the old writer appends every 1 ms
  ASSERT_TRUE(f.run(f.client.create_log("contested")).ok());
  auto old_writer = f.open_writer("contested");
  struct Outcome {
    uint64_t payload_index = 0;
    std::optional<Result<EntryId>> result;
  };
  std::deque<Outcome> outcomes;  // stable addresses while the appender adds more
  bool stop = false;
  Scope scope(f.loop);
  scope.spawn([](WalFixture& fx, LogWriter& w, std::deque<Outcome>& out, bool& halt,
                 Scope& tasks) -> Task<void> {
    for (uint64_t i = 0; !halt; ++i) {
      out.push_back(Outcome{i, std::nullopt});
      tasks.spawn([](LogWriter& writer, Outcome& o) -> Task<void> {
        o.result.emplace(co_await writer.append(payload_for(o.payload_index)));
      }(w, out.back()));
      co_await sleep_for(fx.loop, 1ms);
    }
  }(f, *old_writer, outcomes, stop, scope));
  f.loop.run_for(200ms);
  std::optional<Result<std::unique_ptr<LogWriter>>> newer;
  scope.spawn(
      [](WalFixture& fx, std::optional<Result<std::unique_ptr<LogWriter>>>& out) -> Task<void> {
        out.emplace(co_await fx.client.open_writer("contested"));
      }(f, newer));
  for (int step = 0; step < 1000 && !newer; ++step) f.loop.run_for(10ms);  // 10 s at most
  ASSERT_TRUE(newer.has_value()) << "the takeover did not finish while the old writer appended";
  ASSERT_TRUE(newer->ok()) << newer->error().describe();
  stop = true;
  f.loop.run_until_condition([&] {
    for (const Outcome& o : outcomes) {
      if (!o.result) return false;
    }
    return true;
  });
  std::set<std::string> readable;
  for (const LogEntry& entry : f.read_all("contested")) readable.insert(to_string(entry.payload));
  uint64_t acknowledged = 0;
  uint64_t fenced_definite = 0;
  for (const Outcome& o : outcomes) {
    const std::string payload = to_string(payload_for(o.payload_index));
    if (o.result->ok()) {
      ++acknowledged;
      EXPECT_TRUE(readable.count(payload)) << "acknowledged and lost: " << payload;
    } else if (!o.result->error().unknown()) {
      EXPECT_EQ(o.result->error().code, Errc::fenced) << o.result->error().describe();
      EXPECT_FALSE(readable.count(payload)) << "failed definitely and readable: " << payload;
      ++fenced_definite;
    }
  }
  EXPECT_GT(acknowledged, 0u);
  EXPECT_GT(fenced_definite, 0u) << "the old writer was never refused";
}

TEST(log_client, rejects_bad_names_and_duplicate_logs) {
  WalFixture f;
  EXPECT_EQ(f.run(f.client.create_log("")).error().code, Errc::invalid_argument);
  EXPECT_EQ(f.run(f.client.create_log("a/b")).error().code, Errc::invalid_argument);
  ASSERT_TRUE(f.run(f.client.create_log("x")).ok());
  EXPECT_EQ(f.run(f.client.create_log("x")).error().code, Errc::already_exists);
  EXPECT_EQ(f.run(f.client.open_writer("missing")).error().code, Errc::not_found);
  auto logs = f.run(f.client.list_logs());
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].name, "x");
}

TEST(log_reader, tail_reader_wakes_on_new_entries_without_polling) {
  WalFixture f;
  f.slow_objects.latency = 1ms;
  ASSERT_TRUE(f.run(f.client.create_log("tail")).ok());
  auto writer = f.open_writer("tail");
  auto reader = f.open_reader("tail", ReadPosition::latest());
  std::vector<EntryId> seen;
  Scope scope(f.loop);
  scope.spawn([](LogReader& r, std::vector<EntryId>& out) -> Task<void> {
    for (int i = 0; i < 3; ++i) {
      auto entry = co_await r.next();
      WAL_ASSERT(entry.ok());
      out.push_back(entry->id);
    }
  }(*reader, seen));
  f.loop.run_for(10s);
  EXPECT_TRUE(seen.empty());
  EXPECT_EQ(f.loop.pending_timer_count(), 1u);  // only the writer's age timer: no poll loop
  append_concurrently(f, *writer, 0, 3);
  f.loop.run_until_condition([&] { return seen.size() == 3; });
  EXPECT_EQ(seen, (std::vector<EntryId>{0, 1, 2}));
}

TEST(log_reader, starts_at_any_id_including_mid_segment_and_mid_block) {
  WalFixture f;
  ASSERT_TRUE(f.run(f.client.create_log("seek")).ok());
  WriterOptions options;
  options.block_size_bytes_max = 300;
  options.segment_size_bytes_max = 3000;
  options.checkpoint_interval_blocks = 2;
  auto writer = f.open_writer("seek", options);
  append_concurrently(f, *writer, 0, 400);
  for (EntryId start : {0u, 1u, 57u, 200u, 398u, 399u}) {
    auto entries = f.read_all("seek", ReadPosition::at(start));
    ASSERT_EQ(entries.size(), 400 - start) << "start " << start;
    EXPECT_EQ(entries.front().id, start);
    EXPECT_EQ(entries.front().payload, payload_for(start));
  }
  EXPECT_TRUE(f.read_all("seek", ReadPosition::at(400)).empty());
}

}  // namespace
}  // namespace wal::testing
