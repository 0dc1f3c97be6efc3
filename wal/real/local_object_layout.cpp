// How LocalObjectStore keys map to relative paths (layout described in local_object_fs.h).
#include <string>

#include "local_object_fs.h"

namespace wal::local_object {

namespace {

constexpr char hex_digits[] = "0123456789ABCDEF";

bool is_plain_byte(char c, size_t position) {
  if (c == '.') return position != 0;  // a leading '.' is reserved for temp and lock files
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::string escape_label(std::string_view label) {
  std::string out;
  out.reserve(label.size() * 3);
  for (size_t i = 0; i < label.size(); ++i) {
    const char c = label[i];
    if (is_plain_byte(c, i)) {
      out.push_back(c);
      continue;
    }
    const auto byte = static_cast<uint8_t>(c);
    out.push_back('%');
    out.push_back(hex_digits[byte >> 4]);
    out.push_back(hex_digits[byte & 0xF]);
  }
  WAL_ASSERT_GE(out.size(), label.size());
  WAL_ASSERT_LE(out.size(), label.size() * 3);
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;  // lower case is not canonical
}

std::optional<std::string> unescape_label(std::string_view stem) {
  std::string label;
  for (size_t i = 0; i < stem.size(); ++i) {
    if (stem[i] != '%') {
      label.push_back(stem[i]);
      continue;
    }
    if (i + 2 >= stem.size()) return std::nullopt;  // '%' needs two hex digits after it
    const int high = hex_value(stem[i + 1]);
    const int low = hex_value(stem[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    label.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  // Only the canonical spelling of a label is an entry, so each key has exactly one path.
  if (escape_label(label) != stem) return std::nullopt;
  return label;
}

char kind_suffix(EntryKind kind) {
  switch (kind) {
    case EntryKind::object: return 'o';
    case EntryKind::slash_dir: return 'd';
    case EntryKind::chunk_dir: return 'c';
  }
  WAL_UNREACHABLE();
}

}  // namespace

std::vector<Entry> split_key(std::string_view key) {
  WAL_ASSERT(!key.empty());
  std::vector<Entry> pieces;
  size_t position = 0;
  while (true) {
    const std::string_view rest = key.substr(position);
    const size_t slash = rest.find('/');
    if (slash != std::string_view::npos && slash < piece_label_bytes_max) {
      pieces.push_back({std::string(rest.substr(0, slash + 1)), EntryKind::slash_dir});
      position += slash + 1;
    } else if (slash == std::string_view::npos && rest.size() <= piece_label_bytes_max) {
      pieces.push_back({std::string(rest), EntryKind::object});
      break;
    } else {
      pieces.push_back({std::string(rest.substr(0, piece_label_bytes_max)), EntryKind::chunk_dir});
      position += piece_label_bytes_max;
    }
  }
  WAL_ASSERT(pieces.back().kind == EntryKind::object);
  WAL_ASSERT_EQ(position + pieces.back().label.size(), key.size());
  return pieces;
}

std::string entry_name(const Entry& entry) {
  std::string_view label = entry.label;
  if (entry.kind == EntryKind::slash_dir) {
    WAL_ASSERT(!label.empty() && label.back() == '/');
    label.remove_suffix(1);
  }
  WAL_ASSERT_LE(label.size(), piece_label_bytes_max);
  std::string name = escape_label(label);
  name.push_back('.');
  name.push_back(kind_suffix(entry.kind));
  return name;
}

std::optional<Entry> parse_entry_name(std::string_view name) {
  if (name.size() < 2 || name[name.size() - 2] != '.') return std::nullopt;
  Entry entry;
  switch (name.back()) {
    case 'o': entry.kind = EntryKind::object; break;
    case 'd': entry.kind = EntryKind::slash_dir; break;
    case 'c': entry.kind = EntryKind::chunk_dir; break;
    default: return std::nullopt;
  }
  std::optional<std::string> label = unescape_label(name.substr(0, name.size() - 2));
  if (!label || label->find('/') != std::string::npos) return std::nullopt;
  // Only sizes split_key() produces: anything else was not written by this layout.
  switch (entry.kind) {
    case EntryKind::object:
      if (label->size() > piece_label_bytes_max) return std::nullopt;
      break;
    case EntryKind::slash_dir:
      if (label->size() >= piece_label_bytes_max) return std::nullopt;
      label->push_back('/');
      break;
    case EntryKind::chunk_dir:
      if (label->size() != piece_label_bytes_max) return std::nullopt;
      break;
  }
  entry.label = std::move(*label);
  WAL_ASSERT(entry_name(entry) == name);
  return entry;
}

std::string object_path(std::string_view key) {
  std::string path;
  for (const Entry& piece : split_key(key)) {
    if (!path.empty()) path.push_back('/');
    path += entry_name(piece);
  }
  WAL_ASSERT(!path.empty());
  WAL_ASSERT(path.back() == 'o');
  return path;
}

std::vector<std::string> directory_paths(std::string_view key) {
  const std::vector<Entry> pieces = split_key(key);
  std::vector<std::string> paths;
  std::string path;
  for (size_t i = 0; i + 1 < pieces.size(); ++i) {
    if (!path.empty()) path.push_back('/');
    path += entry_name(pieces[i]);
    paths.push_back(path);
  }
  WAL_ASSERT_EQ(paths.size() + 1, pieces.size());
  return paths;
}

bool is_temp_name(std::string_view name) {
  return name.substr(0, sizeof(temp_name_prefix) - 1) == temp_name_prefix;
}

}  // namespace wal::local_object
