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
  while (size_bytes >= 8) {
    uint64_t word = 0;
    std::memcpy(&word, data, sizeof(word));  // x86 is little-endian, as the CRC expects
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

}  // namespace wal
