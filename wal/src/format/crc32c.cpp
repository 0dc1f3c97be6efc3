#include "wal/format/crc32c.h"

#include <array>
#include <cstring>

#include "wal/core/assert.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace wal {
namespace {

constexpr uint32_t polynomial_reflected = 0x82F63B78u;
constexpr size_t slice_count = 8;

using SliceTables = std::array<std::array<uint32_t, 256>, slice_count>;

// Built at compile time so there is no table-initialisation state at run time. tables[k][b] is
// the CRC contribution of byte b followed by k zero bytes, which lets the loop fold 8 bytes at
// once (slicing-by-8, Intel's "A Systematic Approach to Building High Performance CRCs").
constexpr SliceTables make_slice_tables() {
  SliceTables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? polynomial_reflected : 0);
    tables[0][byte] = crc;
  }
  for (size_t slice = 1; slice < slice_count; ++slice) {
    for (uint32_t byte = 0; byte < 256; ++byte) {
      const uint32_t previous = tables[slice - 1][byte];
      tables[slice][byte] = (previous >> 8) ^ tables[0][previous & 0xFFu];
    }
  }
  return tables;
}

constexpr SliceTables slice_tables = make_slice_tables();
static_assert(slice_tables[0][1] == 0xF26B8303u);  // first entries of the published table
static_assert(slice_tables[0][128] == polynomial_reflected);

// Multiplies two polynomials modulo the CRC polynomial, in the CRC's reflected bit order (bit 31
// holds x^0). Both are at most degree 31, so 32 steps always finish.
constexpr uint32_t multiply_modulo(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t bit = 1u << 31; bit != 0; bit >>= 1) {
    if ((a & bit) != 0) product ^= b;
    b = (b & 1u) != 0 ? (b >> 1) ^ polynomial_reflected : b >> 1;
  }
  return product;
}

constexpr uint32_t x_power_0 = 1u << 31;  // the polynomial 1, reflected
constexpr uint32_t x_power_1 = 1u << 30;  // the polynomial x

// squares[k] = x^(2^k) mod P, for k = 0..66: a byte count is 64 bits, and 2^3 bits a byte.
constexpr size_t squares_count = 64 + 3;
constexpr std::array<uint32_t, squares_count> make_squares() {
  std::array<uint32_t, squares_count> squares{};
  uint32_t power = x_power_1;
  for (uint32_t& square : squares) {
    square = power;
    power = multiply_modulo(power, power);
  }
  return squares;
}
constexpr std::array<uint32_t, squares_count> squares = make_squares();
static_assert(multiply_modulo(x_power_0, 0x12345678u) == 0x12345678u);  // 1 * b == b

// x^(8 * size_bytes) mod P: what appending size_bytes bytes multiplies a CRC register by.
constexpr uint32_t x_power_bytes(uint64_t size_bytes) {
  uint32_t power = x_power_0;
  for (size_t k = 3; size_bytes != 0; size_bytes >>= 1, ++k) {  // 2^3 bits per byte
    WAL_ASSERT_LT(k, squares.size());
    if ((size_bytes & 1u) != 0) power = multiply_modulo(squares[k], power);
  }
  return power;
}

// Works on the inverted register (state = ~crc); callers invert on the way in and out.
uint32_t software_update(uint32_t state, const std::byte* data, size_t size_bytes) {
  const auto& t = slice_tables;
  while (size_bytes >= 8) {
    // get_u32 reads little-endian explicitly, so the result does not depend on host byte order.
    const uint32_t low = state ^ get_u32(data);
    const uint32_t high = get_u32(data + 4);
    state = t[7][low & 0xFFu] ^ t[6][(low >> 8) & 0xFFu] ^ t[5][(low >> 16) & 0xFFu] ^
            t[4][low >> 24] ^ t[3][high & 0xFFu] ^ t[2][(high >> 8) & 0xFFu] ^
            t[1][(high >> 16) & 0xFFu] ^ t[0][high >> 24];
    data += 8;
    size_bytes -= 8;
  }
  for (; size_bytes > 0; --size_bytes, ++data) {
    state = (state >> 8) ^ t[0][(state ^ static_cast<uint32_t>(*data)) & 0xFFu];
  }
  return state;
}

// The hardware loop runs three independent crc32 chains over three adjacent stripes, because
// one chain is bound by the instruction's latency (3 cycles) while the CPU can start one per
// cycle: about 3x the bytes per cycle on large inputs. The stripes' registers are then joined
// by linearity, reg(r, a ++ b) = reg(r, a) * x^(8 |b|) xor reg(0, b), with the two shifts for a
// fixed stripe length precomputed as byte tables.
constexpr size_t stripe_bytes = 4096;
constexpr size_t stripe_words = stripe_bytes / 8;

