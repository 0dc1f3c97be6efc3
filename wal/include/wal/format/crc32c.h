#pragma once
// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every WAL block and
// segment manifest (docs/format.md). Chosen over CRC32 (zlib) because x86-64 (SSE4.2) and ARMv8
// compute it in hardware, and it detects more error patterns at the lengths we use.
//
// crc32c() picks the hardware path when the CPU has SSE4.2 and the portable slicing-by-8 path
// otherwise; both give identical results (tests/unit/crc32c_test.cpp checks that on random
// buffers). All functions are pure: no state, no errors, any thread.
//
// Extension: crc32c_extend(crc32c(a), b) == crc32c(a ++ b), and crc32c_extend(0, x) == crc32c(x),
// so a checksum over non-contiguous pieces (a header, then a payload) needs no copy.
//
// Masking: a CRC stored inside bytes that are themselves checksummed is stored masked (rotated
// and offset, as LevelDB does). The CRC of a string that ends with its own CRC is a constant, so
// storing raw CRCs next to the data they cover makes some corruptions invisible to an outer CRC.

#include <cstdint>

#include "wal/core/bytes.h"

namespace wal {

[[nodiscard]] uint32_t crc32c(ByteView bytes);
[[nodiscard]] uint32_t crc32c_extend(uint32_t crc, ByteView bytes);

// The portable path, whatever the CPU. Exposed so tests can compare it with the hardware path.
[[nodiscard]] uint32_t crc32c_software(ByteView bytes);
[[nodiscard]] uint32_t crc32c_software_extend(uint32_t crc, ByteView bytes);

// crc32c_combine(crc32c(a), crc32c(b), b.size()) == crc32c(a ++ b), without reading a or b:
// O(log b.size()) work. Lets a writer checksum a block's entries as they arrive and its header
// only when the block is sent, yet store the CRC of header ++ entries.
[[nodiscard]] uint32_t crc32c_combine(uint32_t crc_first, uint32_t crc_second,
                                      uint64_t second_size_bytes);

// True when this CPU has the SSE4.2 crc32 instruction (always false off x86-64).
[[nodiscard]] bool crc32c_hardware_available();
// The SSE4.2 path. Precondition: crc32c_hardware_available() (asserted).
[[nodiscard]] uint32_t crc32c_hardware_extend(uint32_t crc, ByteView bytes);

inline constexpr uint32_t crc32c_mask_delta = 0xa282ead8u;  // LevelDB's constant

[[nodiscard]] constexpr uint32_t crc32c_mask(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + crc32c_mask_delta;
}
[[nodiscard]] constexpr uint32_t crc32c_unmask(uint32_t masked) {
  const uint32_t rotated = masked - crc32c_mask_delta;
  return (rotated >> 17) | (rotated << 15);
}
static_assert(crc32c_unmask(crc32c_mask(0x12345678u)) == 0x12345678u);

}  // namespace wal
