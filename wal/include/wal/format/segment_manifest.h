#pragma once
// The segment manifest: an index of the blocks of one segment. It is written (a) as the footer
// when a segment is sealed and (b) periodically as a checkpoint of an open segment, so recovery
// reads one object instead of listing and reading every block. Byte layout: docs/format.md;
// constants: wal/format/block_format.h (namespace manifest_format).
//
// A manifest is valid when its blocks are dense and contiguous: block i has block_index i, at
// least one entry, and starts where block i-1 ended; the first block starts at the segment's
// first_entry_id and the counts add up to entry_count. An open segment's checkpoint may list no
// blocks; so may a sealed segment that was fenced before its first block was written.
//
// A manifest may also carry the writer's producer table (idempotent appends, LogWriter): per
// producer, its last sequence and the entry holding it, as of the manifest's last block. It
// covers the whole log so far (the table carries over from segment to segment), so recovery
// starts from one manifest. Records are sorted by producer_id (never 0), their entry ids are
// distinct and below next_entry_id().
//
// Decoding errors are definite and one of: corrupt (bad magic, CRC, size or structure, or a
// manifest for another log or segment than expected), unsupported (a valid manifest from a
// newer writer: unknown version or flag). All functions are pure and may run on any thread.

#include <cstdint>
#include <optional>
#include <vector>

#include "wal/core/bytes.h"
#include "wal/core/result.h"
#include "wal/format/block_codec.h"

namespace wal {

struct ManifestBlock {
  uint32_t block_index = 0;     // dense: 0 .. block_count - 1
  uint64_t first_entry_id = 0;
  uint32_t entry_count = 0;
  uint32_t size_bytes = 0;      // the whole encoded block
  uint32_t block_crc32c = 0;    // the block's BlockFrame::block_crc32c (unmasked)

  bool operator==(const ManifestBlock&) const = default;
};

struct ManifestProducer {
  uint64_t producer_id = 0;
  uint64_t sequence = 0;  // the producer's last sequence in the log
  uint64_t entry_id = 0;  // the entry holding it

  bool operator==(const ManifestProducer&) const = default;
};

struct SegmentManifest {
  uint64_t log_id = 0;
  uint64_t segment_id = 0;
  uint64_t first_entry_id = 0;  // the segment's first entry id, even when it has no blocks
  uint64_t entry_count = 0;     // the entries in `blocks`; the last id is first + count - 1
  uint64_t writer_epoch = 0;    // the epoch of the writer that wrote this manifest
  int64_t updated_unix_ms = 0;  // when it was written; informational (checkpoint staleness)
  bool sealed = false;          // true: the footer of a sealed segment; no block will follow
  std::vector<ManifestBlock> blocks;
  std::vector<ManifestProducer> producers;  // sorted by producer_id; empty: no keyed entries

  // The id the next entry of this segment would get.
  [[nodiscard]] uint64_t next_entry_id() const { return first_entry_id + entry_count; }
  bool operator==(const SegmentManifest&) const = default;
};

// What a reader knows about the manifest it asked for; an unset field is not checked.
struct ManifestExpectation {
  std::optional<uint64_t> log_id;
  std::optional<uint64_t> segment_id;
};

// ok: the block list is dense and contiguous and the producer table valid, as described above,
// and both are within their limits.
// corrupt: describes the first inconsistency.
[[nodiscard]] Status validate_segment_manifest(const SegmentManifest& manifest);

// Encodes a manifest. Precondition: validate_segment_manifest(manifest) is ok (asserted).
[[nodiscard]] Bytes encode_segment_manifest(const SegmentManifest& manifest);

// Decodes exactly one manifest (the whole object; a short or long buffer is corrupt). ok: the
// CRC holds, the manifest is valid and matches `expected`.
[[nodiscard]] Result<SegmentManifest> decode_segment_manifest(
    ByteView bytes, const ManifestExpectation& expected);

// The manifest record describing a decoded block that is about to be block `block_index`.
[[nodiscard]] ManifestBlock manifest_block_for(uint32_t block_index, const BlockFrame& frame);

// What a reader should expect of block `block_index` of this manifest's segment.
// Precondition: block_index < manifest.blocks.size() (asserted).
[[nodiscard]] BlockExpectation block_expectation(const SegmentManifest& manifest,
                                                 uint32_t block_index);

// The index of the block holding `entry_id`, or nullopt when the manifest's blocks do not
// cover it. Precondition: the manifest is valid (blocks sorted and contiguous).
[[nodiscard]] std::optional<uint32_t> block_index_for_entry(const SegmentManifest& manifest,
                                                            uint64_t entry_id);

}  // namespace wal
