#pragma once
// The lines of a JSON-lines text, one flat object at a time, read with simdjson's document
// stream (Debian libsimdjson-dev): a DOM per line with nlohmann::json cost most of a check
// (about 7 times the CPU). Values nested deeper than a line's own fields are kept only as
// lists of flat objects (an append's "resends"); other nested values (the header's "run", a
// "key") are kept as their kind, without content.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lincheck {

// Strings point into the reader's buffer: valid until its next call of next().
struct JsonValue {
  enum class Kind : uint8_t { string, unsigned_integer, negative_integer, other, object, array };
  Kind kind = Kind::other;
  std::string_view text;   // string
  uint64_t unsigned_ = 0;  // unsigned_integer
  int64_t signed_ = 0;     // negative_integer
};

using JsonFields = std::vector<std::pair<std::string_view, JsonValue>>;

struct JsonLine {
  JsonFields fields;
  // Fields whose value is a list of flat objects (by field name), e.g. "resends".
  std::vector<std::pair<std::string_view, std::vector<JsonFields>>> lists;
};

class JsonLines {
 public:
  // `text` must outlive the reader.
  explicit JsonLines(std::string_view text);
  ~JsonLines();
  JsonLines(const JsonLines&) = delete;
  JsonLines& operator=(const JsonLines&) = delete;

  // The next line's object into `line`. False at the end of the text, or when a line is not a
  // JSON object: then error() says why (empty at the end).
  [[nodiscard]] bool next(JsonLine& line);
  [[nodiscard]] size_t line_number() const { return line_number_; }  // of the last line read
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  struct Stream;
  std::string_view text_;
  std::unique_ptr<Stream> stream_;
  size_t line_number_ = 0;
  size_t newlines_ = 0;    // in the text before counted_to_
  size_t counted_to_ = 0;
  std::string error_;
};

}  // namespace lincheck
