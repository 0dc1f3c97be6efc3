#include "wal/format/block_codec.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "wal/core/assert.h"
#include "wal/format/crc32c.h"

namespace wal {
namespace bf = block_format;

namespace {

using EntryExtent = DecodedBlock::EntryExtent;

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

Error corrupt(const std::string& message) { return make_error(Errc::corrupt, message); }

// Bytes each entry occupies besides its payload.
size_t entry_overhead_bytes(bool entry_keys) {
  return bf::entry_length_size_bytes + (entry_keys ? bf::entry_key_size_bytes : 0);
}

bool codec_known(uint8_t raw) {
  // Adding a codec adds a case here; the switch lists every codec (-Wswitch-enum).
  switch (static_cast<BlockCodec>(raw)) {
    case BlockCodec::none: return true;
  }
  return false;
}

void store_u32(Bytes& out, size_t offset, uint32_t value) {
  WAL_ASSERT_LE(offset + 4, out.size());
  for (size_t i = 0; i < 4; ++i) out[offset + i] = static_cast<std::byte>(value >> (8 * i));
}

// The CRC32C of header bytes [0, block_crc_offset) followed by the payload: everything in the
// block except the two CRC fields. `block` holds at least a version 1 header.
uint32_t compute_block_crc(ByteView block) {
  WAL_ASSERT_GE(block.size(), bf::header_size_bytes);
  const uint32_t header_part = crc32c(block.first(bf::block_crc_offset));
  return crc32c_extend(header_part, block.subspan(bf::header_size_bytes));
}

// Checks magic, header size and header CRC. `bytes` may run past the header; a buffer that ends
// inside it is corrupt (an object is whole or absent).
Status check_header_integrity(ByteView bytes) {
  if (bytes.size() < bf::fixed_prefix_size_bytes) {
    return corrupt("block of " + std::to_string(bytes.size()) +
                   " bytes ends inside its 8-byte fixed prefix");
  }
  const uint32_t magic = get_u32(&bytes[bf::magic_offset]);
  if (magic != bf::magic) return corrupt("bad block magic " + hex32(magic));
  const uint16_t version = get_u16(&bytes[bf::version_offset]);
  const size_t header_size = get_u16(&bytes[bf::header_size_offset]);
  // Version 1 fixes the header size, so a damaged size field is caught before it is trusted.
  const bool size_wrong_for_v1 = version == bf::version && header_size != bf::header_size_bytes;
  if (size_wrong_for_v1 || header_size < bf::header_size_bytes ||
      header_size > bf::header_size_bytes_max) {
    return corrupt("block header size " + std::to_string(header_size) + " is invalid for version " +
                   std::to_string(version));
  }
  if (bytes.size() < header_size) {
    return corrupt("block of " + std::to_string(bytes.size()) + " bytes ends inside its " +
                   std::to_string(header_size) + "-byte header");
  }
  const uint32_t stored = crc32c_unmask(get_u32(&bytes[header_size - 4]));
  const uint32_t computed = crc32c(bytes.first(header_size - 4));
  if (stored != computed) {
    return corrupt("block header CRC mismatch: stored " + hex32(stored) + ", computed " +
                   hex32(computed));
  }
  return {};
}

// Validates the fields of a header whose CRC holds, and returns them.
Result<BlockFrame> read_header_fields(ByteView bytes) {
  // check_header_integrity saw a whole header, and no version's header is shorter than v1's.
  WAL_ASSERT_GE(bytes.size(), bf::header_size_bytes);
  const uint16_t version = get_u16(&bytes[bf::version_offset]);
  if (version == 0) return corrupt("block format version 0 was never written");
  if (version > bf::version) {
    return make_error(Errc::unsupported, "block format version " + std::to_string(version) +
                                             " is newer than this reader (" +
                                             std::to_string(bf::version) + ")");
  }
  WAL_ASSERT_EQ(get_u16(&bytes[bf::header_size_offset]), bf::header_size_bytes);
  const uint8_t codec = static_cast<uint8_t>(bytes[bf::codec_offset]);
  if (!codec_known(codec)) {
    return make_error(Errc::unsupported,
                      "block codec " + std::to_string(codec) + " is not supported by this reader");
  }
  const uint8_t flags = static_cast<uint8_t>(bytes[bf::flags_offset]);
  if ((flags & ~bf::flags_known) != 0) {
    return make_error(Errc::unsupported, "block flags " + hex32(flags) + " are not supported");
  }
  if (get_u16(&bytes[bf::reserved_offset]) != 0) return corrupt("block reserved field is not 0");
  BlockFrame frame;
  BlockHeader& h = frame.header;
  h.codec = static_cast<BlockCodec>(codec);
  h.entry_count = get_u32(&bytes[bf::entry_count_offset]);
  h.log_id = get_u64(&bytes[bf::log_id_offset]);
  h.segment_id = get_u64(&bytes[bf::segment_id_offset]);
  h.first_entry_id = get_u64(&bytes[bf::first_entry_id_offset]);
  h.writer_epoch = get_u64(&bytes[bf::writer_epoch_offset]);
  h.created_unix_ms = static_cast<int64_t>(get_u64(&bytes[bf::created_unix_ms_offset]));
  h.entry_keys = (flags & bf::flag_entry_keys) != 0;
  frame.payload_size_bytes = get_u32(&bytes[bf::payload_size_offset]);
  frame.block_crc32c = crc32c_unmask(get_u32(&bytes[bf::block_crc_offset]));
  return frame;
}

// Limits and arithmetic that a header with a valid CRC must still satisfy.
Status check_frame_limits(const BlockFrame& frame) {
  const BlockHeader& h = frame.header;
  if (h.entry_count == 0) return corrupt("block holds no entries");
  if (h.entry_count > limits::block_entry_count_max) {
    return corrupt("block entry count " + std::to_string(h.entry_count) + " exceeds the limit");
  }
  if (frame.payload_size_bytes > bf::payload_size_bytes_max) {
    return corrupt("block payload size " + std::to_string(frame.payload_size_bytes) +
                   " exceeds the limit");
  }
  if (uint64_t{h.entry_count} * entry_overhead_bytes(h.entry_keys) > frame.payload_size_bytes) {
    return corrupt("block payload of " + std::to_string(frame.payload_size_bytes) +
                   " bytes cannot hold " + std::to_string(h.entry_count) + " entries");
  }
  if (h.first_entry_id > UINT64_MAX - h.entry_count) {
    return corrupt("block entry ids overflow 64 bits");
  }
  return {};
}

Result<BlockFrame> read_frame(ByteView bytes) {
  Status integrity = check_header_integrity(bytes);
  if (!integrity) return std::move(integrity).error();
  Result<BlockFrame> frame = read_header_fields(bytes);
  if (!frame) return frame;
  Status checked = check_frame_limits(*frame);
  if (!checked) return std::move(checked).error();
  WAL_ASSERT_GT(frame->header.entry_count, 0u);
  return frame;
}

std::string identity(const BlockHeader& h) {
  return "log " + std::to_string(h.log_id) + " segment " + std::to_string(h.segment_id);
}

Status check_expectation(const BlockFrame& frame, const BlockExpectation& expected) {
  const BlockHeader& h = frame.header;
  if (expected.log_id.value_or(h.log_id) != h.log_id ||
      expected.segment_id.value_or(h.segment_id) != h.segment_id) {
    return corrupt("block is for " + identity(h) + ", expected log " +
                   std::to_string(expected.log_id.value_or(h.log_id)) + " segment " +
                   std::to_string(expected.segment_id.value_or(h.segment_id)));
  }
  if (expected.first_entry_id.value_or(h.first_entry_id) != h.first_entry_id) {
    return corrupt("block for " + identity(h) + " starts at entry " +
                   std::to_string(h.first_entry_id) + ", expected entry " +
                   std::to_string(*expected.first_entry_id));
  }
  if (expected.entry_count.value_or(h.entry_count) != h.entry_count) {
    return corrupt("block for " + identity(h) + " at entry " + std::to_string(h.first_entry_id) +
                   " holds " + std::to_string(h.entry_count) + " entries, expected " +
                   std::to_string(*expected.entry_count));
  }
  if (expected.block_crc32c.value_or(frame.block_crc32c) != frame.block_crc32c) {
    return corrupt("block for " + identity(h) + " at entry " + std::to_string(h.first_entry_id) +
                   " has CRC " + hex32(frame.block_crc32c) + ", expected " +
                   hex32(*expected.block_crc32c) + " (a different write of the same range)");
  }
  return {};
}

// Splits a verified payload into entries. Lengths were covered by the CRC, but a buggy writer
// could still have produced inconsistent ones, so every length is checked against what is left.
Result<std::vector<EntryExtent>> parse_entries(ByteView block, const BlockFrame& frame) {
  WAL_ASSERT_EQ(block.size(), frame.size_bytes());
  WAL_ASSERT(frame.header.codec == BlockCodec::none);
  std::vector<EntryExtent> extents;
  extents.reserve(frame.header.entry_count);  // bounded by check_frame_limits
  size_t offset = bf::header_size_bytes;
  for (uint32_t index = 0; index < frame.header.entry_count; ++index) {
    const std::string where = "block entry " + std::to_string(index);
    if (block.size() - offset < bf::entry_length_size_bytes) {
      return corrupt(where + " length prefix overruns the payload");
    }
    uint32_t size = get_u32(&block[offset]);
    offset += bf::entry_length_size_bytes;
    if (frame.header.entry_keys) {
      // The stored length covers the key prefix, so it can be checked like any length first.
      if (size < bf::entry_key_size_bytes || size > block.size() - offset) {
        return corrupt(where + " claims " + std::to_string(size) +
                       " bytes, too few for its key prefix or more than remain in the payload");
      }
      const uint64_t producer_id = get_u64(&block[offset]);
      const uint64_t sequence = get_u64(&block[offset + 8]);
      if (producer_id == 0 && sequence != 0) {
        return corrupt(where + " has no producer but sequence " + std::to_string(sequence));
      }
      offset += bf::entry_key_size_bytes;
      size -= static_cast<uint32_t>(bf::entry_key_size_bytes);
    }
    if (size > limits::entry_size_bytes_max) {
      return corrupt(where + " claims " + std::to_string(size) + " bytes, over the entry limit");
    }
    if (size > block.size() - offset) {
      return corrupt(where + " claims " + std::to_string(size) + " bytes, only " +
                     std::to_string(block.size() - offset) + " remain in the payload");
    }
    extents.push_back(EntryExtent{static_cast<uint32_t>(offset), size});
    offset += size;
  }
  if (offset != block.size()) {
    return corrupt("block payload has " + std::to_string(block.size() - offset) +
                   " bytes after its last entry (entry count " +
                   std::to_string(frame.header.entry_count) + " does not match the payload)");
  }
  WAL_ASSERT_EQ(extents.size(), frame.header.entry_count);
  return extents;
}

}  // namespace

void append_block_header_fields(Bytes& out, const BlockHeader& header,
                                uint32_t payload_size_bytes) {
  const size_t start = out.size();
  put_u32(out, bf::magic);
  put_u16(out, bf::version);
  put_u16(out, static_cast<uint16_t>(bf::header_size_bytes));
  put_u8(out, static_cast<uint8_t>(header.codec));
  put_u8(out, header.entry_keys ? bf::flag_entry_keys : uint8_t{0});
  put_u16(out, 0);  // reserved
  put_u32(out, header.entry_count);
  put_u64(out, header.log_id);
  put_u64(out, header.segment_id);
  put_u64(out, header.first_entry_id);
  put_u64(out, header.writer_epoch);
  put_u64(out, static_cast<uint64_t>(header.created_unix_ms));
  put_u32(out, payload_size_bytes);
  WAL_ASSERT_EQ(out.size() - start, bf::block_crc_offset);
}

DecodedBlock::DecodedBlock(BlockFrame frame, std::vector<EntryExtent> extents)
    : frame_(frame), extents_(std::move(extents)) {
  WAL_ASSERT_EQ(extents_.size(), frame_.header.entry_count);
  WAL_ASSERT_GT(extents_.size(), 0u);
}

uint64_t DecodedBlock::entry_id(uint32_t entry_index) const {
  WAL_ASSERT_LT(entry_index, frame_.header.entry_count);
  return frame_.header.first_entry_id + entry_index;
}

std::optional<AppendKey> DecodedBlock::entry_key(uint32_t entry_index) const {
  WAL_ASSERT_LT(entry_index, extents_.size());
  if (!frame_.header.entry_keys) return std::nullopt;
  const EntryExtent& extent = extents_[entry_index];
  // parse_entries placed every extent of a keyed block right after its prefix.
  WAL_ASSERT_GE(extent.offset_bytes, bf::header_size_bytes + bf::entry_length_size_bytes +
                                         bf::entry_key_size_bytes);
  const ByteView block = bytes();
  const size_t prefix_offset = extent.offset_bytes - bf::entry_key_size_bytes;
  const AppendKey key{get_u64(&block[prefix_offset]), get_u64(&block[prefix_offset + 8])};
  if (key.producer_id == 0) return std::nullopt;
  return key;
}

ByteView DecodedBlock::entry(uint32_t entry_index) const {
  WAL_ASSERT_LT(entry_index, extents_.size());
  const EntryExtent& extent = extents_[entry_index];
  const ByteView block = bytes();
  WAL_ASSERT_LE(uint64_t{extent.offset_bytes} + extent.size_bytes, block.size());
  return block.subspan(extent.offset_bytes, extent.size_bytes);
}

uint64_t encoded_block_size_bytes(std::span<const ByteView> entries, bool entry_keys) {
  uint64_t size = bf::header_size_bytes;
  for (const ByteView entry : entries) size += entry_overhead_bytes(entry_keys) + entry.size();
  return size;
}

Bytes encode_block(const BlockHeader& header, std::span<const ByteView> entries,
                   std::span<const AppendKey> keys) {
  WAL_ASSERT_EQ(header.entry_count, entries.size());
  WAL_ASSERT_GT(header.entry_count, 0u);
  WAL_ASSERT_LE(header.entry_count, limits::block_entry_count_max);
  WAL_ASSERT_LE(header.first_entry_id, UINT64_MAX - header.entry_count);
  WAL_ASSERT(header.codec == BlockCodec::none);
  for (const ByteView entry : entries) WAL_ASSERT_LE(entry.size(), limits::entry_size_bytes_max);
  WAL_ASSERT_EQ(keys.size(), header.entry_keys ? entries.size() : 0);
  for (const AppendKey& key : keys) {
    if (key.producer_id == 0) WAL_ASSERT_EQ(key.sequence, 0u);
  }
  const uint64_t size = encoded_block_size_bytes(entries, header.entry_keys);
  WAL_ASSERT_LE(size, limits::block_size_bytes_max);

  Bytes out;
  out.reserve(size);
  append_block_header_fields(out, header, static_cast<uint32_t>(size - bf::header_size_bytes));
  put_u32(out, 0);  // block CRC, filled in below
  put_u32(out, 0);  // header CRC, filled in below
  WAL_ASSERT_EQ(out.size(), bf::header_size_bytes);
  for (size_t index = 0; index < entries.size(); ++index) {
    const ByteView entry = entries[index];
    if (header.entry_keys) {
      put_u32(out, static_cast<uint32_t>(bf::entry_key_size_bytes + entry.size()));
      put_u64(out, keys[index].producer_id);
      put_u64(out, keys[index].sequence);
    } else {
      put_u32(out, static_cast<uint32_t>(entry.size()));
    }
    put_bytes(out, entry);
  }
  WAL_ASSERT_EQ(out.size(), size);
  store_u32(out, bf::block_crc_offset, crc32c_mask(compute_block_crc(out)));
  const uint32_t header_crc = crc32c(ByteView(out).first(bf::header_crc_offset));
  store_u32(out, bf::header_crc_offset, crc32c_mask(header_crc));
  return out;
}

Result<BlockFrame> decode_block_frame(ByteView bytes) { return read_frame(bytes); }

Result<DecodedBlock> decode_block_view(ByteView bytes, const BlockExpectation& expected) {
  Result<BlockFrame> frame = read_frame(bytes);
  if (!frame) return std::move(frame).error();
  if (bytes.size() < frame->size_bytes()) {
    // An object is whole or absent, so a short one is damage, not a torn write.
    return corrupt("block is " + std::to_string(bytes.size()) + " bytes, its header says " +
                   std::to_string(frame->size_bytes()));
  }
  if (bytes.size() > frame->size_bytes()) {
    return corrupt("block is followed by " + std::to_string(bytes.size() - frame->size_bytes()) +
                   " trailing bytes");
  }
  const uint32_t computed = compute_block_crc(bytes);
  if (computed != frame->block_crc32c) {
    return corrupt("block CRC mismatch: stored " + hex32(frame->block_crc32c) + ", computed " +
                   hex32(computed));
  }
  Status matches = check_expectation(*frame, expected);
  if (!matches) return std::move(matches).error();
  Result<std::vector<EntryExtent>> extents = parse_entries(bytes, *frame);
  if (!extents) return std::move(extents).error();
  DecodedBlock block(*frame, std::move(extents).value());
  block.viewed_ = bytes;
  return block;
}

Result<DecodedBlock> decode_block(Bytes bytes, const BlockExpectation& expected) {
  Result<DecodedBlock> decoded = decode_block_view(bytes, expected);
  if (!decoded) return decoded;
  DecodedBlock block = std::move(decoded).value();
  // Entries are stored as offsets, so moving the buffer in keeps them valid.
  block.owned_ = std::move(bytes);
  block.viewed_ = {};
  block.owns_bytes_ = true;
  WAL_ASSERT_EQ(block.bytes().size(), block.frame().size_bytes());
  return block;
}

}  // namespace wal
