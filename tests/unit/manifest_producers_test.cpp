// The producer table of segment manifests (idempotent appends): round trip, byte layout, and
// rejection of tables that break the rules; and ProducerTable, the writer's bounded copy.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wal/format/crc32c.h"
#include "wal/format/segment_manifest.h"
#include "wal/log/producer_table.h"

namespace wal {
namespace {
namespace mf = manifest_format;

void set_u64(Bytes& bytes, size_t offset, uint64_t value) {
  for (size_t i = 0; i < 8; ++i) bytes.at(offset + i) = static_cast<std::byte>(value >> (8 * i));
}
void set_u32(Bytes& bytes, size_t offset, uint32_t value) {
  for (size_t i = 0; i < 4; ++i) bytes.at(offset + i) = static_cast<std::byte>(value >> (8 * i));
}
void reseal(Bytes& manifest) {
  const size_t covered = manifest.size() - 4;
  set_u32(manifest, covered, crc32c_mask(crc32c(ByteView(manifest).first(covered))));
}

SegmentManifest manifest_with_producers() {
  SegmentManifest manifest;
  manifest.log_id = 7;
  manifest.segment_id = 3;
  manifest.first_entry_id = 1000;
  manifest.writer_epoch = 12;
  manifest.blocks = {{.block_index = 0, .first_entry_id = 1000, .entry_count = 5,
                      .size_bytes = 200, .block_crc32c = 0x11111111}};
  manifest.entry_count = 5;
  // Producer 9's last entry is in an earlier segment: the table covers the whole log.
  manifest.producers = {{.producer_id = 2, .sequence = 40, .entry_id = 1004},
                        {.producer_id = 9, .sequence = 7, .entry_id = 12}};
  return manifest;
}

Errc decode_error(const Bytes& bytes) {
  Result<SegmentManifest> decoded = decode_segment_manifest(bytes, {});
  EXPECT_FALSE(decoded.ok());
  return decoded.ok() ? Errc::protocol : decoded.error().code;
}

TEST(manifest_producers, round_trip_and_layout) {
  const SegmentManifest manifest = manifest_with_producers();
  const Bytes bytes = encode_segment_manifest(manifest);
  ASSERT_EQ(bytes.size(), 64u + 24u + 2 * 24u + 4u);
  EXPECT_EQ(get_u16(&bytes[mf::flags_offset]), mf::flag_producers);
  EXPECT_EQ(get_u32(&bytes[mf::producer_count_offset]), 2u);
  const size_t first = mf::header_size_bytes + mf::record_size_bytes;
  EXPECT_EQ(get_u64(&bytes[first + mf::producer_id_offset]), 2u);
  EXPECT_EQ(get_u64(&bytes[first + mf::producer_sequence_offset]), 40u);
  EXPECT_EQ(get_u64(&bytes[first + mf::producer_entry_id_offset]), 1004u);
  Result<SegmentManifest> decoded = decode_segment_manifest(bytes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(*decoded, manifest);
}

TEST(manifest_producers, a_manifest_without_producers_is_unchanged) {
  SegmentManifest manifest = manifest_with_producers();
  manifest.producers.clear();
  const Bytes bytes = encode_segment_manifest(manifest);
  EXPECT_EQ(bytes.size(), 64u + 24u + 4u);
  EXPECT_EQ(get_u16(&bytes[mf::flags_offset]), 0u);
  EXPECT_EQ(get_u32(&bytes[mf::reserved_offset]), 0u);
}

TEST(manifest_producers, damaged_or_invalid_tables_are_rejected) {
  const Bytes good = encode_segment_manifest(manifest_with_producers());
  const size_t first = mf::header_size_bytes + mf::record_size_bytes;
  const size_t second = first + mf::producer_record_size_bytes;
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(decode_error(Bytes(good.begin(), good.begin() + n)), Errc::corrupt) << n;
  }
  Bytes unordered = good;  // producer 9 before 2
  set_u64(unordered, second + mf::producer_id_offset, 1);
  reseal(unordered);
  EXPECT_EQ(decode_error(unordered), Errc::corrupt);
  Bytes zero = good;
  set_u64(zero, first + mf::producer_id_offset, 0);
  reseal(zero);
  EXPECT_EQ(decode_error(zero), Errc::corrupt);
  Bytes past_end = good;  // an entry the manifest does not cover yet
  set_u64(past_end, first + mf::producer_entry_id_offset, 1005);
  reseal(past_end);
  EXPECT_EQ(decode_error(past_end), Errc::corrupt);
  Bytes shared = good;  // two producers cannot own one entry
  set_u64(shared, second + mf::producer_entry_id_offset, 1004);
  reseal(shared);
  EXPECT_EQ(decode_error(shared), Errc::corrupt);
  Bytes count_without_flag = good;
  count_without_flag[mf::flags_offset] = std::byte{0};  // the count stays: a reserved field
  reseal(count_without_flag);
  EXPECT_EQ(decode_error(count_without_flag), Errc::corrupt);
  Bytes flag_without_count = encode_segment_manifest([] {
    SegmentManifest m = manifest_with_producers();
    m.producers.clear();
    return m;
  }());
  flag_without_count[mf::flags_offset] = std::byte{mf::flag_producers};
  reseal(flag_without_count);
  EXPECT_EQ(decode_error(flag_without_count), Errc::corrupt);
}

TEST(producer_table, the_later_entry_wins_and_the_oldest_producer_is_forgotten) {
  ProducerTable table(2);
  table.record({1, 10}, 100);
  table.record({2, 5}, 101);
  table.record({1, 11}, 102);  // producer 1 is now the most recent
  EXPECT_EQ(table.find(1)->sequence, 11u);
  EXPECT_EQ(table.find(1)->entry_id, 102u);
  table.record({3, 1}, 103);  // full: producer 2 (last entry 101) goes
  EXPECT_FALSE(table.find(2).has_value());
  EXPECT_TRUE(table.find(1).has_value());
  EXPECT_TRUE(table.find(3).has_value());
  EXPECT_EQ(table.forgotten_count(), 1u);
  const std::vector<ManifestProducer> snapshot = table.snapshot();
  ASSERT_EQ(snapshot.size(), 2u);
  EXPECT_EQ(snapshot[0], (ManifestProducer{1, 11, 102}));
  EXPECT_EQ(snapshot[1], (ManifestProducer{3, 1, 103}));
  ProducerTable smaller(1);
  smaller.load(snapshot);  // keeps the most recent producer only
  ASSERT_EQ(smaller.size(), 1u);
  EXPECT_TRUE(smaller.find(3).has_value());
}

}  // namespace
}  // namespace wal
