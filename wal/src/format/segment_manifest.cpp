#include "wal/format/segment_manifest.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>

#include "wal/core/assert.h"
#include "wal/format/crc32c.h"

namespace wal {
namespace mf = manifest_format;

namespace {

Error corrupt(const std::string& message) { return make_error(Errc::corrupt, message); }

std::string hex32(uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "0x%08x", value);
  return text;
}

// Smallest encoded block holding `entry_count` entries: every entry empty.
uint64_t block_size_bytes_min(uint32_t entry_count) {
  return block_format::header_size_bytes +
         uint64_t{entry_count} * block_format::entry_length_size_bytes;
}

Status validate_block(const ManifestBlock& block, uint32_t position, uint64_t entry_id_next) {
  const std::string where = "manifest block " + std::to_string(position);
  if (block.block_index != position) {
    return corrupt(where + " has block index " + std::to_string(block.block_index));
  }
  if (block.entry_count == 0 || block.entry_count > limits::block_entry_count_max) {
    return corrupt(where + " has entry count " + std::to_string(block.entry_count));
  }
  if (block.size_bytes < block_size_bytes_min(block.entry_count) ||
      block.size_bytes > limits::block_size_bytes_max) {
    return corrupt(where + " has size " + std::to_string(block.size_bytes) + " bytes for " +
                   std::to_string(block.entry_count) + " entries");
  }
  if (block.first_entry_id != entry_id_next) {
    return corrupt(where + " starts at entry " + std::to_string(block.first_entry_id) +
                   ", the previous block ended before entry " + std::to_string(entry_id_next));
  }
  if (block.first_entry_id > UINT64_MAX - block.entry_count) {
    return corrupt(where + " entry ids overflow 64 bits");
  }
  return {};
}

size_t encoded_size_bytes(size_t block_count, size_t producer_count) {
  return mf::header_size_bytes + block_count * mf::record_size_bytes +
         producer_count * mf::producer_record_size_bytes + mf::trailer_size_bytes;
}

Status validate_producers(const SegmentManifest& manifest) {
  if (manifest.producers.size() > limits::manifest_producer_count_max) {
    return corrupt("manifest lists " + std::to_string(manifest.producers.size()) + " producers");
  }
  std::vector<uint64_t> entry_ids;
  entry_ids.reserve(manifest.producers.size());
  for (size_t position = 0; position < manifest.producers.size(); ++position) {
    const ManifestProducer& producer = manifest.producers[position];
    const std::string where = "manifest producer " + std::to_string(position);
    if (producer.producer_id == 0) return corrupt(where + " has producer id 0");
    if (position > 0 && producer.producer_id <= manifest.producers[position - 1].producer_id) {
      return corrupt(where + " is out of order (producer " +
                     std::to_string(producer.producer_id) + ")");
    }
    if (producer.entry_id >= manifest.next_entry_id()) {
      return corrupt(where + " names entry " + std::to_string(producer.entry_id) +
                     ", past the manifest's end " + std::to_string(manifest.next_entry_id()));
    }
    entry_ids.push_back(producer.entry_id);
  }
  std::sort(entry_ids.begin(), entry_ids.end());
  if (std::adjacent_find(entry_ids.begin(), entry_ids.end()) != entry_ids.end()) {
    return corrupt("manifest names one entry for two producers");
  }
  return {};
}

// Reads the header fields of a manifest whose size and CRC were already checked.
Result<SegmentManifest> read_header(ByteView bytes) {
  WAL_ASSERT_GE(bytes.size(), mf::header_size_bytes + mf::trailer_size_bytes);
  const uint16_t version = get_u16(&bytes[mf::version_offset]);
  if (version == 0) return corrupt("manifest format version 0 was never written");
  if (version > mf::version) {
    return make_error(Errc::unsupported, "manifest format version " + std::to_string(version) +
                                             " is newer than this reader (" +
                                             std::to_string(mf::version) + ")");
  }
  const uint16_t flags = get_u16(&bytes[mf::flags_offset]);
  if ((flags & ~mf::flags_known) != 0) {
    return make_error(Errc::unsupported, "manifest flags " + hex32(flags) + " are not supported");
  }
  const bool has_producers = (flags & mf::flag_producers) != 0;
  if (!has_producers && get_u32(&bytes[mf::reserved_offset]) != 0) {
    return corrupt("manifest reserved field is not 0");
  }
  if (has_producers && get_u32(&bytes[mf::producer_count_offset]) == 0) {
    return corrupt("manifest flags a producer table but lists no producer");
  }
  SegmentManifest manifest;
  manifest.log_id = get_u64(&bytes[mf::log_id_offset]);
  manifest.segment_id = get_u64(&bytes[mf::segment_id_offset]);
  manifest.first_entry_id = get_u64(&bytes[mf::first_entry_id_offset]);
  manifest.entry_count = get_u64(&bytes[mf::entry_count_offset]);
  manifest.writer_epoch = get_u64(&bytes[mf::writer_epoch_offset]);
  manifest.updated_unix_ms = static_cast<int64_t>(get_u64(&bytes[mf::updated_unix_ms_offset]));
  manifest.sealed = (flags & mf::flag_sealed) != 0;
  WAL_ASSERT(manifest.blocks.empty());
  return manifest;
}

ManifestBlock read_record(ByteView record) {
  WAL_ASSERT_EQ(record.size(), mf::record_size_bytes);
  ManifestBlock block;
  block.block_index = get_u32(&record[mf::record_block_index_offset]);
  block.entry_count = get_u32(&record[mf::record_entry_count_offset]);
  block.first_entry_id = get_u64(&record[mf::record_first_entry_id_offset]);
  block.size_bytes = get_u32(&record[mf::record_size_offset]);
  block.block_crc32c = crc32c_unmask(get_u32(&record[mf::record_block_crc_offset]));
  return block;
}

// Magic, minimum size and CRC: what must hold before any other field is believed.
Status check_integrity(ByteView bytes) {
  if (bytes.size() < mf::header_size_bytes + mf::trailer_size_bytes) {
    return corrupt("manifest of " + std::to_string(bytes.size()) + " bytes is shorter than " +
                   std::to_string(mf::header_size_bytes + mf::trailer_size_bytes));
  }
  const uint32_t magic = get_u32(&bytes[mf::magic_offset]);
  if (magic != mf::magic) return corrupt("bad manifest magic " + hex32(magic));
  const size_t covered = bytes.size() - mf::trailer_size_bytes;
  const uint32_t stored = crc32c_unmask(get_u32(&bytes[covered]));
  const uint32_t computed = crc32c(bytes.first(covered));
  if (stored != computed) {
    return corrupt("manifest CRC mismatch: stored " + hex32(stored) + ", computed " +
                   hex32(computed));
  }
  return {};
}

}  // namespace

