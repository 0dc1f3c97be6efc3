// The simulator's scheduler and node runtime: event order, cancellation, budgets, crash/restart.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/trace.h"
#include "wal/async/completion.h"
#include "wal/async/sleep.h"

using namespace std::chrono_literals;

namespace wal::sim {
namespace {

TimePoint at(Duration since_start) { return TimePoint(since_start); }

TEST(scheduler, runs_events_by_time_then_by_schedule_order) {
  Trace trace;
  Scheduler scheduler(trace);
  std::vector<std::string> ran;
  scheduler.schedule_at(at(20ms), world_owner, "t", [&] { ran.push_back("c@20"); });
  scheduler.schedule_at(at(10ms), 1, "t", [&] { ran.push_back("a@10"); });
  scheduler.schedule_at(at(10ms), 2, "t", [&] { ran.push_back("b@10"); });
  scheduler.schedule_at(at(5ms), 1, "t", [&] { ran.push_back("first@5"); });
  while (scheduler.step()) {
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"first@5", "a@10", "b@10", "c@20"}));
  EXPECT_EQ(scheduler.now(), at(20ms));
  EXPECT_EQ(scheduler.steps_total(), 4u);
}

TEST(scheduler, event_in_the_past_runs_now_and_never_inside_schedule) {
  Trace trace;
  Scheduler scheduler(trace);
  scheduler.schedule_at(at(10ms), world_owner, "t", [] {});
  ASSERT_TRUE(scheduler.step());
  bool ran = false;
  scheduler.schedule_at(at(1ms), world_owner, "t", [&] { ran = true; });
  EXPECT_FALSE(ran);
  ASSERT_TRUE(scheduler.step());
  EXPECT_TRUE(ran);
  EXPECT_EQ(scheduler.now(), at(10ms));  // time never goes backwards
}

