// LocalObjectStore's list(): a depth-first walk of the key tree in byte order (local_object_fs.h
// explains why sorting each directory's entries by label gives byte order).
#include <algorithm>
#include <string>

#include "local_object_fs.h"

namespace wal::local_object {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Every key below a directory starts with `base` and is longer. Whether any of them can be both
// under `prefix` and strictly after `start_after`:
bool subtree_may_match(std::string_view base, std::string_view prefix,
                       std::string_view start_after) {
  if (!starts_with(prefix, base) && !starts_with(base, prefix)) return false;
  if (start_after.empty() || start_after < base) return true;
  // start_after >= base: if base is not a prefix of it, they differ at a byte where start_after
  // is greater, so every key below is smaller than start_after.
  return starts_with(start_after, base);
}

std::string join(const std::string& directory, const std::string& name) {
  return directory.empty() ? name : directory + "/" + name;
}

}  // namespace

struct ObjectDirectory::ListWalk {
  std::string_view prefix;
  std::string_view start_after;
  size_t max_keys = 0;
  ListPage page;
};

Result<ListPage> ObjectDirectory::list(std::string_view prefix, std::string_view start_after,
                                       size_t max_keys) {
  WAL_ASSERT(max_keys >= 1);
  WAL_ASSERT_LE(max_keys, limits::list_page_keys_max);
  ListWalk walk{prefix, start_after, max_keys, {}};
  Result<bool> stopped = walk_directory("", "", walk);
  if (!stopped) return std::move(stopped).error();
  if (*stopped) {
    // The page is full and a further key exists: resume after the last key returned.
    WAL_ASSERT_EQ(walk.page.objects.size(), max_keys);
    walk.page.next_token = walk.page.objects.back().key;
  }
  return std::move(walk.page);
}

Result<bool> ObjectDirectory::walk_directory(const std::string& path, const std::string& key_base,
                                             ListWalk& walk) const {
  Result<std::vector<std::string>> names = read_directory_names(root_fd_.get(), path);
  if (!names) {
    // Removed since its parent was read: it holds no keys any more.
    if (names.error().code == Errc::not_found && !path.empty()) return false;
    return std::move(names).error();
  }
  std::vector<std::pair<Entry, std::string>> entries;  // (entry, file name)
  for (std::string& name : *names) {
    std::optional<Entry> entry = parse_entry_name(name);
    if (entry) entries.emplace_back(std::move(*entry), std::move(name));
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    if (a.first.label != b.first.label) return a.first.label < b.first.label;
    return a.first.kind == EntryKind::object && b.first.kind != EntryKind::object;
  });
  for (const auto& [entry, name] : entries) {
    const std::string key = key_base + entry.label;
    if (entry.kind != EntryKind::object) {
      if (!subtree_may_match(key, walk.prefix, walk.start_after)) continue;
      Result<bool> stopped = walk_directory(join(path, name), key, walk);
      if (!stopped || *stopped) return stopped;
      continue;
    }
    if (!starts_with(key, walk.prefix) || key <= walk.start_after) continue;
    if (!check_object_key(key).ok()) continue;  // a stray file no put could have written
    if (walk.page.objects.size() == walk.max_keys) return true;
    Result<ObjectInfo> info = read_info(join(path, name), key);
    if (!info) {
      if (info.error().code == Errc::not_found) continue;  // deleted since the directory was read
      return std::move(info).error();
    }
    walk.page.objects.push_back(std::move(*info));
  }
  WAL_ASSERT_LE(walk.page.objects.size(), walk.max_keys);
  return false;
}

}  // namespace wal::local_object