Status validate_segment_manifest(const SegmentManifest& manifest) {
  if (manifest.blocks.size() > limits::manifest_block_count_max) {
    return corrupt("manifest lists " + std::to_string(manifest.blocks.size()) + " blocks");
  }
  uint64_t entry_id_next = manifest.first_entry_id;
  for (size_t position = 0; position < manifest.blocks.size(); ++position) {
    const ManifestBlock& block = manifest.blocks[position];
    Status valid = validate_block(block, static_cast<uint32_t>(position), entry_id_next);
    if (!valid) return valid;
    entry_id_next = block.first_entry_id + block.entry_count;
  }
  WAL_ASSERT_GE(entry_id_next, manifest.first_entry_id);
  if (entry_id_next - manifest.first_entry_id != manifest.entry_count) {
    return corrupt("manifest entry count " + std::to_string(manifest.entry_count) +
                   " differs from its blocks' total " +
                   std::to_string(entry_id_next - manifest.first_entry_id));
  }
  return validate_producers(manifest);
}

Bytes encode_segment_manifest(const SegmentManifest& manifest) {
  WAL_ASSERT(validate_segment_manifest(manifest).ok());
  const size_t size = encoded_size_bytes(manifest.blocks.size(), manifest.producers.size());
  const bool has_producers = !manifest.producers.empty();
  Bytes out;
  out.reserve(size);
  put_u32(out, mf::magic);
  put_u16(out, mf::version);
  put_u16(out, static_cast<uint16_t>((manifest.sealed ? mf::flag_sealed : 0) |
                                     (has_producers ? mf::flag_producers : 0)));
  put_u64(out, manifest.log_id);
  put_u64(out, manifest.segment_id);
  put_u64(out, manifest.first_entry_id);
  put_u64(out, manifest.entry_count);
  put_u64(out, manifest.writer_epoch);
  put_u64(out, static_cast<uint64_t>(manifest.updated_unix_ms));
  put_u32(out, static_cast<uint32_t>(manifest.blocks.size()));
  put_u32(out, static_cast<uint32_t>(manifest.producers.size()));  // 0: reserved, as in v1
  WAL_ASSERT_EQ(out.size(), mf::header_size_bytes);
  for (const ManifestBlock& block : manifest.blocks) {
    put_u32(out, block.block_index);
    put_u32(out, block.entry_count);
    put_u64(out, block.first_entry_id);
    put_u32(out, block.size_bytes);
    put_u32(out, crc32c_mask(block.block_crc32c));
  }
  for (const ManifestProducer& producer : manifest.producers) {
    put_u64(out, producer.producer_id);
    put_u64(out, producer.sequence);
    put_u64(out, producer.entry_id);
  }
  put_u32(out, crc32c_mask(crc32c(out)));
  WAL_ASSERT_EQ(out.size(), size);
  return out;
}