TEST(scheduler, events_scheduled_while_running_at_the_same_instant_run_after_it) {
  Trace trace;
  Scheduler scheduler(trace);
  std::vector<int> ran;
  scheduler.schedule_at(at(1ms), world_owner, "t", [&] {
    ran.push_back(1);
    scheduler.schedule_after(0ms, world_owner, "t", [&] { ran.push_back(3); });
  });
  scheduler.schedule_at(at(1ms), world_owner, "t", [&] { ran.push_back(2); });
  while (scheduler.step()) {
  }
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST(scheduler, cancel_removes_a_pending_event_and_ignores_stale_ids) {
  Trace trace;
  Scheduler scheduler(trace);
  int ran = 0;
  const EventId cancelled = scheduler.schedule_at(at(1ms), 1, "t", [&] { ran += 100; });
  EXPECT_TRUE(scheduler.cancel(cancelled));
  EXPECT_FALSE(scheduler.cancel(cancelled));  // already cancelled
  // The freed slot is reused; the stale id must not cancel the new event.
  const EventId reused = scheduler.schedule_at(at(2ms), 1, "t", [&] { ran += 1; });
  EXPECT_NE(reused, cancelled);
  EXPECT_FALSE(scheduler.cancel(cancelled));
  EXPECT_FALSE(scheduler.cancel(no_event));
  EXPECT_EQ(scheduler.pending_count(), 1u);
  while (scheduler.step()) {
  }
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(scheduler.cancel(reused));  // already ran
}

TEST(scheduler, cancel_owned_by_removes_every_event_of_that_owner_only) {
  Trace trace;
  Scheduler scheduler(trace);
  std::vector<OwnerId> ran;
  for (int i = 0; i < 5; ++i) {
    for (OwnerId owner : {OwnerId{0}, OwnerId{1}, OwnerId{2}}) {
      scheduler.schedule_at(at(Duration(std::chrono::milliseconds(i))), owner, "t",
                            [&ran, owner] { ran.push_back(owner); });
    }
  }
  EXPECT_EQ(scheduler.pending_owned_by(1), 5u);
  EXPECT_EQ(scheduler.cancel_owned_by(1), 5u);
  EXPECT_EQ(scheduler.pending_owned_by(1), 0u);
  EXPECT_EQ(scheduler.pending_count(), 10u);
  EXPECT_EQ(scheduler.owner_epoch(1), 1u);
  while (scheduler.step()) {
  }
  EXPECT_EQ(ran.size(), 10u);
  for (OwnerId owner : ran) EXPECT_NE(owner, 1u);
}

TEST(scheduler, many_cancelled_events_leave_the_rest_in_order) {
  Trace trace;
  Scheduler scheduler(trace);
  std::vector<int> ran;
  std::vector<EventId> doomed;
  // Enough cancelled entries to force a heap compaction.
  for (int i = 0; i < 20'000; ++i) {
    const EventId id = scheduler.schedule_at(at(Duration(std::chrono::microseconds(i))), 1,
                                             "t", [&ran, i] { ran.push_back(i); });
    if (i % 100 != 0) doomed.push_back(id);
  }
  for (EventId id : doomed) EXPECT_TRUE(scheduler.cancel(id));
  EXPECT_EQ(scheduler.pending_count(), 200u);
  while (scheduler.step()) {
  }
  ASSERT_EQ(ran.size(), 200u);
  for (size_t k = 0; k < ran.size(); ++k) EXPECT_EQ(ran[k], static_cast<int>(k * 100));
}

TEST(scheduler, run_until_runs_due_events_and_advances_time) {
  Trace trace;
  Scheduler scheduler(trace);
  int ran = 0;
  scheduler.schedule_at(at(5ms), world_owner, "t", [&] { ++ran; });
  scheduler.schedule_at(at(15ms), world_owner, "t", [&] { ++ran; });
  const RunReport report = scheduler.run_until(at(10ms));
  EXPECT_EQ(report.reason, StopReason::reached_time);
  EXPECT_EQ(report.steps, 1u);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(scheduler.now(), at(10ms));
  EXPECT_EQ(scheduler.next_event_time(), at(15ms));
}

TEST(scheduler, livelock_stops_at_the_step_budget) {
  Trace trace;
  Scheduler scheduler(trace);
  std::function<void()> again = [&] { scheduler.schedule_after(0ms, 1, "spin", again); };
  scheduler.schedule_after(0ms, 1, "spin", again);
  const RunReport until = scheduler.run_until(at(1s), 1000);
  EXPECT_EQ(until.reason, StopReason::steps_max);
  EXPECT_EQ(until.steps, 1000u);
  EXPECT_EQ(scheduler.now(), at(0ms));  // never reached the target time
  const RunReport loop = scheduler.run_while([] { return true; }, at(1s), 500);
  EXPECT_EQ(loop.reason, StopReason::steps_max);
  EXPECT_EQ(loop.steps, 500u);
  EXPECT_EQ(stop_reason_name(loop.reason), "steps_max");
}

TEST(scheduler, run_while_reports_why_it_stopped) {
  Trace trace;
  Scheduler scheduler(trace);
  int ran = 0;
  for (int i = 1; i <= 3; ++i) {
    scheduler.schedule_at(at(Duration(std::chrono::seconds(i))), world_owner, "t", [&] { ++ran; });
  }
  EXPECT_EQ(scheduler.run_while([&] { return ran < 1; }, at(10s)).reason,
            StopReason::predicate_false);
  EXPECT_EQ(ran, 1);
  const RunReport capped = scheduler.run_while([] { return true; }, at(2500ms));
  EXPECT_EQ(capped.reason, StopReason::time_max);
  EXPECT_EQ(ran, 2);
  EXPECT_EQ(capped.now, at(2s));  // run_while does not move time on its own
  EXPECT_EQ(scheduler.run_while([] { return true; }, at(10s)).reason, StopReason::idle);
  EXPECT_EQ(ran, 3);
}

TEST(scheduler, trace_hash_depends_on_order_and_sites) {
  auto run = [](bool swapped, bool rename) {
    Trace trace;
    Scheduler scheduler(trace);
    scheduler.schedule_at(at(1ms), 1, rename ? Site("other") : Site("a"), [] {});
    scheduler.schedule_at(at(swapped ? 3ms : 2ms), 2, "b", [] {});
    while (scheduler.step()) {
    }
    return trace.hash();
  };
  EXPECT_EQ(run(false, false), run(false, false));
  EXPECT_NE(run(false, false), run(true, false));
  EXPECT_NE(run(false, false), run(false, true));
  EXPECT_EQ(run(false, false).hex().size(), 32u);
}

// ---- random streams --------------------------------------------------------------------------

TEST(random_streams, a_stream_depends_only_on_seed_purpose_and_index) {
  const RandomStreams streams(42);
  Xoshiro256 first = streams.stream("net.latency");
  Xoshiro256 again = streams.stream("net.latency", 0);
  EXPECT_EQ(first.next_u64(), again.next_u64());
  EXPECT_NE(streams.stream_seed("net.latency"), streams.stream_seed("net.drop"));
  EXPECT_NE(streams.stream_seed("node.random", 1), streams.stream_seed("node.random", 2));
  EXPECT_NE(streams.stream_seed("net.latency"), RandomStreams(43).stream_seed("net.latency"));
  EXPECT_EQ(streams.stream_seed("x", 7), derive_seed(42, fnv1a64("x") ^ 7));
}

TEST(random_streams, event_seed_is_a_function_of_seed_and_event_only) {
  EXPECT_EQ(event_seed(1, 10), event_seed(1, 10));
  EXPECT_NE(event_seed(1, 10), event_seed(1, 11));
  EXPECT_NE(event_seed(1, 10), event_seed(2, 10));
  EXPECT_NE(event_seed(1, 0), RandomStreams(1).stream_seed("sim.event_seed"));
}

TEST(random_streams, traced_random_mixes_every_draw_into_the_trace) {
  Trace plain;
  Trace traced;
  TracedRandom random(RandomStreams(5).stream("node.random", 1), traced, 1, "node.random");
  const uint64_t draw = random.next_u64();
  EXPECT_EQ(draw, RandomStreams(5).stream("node.random", 1).next_u64());
  EXPECT_EQ(traced.record_count(), 1u);
  EXPECT_NE(traced.hash(), plain.hash());
}

// ---- node runtime ----------------------------------------------------------------------------

// Sets a flag when the coroutine frame holding it is destroyed.
struct FrameDeath {
  bool* died;
  ~FrameDeath() { *died = true; }
};

Task<void> sleep_then_mark(Clock& clock, Duration sleep, bool* woke, bool* died) {
  FrameDeath guard{died};
  co_await sleep_for(clock, sleep);
  *woke = true;
}

TEST(node_runtime, crash_kills_coroutines_mid_sleep) {
  Trace trace;
  Scheduler scheduler(trace);
  NodeRuntime node(scheduler, 1);
  NodeRuntime other(scheduler, 2);
  bool woke = false, died = false, other_woke = false, other_died = false;
  node.spawn(sleep_then_mark(node, 10ms, &woke, &died));
  other.spawn(sleep_then_mark(other, 10ms, &other_woke, &other_died));
  scheduler.schedule_at(at(5ms), world_owner, "fault.crash", [&] { node.crash(); });
  scheduler.run_until(at(20ms));
  EXPECT_FALSE(woke);
  EXPECT_TRUE(died);  // the frame was destroyed at its suspension point
  EXPECT_FALSE(node.alive());
  EXPECT_EQ(node.generation(), 1u);
  EXPECT_EQ(scheduler.pending_owned_by(1), 0u);
  EXPECT_TRUE(other_woke);  // the other node did not notice
}

TEST(node_runtime, restart_starts_clean_and_old_callbacks_never_run) {
  Trace trace;
  Scheduler scheduler(trace);
  NodeRuntime node(scheduler, 1);
  int old_callbacks = 0;
  node.post([&] { ++old_callbacks; });
  node.call_at(at(50ms), [&] { ++old_callbacks; });
  bool woke = false, died = false;
  node.spawn(sleep_then_mark(node, 30ms, &woke, &died));
  scheduler.run_until(at(1ms));
  EXPECT_EQ(old_callbacks, 1);  // the post ran
  node.crash();
  node.post([&] { ++old_callbacks; });  // down: dropped
  EXPECT_EQ(node.call_at(at(2ms), [&] { ++old_callbacks; }), no_event);
  scheduler.run_until(at(10ms));
  node.restart();
  EXPECT_TRUE(node.alive());
  EXPECT_EQ(node.scope().running_count(), 0u);
  bool new_woke = false, new_died = false;
  node.spawn(sleep_then_mark(node, 5ms, &new_woke, &new_died));
  scheduler.run_until(at(100ms));
  EXPECT_EQ(old_callbacks, 1);
  EXPECT_FALSE(woke);
  EXPECT_TRUE(new_woke);
  EXPECT_EQ(node.generation(), 1u);
}

TEST(node_runtime, completion_set_after_crash_resumes_nothing) {
  Trace trace;
  Scheduler scheduler(trace);
  NodeRuntime node(scheduler, 1);
  Completion<int> value(node);
  bool got = false;
  node.spawn([](Completion<int> wait_on, bool* out) -> Task<void> {
    const int v = co_await wait_on.wait();
    *out = v == 7;
  }(value, &got));
  scheduler.run_until(at(1ms));
  node.crash();
  EXPECT_TRUE(value.set(7));  // a reply arriving after the crash finds no waiter
  scheduler.run_until(at(2ms));
  EXPECT_FALSE(got);
  EXPECT_EQ(scheduler.pending_count(), 0u);
}

TEST(node_runtime, clock_offset_skews_wall_time_only) {
  Trace trace;
  Scheduler scheduler(trace);
  NodeRuntime node(scheduler, 1, 1'000'000);
  NodeRuntime skewed(scheduler, 2, 1'000'000);
  skewed.set_clock_offset_ms(-250);
  scheduler.run_until(at(1500ms));
  EXPECT_EQ(node.unix_time_ms(), 1'001'500);
  EXPECT_EQ(skewed.unix_time_ms(), 1'001'250);
  EXPECT_EQ(node.now(), skewed.now());
}

TEST(node_runtime, timers_due_at_one_instant_run_in_creation_order) {
  Trace trace;
  Scheduler scheduler(trace);
  NodeRuntime node(scheduler, 1);
  std::vector<int> ran;
  node.call_at(at(3ms), [&] { ran.push_back(1); });
  const TimerId cancelled = node.call_at(at(3ms), [&] { ran.push_back(2); });
  node.call_at(at(3ms), [&] { ran.push_back(3); });
  node.post([&] { ran.push_back(0); });
  node.cancel(cancelled);
  node.cancel(cancelled);  // a second cancel is a no-op
  scheduler.run_until(at(5ms));
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 3}));
}

}  // namespace
}  // namespace wal::sim
