#pragma once
// On-storage layout constants of WAL blocks and segment manifests. Only constants and
// static_asserts live here; docs/format.md is the prose spec with byte tables and an example.
// All integers are little-endian. Stored CRCs are CRC32C, masked (wal/format/crc32c.h).

#include <cstddef>
#include <cstdint>

#include "wal/env/object_store.h"

namespace wal {

// The codec byte of a block header: how the payload is stored. Values are forever; a reader
// rejects a value it does not know with Errc::unsupported. Compression codecs take new values.
enum class BlockCodec : uint8_t {
  none = 0,  // the payload is the entry run itself
};

namespace limits {
// A block is one object in object storage, so it may be as large as an object.
inline constexpr uint64_t block_size_bytes_max = object_size_bytes_max;
// One entry must fit in a block with room to spare, so a writer never has to split an entry.
// 16 MiB is 16x Kafka's default message.max.bytes and keeps one append's memory bounded.
inline constexpr uint32_t entry_size_bytes_max = 16u << 20;
// Bounds the per-block index a reader builds (8 bytes per entry: 8 MiB at most). A typical
// block of a few MiB of ~100-byte entries holds tens of thousands.
inline constexpr uint32_t block_entry_count_max = 1u << 20;
// Bounds one manifest object to about 1.5 MiB, read in one GET. Segments seal at a few hundred
// blocks of a few MiB each, so this is far above what a writer produces.
inline constexpr uint32_t manifest_block_count_max = 1u << 16;
// Bounds the producer table a manifest carries (24 bytes each: 1.5 MiB at most, read with the
// manifest in one GET). WriterOptions::producers_max may not exceed it.
inline constexpr uint32_t manifest_producer_count_max = 1u << 16;
}  // namespace limits

namespace block_format {
// 0x8B is not ASCII and never starts a UTF-8 sequence, so text (an S3 XML error body, JSON, a
// log line) is never taken for a block; it is neither 0x00 nor 0xFF, so zero-filled or erased
// storage never matches; "WPB" (WoodPecker Block) reads in a hex dump. Stored as bytes
// 8B 57 50 42, i.e. this u32 written little-endian.
inline constexpr uint32_t magic = 0x4250578Bu;
inline constexpr uint16_t version = 1;

// Header fields, as byte offsets. The first 8 bytes (magic, version, header size) keep their
// place in every version, and the header CRC is always the last 4 bytes of the header, so any
// reader can verify a header before it trusts the version or any length.
inline constexpr size_t magic_offset = 0;               // u32
inline constexpr size_t version_offset = 4;             // u16
inline constexpr size_t header_size_offset = 6;         // u16
inline constexpr size_t codec_offset = 8;               // u8
inline constexpr size_t flags_offset = 9;               // u8, see flag_entry_keys
inline constexpr size_t reserved_offset = 10;           // u16, zero
inline constexpr size_t entry_count_offset = 12;        // u32
inline constexpr size_t log_id_offset = 16;             // u64
inline constexpr size_t segment_id_offset = 24;         // u64
inline constexpr size_t first_entry_id_offset = 32;     // u64
inline constexpr size_t writer_epoch_offset = 40;       // u64
inline constexpr size_t created_unix_ms_offset = 48;    // i64
inline constexpr size_t payload_size_offset = 56;       // u32
inline constexpr size_t block_crc_offset = 60;          // u32: header[0, 60) ++ payload
inline constexpr size_t header_crc_offset = 64;         // u32: header[0, 64)
inline constexpr size_t header_size_bytes = 68;
inline constexpr size_t fixed_prefix_size_bytes = 8;
// A later version may grow the header; this bounds what a reader accepts before the CRC check.
inline constexpr size_t header_size_bytes_max = 1024;
// Every entry of the block starts with a key prefix: u64 producer_id, u64 sequence (an
// AppendKey; producer 0 = the entry has no key). The entry length covers the prefix; readers
// strip it, so payloads read back exactly as appended. Blocks without keyed entries never set
// it, so they stay byte-identical to what earlier writers produced.
inline constexpr uint8_t flag_entry_keys = 1u << 0;
inline constexpr uint8_t flags_known = flag_entry_keys;
// Each entry in the payload is a u32 length followed by that many bytes.
inline constexpr size_t entry_length_size_bytes = 4;
inline constexpr size_t entry_key_size_bytes = 16;
inline constexpr uint64_t payload_size_bytes_max = limits::block_size_bytes_max - header_size_bytes;

static_assert(header_crc_offset + 4 == header_size_bytes);
static_assert(block_crc_offset + 4 == header_crc_offset);
static_assert(payload_size_offset + 4 == block_crc_offset);
static_assert(header_size_offset + 2 == fixed_prefix_size_bytes);
static_assert(header_size_bytes <= header_size_bytes_max);
static_assert(header_size_bytes_max <= UINT16_MAX);
static_assert(payload_size_bytes_max <= UINT32_MAX);  // payload size is stored as a u32
}  // namespace block_format

namespace manifest_format {
// Same reasoning as the block magic; the last byte 'M' (WoodPecker Manifest) tells them apart.
inline constexpr uint32_t magic = 0x4D50578Bu;
inline constexpr uint16_t version = 1;

inline constexpr size_t magic_offset = 0;            // u32
inline constexpr size_t version_offset = 4;          // u16
inline constexpr size_t flags_offset = 6;            // u16
inline constexpr size_t log_id_offset = 8;           // u64
inline constexpr size_t segment_id_offset = 16;      // u64
inline constexpr size_t first_entry_id_offset = 24;  // u64
inline constexpr size_t entry_count_offset = 32;     // u64
inline constexpr size_t writer_epoch_offset = 40;    // u64
inline constexpr size_t updated_unix_ms_offset = 48; // i64
inline constexpr size_t block_count_offset = 56;     // u32
inline constexpr size_t reserved_offset = 60;        // u32, zero without flag_producers
inline constexpr size_t producer_count_offset = reserved_offset;  // u32, with flag_producers
inline constexpr size_t header_size_bytes = 64;

// One record per block, in block order, right after the header.
inline constexpr size_t record_block_index_offset = 0;     // u32
inline constexpr size_t record_entry_count_offset = 4;     // u32
inline constexpr size_t record_first_entry_id_offset = 8;  // u64
inline constexpr size_t record_size_offset = 16;           // u32: the whole block, in bytes
inline constexpr size_t record_block_crc_offset = 20;      // u32: the block's block CRC, masked
inline constexpr size_t record_size_bytes = 24;

// With flag_producers: after the block records, one record per producer, by ascending
// producer_id; their count is stored where version 1 had its reserved u32 (offset 60).
inline constexpr size_t producer_id_offset = 0;        // u64, never 0
inline constexpr size_t producer_sequence_offset = 8;  // u64: the producer's last sequence
inline constexpr size_t producer_entry_id_offset = 16; // u64: the entry holding it
inline constexpr size_t producer_record_size_bytes = 24;

// The manifest ends with a masked CRC32C of every byte before it, in every version.
inline constexpr size_t trailer_size_bytes = 4;
inline constexpr uint16_t flag_sealed = 1u << 0;
// The manifest carries the writer's producer table (idempotent appends) as of its last block.
inline constexpr uint16_t flag_producers = 1u << 1;
inline constexpr uint16_t flags_known = flag_sealed | flag_producers;

static_assert(reserved_offset + 4 == header_size_bytes);
static_assert(record_block_crc_offset + 4 == record_size_bytes);
static_assert(producer_entry_id_offset + 8 == producer_record_size_bytes);
static_assert(header_size_bytes +
                  uint64_t{limits::manifest_block_count_max} * record_size_bytes +
                  uint64_t{limits::manifest_producer_count_max} * producer_record_size_bytes +
                  trailer_size_bytes <=
              limits::object_size_bytes_max);
}  // namespace manifest_format

namespace limits {
static_assert(block_size_bytes_max == object_size_bytes_max);
// A block of one maximal entry fits with room for more.
static_assert(block_format::header_size_bytes + block_format::entry_length_size_bytes +
                  entry_size_bytes_max <
              block_size_bytes_max);
// The manifest stores a block's size and entry count as u32.
static_assert(block_size_bytes_max <= UINT32_MAX);
// A block of the maximal number of empty entries still fits, with or without keys.
static_assert(uint64_t{block_entry_count_max} * (block_format::entry_length_size_bytes +
                                                 block_format::entry_key_size_bytes) <=
              block_format::payload_size_bytes_max);
// A keyed maximal entry fits as well, and its stored length still fits the u32 length field.
static_assert(block_format::header_size_bytes + block_format::entry_length_size_bytes +
                  block_format::entry_key_size_bytes + entry_size_bytes_max <
              block_size_bytes_max);
}  // namespace limits

}  // namespace wal
