#pragma once
// Small readers for JSON config files (wp-logstore's file, wp's "quorum" section): each reads
// one optional key with its type checked and names the key in its one-line error, so a typo or a
// wrong type is reported, never silently replaced by a default.
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "wal/core/result.h"

// Returns the error of `expr` (a Status or Result) from the enclosing function, if it has one.
#define WAL_CLI_TRY(expr)                                                    \
  do {                                                                       \
    auto wal_cli_try_result_ = (expr);                                       \
    if (!wal_cli_try_result_.ok()) return std::move(wal_cli_try_result_).error(); \
  } while (false)

namespace wal::cli {

// invalid_argument "config: unknown key '<where><key>'" for a key not in `allowed`; `where` is
// the section's path with its trailing dot ("logstore."), or "" for the top level.
[[nodiscard]] Status check_config_keys(const nlohmann::json& object, const std::string& where,
                                       std::initializer_list<const char*> allowed);
// Each: leaves `out` alone when the key is absent; invalid_argument naming `where + name`.
[[nodiscard]] Status read_config_string(const nlohmann::json& object, const std::string& where,
                                        const char* name, std::string& out);
[[nodiscard]] Status read_config_bool(const nlohmann::json& object, const std::string& where,
                                      const char* name, bool& out);
// An integer in [min, max].
[[nodiscard]] Status read_config_u64(const nlohmann::json& object, const std::string& where,
                                     const char* name, uint64_t min, uint64_t max, uint64_t& out);
[[nodiscard]] Status read_config_ms(const nlohmann::json& object, const std::string& where,
                                    const char* name, uint64_t min_ms, uint64_t max_ms,
                                    std::chrono::nanoseconds& out);
// An object of strings, {"node": "host:port", ...}.
[[nodiscard]] Status read_config_string_map(const nlohmann::json& object,
                                            const std::string& where, const char* name,
                                            std::map<std::string, std::string>& out);
// Reads a whole file as a JSON object. not_found / invalid_argument with the path.
[[nodiscard]] Result<nlohmann::json> read_config_file(const std::string& path);

// "host:port" with a port in 1..65535 (0 too when `port_zero_ok`). invalid_argument naming
// `what` ("listen") otherwise.
[[nodiscard]] Status check_host_port(const std::string& address, const std::string& what,
                                     bool port_zero_ok);

}  // namespace wal::cli
