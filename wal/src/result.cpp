#include "wal/core/result.h"

#include <cstdio>
#include <cstdlib>

namespace wal {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::not_found: return "not_found";
    case Errc::already_exists: return "already_exists";
    case Errc::condition_failed: return "condition_failed";
    case Errc::timeout: return "timeout";
    case Errc::unavailable: return "unavailable";
    case Errc::corrupt: return "corrupt";
    case Errc::torn_tail: return "torn_tail";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::too_large: return "too_large";
    case Errc::fenced: return "fenced";
    case Errc::permission_denied: return "permission_denied";
    case Errc::no_space: return "no_space";
    case Errc::io_error: return "io_error";
    case Errc::cancelled: return "cancelled";
    case Errc::closed: return "closed";
    case Errc::out_of_range: return "out_of_range";
    case Errc::compacted: return "compacted";
    case Errc::unsupported: return "unsupported";
    case Errc::protocol: return "protocol";
  }
  WAL_UNREACHABLE();
}

std::string Error::describe() const {
  std::string text(errc_name(code));
  if (outcome == Outcome::unknown) text += " (outcome unknown)";
  if (!message.empty()) {
    text += ": ";
    text += message;
  }
  return text;
}

namespace detail {
void assert_failed(const char* expression, const char* file, int line, const std::string& detail) {
  std::fprintf(stderr, "assertion failed: %s at %s:%d%s%s\n", expression, file, line,
               detail.empty() ? "" : " ", detail.c_str());
  std::fflush(stderr);
  std::abort();
}
}  // namespace detail

}  // namespace wal
