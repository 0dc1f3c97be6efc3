#include "wp_text.h"

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

namespace wal::cli {

namespace {
// A chunk is handed from the pool to the loop at once; these bound its memory.
constexpr size_t chunk_lines_max = 4096;
constexpr size_t chunk_bytes_max = 4u << 20;

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string to_hex(ByteView bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    out.push_back(digits[static_cast<uint8_t>(b) >> 4]);
    out.push_back(digits[static_cast<uint8_t>(b) & 0xf]);
  }
  return out;
}

Result<Bytes> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) {
    return make_error(Errc::invalid_argument,
                      fmt::format("not hex: an odd number ({}) of digits", text.size()));
  }
  Bytes out;
  out.reserve(text.size() / 2);
  for (size_t i = 0; i < text.size(); i += 2) {
    const int high = nibble(text[i]);
    const int low = nibble(text[i + 1]);
    if (high < 0 || low < 0) {
      const size_t bad = high < 0 ? i : i + 1;
      return make_error(Errc::invalid_argument,
                        fmt::format("not hex: byte {} at column {} is not a hex digit",
                                    static_cast<unsigned>(static_cast<uint8_t>(text[bad])),
                                    bad + 1));
    }
    out.push_back(static_cast<std::byte>(high * 16 + low));
  }
  return out;
}

LineChunk LineReader::next_chunk() {
  LineChunk chunk;
  size_t bytes = 0;
  while (chunk.lines.size() < chunk_lines_max && bytes < chunk_bytes_max) {
    const int c = getc_unlocked(in_);
    if (c == EOF) {
      if (std::ferror(in_)) {
        chunk.error = std::string("cannot read stdin: ") + std::strerror(errno);
        return chunk;
      }
      if (!partial_.empty()) chunk.lines.push_back(std::move(partial_));
      partial_.clear();
      chunk.eof = true;
      return chunk;
    }
    if (c == '\n') {
      bytes += partial_.size();
      chunk.lines.push_back(std::move(partial_));
      partial_.clear();
      continue;
    }
    if (partial_.size() >= line_bytes_max_) {
      chunk.error = fmt::format("longer than {} bytes (the limit for one entry)", line_bytes_max_);
      return chunk;
    }
    partial_.push_back(static_cast<char>(c));
  }
  return chunk;
}

}  // namespace wal::cli
