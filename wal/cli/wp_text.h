#pragma once
// Text in and out of `wp`: hex payloads and bounded reading of stdin lines.
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wal/core/bytes.h"
#include "wal/core/result.h"

namespace wal::cli {

[[nodiscard]] std::string to_hex(ByteView bytes);
// invalid_argument for an odd length or a character that is not a hex digit (its position is
// in the message).
[[nodiscard]] Result<Bytes> from_hex(std::string_view text);

struct LineChunk {
  std::vector<std::string> lines;
  bool eof = false;
  // Reading stopped before the next line: it is longer than allowed, or reading failed.
  std::optional<std::string> error;
};

// Splits a stream into lines at '\n' (the '\n' is not part of the line; a last line without one
// still counts, an empty stream has none). Blocking: run it on a pool. One caller at a time.
class LineReader {
 public:
  LineReader(std::FILE* in, size_t line_bytes_max) : in_(in), line_bytes_max_(line_bytes_max) {}
  // Up to 4096 lines or 4 MiB of them; a line over line_bytes_max ends the chunk with an error
  // (after the lines before it) instead of being read whole.
  [[nodiscard]] LineChunk next_chunk();

 private:
  std::FILE* in_;
  size_t line_bytes_max_;
  std::string partial_;  // the start of a line cut by the end of a chunk
};

}  // namespace wal::cli
