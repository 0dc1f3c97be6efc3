// BlockBuilder: block by block, the same bytes as encode_block, whatever mix of keyed and
// unkeyed entries and sizes; and the sizes it predicts are the sizes it produces.
#include "wal/format/block_builder.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <vector>

namespace wal {
namespace {
namespace bf = block_format;

struct Entry {
  Bytes payload;
  std::optional<AppendKey> key;
};

BlockHeader header_for(const std::vector<Entry>& entries, bool entry_keys) {
  return BlockHeader{.log_id = 7,
                     .segment_id = 3,
                     .first_entry_id = 1000,
                     .entry_count = static_cast<uint32_t>(entries.size()),
                     .writer_epoch = 12,
                     .created_unix_ms = 1'700'000'000'000,
                     .codec = BlockCodec::none,
                     .entry_keys = entry_keys};
}

// What encode_block makes of the same entries: keys for all once one has a key.
Bytes encoded_in_one_go(const std::vector<Entry>& entries) {
  std::vector<ByteView> views;
  bool keyed = false;
  for (const Entry& entry : entries) {
    views.push_back(entry.payload);
    keyed = keyed || entry.key.has_value();
  }
  std::vector<AppendKey> keys;
  if (keyed) {
    for (const Entry& entry : entries) keys.push_back(entry.key.value_or(AppendKey{}));
  }
  return encode_block(header_for(entries, keyed), views, keys);
}

Bytes built(const std::vector<Entry>& entries, uint64_t capacity_bytes) {
  BlockBuilder builder(capacity_bytes);
  for (const Entry& entry : entries) {
    const uint64_t predicted = builder.size_bytes_with(entry.payload.size(), entry.key.has_value());
    builder.add(entry.payload, entry.key);
    EXPECT_EQ(builder.size_bytes(), predicted);
  }
  const bool keyed = builder.entry_keys();
  return std::move(builder).finish(header_for(entries, keyed));
}

Entry make_entry(std::mt19937_64& prng, size_t size, std::optional<AppendKey> key) {
  Entry entry;
  entry.payload.resize(size);
  for (std::byte& b : entry.payload) b = static_cast<std::byte>(prng() & 0xFF);
  entry.key = key;
  return entry;
}

TEST(block_builder, one_entry_equals_encode_block) {
  std::mt19937_64 prng(1);
  const std::vector<Entry> entries{make_entry(prng, 100, std::nullopt)};
  EXPECT_EQ(built(entries, 4096), encoded_in_one_go(entries));
}

TEST(block_builder, empty_entries_and_a_small_capacity_equal_encode_block) {
  std::mt19937_64 prng(2);
  const std::vector<Entry> entries{make_entry(prng, 0, std::nullopt),
                                   make_entry(prng, 5000, std::nullopt),
                                   make_entry(prng, 0, std::nullopt)};
  EXPECT_EQ(built(entries, 0), encoded_in_one_go(entries));  // grows past its reservation
}

TEST(block_builder, a_first_key_after_unkeyed_entries_re_encodes_them_with_empty_keys) {
  std::mt19937_64 prng(3);
  const std::vector<Entry> entries{make_entry(prng, 10, std::nullopt),
                                   make_entry(prng, 20, std::nullopt),
                                   make_entry(prng, 30, AppendKey{5, 9}),
                                   make_entry(prng, 40, std::nullopt),
                                   make_entry(prng, 50, AppendKey{6, 1})};
  const Bytes block = built(entries, 1 << 20);
  EXPECT_EQ(block, encoded_in_one_go(entries));
  EXPECT_EQ(static_cast<uint8_t>(block[bf::flags_offset]), bf::flag_entry_keys);
}

TEST(block_builder, random_mixes_of_sizes_and_keys_equal_encode_block) {
  std::mt19937_64 prng(4);
  for (int round = 0; round < 200; ++round) {
    std::vector<Entry> entries;
    const size_t count = 1 + prng() % 40;
    const bool any_keys = prng() % 2 == 0;
    for (size_t i = 0; i < count; ++i) {
      std::optional<AppendKey> key;
      if (any_keys && prng() % 3 == 0) key = AppendKey{1 + prng() % 5, prng() % 1000};
      entries.push_back(make_entry(prng, prng() % 3000, key));
    }
    SCOPED_TRACE(round);
    ASSERT_EQ(built(entries, prng() % (64u << 10)), encoded_in_one_go(entries));
  }
}

TEST(block_builder, a_built_block_decodes_to_its_entries_and_keys) {
  std::mt19937_64 prng(5);
  const std::vector<Entry> entries{make_entry(prng, 1024, std::nullopt),
                                   make_entry(prng, 1024, AppendKey{3, 4})};
  Result<DecodedBlock> decoded = decode_block(built(entries, 4096), BlockExpectation{});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  ASSERT_EQ(decoded->entry_count(), 2u);
  for (uint32_t i = 0; i < 2; ++i) {
    const ByteView entry = decoded->entry(i);
    EXPECT_EQ(Bytes(entry.begin(), entry.end()), entries[i].payload);
    EXPECT_EQ(decoded->entry_key(i).has_value(), entries[i].key.has_value());
  }
}

}  // namespace
}  // namespace wal
