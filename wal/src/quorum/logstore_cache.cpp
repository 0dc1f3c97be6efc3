// The LogStore's entry cache (logstore_cache.h).
#include "logstore_cache.h"

#include "wal/core/assert.h"

namespace wal::quorum {

SharedBytes EntryCache::find(const SegmentKey& segment, EntryId id) {
  auto it = index_.find(Key{segment, id});
  if (it == index_.end()) {
    ++stats_.entry_cache_misses;
    return nullptr;
  }
  ++stats_.entry_cache_hits;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->payload;
}

bool EntryCache::contains(const SegmentKey& segment, EntryId id) const {
  return index_.contains(Key{segment, id});
}

void EntryCache::insert(const SegmentKey& segment, EntryId id, SharedBytes payload) {
  WAL_ASSERT(payload != nullptr);
  const Key key{segment, id};
  if (auto it = index_.find(key); it != index_.end()) erase(it);
  if (payload->size() > bytes_max_) return;
  order_.push_front(Slot{key, std::move(payload)});
  index_.emplace(key, order_.begin());
  bytes_ += order_.front().payload->size();
  while (bytes_ > bytes_max_) {
    WAL_ASSERT(!order_.empty());
    erase(index_.find(order_.back().key));
  }
  WAL_ASSERT_LE(bytes_, bytes_max_);
  WAL_ASSERT_EQ(index_.size(), order_.size());
}

void EntryCache::erase_segment(const SegmentKey& segment) {
  auto it = index_.lower_bound(Key{segment, 0});
  while (it != index_.end() && it->first.segment == segment) {
    auto next = std::next(it);
    erase(it);
    it = next;
  }
  WAL_ASSERT_EQ(index_.size(), order_.size());
}

void EntryCache::erase(std::map<Key, std::list<Slot>::iterator>::iterator it) {
  WAL_ASSERT(it != index_.end());
  WAL_ASSERT_GE(bytes_, it->second->payload->size());
  bytes_ -= it->second->payload->size();
  order_.erase(it->second);
  index_.erase(it);
}

}  // namespace wal::quorum
