#pragma once
// Strict parsing of the numbers `wp` takes on its command line and in its config file, and the
// exit statuses it documents.
//
// A number is plain decimal digits: no sign, no spaces, no '+', no hex, no exponent, at most 20
// digits, and no overflow. "-1", " 5", "18446744073709551616" and "1e3" are errors, never a
// value that wrapped around. Each flag and config value has a range; zero is outside it where
// zero makes no sense. Errors name the flag or key and the range.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "wal/core/result.h"

namespace wal::cli {

// Every `wp` run ends with one of these.
enum ExitStatus : int {
  exit_ok = 0,
  exit_failed = 1,  // the operation failed, or verify/inspect found problems (stderr says which)
  exit_usage = 2,   // bad flags, arguments or config file: nothing was done
};

// `text` as a number in [min, max]; invalid_argument naming `what` otherwise.
[[nodiscard]] Result<uint64_t> parse_uint(std::string_view text, std::string_view what,
                                          uint64_t min, uint64_t max);

// A CLI11 validator (run on the text before CLI11 converts it) applying parse_uint.
[[nodiscard]] CLI::Validator uint_in(uint64_t min, uint64_t max);

}  // namespace wal::cli
