#include "wal/log/keys.h"

#include <charconv>

#include "wal/core/assert.h"

namespace wal {

std::string pad20(uint64_t value) {
  std::string digits = std::to_string(value);
  WAL_ASSERT(digits.size() <= 20);
  return std::string(20 - digits.size(), '0') + digits;
}

std::string logs_prefix(std::string_view meta_root) { return std::string(meta_root) + "logs/"; }
std::string log_id_counter_key(std::string_view meta_root) {
  return std::string(meta_root) + "log-ids";
}

std::string LogKeys::log_key() const { return logs_prefix(meta_root) + name; }
std::string LogKeys::log_prefix() const { return log_key() + "/"; }
std::string LogKeys::epoch_key() const { return log_prefix() + "epoch"; }
std::string LogKeys::tail_key() const { return log_prefix() + "tail"; }
std::string LogKeys::truncation_key() const { return log_prefix() + "trunc"; }
std::string LogKeys::segment_prefix() const { return log_prefix() + "seg/"; }
std::string LogKeys::segment_key(uint64_t segment_id) const {
  return segment_prefix() + pad20(segment_id);
}

std::string LogKeys::log_object_prefix() const { return object_root + pad20(log_id) + "/"; }
std::string LogKeys::segment_object_prefix(uint64_t segment_id) const {
  return log_object_prefix() + pad20(segment_id) + "/";
}
std::string LogKeys::block_key(uint64_t segment_id, uint64_t block_index) const {
  return segment_object_prefix(segment_id) + "b" + pad20(block_index);
}
std::string LogKeys::manifest_key(uint64_t segment_id, uint64_t block_count) const {
  return segment_object_prefix(segment_id) + "m" + pad20(block_count);
}

namespace {
std::optional<uint64_t> parse_padded(std::string_view text) {
  if (text.size() != 20) return std::nullopt;
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}
}  // namespace

std::optional<ObjectKeyParts> parse_object_key(std::string_view log_object_prefix,
                                               std::string_view key) {
  if (!key.starts_with(log_object_prefix)) return std::nullopt;
  key.remove_prefix(log_object_prefix.size());
  // "<segment:020>/<kind><number:020>"
  if (key.size() != 20 + 1 + 1 + 20 || key[20] != '/') return std::nullopt;
  const auto segment_id = parse_padded(key.substr(0, 20));
  const auto number = parse_padded(key.substr(22));
  if (!segment_id || !number) return std::nullopt;
  ObjectKeyParts parts;
  parts.segment_id = *segment_id;
  parts.number = *number;
  if (key[21] == 'b') {
    parts.kind = ObjectKeyParts::Kind::block;
  } else if (key[21] == 'm') {
    parts.kind = ObjectKeyParts::Kind::manifest;
  } else {
    return std::nullopt;
  }
  return parts;
}

std::optional<uint64_t> parse_segment_key(std::string_view segment_prefix, std::string_view key) {
  if (!key.starts_with(segment_prefix)) return std::nullopt;
  return parse_padded(key.substr(segment_prefix.size()));
}

}  // namespace wal
