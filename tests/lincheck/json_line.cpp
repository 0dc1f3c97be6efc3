#include "tests/lincheck/json_line.h"

#include <algorithm>

#include <simdjson.h>

namespace lincheck {

namespace {

namespace dom = simdjson::dom;

JsonValue value_of(dom::element element) {
  JsonValue out;
  switch (element.type()) {
    case dom::element_type::STRING:
      out.kind = JsonValue::Kind::string;
      out.text = element.get_string().value_unsafe();
      break;
    case dom::element_type::UINT64:
      out.kind = JsonValue::Kind::unsigned_integer;
      out.unsigned_ = element.get_uint64().value_unsafe();
      break;
    case dom::element_type::INT64: {
      const int64_t value = element.get_int64().value_unsafe();
      out.kind = value >= 0 ? JsonValue::Kind::unsigned_integer
                            : JsonValue::Kind::negative_integer;
      out.unsigned_ = value >= 0 ? static_cast<uint64_t>(value) : 0;
      out.signed_ = value;
      break;
    }
    case dom::element_type::OBJECT: out.kind = JsonValue::Kind::object; break;
    case dom::element_type::ARRAY: out.kind = JsonValue::Kind::array; break;
    case dom::element_type::DOUBLE:
    case dom::element_type::BOOL:
    case dom::element_type::NULL_VALUE: out.kind = JsonValue::Kind::other; break;
  }
  return out;
}

// The object's fields; with `lists`, also its lists of flat objects. False if an item of such
// a list is not an object.
bool read_object(dom::object object, JsonFields& fields,
                 std::vector<std::pair<std::string_view, std::vector<JsonFields>>>* lists) {
  for (const dom::key_value_pair field : object) {
    fields.emplace_back(field.key, value_of(field.value));
    if (lists == nullptr || field.value.type() != dom::element_type::ARRAY) continue;
    std::vector<JsonFields> items;
    const dom::array array = field.value.get_array().value_unsafe();
    for (dom::element element : array) {
      dom::object item;
      if (element.get_object().get(item)) return false;
      items.emplace_back();
      if (!read_object(item, items.back(), nullptr)) return false;
    }
    lists->emplace_back(field.key, std::move(items));
  }
  return true;
}

}  // namespace

struct JsonLines::Stream {
  simdjson::padded_string padded;
  dom::parser parser;
  dom::document_stream documents;
  dom::document_stream::iterator at;
  bool started = false;
  bool failed = false;
};

JsonLines::JsonLines(std::string_view text) : text_(text), stream_(std::make_unique<Stream>()) {
  stream_->padded = simdjson::padded_string(text);
  // A document may not be longer than a batch: one batch for the whole text.
  const size_t batch = std::max<size_t>(text.size() + 1, dom::MINIMAL_BATCH_SIZE);
  if (stream_->parser.parse_many(stream_->padded, batch).get(stream_->documents)) {
    stream_->failed = true;
    error_ = "not JSON lines";
  }
}

JsonLines::~JsonLines() = default;

bool JsonLines::next(JsonLine& line) {
  Stream& s = *stream_;
  if (s.failed) return false;
  if (!s.started) {
    s.at = s.documents.begin();
    s.started = true;
  } else {
    ++s.at;
  }
  if (!(s.at != s.documents.end())) return false;
  const size_t offset = std::min(s.at.current_index(), text_.size());
  newlines_ += static_cast<size_t>(
      std::count(text_.begin() + static_cast<std::ptrdiff_t>(counted_to_),
                 text_.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
  counted_to_ = offset;
  line_number_ = newlines_ + 1;
  line.fields.clear();
  line.lists.clear();
  dom::element document;
  dom::object object;
  if ((*s.at).get(document) || document.get_object().get(object) ||
      !read_object(object, line.fields, &line.lists)) {
    s.failed = true;
    error_ = "not a JSON object";
    return false;
  }
  return true;
}

}  // namespace lincheck
