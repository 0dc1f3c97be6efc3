// The LogStore's entry cache: a byte budget, least recently used out, per-segment forgetting.
#include <gtest/gtest.h>

#include "wal/src/quorum/logstore_cache.h"

namespace wal::quorum {
namespace {

SharedBytes bytes_of(size_t size, char fill) {
  return std::make_shared<const Bytes>(to_bytes(std::string(size, fill)));
}

constexpr SegmentKey segment_a{1, 0};
constexpr SegmentKey segment_b{1, 1};

TEST(entry_cache, evicts_the_least_recently_used_down_to_its_budget) {
  LogStoreStats stats;
  EntryCache cache(300, stats);
  cache.insert(segment_a, 0, bytes_of(100, 'a'));
  cache.insert(segment_a, 1, bytes_of(100, 'b'));
  cache.insert(segment_a, 2, bytes_of(100, 'c'));
  ASSERT_NE(cache.find(segment_a, 0), nullptr);  // 0 is now the most recently used
  cache.insert(segment_a, 3, bytes_of(100, 'd'));
  EXPECT_EQ(cache.bytes(), 300u);
  EXPECT_EQ(cache.entry_count(), 3u);
  EXPECT_FALSE(cache.contains(segment_a, 1)) << "the least recently used one stays";
  EXPECT_TRUE(cache.contains(segment_a, 0));
  EXPECT_EQ(*cache.find(segment_a, 3), *bytes_of(100, 'd'));
  EXPECT_EQ(cache.find(segment_a, 1), nullptr);
  EXPECT_EQ(stats.entry_cache_hits, 2u);
  EXPECT_EQ(stats.entry_cache_misses, 1u);
}

TEST(entry_cache, an_entry_over_the_budget_and_a_zero_budget_cache_nothing) {
  LogStoreStats stats;
  EntryCache cache(100, stats);
  cache.insert(segment_a, 0, bytes_of(50, 'a'));
  cache.insert(segment_a, 1, bytes_of(101, 'b'));
  EXPECT_EQ(cache.bytes(), 50u);
  EXPECT_FALSE(cache.contains(segment_a, 1));
  EntryCache off(0, stats);
  off.insert(segment_a, 0, bytes_of(1, 'a'));
  EXPECT_EQ(off.entry_count(), 0u);
}

TEST(entry_cache, a_reinserted_entry_is_counted_once) {
  LogStoreStats stats;
  EntryCache cache(1000, stats);
  cache.insert(segment_a, 0, bytes_of(100, 'a'));
  cache.insert(segment_a, 0, bytes_of(100, 'a'));
  EXPECT_EQ(cache.bytes(), 100u);
  EXPECT_EQ(cache.entry_count(), 1u);
}

TEST(entry_cache, erasing_a_segment_keeps_the_others) {
  LogStoreStats stats;
  EntryCache cache(1000, stats);
  for (EntryId id = 0; id < 3; ++id) {
    cache.insert(segment_a, id, bytes_of(10, 'a'));
    cache.insert(segment_b, id, bytes_of(20, 'b'));
  }
  cache.erase_segment(segment_a);
  EXPECT_EQ(cache.entry_count(), 3u);
  EXPECT_EQ(cache.bytes(), 60u);
  EXPECT_FALSE(cache.contains(segment_a, 2));
  EXPECT_TRUE(cache.contains(segment_b, 0));
}

}  // namespace
}  // namespace wal::quorum
