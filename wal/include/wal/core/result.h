#pragma once
// Result<T>: a value or an Error. Every Error says two things:
//   code    what went wrong (a closed enum: switches over it list every code, no `default:`);
//   outcome definite  the operation did not take effect, or it is a pure read;
//           unknown   it may or may not have taken effect (a timeout after the request left, a
//                     lost reply). Recovery code settles an unknown outcome by reading (a
//                     conditional PUT, an etcd revision) and never rounds it to success or
//                     failure, and never retries it blindly.
// Results are [[nodiscard]]: dropping one is a compile error under -Werror.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "wal/core/assert.h"

namespace wal {

enum class Errc : uint8_t {
  not_found,          // key, object, file, lease or entry does not exist
  already_exists,     // create-only write found the key present (S3 412 on If-None-Match: *)
  condition_failed,   // If-Match etag or etcd txn compare did not hold
  timeout,            // deadline passed; for a mutation the outcome is unknown
  unavailable,        // server unreachable or overloaded (503 SlowDown); retry later
  corrupt,            // checksum, magic or structure is wrong: the bytes cannot be trusted
  torn_tail,          // bytes end mid-record: a writer died while writing; not corruption
  invalid_argument,   // the caller asked for something malformed
  too_large,          // an entry, object or request exceeds its limit
  fenced,             // a newer writer epoch exists; this writer can never make progress
  permission_denied,  // wrong credentials or signature
  no_space,           // disk or quota full
  io_error,           // the device or OS reported an error
  cancelled,          // the caller cancelled the operation
  closed,             // the object was closed or its node shut down
  out_of_range,       // a read past the end, or below the truncation point
  compacted,          // etcd revision compacted: a watch must restart from a fresh read
  unsupported,        // the backend cannot do this (e.g. no conditional PUT)
  protocol,           // a peer sent a malformed message or response
};

enum class Outcome : uint8_t { definite, unknown };

[[nodiscard]] std::string_view errc_name(Errc code);

struct [[nodiscard]] Error {
  Errc code;
  Outcome outcome = Outcome::definite;
  std::string message;

  [[nodiscard]] bool unknown() const { return outcome == Outcome::unknown; }
  [[nodiscard]] std::string describe() const;  // "timeout (outcome unknown): message"
};

[[nodiscard]] inline Error make_error(Errc code, std::string message = {}) {
  return Error{code, Outcome::definite, std::move(message)};
}
[[nodiscard]] inline Error make_unknown(Errc code, std::string message = {}) {
  return Error{code, Outcome::unknown, std::move(message)};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  [[nodiscard]] bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  [[nodiscard]] T& value() & {
    WAL_ASSERT(ok());
    return std::get<0>(state_);
  }
  [[nodiscard]] const T& value() const& {
    WAL_ASSERT(ok());
    return std::get<0>(state_);
  }
  [[nodiscard]] T&& value() && {
    WAL_ASSERT(ok());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  [[nodiscard]] const Error& error() const& {
    WAL_ASSERT(!ok());
    return std::get<1>(state_);
  }
  [[nodiscard]] Error&& error() && {
    WAL_ASSERT(!ok());
    return std::get<1>(std::move(state_));
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  [[nodiscard]] bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  [[nodiscard]] const Error& error() const& {
    WAL_ASSERT(!ok_);
    return error_;
  }
  [[nodiscard]] Error&& error() && {
    WAL_ASSERT(!ok_);
    return std::move(error_);
  }

 private:
  Error error_{Errc::io_error, Outcome::definite, {}};
  bool ok_ = true;
};

using Status = Result<void>;

// Explicitly discards a result whose failure is harmless; say why at the call site.
template <typename T>
void ignore_result(Result<T>&&) {}

}  // namespace wal

// Propagates an error out of a coroutine returning Task<Result<U>>.
#define WAL_CO_TRY(expr)                                 \
  do {                                                   \
    auto wal_try_result_ = (expr);                       \
    if (!wal_try_result_.ok()) co_return std::move(wal_try_result_).error(); \
  } while (false)
// Evaluates `expr` (a Result<T>), propagates its error or moves its value into `lhs`.
#define WAL_CO_ASSIGN(lhs, expr) WAL_CO_ASSIGN_IMPL_(WAL_CONCAT_(wal_assign_, __LINE__), lhs, expr)
#define WAL_CO_ASSIGN_IMPL_(tmp, lhs, expr)                  \
  auto tmp = (expr);                                         \
  if (!tmp.ok()) co_return std::move(tmp).error();           \
  lhs = std::move(tmp).value()
#define WAL_CONCAT_(a, b) WAL_CONCAT2_(a, b)
#define WAL_CONCAT2_(a, b) a##b
