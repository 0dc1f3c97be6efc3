// Out-of-line parts of the async core: Scope, cancellation and timers.
#include <vector>

#include "wal/async/cancel.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"

namespace wal {

namespace {

// The frame Scope actually owns: it awaits the user's task, then frees itself.
struct RootTask {
  struct promise_type {
    Scope* scope = nullptr;
    uint64_t task_id = 0;
    RootTask get_return_object() {
      return RootTask{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct FinalAwaiter {
      bool await_ready() noexcept { return false; }
      void await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        // Copied out before the frame that holds them is destroyed.
        Scope* owner = self.promise().scope;
        const uint64_t root_task_id = self.promise().task_id;
        self.destroy();
        owner->on_root_done(root_task_id);
      }
      void await_resume() noexcept {}
    };
    FinalAwaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    [[noreturn]] void unhandled_exception() noexcept { std::abort(); }
  };
  std::coroutine_handle<promise_type> handle;
};

RootTask run_root(Task<void> task) { co_await std::move(task); }

}  // namespace

Scope::Scope(Executor& executor) : executor_(executor) {}

Scope::~Scope() {
  destroying_ = true;
  *alive_ = false;
  // Destroy in spawn order. A destroyed frame may destroy child tasks, but never spawns.
  std::map<uint64_t, std::coroutine_handle<>> running = std::move(running_);
  running_.clear();
  for (auto& [task_id, handle] : running) handle.destroy();
}

void Scope::spawn(Task<void> task) {
  WAL_ASSERT(!destroying_);
  WAL_ASSERT(task.valid());
  RootTask root = run_root(std::move(task));
  const uint64_t task_id = next_task_id_++;
  root.handle.promise().scope = this;
  root.handle.promise().task_id = task_id;
  running_.emplace(task_id, root.handle);
  executor_.post([this, alive = std::weak_ptr<bool>(alive_), task_id] {
    const auto still_alive = alive.lock();
    if (!still_alive || !*still_alive) return;
    const auto it = running_.find(task_id);
    if (it == running_.end()) return;
    it->second.resume();
  });
}

void Scope::on_root_done(uint64_t task_id) {
  if (destroying_) return;
  const size_t erased = running_.erase(task_id);
  WAL_ASSERT_EQ(erased, size_t{1});
}

CancellationSource::CancellationSource() : state_(std::make_shared<State>()) {}

void CancellationSource::cancel() {
  if (state_->cancelled) return;
  state_->cancelled = true;
  // Callbacks may unsubscribe others; run from a snapshot.
  std::vector<std::function<void()>> callbacks;
  for (auto& [id, fn] : state_->callbacks) callbacks.push_back(fn);
  state_->callbacks.clear();
  for (auto& fn : callbacks) fn();
}

bool CancellationSource::cancelled() const { return state_->cancelled; }
CancellationToken CancellationSource::token() const { return CancellationToken(state_); }

CancellationToken::Subscription CancellationToken::subscribe(std::function<void()> fn) const {
  if (!state_) return {};
  if (state_->cancelled) {
    fn();
    return {};
  }
  const uint64_t id = state_->next_id++;
  state_->callbacks.emplace(id, std::move(fn));
  return Subscription(state_, id);
}

CancellationToken::Subscription::Subscription(Subscription&& other) noexcept
    : state_(std::move(other.state_)), id_(other.id_) {
  other.state_.reset();
}
CancellationToken::Subscription& CancellationToken::Subscription::operator=(
    Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::move(other.state_);
    id_ = other.id_;
    other.state_.reset();
  }
  return *this;
}
void CancellationToken::Subscription::reset() {
  if (auto state = state_.lock()) state->callbacks.erase(id_);
  state_.reset();
}

SleepAwaiter::~SleepAwaiter() {
  if (timer_armed_) clock_.cancel(timer_);
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> handle) {
  timer_armed_ = true;
  timer_ = clock_.call_at(when_, [this, handle] {
    timer_armed_ = false;
    handle.resume();
  });
}

Task<Status> sleep_until(Executor& executor, Clock& clock, TimePoint when,
                         CancellationToken token) {
  if (token.cancelled()) co_return make_error(Errc::cancelled, "cancelled before sleeping");
  Completion<bool> woke(executor);  // true: timer fired; false: cancelled
  const TimerId timer = clock.call_at(when, [woke]() mutable { woke.set(true); });
  auto subscription = token.subscribe([woke]() mutable { woke.set(false); });
  const bool timer_fired = co_await woke.wait();
  clock.cancel(timer);
  if (!timer_fired) co_return make_error(Errc::cancelled, "cancelled while sleeping");
  co_return Status{};
}

}  // namespace wal
