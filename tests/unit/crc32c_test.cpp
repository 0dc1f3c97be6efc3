// CRC32C: published test vectors, hardware == software, extension == one-shot, masking.
#include "wal/format/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace wal {
namespace {

Bytes filled(size_t size, uint8_t value) { return Bytes(size, static_cast<std::byte>(value)); }

Bytes random_bytes(std::mt19937_64& prng, size_t size) {
  Bytes bytes(size);
  for (std::byte& b : bytes) b = static_cast<std::byte>(prng() & 0xFF);
  return bytes;
}

struct Vector {
  Bytes input;
  uint32_t crc;
};

// "123456789" is the classic check value; the 32-byte vectors are from RFC 3720, appendix B.4.
std::vector<Vector> published_vectors() {
  Bytes ascending;
  Bytes descending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<std::byte>(i));
  for (int i = 31; i >= 0; --i) descending.push_back(static_cast<std::byte>(i));
  return {
      {to_bytes("123456789"), 0xE3069283u}, {filled(32, 0x00), 0x8A9136AAu},
      {filled(32, 0xFF), 0x62A8AB43u},      {ascending, 0x46DD794Eu},
      {descending, 0x113FDB5Cu},            {Bytes{}, 0x00000000u},
  };
}

TEST(crc32c, matches_published_vectors) {
  for (const Vector& v : published_vectors()) {
    EXPECT_EQ(crc32c(v.input), v.crc) << "input of " << v.input.size() << " bytes";
    EXPECT_EQ(crc32c_software(v.input), v.crc) << "input of " << v.input.size() << " bytes";
  }
}

TEST(crc32c, hardware_path_matches_published_vectors) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  for (const Vector& v : published_vectors()) {
    EXPECT_EQ(crc32c_hardware_extend(0, v.input), v.crc) << "input of " << v.input.size();
  }
}

TEST(crc32c, hardware_equals_software_for_every_length_and_alignment) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 prng(20240611);
  const Bytes buffer = random_bytes(prng, 4096 + 16);
  for (size_t alignment = 0; alignment < 16; ++alignment) {
    for (size_t size = 0; size <= 300; ++size) {
      const ByteView view = ByteView(buffer).subspan(alignment, size);
      ASSERT_EQ(crc32c_hardware_extend(0, view), crc32c_software(view))
          << "alignment " << alignment << " size " << size;
    }
  }
  for (size_t size : {size_t{1023}, size_t{1024}, size_t{4095}, size_t{4096}}) {
    const ByteView view = ByteView(buffer).subspan(3, size);
    EXPECT_EQ(crc32c_hardware_extend(0x12345678u, view), crc32c_software_extend(0x12345678u, view));
  }
}

// Inputs of 12 KiB and more go through three interleaved chains joined by shift tables; the
// lengths around each multiple of the 12 KiB round, every alignment and a non-zero starting
// register must all agree with the byte-at-a-time software path.
TEST(crc32c, hardware_equals_software_across_interleaved_rounds) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  std::mt19937_64 prng(20261122);
  const Bytes buffer = random_bytes(prng, (1u << 20) + 64);
  constexpr size_t round_bytes = 3 * 4096;
  for (size_t rounds : {size_t{1}, size_t{2}, size_t{5}}) {
    for (size_t delta = 0; delta < 24; ++delta) {
      for (size_t alignment : {size_t{0}, size_t{1}, size_t{7}}) {
        const size_t size = rounds * round_bytes - 12 + delta;
        const ByteView view = ByteView(buffer).subspan(alignment, size);
        ASSERT_EQ(crc32c_hardware_extend(0, view), crc32c_software(view))
            << "size " << size << " alignment " << alignment;
        ASSERT_EQ(crc32c_hardware_extend(0x9ABCDEF0u, view),
                  crc32c_software_extend(0x9ABCDEF0u, view))
            << "size " << size << " alignment " << alignment;
      }
    }
  }
  const ByteView whole = ByteView(buffer).subspan(5, 1u << 20);  // a 1 MiB entry
  EXPECT_EQ(crc32c_hardware_extend(0, whole), crc32c_software(whole));
}

