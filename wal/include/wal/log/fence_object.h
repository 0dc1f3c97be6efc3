#pragma once
// The fence object: what a new writer puts, create-only, at the first missing block key of a
// segment it takes over. The previous writer's create-only PUT of that key then fails, and since
// it acknowledges blocks strictly in order, nothing it sent at or after that key can ever be
// acknowledged. Readers and recovery stop at a fence.
//
// Layout (little-endian, 24 bytes): magic u32 (bytes 8B 57 50 46, "WPF"), version u16,
// reserved u16, epoch u64 (the fencer's), masked CRC32C of the preceding 16 bytes u32, then
// 4 zero bytes. Its magic differs from a block's in the last byte, so the first 4 bytes of any
// object under a segment prefix say which it is.

#include <cstdint>

#include "wal/core/bytes.h"
#include "wal/core/result.h"
#include "wal/log/options.h"

namespace wal {

namespace fence_format {
inline constexpr uint32_t magic = 0x4650578Bu;
inline constexpr uint16_t version = 1;
inline constexpr size_t size_bytes = 24;
}  // namespace fence_format

[[nodiscard]] Bytes encode_fence(Epoch epoch);
// True if the bytes start with the fence magic (they may still be corrupt).
[[nodiscard]] bool looks_like_fence(ByteView bytes);
// ok: the fencer's epoch. corrupt: bad magic, version, CRC or size.
[[nodiscard]] Result<Epoch> decode_fence(ByteView bytes);

}  // namespace wal