// tables[k][b] = (b << 8k) * factor mod P: multiplying a register by factor is then four
// lookups, because multiply_modulo is linear in its register argument.
using ShiftTables = std::array<std::array<uint32_t, 256>, 4>;
constexpr ShiftTables make_shift_tables(uint32_t factor) {
  ShiftTables tables{};
  for (uint32_t k = 0; k < 4; ++k) {
    for (uint32_t byte = 0; byte < 256; ++byte) {
      tables[k][byte] = multiply_modulo(factor, byte << (8 * k));
    }
  }
  return tables;
}

constexpr ShiftTables shift_one_stripe = make_shift_tables(x_power_bytes(stripe_bytes));
constexpr ShiftTables shift_two_stripes =
    make_shift_tables(x_power_bytes(2 * stripe_bytes));

constexpr uint32_t shift(const ShiftTables& t, uint32_t state) {
  return t[0][state & 0xFFu] ^ t[1][(state >> 8) & 0xFFu] ^ t[2][(state >> 16) & 0xFFu] ^
         t[3][state >> 24];
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t hardware_update(uint32_t state, const std::byte* data,
                                                           size_t size_bytes) {
  // Single bytes until the pointer is 8-aligned, so the wide loads below never split a line.
  while (size_bytes > 0 && (reinterpret_cast<uintptr_t>(data) & 7u) != 0) {
    state = _mm_crc32_u8(state, static_cast<uint8_t>(*data));
    ++data;
    --size_bytes;
  }
  uint64_t wide = state;
  while (size_bytes >= 3 * stripe_bytes) {
    uint64_t second = 0;
    uint64_t third = 0;
    for (size_t i = 0; i < stripe_words; ++i) {
      uint64_t word_first = 0;
      uint64_t word_second = 0;
      uint64_t word_third = 0;
      // x86 is little-endian, as the CRC expects.
      std::memcpy(&word_first, data + 8 * i, 8);
      std::memcpy(&word_second, data + stripe_bytes + 8 * i, 8);
      std::memcpy(&word_third, data + 2 * stripe_bytes + 8 * i, 8);
      wide = _mm_crc32_u64(wide, word_first);
      second = _mm_crc32_u64(second, word_second);
      third = _mm_crc32_u64(third, word_third);
    }
    wide = shift(shift_two_stripes, static_cast<uint32_t>(wide)) ^
           shift(shift_one_stripe, static_cast<uint32_t>(second)) ^ static_cast<uint32_t>(third);
    data += 3 * stripe_bytes;
    size_bytes -= 3 * stripe_bytes;
  }
  while (size_bytes >= 8) {
    uint64_t word = 0;
    std::memcpy(&word, data, sizeof(word));
    wide = _mm_crc32_u64(wide, word);
    data += 8;
    size_bytes -= 8;
  }
  state = static_cast<uint32_t>(wide);
  for (; size_bytes > 0; --size_bytes, ++data) {
    state = _mm_crc32_u8(state, static_cast<uint8_t>(*data));
  }
  return state;
}
#endif

}  // namespace

bool crc32c_hardware_available() {
#if defined(__x86_64__)
  // libgcc fills the CPU model in a constructor that runs before any of our code; reading it is
  // a load and a bit test, so there is no cached state of our own.
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

uint32_t crc32c_software_extend(uint32_t crc, ByteView bytes) {
  if (bytes.empty()) return crc;  // an empty span may carry a null data pointer
  WAL_ASSERT(bytes.data() != nullptr);
  const uint32_t result = ~software_update(~crc, bytes.data(), bytes.size());
  return result;
}

uint32_t crc32c_software(ByteView bytes) { return crc32c_software_extend(0, bytes); }

uint32_t crc32c_hardware_extend(uint32_t crc, ByteView bytes) {
  WAL_ASSERT(crc32c_hardware_available());
  if (bytes.empty()) return crc;
  WAL_ASSERT(bytes.data() != nullptr);
#if defined(__x86_64__)
  return ~hardware_update(~crc, bytes.data(), bytes.size());
#else
  WAL_UNREACHABLE();
#endif
}

uint32_t crc32c_extend(uint32_t crc, ByteView bytes) {
  if (crc32c_hardware_available()) return crc32c_hardware_extend(crc, bytes);
  return crc32c_software_extend(crc, bytes);
}

uint32_t crc32c(ByteView bytes) { return crc32c_extend(0, bytes); }

// The register after a ++ b is the register after a, shifted over b's bits, xor b's own
// register; the pre- and post-inversions cancel out in that sum (as in zlib's crc32_combine).
uint32_t crc32c_combine(uint32_t crc_first, uint32_t crc_second, uint64_t second_size_bytes) {
  if (second_size_bytes == 0) return crc_first;
  return multiply_modulo(x_power_bytes(second_size_bytes), crc_first) ^ crc_second;
}

}  // namespace wal
