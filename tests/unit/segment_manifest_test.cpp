// The segment manifest: round trips, validation of the block index, rejection of damage.
#include "wal/format/segment_manifest.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "wal/format/crc32c.h"

namespace wal {
namespace {
namespace mf = manifest_format;

Bytes flip_bit(const Bytes& bytes, size_t bit_index) {
  Bytes out = bytes;
  out.at(bit_index / 8) ^= static_cast<std::byte>(1u << (bit_index % 8));
  return out;
}

// A fresh buffer of exactly n bytes, so AddressSanitizer sees any read past its end.
Bytes cut(const Bytes& bytes, size_t n) { return Bytes(bytes.begin(), bytes.begin() + n); }

void set_u16(Bytes& bytes, size_t offset, uint16_t value) {
  for (size_t i = 0; i < 2; ++i) bytes.at(offset + i) = static_cast<std::byte>(value >> (8 * i));
}
void set_u32(Bytes& bytes, size_t offset, uint32_t value) {
  for (size_t i = 0; i < 4; ++i) bytes.at(offset + i) = static_cast<std::byte>(value >> (8 * i));
}

// Recomputes the trailing CRC after a test edits fields (docs/format.md: a masked CRC32C of
// every byte before the last four).
void reseal(Bytes& manifest) {
  const size_t covered = manifest.size() - 4;
  set_u32(manifest, covered, crc32c_mask(crc32c(ByteView(manifest).first(covered))));
}

SegmentManifest sample_manifest() {
  SegmentManifest manifest;
  manifest.log_id = 7;
  manifest.segment_id = 3;
  manifest.first_entry_id = 1000;
  manifest.writer_epoch = 12;
  manifest.updated_unix_ms = 1'700'000'000'000;
  manifest.sealed = true;
  manifest.blocks = {
      {.block_index = 0, .first_entry_id = 1000, .entry_count = 5, .size_bytes = 200,
       .block_crc32c = 0x11111111},
      {.block_index = 1, .first_entry_id = 1005, .entry_count = 1, .size_bytes = 80,
       .block_crc32c = 0x22222222},
      {.block_index = 2, .first_entry_id = 1006, .entry_count = 10, .size_bytes = 4000,
       .block_crc32c = 0x33333333},
  };
  manifest.entry_count = 16;
  return manifest;
}

Errc decode_error(const Bytes& bytes, const ManifestExpectation& expected = {}) {
  Result<SegmentManifest> decoded = decode_segment_manifest(bytes, expected);
  EXPECT_FALSE(decoded.ok());
  if (decoded.ok()) return Errc::protocol;  // a code no caller below expects
  EXPECT_FALSE(decoded.error().message.empty());
  return decoded.error().code;
}

Errc validation_error(const SegmentManifest& manifest) {
  Status valid = validate_segment_manifest(manifest);
  EXPECT_FALSE(valid.ok());
  return valid.ok() ? Errc::protocol : valid.error().code;
}

// ---- round trips --------------------------------------------------------------------------

TEST(segment_manifest, round_trip_preserves_every_field) {
  const SegmentManifest manifest = sample_manifest();
  const Bytes bytes = encode_segment_manifest(manifest);
  EXPECT_EQ(bytes.size(), mf::header_size_bytes + 3 * mf::record_size_bytes + 4);
  Result<SegmentManifest> decoded = decode_segment_manifest(bytes, {.log_id = 7, .segment_id = 3});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(*decoded, manifest);
  EXPECT_EQ(decoded->next_entry_id(), 1016u);
}

TEST(segment_manifest, open_checkpoint_round_trips_unsealed) {
  SegmentManifest manifest = sample_manifest();
  manifest.sealed = false;
  Result<SegmentManifest> decoded =
      decode_segment_manifest(encode_segment_manifest(manifest), {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_FALSE(decoded->sealed);
  EXPECT_EQ(*decoded, manifest);
}

TEST(segment_manifest, manifest_without_blocks_is_allowed) {
  SegmentManifest manifest = sample_manifest();
  manifest.blocks.clear();
  manifest.entry_count = 0;
  const Bytes bytes = encode_segment_manifest(manifest);
  EXPECT_EQ(bytes.size(), mf::header_size_bytes + 4);
  Result<SegmentManifest> decoded = decode_segment_manifest(bytes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(*decoded, manifest);
  EXPECT_EQ(decoded->next_entry_id(), 1000u);
}

TEST(segment_manifest, records_made_from_real_blocks_verify_those_blocks) {
  SegmentManifest manifest = sample_manifest();
  manifest.blocks.clear();
  std::vector<Bytes> blocks;
  uint64_t first_entry_id = manifest.first_entry_id;
  for (uint32_t index = 0; index < 3; ++index) {
    const std::string text = "entry of block " + std::to_string(index);
    const std::vector<ByteView> entries = {as_bytes(text), as_bytes(text)};
    blocks.push_back(encode_block({.log_id = 7, .segment_id = 3, .first_entry_id = first_entry_id,
                                   .entry_count = 2, .writer_epoch = 12},
                                  entries));
    Result<BlockFrame> frame = decode_block_frame(blocks.back());
    ASSERT_TRUE(frame.ok());
    manifest.blocks.push_back(manifest_block_for(index, *frame));
    first_entry_id += 2;
  }
  manifest.entry_count = 6;
  Result<SegmentManifest> decoded =
      decode_segment_manifest(encode_segment_manifest(manifest), {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  for (uint32_t index = 0; index < 3; ++index) {
    EXPECT_TRUE(decode_block_view(blocks[index], block_expectation(*decoded, index)).ok());
    // Another block of the same segment is not the one the manifest names: misdirected.
    const uint32_t other = (index + 1) % 3;
    Result<DecodedBlock> wrong =
        decode_block_view(blocks[other], block_expectation(*decoded, index));
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code, Errc::corrupt);
  }
}

TEST(segment_manifest, block_index_for_entry_finds_the_covering_block) {
  const SegmentManifest manifest = sample_manifest();
  EXPECT_EQ(block_index_for_entry(manifest, 999), std::nullopt);
  EXPECT_EQ(block_index_for_entry(manifest, 1000), 0u);
  EXPECT_EQ(block_index_for_entry(manifest, 1004), 0u);
  EXPECT_EQ(block_index_for_entry(manifest, 1005), 1u);
  EXPECT_EQ(block_index_for_entry(manifest, 1006), 2u);
  EXPECT_EQ(block_index_for_entry(manifest, 1015), 2u);
  EXPECT_EQ(block_index_for_entry(manifest, 1016), std::nullopt);
}

TEST(segment_manifest, fields_sit_at_their_documented_offsets) {
  const Bytes bytes = encode_segment_manifest(sample_manifest());
  const std::byte* p = bytes.data();
  EXPECT_EQ(bytes[0], std::byte{0x8B});
  EXPECT_EQ(bytes[3], std::byte{'M'});
  EXPECT_EQ(get_u16(p + 4), 1u);
  EXPECT_EQ(get_u16(p + 6), mf::flag_sealed);
  EXPECT_EQ(get_u64(p + 8), 7u);
  EXPECT_EQ(get_u64(p + 16), 3u);
  EXPECT_EQ(get_u64(p + 24), 1000u);
  EXPECT_EQ(get_u64(p + 32), 16u);
  EXPECT_EQ(get_u64(p + 40), 12u);
  EXPECT_EQ(get_u32(p + 56), 3u);
  const std::byte* record = p + 64 + 24;  // block 1
  EXPECT_EQ(get_u32(record + 0), 1u);
  EXPECT_EQ(get_u32(record + 4), 1u);
  EXPECT_EQ(get_u64(record + 8), 1005u);
  EXPECT_EQ(get_u32(record + 16), 80u);
  EXPECT_EQ(crc32c_unmask(get_u32(record + 20)), 0x22222222u);
  EXPECT_EQ(crc32c_unmask(get_u32(p + bytes.size() - 4)),
            crc32c(ByteView(bytes).first(bytes.size() - 4)));
}

// The worked example of docs/format.md (it indexes the example block there), byte for byte.
TEST(segment_manifest, worked_example_from_the_spec_is_reproduced) {
  SegmentManifest manifest;
  manifest.log_id = 1;
  manifest.segment_id = 2;
  manifest.first_entry_id = 3;
  manifest.entry_count = 2;
  manifest.writer_epoch = 4;
  manifest.updated_unix_ms = 5;
  manifest.sealed = true;
  manifest.blocks = {{.block_index = 0, .first_entry_id = 3, .entry_count = 2, .size_bytes = 78,
                      .block_crc32c = 0x3e9d7412}};
  const Bytes bytes = encode_segment_manifest(manifest);
  std::string hex;
  for (std::byte b : bytes) {
    static const char digits[] = "0123456789abcdef";
    hex += digits[static_cast<uint8_t>(b) >> 4];
    hex += digits[static_cast<uint8_t>(b) & 0xF];
  }
  EXPECT_EQ(hex,
            "8b57504d01000100010000000000000002000000000000000300000000000000"
            "0200000000000000040000000000000005000000000000000100000000000000"
            "000000000200000003000000000000004e0000001268a78a935af573");
}

// ---- validation of the block index --------------------------------------------------------

TEST(segment_manifest, valid_sample_passes_validation) {
  EXPECT_TRUE(validate_segment_manifest(sample_manifest()).ok());
}

TEST(segment_manifest, gap_between_blocks_is_invalid) {
  SegmentManifest manifest = sample_manifest();
  manifest.blocks[2].first_entry_id = 1007;
  EXPECT_EQ(validation_error(manifest), Errc::corrupt);
}

TEST(segment_manifest, overlapping_blocks_are_invalid) {
  SegmentManifest manifest = sample_manifest();
  manifest.blocks[1].first_entry_id = 1004;
  EXPECT_EQ(validation_error(manifest), Errc::corrupt);
}

TEST(segment_manifest, first_block_must_start_at_the_segment_start) {
  SegmentManifest manifest = sample_manifest();
  manifest.first_entry_id = 999;
  EXPECT_EQ(validation_error(manifest), Errc::corrupt);
}

TEST(segment_manifest, block_indexes_must_be_dense) {
  SegmentManifest manifest = sample_manifest();
  manifest.blocks[1].block_index = 2;
  EXPECT_EQ(validation_error(manifest), Errc::corrupt);
}

TEST(segment_manifest, entry_count_must_equal_the_blocks_total) {
  SegmentManifest manifest = sample_manifest();
  manifest.entry_count = 17;
  EXPECT_EQ(validation_error(manifest), Errc::corrupt);
}

TEST(segment_manifest, block_without_entries_is_invalid) {
  SegmentManifest manifest = sample_manifest();
  manifest.blocks[2].entry_count = 0;
  manifest.entry_count = 6;
  EXPECT_EQ(validation_error(manifest), Errc::corrupt);
}

TEST(segment_manifest, block_smaller_than_its_entries_allow_is_invalid) {
  SegmentManifest manifest = sample_manifest();
  manifest.blocks[0].size_bytes = 68 + 5 * 4 - 1;  // five entries need at least 88 bytes
  EXPECT_EQ(validation_error(manifest), Errc::corrupt);
}

TEST(segment_manifest, entry_ids_overflowing_64_bits_are_invalid) {
  SegmentManifest manifest = sample_manifest();
  manifest.first_entry_id = UINT64_MAX - 2;
  manifest.blocks = {{.block_index = 0, .first_entry_id = UINT64_MAX - 2, .entry_count = 5,
                      .size_bytes = 200}};
  manifest.entry_count = 5;
  EXPECT_EQ(validation_error(manifest), Errc::corrupt);
}

TEST(segment_manifest, encoding_an_invalid_manifest_is_a_programming_error) {
  SegmentManifest manifest = sample_manifest();
  manifest.entry_count = 99;
  EXPECT_DEATH(static_cast<void>(encode_segment_manifest(manifest)), "validate_segment_manifest");
}

// ---- exhaustive damage ---------------------------------------------------------------------

TEST(segment_manifest, every_single_bit_flip_is_rejected_as_corrupt) {
  const Bytes bytes = encode_segment_manifest(sample_manifest());
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    ASSERT_EQ(decode_error(flip_bit(bytes, bit)), Errc::corrupt) << "bit " << bit;
  }
}

TEST(segment_manifest, every_truncation_is_rejected_as_corrupt) {
  const Bytes bytes = encode_segment_manifest(sample_manifest());
  for (size_t n = 0; n < bytes.size(); ++n) {
    ASSERT_EQ(decode_error(cut(bytes, n)), Errc::corrupt) << "cut at " << n;
  }
}

TEST(segment_manifest, trailing_bytes_are_rejected_even_with_a_valid_crc) {
  Bytes bytes = encode_segment_manifest(sample_manifest());
  bytes.insert(bytes.end() - 4, std::byte{0});
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
  Bytes appended = encode_segment_manifest(sample_manifest());
  appended.push_back(std::byte{0});
  EXPECT_EQ(decode_error(appended), Errc::corrupt);
}

TEST(segment_manifest, block_count_disagreeing_with_the_size_is_corrupt) {
  for (uint32_t block_count : {2u, 4u, 0xFFFFFFFFu}) {
    Bytes bytes = encode_segment_manifest(sample_manifest());
    set_u32(bytes, mf::block_count_offset, block_count);
    reseal(bytes);
    EXPECT_EQ(decode_error(bytes), Errc::corrupt) << block_count;
  }
}

TEST(segment_manifest, wrong_magic_is_corrupt) {
  Bytes bytes = encode_segment_manifest(sample_manifest());
  set_u32(bytes, mf::magic_offset, block_format::magic);  // a block is not a manifest
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
}

TEST(segment_manifest, newer_version_or_flag_is_unsupported) {
  Bytes version = encode_segment_manifest(sample_manifest());
  set_u16(version, mf::version_offset, 2);
  reseal(version);
  EXPECT_EQ(decode_error(version), Errc::unsupported);
  Bytes flags = encode_segment_manifest(sample_manifest());
  set_u16(flags, mf::flags_offset, 0x8001);
  reseal(flags);
  EXPECT_EQ(decode_error(flags), Errc::unsupported);
}

TEST(segment_manifest, version_zero_and_reserved_bits_are_corrupt) {
  Bytes version = encode_segment_manifest(sample_manifest());
  set_u16(version, mf::version_offset, 0);
  reseal(version);
  EXPECT_EQ(decode_error(version), Errc::corrupt);
  Bytes reserved = encode_segment_manifest(sample_manifest());
  set_u32(reserved, mf::reserved_offset, 1);
  reseal(reserved);
  EXPECT_EQ(decode_error(reserved), Errc::corrupt);
}

TEST(segment_manifest, inconsistent_index_behind_a_valid_crc_is_corrupt) {
  Bytes bytes = encode_segment_manifest(sample_manifest());
  const size_t record_2_first_id = mf::header_size_bytes + 2 * mf::record_size_bytes +
                                   mf::record_first_entry_id_offset;
  bytes[record_2_first_id] ^= std::byte{1};  // a gap between blocks 1 and 2
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
}

TEST(segment_manifest, manifest_for_another_segment_is_rejected) {
  const Bytes bytes = encode_segment_manifest(sample_manifest());
  Result<SegmentManifest> decoded = decode_segment_manifest(bytes, {.log_id = 7, .segment_id = 4});
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, Errc::corrupt);
  EXPECT_EQ(decoded.error().message, "manifest is for log 7 segment 3, expected log 7 segment 4");
  EXPECT_EQ(decode_error(bytes, {.log_id = 8}), Errc::corrupt);
}

// ---- properties ----------------------------------------------------------------------------

RC_GTEST_PROP(segment_manifest, random_contiguous_manifests_round_trip,
              (const std::vector<uint16_t>& counts)) {
  SegmentManifest manifest;
  manifest.log_id = *rc::gen::arbitrary<uint64_t>();
  manifest.segment_id = *rc::gen::arbitrary<uint64_t>();
  manifest.first_entry_id = *rc::gen::inRange<uint64_t>(0, uint64_t{1} << 62);
  manifest.writer_epoch = *rc::gen::arbitrary<uint64_t>();
  manifest.updated_unix_ms = *rc::gen::arbitrary<int64_t>();
  manifest.sealed = *rc::gen::arbitrary<bool>();
  uint64_t next = manifest.first_entry_id;
  for (size_t i = 0; i < counts.size(); ++i) {
    const uint32_t count = uint32_t{counts[i]} + 1;
    manifest.blocks.push_back({.block_index = static_cast<uint32_t>(i),
                               .first_entry_id = next,
                               .entry_count = count,
                               .size_bytes = 68 + 4 * count + *rc::gen::inRange<uint32_t>(0, 1000),
                               .block_crc32c = *rc::gen::arbitrary<uint32_t>()});
    next += count;
  }
  manifest.entry_count = next - manifest.first_entry_id;
  const Bytes bytes = encode_segment_manifest(manifest);
  Result<SegmentManifest> decoded = decode_segment_manifest(bytes, {});
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == manifest);
  const auto index = *rc::gen::inRange<size_t>(0, bytes.size());
  Bytes damaged = bytes;
  damaged[index] ^= static_cast<std::byte>(*rc::gen::inRange<int>(1, 256));
  RC_ASSERT(!decode_segment_manifest(damaged, {}).ok());
}

}  // namespace
}  // namespace wal
