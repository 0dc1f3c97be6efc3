#pragma once
// The LogStore's entry cache: payloads of durable journal entries kept in memory under a byte
// budget, least recently used first out. A LogStore serves reads, repairs, checkpoints and
// uploads from its journals on disk (logstore_segment.h); the cache spares the disk the reads of
// the hot tail (entries just made durable, which tailing readers ask for next).
//
// The budget bounds the bytes the cache itself holds. A payload handed out stays alive while its
// user holds it (SharedBytes), so the node's memory is the budget plus what requests in flight
// hold, never a function of segment sizes. A budget of 0 turns the cache off (every read goes to
// the disk). An entry larger than the budget is not cached.
//
// Not thread-safe: the node's executor only. Counts hits and misses into the node's stats.

#include <cstdint>
#include <list>
#include <map>

#include "wal/env/object_store.h"
#include "wal/quorum/logstore.h"

#include "logstore_key.h"

namespace wal::quorum {

class EntryCache {
 public:
  EntryCache(uint64_t bytes_max, LogStoreStats& stats) : bytes_max_(bytes_max), stats_(stats) {}
  EntryCache(const EntryCache&) = delete;
  EntryCache& operator=(const EntryCache&) = delete;

  // The payload of entry `id` of `segment`, or null; counts a hit or a miss, and a hit makes
  // the entry the most recently used.
  [[nodiscard]] SharedBytes find(const SegmentKey& segment, EntryId id);
  // Whether the entry is cached, without counting or reordering.
  [[nodiscard]] bool contains(const SegmentKey& segment, EntryId id) const;
  // Caches `payload` as the most recently used entry (replacing the entry's earlier payload,
  // which is the same bytes: an entry has one value), then evicts down to the budget.
  void insert(const SegmentKey& segment, EntryId id, SharedBytes payload);
  // Forgets every entry of `segment` (its journal was dropped).
  void erase_segment(const SegmentKey& segment);

  [[nodiscard]] uint64_t bytes() const { return bytes_; }
  [[nodiscard]] uint64_t entry_count() const { return index_.size(); }
  [[nodiscard]] uint64_t bytes_max() const { return bytes_max_; }

 private:
  struct Key {
    SegmentKey segment;
    EntryId id = 0;
    auto operator<=>(const Key&) const = default;
  };
  struct Slot {
    Key key;
    SharedBytes payload;
  };
  void erase(std::map<Key, std::list<Slot>::iterator>::iterator it);

  uint64_t bytes_max_;
  LogStoreStats& stats_;
  uint64_t bytes_ = 0;
  std::list<Slot> order_;  // most recently used first
  std::map<Key, std::list<Slot>::iterator> index_;
};

}  // namespace wal::quorum
