#pragma once
// Assertions that stay on in every build type and abort (never throw), so a broken invariant can
// never be caught and swallowed. Use them for programming errors only: bytes that come from disk,
// object storage, etcd or the network are validated and turned into errors, never asserted.
//
//   WAL_ASSERT(cond)          one condition per assertion
//   WAL_ASSERT_EQ(a, b) ...   print both operands on failure
//   WAL_MAYBE(cond)           documents that both outcomes of `cond` are expected; does nothing

#include <sstream>
#include <string>

namespace wal::detail {
[[noreturn]] void assert_failed(const char* expression, const char* file, int line,
                                const std::string& detail);

template <typename A, typename B>
std::string describe_operands(const A& a, const B& b) {
  std::ostringstream out;
  if constexpr (requires(std::ostream& o) { o << a; o << b; }) {
    out << "left=" << a << " right=" << b;
  } else {
    out << "(operands not printable)";
  }
  return out.str();
}
}  // namespace wal::detail

#define WAL_ASSERT(cond)                                                  \
  do {                                                                    \
    if (!(cond)) [[unlikely]]                                             \
      ::wal::detail::assert_failed(#cond, __FILE__, __LINE__, {});        \
  } while (false)

#define WAL_ASSERT_OP_(a, b, op)                                                       \
  do {                                                                                 \
    const auto& wal_left_ = (a);                                                       \
    const auto& wal_right_ = (b);                                                      \
    if (!(wal_left_ op wal_right_)) [[unlikely]]                                       \
      ::wal::detail::assert_failed(#a " " #op " " #b, __FILE__, __LINE__,              \
                                   ::wal::detail::describe_operands(wal_left_, wal_right_)); \
  } while (false)

#define WAL_ASSERT_EQ(a, b) WAL_ASSERT_OP_(a, b, ==)
#define WAL_ASSERT_NE(a, b) WAL_ASSERT_OP_(a, b, !=)
#define WAL_ASSERT_LT(a, b) WAL_ASSERT_OP_(a, b, <)
#define WAL_ASSERT_LE(a, b) WAL_ASSERT_OP_(a, b, <=)
#define WAL_ASSERT_GT(a, b) WAL_ASSERT_OP_(a, b, >)
#define WAL_ASSERT_GE(a, b) WAL_ASSERT_OP_(a, b, >=)
#define WAL_UNREACHABLE() ::wal::detail::assert_failed("unreachable", __FILE__, __LINE__, {})
#define WAL_MAYBE(cond) static_cast<void>(sizeof(static_cast<bool>(cond)))
