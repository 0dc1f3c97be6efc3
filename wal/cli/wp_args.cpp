#include "wp_args.h"

#include <charconv>

#include <fmt/core.h>

namespace wal::cli {

Result<uint64_t> parse_uint(std::string_view text, std::string_view what, uint64_t min,
                            uint64_t max) {
  WAL_ASSERT(min <= max);
  const std::string range = fmt::format("an integer in {}..{}", min, max);
  // from_chars alone would accept nothing else but also stops at the first non-digit; check
  // every character so "12abc" and " 12" are refused instead of read as 12.
  const bool digits_only =
      !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits_only) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{} must be {}, got '{}'", what, range, text));
  }
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error == std::errc::result_out_of_range || value < min || value > max) {
    return make_error(Errc::invalid_argument,
                      fmt::format("{} must be {}, got {}", what, range, text));
  }
  WAL_ASSERT(error == std::errc());
  WAL_ASSERT(end == text.data() + text.size());
  return value;
}

CLI::Validator uint_in(uint64_t min, uint64_t max) {
  auto check = [min, max](std::string& text) -> std::string {
    Result<uint64_t> value = parse_uint(text, "the value", min, max);
    return value.ok() ? std::string() : value.error().message;
  };
  return CLI::Validator(check, fmt::format("UINT in {}..{}", min, max));
}

}  // namespace wal::cli
