#include "wal/log/fence_object.h"

#include "wal/format/crc32c.h"

namespace wal {

Bytes encode_fence(Epoch epoch) {
  Bytes out;
  out.reserve(fence_format::size_bytes);
  put_u32(out, fence_format::magic);
  put_u16(out, fence_format::version);
  put_u16(out, 0);
  put_u64(out, epoch);
  put_u32(out, crc32c_mask(crc32c(out)));
  put_u32(out, 0);
  WAL_ASSERT_EQ(out.size(), fence_format::size_bytes);
  return out;
}

bool looks_like_fence(ByteView bytes) {
  return bytes.size() >= 4 && get_u32(bytes.data()) == fence_format::magic;
}

Result<Epoch> decode_fence(ByteView bytes) {
  if (bytes.size() != fence_format::size_bytes) {
    return make_error(Errc::corrupt, "fence object has " + std::to_string(bytes.size()) +
                                         " bytes, expected " +
                                         std::to_string(fence_format::size_bytes));
  }
  ByteReader in(bytes);
  const uint32_t magic = in.u32();
  const uint16_t version = in.u16();
  (void)in.u16();
  const uint64_t epoch = in.u64();
  const uint32_t stored_crc = in.u32();
  WAL_ASSERT(in.ok());
  if (magic != fence_format::magic) return make_error(Errc::corrupt, "fence object: bad magic");
  if (version != fence_format::version) {
    return make_error(Errc::corrupt, "fence object: unknown version " + std::to_string(version));
  }
  if (crc32c_unmask(stored_crc) != crc32c(bytes.first(16))) {
    return make_error(Errc::corrupt, "fence object: CRC mismatch");
  }
  return epoch;
}

}  // namespace wal
