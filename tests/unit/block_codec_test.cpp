// The block format: round trips, the byte layout, and rejection of every kind of damage.
#include "wal/format/block_codec.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "wal/format/crc32c.h"

namespace wal {
namespace {
namespace bf = block_format;

// ---- byte-level helpers -------------------------------------------------------------------

Bytes flip_bit(const Bytes& bytes, size_t bit_index) {
  Bytes out = bytes;
  out.at(bit_index / 8) ^= static_cast<std::byte>(1u << (bit_index % 8));
  return out;
}

// A fresh buffer of exactly n bytes, so AddressSanitizer sees any read past its end.
Bytes cut(const Bytes& bytes, size_t n) { return Bytes(bytes.begin(), bytes.begin() + n); }

void set_u8(Bytes& bytes, size_t offset, uint8_t value) { bytes.at(offset) = std::byte{value}; }
void set_u16(Bytes& bytes, size_t offset, uint16_t value) {
  for (size_t i = 0; i < 2; ++i) bytes.at(offset + i) = static_cast<std::byte>(value >> (8 * i));
}
void set_u32(Bytes& bytes, size_t offset, uint32_t value) {
  for (size_t i = 0; i < 4; ++i) bytes.at(offset + i) = static_cast<std::byte>(value >> (8 * i));
}

// Recomputes both CRCs of a version-1 block after a test edits its fields, so the edit reaches
// the checks behind the CRCs (what a buggy writer would produce). Written from docs/format.md,
// independently of the encoder.
void reseal(Bytes& block) {
  const ByteView view(block);
  const uint32_t block_crc =
      crc32c_extend(crc32c(view.first(60)), view.subspan(bf::header_size_bytes));
  set_u32(block, bf::block_crc_offset, crc32c_mask(block_crc));
  set_u32(block, bf::header_crc_offset, crc32c_mask(crc32c(view.first(64))));
}

std::vector<ByteView> views(const std::vector<std::string>& entries) {
  std::vector<ByteView> out;
  for (const std::string& entry : entries) out.push_back(as_bytes(entry));
  return out;
}

BlockHeader sample_header(uint32_t entry_count) {
  return BlockHeader{.log_id = 7,
                     .segment_id = 3,
                     .first_entry_id = 1000,
                     .entry_count = entry_count,
                     .writer_epoch = 12,
                     .created_unix_ms = 1'700'000'000'000,
                     .codec = BlockCodec::none};
}

const std::vector<std::string>& sample_entries() {
  static const std::vector<std::string> entries = {
      "first entry of the sample block",
      "",
      "a third entry, longer, to give the payload some bulk and lengths beyond one byte",
      "x",
  };
  return entries;
}

Bytes sample_block() {
  const std::vector<ByteView> entries = views(sample_entries());
  return encode_block(sample_header(static_cast<uint32_t>(entries.size())), entries);
}

Errc decode_error(const Bytes& bytes, const BlockExpectation& expected = {}) {
  Result<DecodedBlock> decoded = decode_block_view(bytes, expected);
  EXPECT_FALSE(decoded.ok());
  if (decoded.ok()) return Errc::protocol;  // any code the callers below do not expect
  EXPECT_FALSE(decoded.error().message.empty());
  return decoded.error().code;
}

std::string decode_message(const Bytes& bytes, const BlockExpectation& expected = {}) {
  Result<DecodedBlock> decoded = decode_block_view(bytes, expected);
  if (decoded.ok()) return "(decoded fine)";
  return decoded.error().message;
}

// ---- round trips --------------------------------------------------------------------------

TEST(block_codec, round_trip_preserves_header_and_entries) {
  const Bytes bytes = sample_block();
  Result<DecodedBlock> decoded = decode_block_view(bytes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->header(), sample_header(4));
  ASSERT_EQ(decoded->entry_count(), 4u);
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(to_string(decoded->entry(i)), sample_entries()[i]);
    EXPECT_EQ(decoded->entry_id(i), 1000u + i);
  }
  EXPECT_EQ(decoded->frame().size_bytes(), bytes.size());
  EXPECT_EQ(decoded->bytes().data(), bytes.data());  // a view, not a copy
}

TEST(block_codec, entries_are_views_into_the_block_not_copies) {
  const Bytes bytes = sample_block();
  Result<DecodedBlock> decoded = decode_block_view(bytes, {});
  ASSERT_TRUE(decoded.ok());
  const ByteView first = decoded->entry(0);
  EXPECT_GE(first.data(), bytes.data());
  EXPECT_LE(first.data() + first.size(), bytes.data() + bytes.size());
}

TEST(block_codec, owning_decode_outlives_the_callers_buffer) {
  Bytes bytes = sample_block();
  Result<DecodedBlock> decoded = decode_block(std::move(bytes), {});
  bytes = Bytes(4096, std::byte{0x55});  // reuse the moved-from name; the block must not care
  ASSERT_TRUE(decoded.ok());
  DecodedBlock moved = std::move(decoded).value();
  EXPECT_EQ(to_string(moved.entry(2)), sample_entries()[2]);
  EXPECT_EQ(moved.bytes().size(), moved.frame().size_bytes());
}

TEST(block_codec, empty_entries_are_allowed) {
  const std::vector<std::string> entries = {"", "", "", ""};
  const Bytes bytes = encode_block(sample_header(4), views(entries));
  EXPECT_EQ(bytes.size(), bf::header_size_bytes + 4 * bf::entry_length_size_bytes);
  Result<DecodedBlock> decoded = decode_block_view(bytes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  for (uint32_t i = 0; i < 4; ++i) EXPECT_TRUE(decoded->entry(i).empty());
}

TEST(block_codec, entry_of_the_maximum_size_round_trips) {
  Bytes big(limits::entry_size_bytes_max);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 31 + 7);
  const std::vector<ByteView> entries = {big, as_bytes("tail")};
  const Bytes bytes = encode_block(sample_header(2), entries);
  Result<DecodedBlock> decoded = decode_block_view(bytes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_TRUE(std::equal(big.begin(), big.end(), decoded->entry(0).begin(),
                         decoded->entry(0).end()));
  EXPECT_EQ(to_string(decoded->entry(1)), "tail");
}

TEST(block_codec, many_small_entries_round_trip) {
  std::vector<std::string> entries;
  for (int i = 0; i < 100'000; ++i) entries.push_back("entry-" + std::to_string(i));
  const std::vector<ByteView> entry_views = views(entries);
  BlockHeader header = sample_header(static_cast<uint32_t>(entries.size()));
  header.first_entry_id = 5'000'000'000;  // ids are 64-bit and dense per log
  const Bytes bytes = encode_block(header, entry_views);
  EXPECT_EQ(bytes.size(), encoded_block_size_bytes(entry_views));
  Result<DecodedBlock> decoded = decode_block_view(bytes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  ASSERT_EQ(decoded->entry_count(), entries.size());
  EXPECT_EQ(to_string(decoded->entry(99'999)), "entry-99999");
  EXPECT_EQ(decoded->entry_id(99'999), 5'000'099'999u);
}

TEST(block_codec, encoded_size_is_predicted_exactly) {
  const std::vector<ByteView> entries = views(sample_entries());
  EXPECT_EQ(sample_block().size(), encoded_block_size_bytes(entries));
}

// ---- the byte layout (docs/format.md) ------------------------------------------------------

TEST(block_codec, header_fields_sit_at_their_documented_offsets) {
  const Bytes bytes = sample_block();
  const std::byte* p = bytes.data();
  EXPECT_EQ(bytes[0], std::byte{0x8B});
  EXPECT_EQ(bytes[1], std::byte{'W'});
  EXPECT_EQ(bytes[2], std::byte{'P'});
  EXPECT_EQ(bytes[3], std::byte{'B'});
  EXPECT_EQ(get_u16(p + 4), 1u);
  EXPECT_EQ(get_u16(p + 6), 68u);
  EXPECT_EQ(bytes[8], std::byte{0});
  EXPECT_EQ(get_u32(p + 12), 4u);
  EXPECT_EQ(get_u64(p + 16), 7u);
  EXPECT_EQ(get_u64(p + 24), 3u);
  EXPECT_EQ(get_u64(p + 32), 1000u);
  EXPECT_EQ(get_u64(p + 40), 12u);
  EXPECT_EQ(static_cast<int64_t>(get_u64(p + 48)), 1'700'000'000'000);
  EXPECT_EQ(get_u32(p + 56), bytes.size() - 68);
  EXPECT_EQ(get_u32(p + 68), sample_entries()[0].size());
}

TEST(block_codec, both_crcs_cover_what_the_spec_says) {
  const Bytes bytes = sample_block();
  const ByteView view(bytes);
  const uint32_t block_crc = crc32c_extend(crc32c(view.first(60)), view.subspan(68));
  EXPECT_EQ(crc32c_unmask(get_u32(bytes.data() + 60)), block_crc);
  EXPECT_EQ(crc32c_unmask(get_u32(bytes.data() + 64)), crc32c(view.first(64)));
  Result<BlockFrame> frame = decode_block_frame(bytes);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->block_crc32c, block_crc);
}

// The worked example of docs/format.md, byte for byte: changing the format breaks this test.
TEST(block_codec, worked_example_from_the_spec_is_reproduced) {
  const BlockHeader header{.log_id = 1,
                           .segment_id = 2,
                           .first_entry_id = 3,
                           .entry_count = 2,
                           .writer_epoch = 4,
                           .created_unix_ms = 5,
                           .codec = BlockCodec::none};
  const std::vector<ByteView> entries = {as_bytes("hi"), as_bytes("")};
  const Bytes bytes = encode_block(header, entries);
  std::string hex;
  for (std::byte b : bytes) {
    static const char digits[] = "0123456789abcdef";
    hex += digits[static_cast<uint8_t>(b) >> 4];
    hex += digits[static_cast<uint8_t>(b) & 0xF];
  }
  EXPECT_EQ(hex,
            "8b57504201004400000000000200000001000000000000000200000000000000"
            "0300000000000000040000000000000005000000000000000a0000001268a78a"
            "7f4c22e302000000686900000000");
}

// ---- header-only decoding ------------------------------------------------------------------

TEST(block_codec, header_alone_decodes_without_the_payload) {
  const Bytes bytes = sample_block();
  Result<BlockFrame> frame = decode_block_frame(cut(bytes, bf::header_size_bytes));
  ASSERT_TRUE(frame.ok()) << frame.error().describe();
  EXPECT_EQ(frame->header, sample_header(4));
  EXPECT_EQ(frame->size_bytes(), bytes.size());
}

TEST(block_codec, header_cut_short_is_corrupt) {
  const Bytes bytes = sample_block();
  for (size_t n = 0; n < bf::header_size_bytes; ++n) {
    Result<BlockFrame> frame = decode_block_frame(cut(bytes, n));
    ASSERT_FALSE(frame.ok()) << "cut at " << n;
    EXPECT_EQ(frame.error().code, Errc::corrupt) << "cut at " << n;
  }
}

// ---- exhaustive damage ---------------------------------------------------------------------

TEST(block_codec, every_single_bit_flip_is_rejected_as_corrupt) {
  const Bytes bytes = sample_block();
  ASSERT_GE(bytes.size(), 100u);
  ASSERT_LE(bytes.size(), 300u);
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    ASSERT_EQ(decode_error(flip_bit(bytes, bit)), Errc::corrupt) << "bit " << bit;
  }
}

TEST(block_codec, every_truncation_is_rejected_as_corrupt) {
  const Bytes bytes = sample_block();
  for (size_t n = 0; n < bytes.size(); ++n) {
    ASSERT_EQ(decode_error(cut(bytes, n)), Errc::corrupt) << "cut at " << n;
  }
}

TEST(block_codec, trailing_bytes_are_rejected) {
  Bytes bytes = sample_block();
  bytes.push_back(std::byte{0});
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
  EXPECT_NE(decode_message(bytes).find("trailing"), std::string::npos);
}

TEST(block_codec, wrong_magic_is_corrupt) {
  Bytes bytes = sample_block();
  set_u32(bytes, bf::magic_offset, 0x4D50578Bu);  // the manifest's magic
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
  EXPECT_NE(decode_message(bytes).find("magic"), std::string::npos);
}

// ---- fields behind a valid CRC: what a buggy or newer writer produces ---------------------

TEST(block_codec, newer_version_is_unsupported_and_version_zero_corrupt) {
  Bytes bytes = sample_block();
  set_u16(bytes, bf::version_offset, 2);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::unsupported);
  set_u16(bytes, bf::version_offset, 0);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
}

// A later version may grow the header. Its CRC stays the last 4 bytes of the header, so an old
// reader can still tell "newer writer" from "damage".
TEST(block_codec, newer_version_with_a_longer_header_is_unsupported) {
  const Bytes v1 = sample_block();
  Bytes bytes(v1.begin(), v1.begin() + 64);
  set_u16(bytes, bf::version_offset, 2);
  set_u16(bytes, bf::header_size_offset, 72);
  for (int i = 0; i < 4; ++i) bytes.push_back(std::byte{0xAA});  // a field v1 does not know
  put_u32(bytes, crc32c_mask(crc32c(bytes)));
  bytes.insert(bytes.end(), v1.begin() + 68, v1.end());
  EXPECT_EQ(decode_error(bytes), Errc::unsupported);
  bytes[70] ^= std::byte{1};  // now the longer header is damaged
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
}

TEST(block_codec, header_size_other_than_68_in_version_1_is_corrupt) {
  Bytes bytes = sample_block();
  set_u16(bytes, bf::header_size_offset, 72);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
}

TEST(block_codec, unknown_codec_is_unsupported) {
  Bytes bytes = sample_block();
  set_u8(bytes, bf::codec_offset, 1);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::unsupported);
  EXPECT_NE(decode_message(bytes).find("codec 1"), std::string::npos);
}

TEST(block_codec, unknown_flag_is_unsupported_and_reserved_bits_corrupt) {
  Bytes flagged = sample_block();
  set_u8(flagged, bf::flags_offset, 0x80);
  reseal(flagged);
  EXPECT_EQ(decode_error(flagged), Errc::unsupported);
  Bytes reserved = sample_block();
  set_u16(reserved, bf::reserved_offset, 1);
  reseal(reserved);
  EXPECT_EQ(decode_error(reserved), Errc::corrupt);
}

TEST(block_codec, entry_count_larger_than_the_entries_is_corrupt) {
  Bytes bytes = sample_block();
  set_u32(bytes, bf::entry_count_offset, 5);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
}

TEST(block_codec, entry_count_smaller_than_the_entries_is_corrupt) {
  Bytes bytes = sample_block();
  set_u32(bytes, bf::entry_count_offset, 3);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
  EXPECT_NE(decode_message(bytes).find("after its last entry"), std::string::npos);
}

TEST(block_codec, zero_entry_count_is_corrupt) {
  Bytes bytes = sample_block();
  set_u32(bytes, bf::entry_count_offset, 0);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
}

TEST(block_codec, entry_length_overrunning_the_payload_is_corrupt) {
  Bytes bytes = sample_block();
  set_u32(bytes, bf::header_size_bytes, static_cast<uint32_t>(bytes.size()));
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
  set_u32(bytes, bf::header_size_bytes, 0xFFFFFFFFu);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
}

TEST(block_codec, payload_length_that_disagrees_with_the_object_is_corrupt) {
  const Bytes original = sample_block();
  for (int64_t delta : {-1, 1, -4, 1000}) {
    Bytes bytes = original;
    set_u32(bytes, bf::payload_size_offset,
            static_cast<uint32_t>(static_cast<int64_t>(bytes.size() - 68) + delta));
    reseal(bytes);
    EXPECT_EQ(decode_error(bytes), Errc::corrupt) << "delta " << delta;
  }
}

TEST(block_codec, entry_ids_overflowing_64_bits_are_corrupt) {
  Bytes bytes = sample_block();
  for (size_t i = 0; i < 8; ++i) bytes[bf::first_entry_id_offset + i] = std::byte{0xFF};
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
}

// ---- misdirected blocks --------------------------------------------------------------------

TEST(block_codec, block_for_another_segment_is_rejected_with_both_identities) {
  const Bytes bytes = sample_block();
  const BlockExpectation expected{.log_id = 7, .segment_id = 4};
  EXPECT_EQ(decode_error(bytes, expected), Errc::corrupt);
  EXPECT_EQ(decode_message(bytes, expected),
            "block is for log 7 segment 3, expected log 7 segment 4");
}

TEST(block_codec, block_for_another_log_is_rejected) {
  const BlockExpectation expected{.log_id = 8};
  EXPECT_EQ(decode_error(sample_block(), expected), Errc::corrupt);
  EXPECT_EQ(decode_message(sample_block(), expected),
            "block is for log 7 segment 3, expected log 8 segment 3");
}

TEST(block_codec, block_at_another_entry_id_is_rejected) {
  const BlockExpectation expected{.log_id = 7, .segment_id = 3, .first_entry_id = 1004};
  EXPECT_EQ(decode_error(sample_block(), expected), Errc::corrupt);
  EXPECT_NE(decode_message(sample_block(), expected).find("expected entry 1004"),
            std::string::npos);
}

TEST(block_codec, block_with_another_count_or_crc_is_rejected) {
  const Bytes bytes = sample_block();
  Result<BlockFrame> frame = decode_block_frame(bytes);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(decode_error(bytes, {.entry_count = 5}), Errc::corrupt);
  EXPECT_EQ(decode_error(bytes, {.block_crc32c = frame->block_crc32c ^ 1}), Errc::corrupt);
  const BlockExpectation exact{.log_id = 7,
                               .segment_id = 3,
                               .first_entry_id = 1000,
                               .entry_count = 4,
                               .block_crc32c = frame->block_crc32c};
  EXPECT_TRUE(decode_block_view(bytes, exact).ok());
}

// ---- entry keys (idempotent appends) -------------------------------------------------------

BlockHeader keyed_header(uint32_t entry_count) {
  BlockHeader header = sample_header(entry_count);
  header.entry_keys = true;
  return header;
}

// The sample entries with keys; entry 1 has none ({0, 0}), as an unkeyed append in a keyed block.
const std::vector<AppendKey>& sample_keys() {
  static const std::vector<AppendKey> keys = {
      {7, 1}, {0, 0}, {7, 2}, {0xFFFF'FFFF'FFFF'FFFFull, 0x0123'4567'89AB'CDEFull}};
  return keys;
}

Bytes keyed_block() {
  const std::vector<ByteView> entries = views(sample_entries());
  return encode_block(keyed_header(static_cast<uint32_t>(entries.size())), entries, sample_keys());
}

TEST(block_codec_keys, round_trip_strips_the_prefix_and_returns_each_key) {
  const Bytes bytes = keyed_block();
  const std::vector<ByteView> entries = views(sample_entries());
  EXPECT_EQ(bytes.size(), encoded_block_size_bytes(entries, true));
  EXPECT_EQ(bytes.size(), encoded_block_size_bytes(entries) + 4 * bf::entry_key_size_bytes);
  Result<DecodedBlock> decoded = decode_block_view(bytes, {});
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->header(), keyed_header(4));
  for (uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(to_string(decoded->entry(i)), sample_entries()[i]) << i;  // no prefix left
    if (sample_keys()[i].producer_id == 0) {
      EXPECT_FALSE(decoded->entry_key(i).has_value()) << i;
    } else {
      ASSERT_TRUE(decoded->entry_key(i).has_value()) << i;
      EXPECT_EQ(*decoded->entry_key(i), sample_keys()[i]) << i;
    }
  }
}

TEST(block_codec_keys, the_flag_and_the_prefix_sit_where_the_spec_says) {
  const Bytes bytes = keyed_block();
  EXPECT_EQ(static_cast<uint8_t>(bytes[bf::flags_offset]), bf::flag_entry_keys);
  // Entry 0: u32 length (16 + 31), u64 producer 7, u64 sequence 1, then the payload.
  const size_t entry0 = bf::header_size_bytes;
  EXPECT_EQ(get_u32(&bytes[entry0]), 16u + sample_entries()[0].size());
  EXPECT_EQ(get_u64(&bytes[entry0 + 4]), 7u);
  EXPECT_EQ(get_u64(&bytes[entry0 + 12]), 1u);
  EXPECT_EQ(static_cast<char>(bytes[entry0 + 20]), 'f');
  // Blocks without keys keep flag 0 and no prefix: byte-identical to earlier writers.
  EXPECT_EQ(static_cast<uint8_t>(sample_block()[bf::flags_offset]), 0u);
  Result<DecodedBlock> plain = decode_block_view(sample_block(), {});
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->entry_key(0).has_value());
}

TEST(block_codec_keys, entry_shorter_than_its_key_prefix_is_corrupt) {
  // One keyed empty entry whose stored length is cut below the 16-byte prefix, resealed so the
  // check behind the CRCs is reached (a buggy writer).
  const std::vector<ByteView> one = {ByteView{}};
  const std::vector<AppendKey> key = {{5, 9}};
  for (uint32_t length = 0; length < bf::entry_key_size_bytes; ++length) {
    Bytes bytes = encode_block(keyed_header(1), one, key);
    set_u32(bytes, bf::header_size_bytes, length);
    bytes.resize(bf::header_size_bytes + 4 + length);
    set_u32(bytes, bf::payload_size_offset, 4 + length);
    reseal(bytes);
    EXPECT_EQ(decode_error(bytes), Errc::corrupt) << length;
  }
}

TEST(block_codec_keys, every_truncation_and_bit_flip_of_a_keyed_block_is_corrupt) {
  const Bytes bytes = keyed_block();
  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_EQ(decode_error(cut(bytes, n)), Errc::corrupt);
  for (size_t bit = 0; bit < bytes.size() * 8; bit += 7) {
    EXPECT_EQ(decode_error(flip_bit(bytes, bit)), Errc::corrupt) << bit;
  }
}

TEST(block_codec_keys, a_sequence_without_producer_is_corrupt) {
  Bytes bytes = keyed_block();
  // Entry 1 has producer 0; give it a sequence.
  const size_t entry1 = bf::header_size_bytes + 4 + 16 + sample_entries()[0].size();
  EXPECT_EQ(get_u64(&bytes[entry1 + 4]), 0u);
  set_u32(bytes, entry1 + 12, 3);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
  EXPECT_NE(decode_message(bytes).find("no producer"), std::string::npos);
}

TEST(block_codec_keys, a_keyed_header_too_small_for_its_prefixes_is_corrupt) {
  // Four entries need at least 4 * 20 payload bytes with keys; 4 * 4 would do without.
  Bytes bytes = encode_block(keyed_header(1), std::vector<ByteView>{ByteView{}},
                             std::vector<AppendKey>{{1, 1}});
  set_u32(bytes, bf::entry_count_offset, 2);
  reseal(bytes);
  EXPECT_EQ(decode_error(bytes), Errc::corrupt);
}

// ---- properties ----------------------------------------------------------------------------

RC_GTEST_PROP(block_codec, random_blocks_round_trip, (const std::vector<std::string>& raw)) {
  std::vector<std::string> entries = raw;
  if (entries.empty()) entries.push_back("");
  const auto first_entry_id = *rc::gen::inRange<uint64_t>(0, uint64_t{1} << 62);
  const BlockHeader header{.log_id = *rc::gen::arbitrary<uint64_t>(),
                           .segment_id = *rc::gen::arbitrary<uint64_t>(),
                           .first_entry_id = first_entry_id,
                           .entry_count = static_cast<uint32_t>(entries.size()),
                           .writer_epoch = *rc::gen::arbitrary<uint64_t>(),
                           .created_unix_ms = *rc::gen::arbitrary<int64_t>(),
                           .codec = BlockCodec::none};
  const Bytes bytes = encode_block(header, views(entries));
  Result<DecodedBlock> decoded = decode_block(bytes, {.log_id = header.log_id,
                                                      .segment_id = header.segment_id,
                                                      .first_entry_id = first_entry_id});
  RC_ASSERT(decoded.ok());
  RC_ASSERT(decoded->header() == header);
  for (uint32_t i = 0; i < entries.size(); ++i) {
    RC_ASSERT(to_string(decoded->entry(i)) == entries[i]);
  }
}

RC_GTEST_PROP(block_codec, any_changed_byte_is_detected, (const std::vector<std::string>& raw)) {
  std::vector<std::string> entries = raw;
  entries.push_back("anchor");
  const Bytes bytes = encode_block(sample_header(static_cast<uint32_t>(entries.size())),
                                   views(entries));
  const auto index = *rc::gen::inRange<size_t>(0, bytes.size());
  const auto delta = *rc::gen::inRange<int>(1, 256);
  Bytes damaged = bytes;
  damaged[index] ^= static_cast<std::byte>(delta);
  Result<DecodedBlock> decoded = decode_block_view(damaged, {});
  RC_ASSERT(!decoded.ok());
  RC_ASSERT(decoded.error().code == Errc::corrupt);
}

}  // namespace
}  // namespace wal
