#include "wal/mem/mem_object_store.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <utility>

namespace wal {

namespace {

// The etag: XXH64 (Debian's libxxhash) of the body, seed 0. Like S3's MD5 etag it depends
// on the content only; chosen over MD5 for speed.
uint64_t xxh64(ByteView bytes) { return XXH64(bytes.data(), bytes.size(), 0); }

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string MemObjectStore::etag_for(ByteView body) {
  static constexpr char digits[] = "0123456789abcdef";
  const uint64_t hash = xxh64(body);
  std::string etag(16, '0');
  for (size_t i = 0; i < 16; ++i) etag[15 - i] = digits[(hash >> (4 * i)) & 0xF];
  WAL_ASSERT_EQ(etag.size(), 16u);
  return etag;
}

ObjectInfo MemObjectStore::info_of(const std::string& key, const StoredObject& object) {
  WAL_ASSERT(!key.empty());
  WAL_ASSERT(!object.etag.empty());
  return ObjectInfo{key, object.body.size(), object.etag};
}

Status MemObjectStore::check_put(std::string_view key, const Bytes& body,
                                 const PutCondition& condition) const {
  if (Status key_ok = check_object_key(key); !key_ok) return key_ok;
  if (body.size() > limits::object_size_bytes_max) {
    return make_error(Errc::too_large, "object body over object_size_bytes_max");
  }
  const auto found = objects_.find(key);
  switch (condition.kind) {
    case PutCondition::Kind::none:
      return {};
    case PutCondition::Kind::if_none_match:
      if (found != objects_.end()) return make_error(Errc::already_exists, std::string(key));
      return {};
    case PutCondition::Kind::if_match:
      if (condition.etag.empty()) return make_error(Errc::invalid_argument, "If-Match etag empty");
      if (found == objects_.end()) return make_error(Errc::not_found, std::string(key));
      if (found->second.etag != condition.etag) {
        return make_error(Errc::condition_failed, "etag is " + found->second.etag);
      }
      return {};
  }
  WAL_UNREACHABLE();
}

Result<ObjectInfo> MemObjectStore::apply_put(std::string_view key, Bytes body,
                                             const PutCondition& condition) {
  ++op_counts_.put_count;
  op_counts_.put_body_bytes += body.size();
  if (Status allowed = check_put(key, body, condition); !allowed) return std::move(allowed).error();
  StoredObject object{std::move(body), {}};
  object.etag = etag_for(object.body);
  auto [it, inserted] = objects_.insert_or_assign(std::string(key), std::move(object));
  if (condition.kind == PutCondition::Kind::if_none_match) WAL_ASSERT(inserted);
  if (condition.kind == PutCondition::Kind::if_match) WAL_ASSERT(!inserted);
  return info_of(it->first, it->second);
}

Result<ObjectData> MemObjectStore::apply_get(std::string_view key,
                                             std::optional<ByteRange> range) {
  ++op_counts_.get_count;
  if (Status key_ok = check_object_key(key); !key_ok) return std::move(key_ok).error();
  if (range && range->length == 0) return make_error(Errc::invalid_argument, "empty range");
  const auto found = objects_.find(key);
  if (found == objects_.end()) return make_error(Errc::not_found, std::string(key));
  const Bytes& body = found->second.body;
  uint64_t begin = 0;
  uint64_t end = body.size();
  if (range) {
    const bool empty_object_from_start = body.empty() && range->offset == 0;
    if (range->offset >= body.size() && !empty_object_from_start) {
      return make_error(Errc::out_of_range, "range starts at or past the end of the object");
    }
    begin = range->offset;
    // S3 cuts a range running past the end; written to avoid overflowing offset + length.
    end = begin + std::min<uint64_t>(range->length, body.size() - begin);
  }
  WAL_ASSERT_LE(begin, end);
  WAL_ASSERT_LE(end, body.size());
  ObjectData data{info_of(found->first, found->second),
                  Bytes(body.begin() + static_cast<ptrdiff_t>(begin),
                        body.begin() + static_cast<ptrdiff_t>(end))};
  op_counts_.get_body_bytes += data.body.size();
  return data;
}

Result<ObjectInfo> MemObjectStore::apply_head(std::string_view key) {
  ++op_counts_.head_count;
  if (Status key_ok = check_object_key(key); !key_ok) return std::move(key_ok).error();
  const auto found = objects_.find(key);
  if (found == objects_.end()) return make_error(Errc::not_found, std::string(key));
  return info_of(found->first, found->second);
}

Result<ListPage> MemObjectStore::apply_list(std::string_view prefix,
                                            std::string_view continuation_token,
                                            size_t max_keys) {
  ++op_counts_.list_count;
  if (max_keys == 0 || max_keys > limits::list_page_keys_max) {
    return make_error(Errc::invalid_argument, "max_keys outside 1..list_page_keys_max");
  }
  // The token is the last key returned: resume strictly after it, but never before the prefix.
  auto it = continuation_token.empty() || continuation_token < prefix
                ? objects_.lower_bound(prefix)
                : objects_.upper_bound(continuation_token);
  ListPage page;
  for (; it != objects_.end() && starts_with(it->first, prefix); ++it) {
    if (page.objects.size() == max_keys) {
      page.next_token = page.objects.back().key;  // a further key exists
      break;
    }
    page.objects.push_back(info_of(it->first, it->second));
  }
  WAL_ASSERT_LE(page.objects.size(), max_keys);
  if (!page.next_token.empty()) WAL_ASSERT_EQ(page.objects.size(), max_keys);
  return page;
}

Status MemObjectStore::apply_remove(std::string_view key) {
  ++op_counts_.delete_count;
  if (Status key_ok = check_object_key(key); !key_ok) return key_ok;
  const auto found = objects_.find(key);
  if (found != objects_.end()) objects_.erase(found);
  WAL_ASSERT(objects_.find(key) == objects_.end());
  return {};
}

Result<std::vector<Status>> MemObjectStore::apply_remove_many(
    const std::vector<std::string>& keys) {
  ++op_counts_.delete_count;
  if (keys.size() > limits::list_page_keys_max) {
    return make_error(Errc::invalid_argument, "more than list_page_keys_max keys");
  }
  std::vector<Status> statuses;
  statuses.reserve(keys.size());
  for (const std::string& key : keys) {
    Status key_ok = check_object_key(key);
    if (key_ok) objects_.erase(key);
    statuses.push_back(std::move(key_ok));
  }
  WAL_ASSERT_EQ(statuses.size(), keys.size());
  return statuses;
}

std::vector<std::string> MemObjectStore::keys() const {
  std::vector<std::string> result;
  result.reserve(objects_.size());
  for (const auto& [key, object] : objects_) result.push_back(key);
  return result;
}

std::optional<ByteView> MemObjectStore::body_view(std::string_view key) const {
  const auto found = objects_.find(key);
  if (found == objects_.end()) return std::nullopt;
  return ByteView(found->second.body);
}

std::optional<ObjectData> MemObjectStore::find(std::string_view key) const {
  const auto found = objects_.find(key);
  if (found == objects_.end()) return std::nullopt;
  return ObjectData{info_of(found->first, found->second), found->second.body};
}

Task<Result<ObjectInfo>> MemObjectStore::put(std::string key, Bytes body,
                                             PutCondition condition) {
  co_return apply_put(key, std::move(body), condition);
}

Task<Result<ObjectData>> MemObjectStore::get(std::string key, std::optional<ByteRange> range) {
  co_return apply_get(key, range);
}

Task<Result<ObjectInfo>> MemObjectStore::head(std::string key) { co_return apply_head(key); }

Task<Result<ListPage>> MemObjectStore::list(std::string prefix, std::string continuation_token,
                                            size_t max_keys) {
  co_return apply_list(prefix, continuation_token, max_keys);
}

Task<Status> MemObjectStore::remove(std::string key) { co_return apply_remove(key); }

Task<Result<std::vector<Status>>> MemObjectStore::remove_many(std::vector<std::string> keys) {
  co_return apply_remove_many(keys);
}

}  // namespace wal
