#pragma once
// The size of the objects the MemoryBuffer writer PUTs for a stream of equal-sized entries, so
// the raw ceiling writes exactly the objects the WAL writes.
//
// Under a saturated pipeline (more than a block's worth of entries buffered whenever a PUT slot
// frees up) LogWriter::start_block (wal/src/log/log_writer.cpp) packs as many whole entries as
// fit: header + count * (u32 length + payload) <= WriterOptions::block_size_bytes_max, at least
// one entry, at most limits::block_entry_count_max. LocalObjectStore then adds its own 32-byte
// object-file header (wal/real/local_object_fs.h, "Object file format").
// With the 4 MiB default: 1 KiB entries -> 4,079 per block (4,193,280 B); 64 KiB -> 63 per block
// (4,129,088 B); 1 MiB -> 3 per block (3,145,808 B): a 1 MiB entry stream never fills 4 MiB.

#include <algorithm>
#include <cstdint>

#include "wal/core/assert.h"
#include "wal/format/block_format.h"

namespace wal::bench {

// The object-file header LocalObjectStore writes before each body (magic, size, two hashes).
// Private to wal/real/ (local_object_fs.h: header_bytes), so repeated here.
inline constexpr uint64_t local_object_header_bytes = 32;

struct BlockShape {
  uint64_t entries_per_block = 0;
  uint64_t block_bytes = 0;        // the encoded block: the body of one PUT
  uint64_t object_file_bytes = 0;  // what LocalObjectStore writes to disk for that PUT
};

[[nodiscard]] inline BlockShape saturated_block_shape(uint64_t entry_bytes,
                                                      uint64_t block_size_bytes_max) {
  const uint64_t header_bytes = block_format::header_size_bytes;
  const uint64_t framed_entry_bytes = block_format::entry_length_size_bytes + entry_bytes;
  WAL_ASSERT_LE(entry_bytes, uint64_t{limits::entry_size_bytes_max});
  WAL_ASSERT_GT(block_size_bytes_max, header_bytes);
  uint64_t count = (block_size_bytes_max - header_bytes) / framed_entry_bytes;
  count = std::clamp<uint64_t>(count, 1, limits::block_entry_count_max);  // one always goes
  BlockShape shape;
  shape.entries_per_block = count;
  shape.block_bytes = header_bytes + count * framed_entry_bytes;
  shape.object_file_bytes = local_object_header_bytes + shape.block_bytes;
  if (count > 1) WAL_ASSERT_LE(shape.block_bytes, block_size_bytes_max);
  return shape;
}

}  // namespace wal::bench