Result<SegmentManifest> decode_segment_manifest(ByteView bytes,
                                                const ManifestExpectation& expected) {
  Status integrity = check_integrity(bytes);
  if (!integrity) return std::move(integrity).error();
  Result<SegmentManifest> manifest = read_header(bytes);
  if (!manifest) return manifest;
  const uint32_t block_count = get_u32(&bytes[mf::block_count_offset]);
  if (block_count > limits::manifest_block_count_max) {
    return corrupt("manifest lists " + std::to_string(block_count) + " blocks");
  }
  // read_header checked that a producer count is only present with its flag.
  const uint32_t producer_count = get_u32(&bytes[mf::producer_count_offset]);
  if (producer_count > limits::manifest_producer_count_max) {
    return corrupt("manifest lists " + std::to_string(producer_count) + " producers");
  }
  const size_t size = encoded_size_bytes(block_count, producer_count);
  if (bytes.size() != size) {
    return corrupt("manifest of " + std::to_string(block_count) + " blocks and " +
                   std::to_string(producer_count) + " producers should be " +
                   std::to_string(size) + " bytes, is " + std::to_string(bytes.size()));
  }
  manifest->blocks.reserve(block_count);
  for (uint32_t index = 0; index < block_count; ++index) {
    const size_t offset = mf::header_size_bytes + size_t{index} * mf::record_size_bytes;
    manifest->blocks.push_back(read_record(bytes.subspan(offset, mf::record_size_bytes)));
  }
  manifest->producers.reserve(producer_count);
  const size_t producers_offset =
      mf::header_size_bytes + size_t{block_count} * mf::record_size_bytes;
  for (uint32_t index = 0; index < producer_count; ++index) {
    const std::byte* record =
        &bytes[producers_offset + size_t{index} * mf::producer_record_size_bytes];
    manifest->producers.push_back(
        ManifestProducer{get_u64(record + mf::producer_id_offset),
                         get_u64(record + mf::producer_sequence_offset),
                         get_u64(record + mf::producer_entry_id_offset)});
  }
  Status valid = validate_segment_manifest(*manifest);
  if (!valid) return std::move(valid).error();
  const uint64_t log_id = expected.log_id.value_or(manifest->log_id);
  const uint64_t segment_id = expected.segment_id.value_or(manifest->segment_id);
  if (log_id != manifest->log_id || segment_id != manifest->segment_id) {
    return corrupt("manifest is for log " + std::to_string(manifest->log_id) + " segment " +
                   std::to_string(manifest->segment_id) + ", expected log " +
                   std::to_string(log_id) + " segment " + std::to_string(segment_id));
  }
  WAL_ASSERT_EQ(manifest->blocks.size(), block_count);
  return manifest;
}

ManifestBlock manifest_block_for(uint32_t block_index, const BlockFrame& frame) {
  WAL_ASSERT_GT(frame.header.entry_count, 0u);
  WAL_ASSERT_LE(frame.size_bytes(), limits::block_size_bytes_max);
  return ManifestBlock{.block_index = block_index,
                       .first_entry_id = frame.header.first_entry_id,
                       .entry_count = frame.header.entry_count,
                       .size_bytes = static_cast<uint32_t>(frame.size_bytes()),
                       .block_crc32c = frame.block_crc32c};
}

BlockExpectation block_expectation(const SegmentManifest& manifest, uint32_t block_index) {
  WAL_ASSERT_LT(block_index, manifest.blocks.size());
  const ManifestBlock& block = manifest.blocks[block_index];
  WAL_ASSERT_EQ(block.block_index, block_index);
  return BlockExpectation{.log_id = manifest.log_id,
                          .segment_id = manifest.segment_id,
                          .first_entry_id = block.first_entry_id,
                          .entry_count = block.entry_count,
                          .block_crc32c = block.block_crc32c};
}

std::optional<uint32_t> block_index_for_entry(const SegmentManifest& manifest,
                                              uint64_t entry_id) {
  if (entry_id < manifest.first_entry_id || entry_id >= manifest.next_entry_id()) {
    return std::nullopt;
  }
  // The last block whose first entry id is <= entry_id; contiguity makes it the one holding it.
  const auto after = std::upper_bound(
      manifest.blocks.begin(), manifest.blocks.end(), entry_id,
      [](uint64_t id, const ManifestBlock& block) { return id < block.first_entry_id; });
  WAL_ASSERT(after != manifest.blocks.begin());
  const ManifestBlock& block = *(after - 1);
  WAL_ASSERT_LT(entry_id - block.first_entry_id, block.entry_count);
  return block.block_index;
}

}  // namespace wal
