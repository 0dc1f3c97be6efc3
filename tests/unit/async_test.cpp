// The async core: tasks, scopes, completions, channels, timers, deadlines, cancellation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wal/async/channel.h"
#include "wal/async/completion.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"
#include "wal/async/task.h"
#include "wal/mem/manual_loop.h"

using namespace std::chrono_literals;

namespace wal {
namespace {

Task<int64_t> add(int64_t a, int64_t b) { co_return a + b; }

Task<int64_t> nested_sum(int64_t depth) {
  int64_t total = 0;
  for (int64_t i = 0; i < depth; ++i) total += co_await add(i, 1);
  co_return total;
}

TEST(task, returns_value_through_nested_awaits) {
  ManualLoop loop;
  EXPECT_EQ(loop.run(nested_sum(100000)), int64_t{100000} * 99999 / 2 + 100000);
}

TEST(task, is_lazy_until_awaited) {
  ManualLoop loop;
  bool ran = false;
  auto make = [&]() -> Task<void> {
    ran = true;
    co_return;
  };
  Task<void> task = make();
  EXPECT_FALSE(ran);
  loop.run(std::move(task));
  EXPECT_TRUE(ran);
}

TEST(result, carries_code_and_outcome) {
  Result<int> unknown = make_unknown(Errc::timeout, "put block 3");
  ASSERT_FALSE(unknown.ok());
  EXPECT_TRUE(unknown.error().unknown());
  EXPECT_EQ(unknown.error().describe(), "timeout (outcome unknown): put block 3");
  Result<int> definite = make_error(Errc::already_exists);
  EXPECT_FALSE(definite.error().unknown());
  Result<int> value = 7;
  EXPECT_EQ(*value, 7);
}

TEST(sleep, advances_virtual_time_exactly) {
  ManualLoop loop;
  auto sleeper = [&]() -> Task<TimePoint> {
    co_await sleep_for(loop, 250ms);
    co_return loop.now();
  };
  EXPECT_EQ(loop.run(sleeper()).time_since_epoch(), 250ms);
}

TEST(scope, runs_spawned_tasks_concurrently_in_spawn_order) {
  ManualLoop loop;
  Scope scope(loop);
  std::vector<std::string> events;
  auto worker = [&](std::string name, Duration delay) -> Task<void> {
    events.push_back(name + ":start");
    co_await sleep_for(loop, delay);
    events.push_back(name + ":end");
  };
  scope.spawn(worker("a", 20ms));
  scope.spawn(worker("b", 10ms));
  EXPECT_TRUE(events.empty());  // spawn never runs the task inline
  loop.run_until_idle();
  EXPECT_EQ(events, (std::vector<std::string>{"a:start", "b:start", "b:end", "a:end"}));
  EXPECT_EQ(scope.running_count(), 0u);
}

TEST(scope, destroying_it_drops_pending_work_like_a_crash) {
  ManualLoop loop;
  bool finished = false;
  Completion<int> never_set(loop);
  {
    Scope scope(loop);
    // Coroutine lambdas take what they need as parameters: a capturing lambda invoked in
    // place would leave the frame pointing at a destroyed closure.
    scope.spawn([](ManualLoop& l, bool& done) -> Task<void> {
      co_await sleep_for(l, 1s);
      done = true;
    }(loop, finished));
    scope.spawn([](Completion<int> c, bool& done) -> Task<void> {
      (void)co_await c.wait();
      done = true;
    }(never_set, finished));
    loop.run_for(10ms);
    EXPECT_EQ(scope.running_count(), 2u);
  }
  never_set.set(1);  // the waiter's frame is gone: nothing may resume
  loop.run_until_idle();
  EXPECT_FALSE(finished);
  EXPECT_EQ(loop.pending_timer_count(), 0u);  // the sleeping frame cancelled its timer
}

TEST(completion, second_set_is_ignored) {
  ManualLoop loop;
  Completion<int> c(loop);
  EXPECT_TRUE(c.set(1));
  EXPECT_FALSE(c.set(2));
  auto waiter = [](Completion<int> done) -> Task<int> { co_return co_await done.wait(); };
  EXPECT_EQ(loop.run(waiter(c)), 1);
}

TEST(channel, delivers_in_order_then_ends_when_closed) {
  ManualLoop loop;
  Channel<int> channel(loop);
  Scope scope(loop);
  scope.spawn([](Channel<int> ch, ManualLoop& l) -> Task<void> {
    for (int i = 0; i < 5; ++i) {
      ch.push(i);
      co_await sleep_for(l, 1ms);
    }
    ch.close();
  }(channel, loop));
  auto consume = [](Channel<int> ch) -> Task<std::vector<int>> {
    std::vector<int> got;
    while (auto item = co_await ch.next()) got.push_back(*item);
    co_return got;
  };
  EXPECT_EQ(loop.run(consume(channel)), (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(deadline, times_out_with_unknown_outcome_and_lets_the_work_finish) {
  ManualLoop loop;
  Scope scope(loop);
  bool work_finished = false;
  auto slow_put = [&]() -> Task<Result<int>> {
    co_await sleep_for(loop, 100ms);
    work_finished = true;
    co_return 1;
  };
  Result<int> r = loop.run(with_deadline(scope, loop, loop.now() + 10ms, slow_put(), "slow put"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::timeout);
  EXPECT_TRUE(r.error().unknown());
  EXPECT_FALSE(work_finished);
  loop.run_until_idle();
  EXPECT_TRUE(work_finished);  // the request "left the node" and still took effect
}

TEST(deadline, returns_the_result_when_work_wins) {
  ManualLoop loop;
  Scope scope(loop);
  auto fast = [&]() -> Task<Result<int>> {
    co_await sleep_for(loop, 1ms);
    co_return 42;
  };
  Result<int> r = loop.run(with_deadline(scope, loop, loop.now() + 10ms, fast(), "fast"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
  EXPECT_EQ(loop.pending_timer_count(), 0u);
}

TEST(cancellation, wakes_a_sleeper_early) {
  ManualLoop loop;
  Scope scope(loop);
  CancellationSource source;
  scope.spawn([](ManualLoop& l, CancellationSource& s) -> Task<void> {
    co_await sleep_for(l, 5ms);
    s.cancel();
  }(loop, source));
  Status s = loop.run(sleep_until(loop, loop, loop.now() + 1h, source.token()));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::cancelled);
  EXPECT_EQ(loop.now().time_since_epoch(), 5ms);
}

}  // namespace
}  // namespace wal