TEST(crc32c, extend_at_every_split_equals_one_shot) {
  std::mt19937_64 prng(7);
  const Bytes buffer = random_bytes(prng, 257);
  const uint32_t whole = crc32c(buffer);
  for (size_t split = 0; split <= buffer.size(); ++split) {
    const ByteView view(buffer);
    const uint32_t head = crc32c(view.first(split));
    ASSERT_EQ(crc32c_extend(head, view.subspan(split)), whole) << "split " << split;
    ASSERT_EQ(crc32c_software_extend(crc32c_software(view.first(split)), view.subspan(split)),
              whole)
        << "split " << split;
  }
}

TEST(crc32c, combine_at_every_split_equals_one_shot) {
  std::mt19937_64 prng(11);
  const Bytes buffer = random_bytes(prng, 300);
  const ByteView view(buffer);
  const uint32_t whole = crc32c(view);
  for (size_t split = 0; split <= buffer.size(); ++split) {
    const uint32_t first = crc32c(view.first(split));
    const uint32_t second = crc32c(view.subspan(split));
    ASSERT_EQ(crc32c_combine(first, second, buffer.size() - split), whole) << "split " << split;
  }
}

TEST(crc32c, combine_over_megabytes_and_empty_parts) {
  std::mt19937_64 prng(12);
  const Bytes header = random_bytes(prng, 60);
  const Bytes payload = random_bytes(prng, (3u << 20) + 13);  // a 1 MiB-entry block's payload
  Bytes joined = header;
  joined.insert(joined.end(), payload.begin(), payload.end());
  EXPECT_EQ(crc32c_combine(crc32c(header), crc32c(payload), payload.size()), crc32c(joined));
  EXPECT_EQ(crc32c_combine(0x12345678u, 0, 0), 0x12345678u);         // b empty
  EXPECT_EQ(crc32c_combine(0, crc32c(payload), payload.size()), crc32c(payload));  // a empty
}

TEST(crc32c, extend_of_zero_is_one_shot_and_empty_extend_is_identity) {
  const Bytes data = to_bytes("write-ahead log");
  EXPECT_EQ(crc32c_extend(0, data), crc32c(data));
  EXPECT_EQ(crc32c_extend(0xDEADBEEFu, ByteView{}), 0xDEADBEEFu);
}

TEST(crc32c, single_bit_flips_change_the_crc) {
  std::mt19937_64 prng(11);
  Bytes buffer = random_bytes(prng, 64);
  const uint32_t original = crc32c(buffer);
  for (size_t bit = 0; bit < buffer.size() * 8; ++bit) {
    buffer[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    ASSERT_NE(crc32c(buffer), original) << "bit " << bit;
    buffer[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
  }
}

TEST(crc32c, mask_round_trips_and_changes_the_value) {
  std::mt19937_64 prng(3);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t crc = static_cast<uint32_t>(prng());
    EXPECT_EQ(crc32c_unmask(crc32c_mask(crc)), crc);
    EXPECT_NE(crc32c_mask(crc), crc);
  }
}

// Why stored CRCs are masked: appending a raw CRC to its data gives the same CRC for any data,
// so an outer checksum over such a record learns nothing from the inner one. Masking breaks it.
TEST(crc32c, raw_self_crc_has_constant_residue_and_masked_does_not) {
  std::mt19937_64 prng(5);
  std::vector<uint32_t> raw_residues;
  std::vector<uint32_t> masked_residues;
  for (int i = 0; i < 4; ++i) {
    Bytes data = random_bytes(prng, 40 + static_cast<size_t>(i));
    Bytes with_raw = data;
    put_u32(with_raw, crc32c(data));
    Bytes with_masked = data;
    put_u32(with_masked, crc32c_mask(crc32c(data)));
    raw_residues.push_back(crc32c(with_raw));
    masked_residues.push_back(crc32c(with_masked));
  }
  for (size_t i = 1; i < raw_residues.size(); ++i) {
    EXPECT_EQ(raw_residues[i], raw_residues[0]);
    EXPECT_NE(masked_residues[i], masked_residues[0]);
  }
}

}  // namespace
}  // namespace wal
