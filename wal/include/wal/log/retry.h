#pragma once
// Retrying reads. A read (GET, HEAD, LIST, etcd range) has no effect, so a timeout or an
// unavailable store is simply tried again, with capped exponential backoff and jitter drawn from
// env.random. Mutations are never retried through here: each settles its unknown outcome by
// reading first (see the callers), and remembers across its attempts whether any of them may
// have landed (MutationAttempts), so the error it finally reports says so.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

#include "wal/async/sleep.h"
#include "wal/async/task.h"
#include "wal/core/result.h"
#include "wal/env/env.h"
#include "wal/env/meta_store.h"

namespace wal {

namespace limits {
// ~64 attempts with a 2 s cap keep trying for about two minutes: longer than an etcd leader
// election or an S3 SlowDown episode, short enough that a dead store surfaces as an error.
inline constexpr uint32_t read_attempts_max = 64;
// A block PUT that keeps failing with a timeout or 503 is tried this many times: with the
// writer's default backoff (20 ms doubling to a 2 s cap, jittered) about 90 s, as long as reads
// keep trying, so a store that is only slow or briefly away (an S3 SlowDown episode, a gateway
// restart) never fails the writer, while a dead one surfaces as an error instead of appends that
// wait forever holding their buffers. Exhausted, the writer fails (LogWriter::upload): that
// block and every later one are not acknowledged, their appenders get the PUT's error (outcome
// unknown if any attempt may have landed); every entry acknowledged before stays durable.
inline constexpr uint32_t block_put_attempts_max = 64;
static_assert(block_put_attempts_max > 1);
}  // namespace limits

struct Backoff {
  std::chrono::milliseconds min{20};
  std::chrono::milliseconds max{2000};
};

[[nodiscard]] inline bool is_retryable(const Error& error) {
  return error.code == Errc::timeout || error.code == Errc::unavailable;
}

// Sleeps min * 2^attempt (capped at max), with +-50% jitter.
inline Task<void> backoff_sleep(Env& env, Backoff backoff, uint32_t attempt) {
  const int64_t base_ms = backoff.min.count() << std::min<uint32_t>(attempt, 16);
  const int64_t capped_ms = std::min<int64_t>(base_ms, backoff.max.count());
  const uint64_t jitter_ms = env.random.between(0, static_cast<uint64_t>(capped_ms));
  co_await sleep_for(env.clock, std::chrono::milliseconds(capped_ms / 2 + jitter_ms / 2 + 1));
}

// What the attempts of one mutation (a MetaStore txn, tried again after errors) have shown so
// far about its outcome. An attempt answered with an error instead of a reply may have landed,
// or may still land: an etcd request can be applied after its client gave up. That is never
// undone by a later attempt's failed compare or by a read that does not show it yet, so
// may_have_landed is never reset. Every error the mutation reports goes through fail().
struct MutationAttempts {
  bool may_have_landed = false;

  // Records a failed attempt: an error reply leaves the attempt's outcome unknown.
  void note_error() { may_have_landed = true; }
  // An error whose outcome is unknown exactly when some attempt may have landed.
  [[nodiscard]] Error fail(Errc code, std::string message) const {
    return Error{code, may_have_landed ? Outcome::unknown : Outcome::definite,
                 std::move(message)};
  }
  // `error` (a read's, or a definite refusal) with the mutation's outcome instead of its own.
  [[nodiscard]] Error fail(const Error& error) const { return fail(error.code, error.message); }
};

// Runs `attempt()` (returning Task<Result<T>>) until it succeeds, fails with a non-retryable
// error, or limits::read_attempts_max attempts have failed.
template <typename F>
auto retry_read(Env& env, Backoff backoff, F attempt) -> decltype(attempt()) {
  for (uint32_t attempt_index = 0;; ++attempt_index) {
    auto result = co_await attempt();
    if (result.ok() || !is_retryable(result.error()) ||
        attempt_index + 1 >= limits::read_attempts_max) {
      co_return result;
    }
    co_await backoff_sleep(env, backoff, attempt_index);
  }
}

// Every key under `prefix` (at most `limit`; 0: all) at one revision, retrying as retry_read.
inline Task<Result<RangeResponse>> read_prefix(Env& env, const std::string& prefix,
                                               int64_t limit = 0) {
  RangeRequest request;
  request.key = prefix;
  request.range_end = prefix_end(prefix);
  request.limit = limit;
  co_return co_await retry_read(env, {}, [&] { return env.meta_store->range(request); });
}

// Like retry_read, for an attempt that also validates what it read (a checksum): a `corrupt`
// result is retried up to `corrupt_retries_max` times first, because a body damaged in transit
// reads fine the next time, while damage at rest stays and is then reported.
inline constexpr uint32_t corrupt_retries_max = 3;
template <typename F>
auto retry_verified_read(Env& env, Backoff backoff, F attempt) -> decltype(attempt()) {
  for (uint32_t corrupt_retries = 0;; ++corrupt_retries) {
    auto result = co_await retry_read(env, backoff, attempt);
    if (result.ok() || result.error().code != Errc::corrupt ||
        corrupt_retries >= corrupt_retries_max) {
      co_return result;
    }
  }
}

}  // namespace wal
