#pragma once
// The `wp` subcommands. Each returns the process exit code (ExitStatus in wp_args.h): 0 success,
// 1 failure (the error was printed to stderr as one line, "wp: error: ..."). Output for people
// goes to stderr; data to stdout.
#include <cstdint>
#include <optional>
#include <string>

#include "wal/core/result.h"
#include "wp_args.h"
#include "wp_runtime.h"

namespace wal::cli {

enum class PayloadFormat : uint8_t { lines, hex };

struct AppendArgs {
  std::string name;
  uint64_t count = 0;        // 0: one entry per stdin line; N: N generated payloads
  uint64_t size_bytes = 100; // size of each generated payload
  PayloadFormat format = PayloadFormat::lines;
  bool quiet = false;
  // Idempotent append: entry i carries AppendKey{producer, sequence_start + i}. Running the same
  // input again after a crash or an error appends only what is not in the log yet.
  std::optional<uint64_t> producer;
  uint64_t sequence_start = 1;
};

struct ReadArgs {
  std::string name;
  std::string from = "earliest";  // "earliest", "latest" or an entry id
  std::optional<uint64_t> limit;
  std::optional<uint64_t> last;   // tail: start this many entries before the end
  bool follow = false;
  bool with_ids = false;
  PayloadFormat format = PayloadFormat::lines;
};

// Print "wp: error: ..." as one line and return exit_failed.
int report_error(const Error& error);
int report_failure(const std::string& message);
int report_stdout_failure();  // after a failed write to stdout, with errno's text

Task<int> cmd_log_create(WpRuntime& runtime, std::string name);
Task<int> cmd_log_list(WpRuntime& runtime);
Task<int> cmd_log_delete(WpRuntime& runtime, std::string name);
Task<int> cmd_append(WpRuntime& runtime, AppendArgs args);
Task<int> cmd_read(WpRuntime& runtime, ReadArgs args);
Task<int> cmd_truncate(WpRuntime& runtime, std::string name, uint64_t first_kept_entry_id);
// Finishes interrupted log deletions, then collects garbage of `name` (std::nullopt: every log).
Task<int> cmd_gc(WpRuntime& runtime, std::optional<std::string> name);
Task<int> cmd_inspect(WpRuntime& runtime, std::string name, bool with_blocks);
Task<int> cmd_verify(WpRuntime& runtime, std::string name);

}  // namespace wal::cli
