#pragma once
// Encoding and decoding of WAL blocks. A block holds a contiguous run of entries of one segment
// of one log; it is one object in object storage, or one record in a journal. Byte layout,
// checksums and error classification: docs/format.md; constants: wal/format/block_format.h.
//
// Entry ids are dense 64-bit numbers per log (they do not restart per segment): the entries of
// a block have ids first_entry_id .. first_entry_id + entry_count - 1. A block holds at least
// one entry; an entry may be empty (0 bytes). A block may carry entry keys (AppendKey, for
// idempotent appends): then every entry is stored behind a 16-byte key prefix, which decoders
// strip, so entry() always returns the payload exactly as appended.
//
// Decoders never assert on input and never read outside it. Every error is definite (decoding
// is pure) and is one of:
//   corrupt      the bytes cannot be trusted: bad magic, a CRC mismatch, a length that does not
//                add up, trailing bytes, or a valid block that is not the one the caller
//                expected (wrong log, segment, first entry id, entry count or CRC).
//   unsupported  a well-formed header (its CRC holds) from a newer writer: an unknown version,
//                codec or flag. Upgrade the reader; do not treat it as data loss.
// All functions are pure and may run on any thread.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "wal/core/bytes.h"
#include "wal/core/result.h"
#include "wal/format/append_key.h"
#include "wal/format/block_format.h"

namespace wal {

// The fields a writer chooses; stored in the block header.
struct BlockHeader {
  uint64_t log_id = 0;
  uint64_t segment_id = 0;
  uint64_t first_entry_id = 0;
  uint32_t entry_count = 0;
  uint64_t writer_epoch = 0;     // the fencing token of the writer that produced the block
  int64_t created_unix_ms = 0;   // informational only; never used for ordering
  BlockCodec codec = BlockCodec::none;
  // block_format::flag_entry_keys: every entry starts with its AppendKey (producer 0: none).
  bool entry_keys = false;

  bool operator==(const BlockHeader&) const = default;
};

// A verified header plus what the encoder derived: the payload size and the block CRC (the
// CRC32C of header bytes [0, 60) followed by the payload; unmasked). The manifest records it.
struct BlockFrame {
  BlockHeader header;
  uint32_t payload_size_bytes = 0;
  uint32_t block_crc32c = 0;

  [[nodiscard]] uint64_t size_bytes() const {
    return block_format::header_size_bytes + payload_size_bytes;
  }
};

// What a reader knows about the block it asked for; an unset field is not checked. A decoded
// block that differs is rejected as corrupt: a misdirected or stale object is not our data.
struct BlockExpectation {
  std::optional<uint64_t> log_id;
  std::optional<uint64_t> segment_id;
  std::optional<uint64_t> first_entry_id;
  std::optional<uint32_t> entry_count;
  std::optional<uint32_t> block_crc32c;  // unmasked, as in BlockFrame and ManifestBlock
};

// A decoded block: its frame and the position of each entry. Entries are views into the block's
// bytes, never copies. Move-only. Lifetime: from decode_block the block owns its bytes; from
// decode_block_view it views the caller's buffer, which must outlive it.
class DecodedBlock {
 public:
  DecodedBlock(DecodedBlock&&) noexcept = default;
  DecodedBlock& operator=(DecodedBlock&&) noexcept = default;
  DecodedBlock(const DecodedBlock&) = delete;
  DecodedBlock& operator=(const DecodedBlock&) = delete;

  [[nodiscard]] const BlockFrame& frame() const { return frame_; }
  [[nodiscard]] const BlockHeader& header() const { return frame_.header; }
  [[nodiscard]] uint32_t entry_count() const { return frame_.header.entry_count; }
  // Precondition for both: entry_index < entry_count() (asserted).
  [[nodiscard]] uint64_t entry_id(uint32_t entry_index) const;
  // The payload as appended, without the key prefix.
  [[nodiscard]] ByteView entry(uint32_t entry_index) const;
  // The entry's key; nullopt when the block has no entry keys or the entry was appended without.
  [[nodiscard]] std::optional<AppendKey> entry_key(uint32_t entry_index) const;
  // The whole encoded block, header included.
  [[nodiscard]] ByteView bytes() const { return owns_bytes_ ? ByteView(owned_) : viewed_; }

  // Where one entry sits; an implementation detail, public only so the decoder can build it.
  struct EntryExtent {
    uint32_t offset_bytes;  // from the start of the block
    uint32_t size_bytes;
  };

 private:
  DecodedBlock(BlockFrame frame, std::vector<EntryExtent> extents);
  friend Result<DecodedBlock> decode_block_view(ByteView, const BlockExpectation&);
  friend Result<DecodedBlock> decode_block(Bytes, const BlockExpectation&);

  BlockFrame frame_;
  std::vector<EntryExtent> extents_;
  Bytes owned_;
  ByteView viewed_;
  bool owns_bytes_ = false;
};

// The size encode_block will produce for these entries. Writers use it to cut batches at
// limits::block_size_bytes_max before encoding.
[[nodiscard]] uint64_t encoded_block_size_bytes(std::span<const ByteView> entries,
                                                bool entry_keys = false);

// Encodes one block. Preconditions (asserted; callers validate client input first):
// header.entry_count == entries.size() >= 1, entry_count <= limits::block_entry_count_max, each
// entry <= limits::entry_size_bytes_max, encoded size <= limits::block_size_bytes_max,
// first_entry_id + entry_count does not overflow, codec == none (the only codec so far).
// `keys` is empty unless header.entry_keys, and then holds one key per entry; an entry without
// a key has {0, 0} (producer 0 with another sequence is a precondition violation).
[[nodiscard]] Bytes encode_block(const BlockHeader& header, std::span<const ByteView> entries,
                                 std::span<const AppendKey> keys = {});

// Appends the header's fields up to the block CRC, bytes [0, block_format::block_crc_offset),
// with `payload_size_bytes` as the payload length. The one serialisation of those fields, shared
// by encode_block and BlockBuilder (wal/format/block_builder.h), which must produce the same bytes.
void append_block_header_fields(Bytes& out, const BlockHeader& header,
                                uint32_t payload_size_bytes);

// Verifies and decodes the header only (e.g. after a ranged read of the first
// block_format::header_size_bytes of an object); bytes after the header are ignored. ok: the
// header CRC holds and every field is valid. corrupt (including bytes shorter than the header)
// or unsupported, as above. The payload is NOT verified.
[[nodiscard]] Result<BlockFrame> decode_block_frame(ByteView bytes);

// Decodes a whole block: `bytes` must be exactly one block (an object is whole or absent, so a
// short or long buffer is corrupt). ok: both CRCs hold, the entries fill the
// payload exactly, and the block matches `expected`.
[[nodiscard]] Result<DecodedBlock> decode_block(Bytes bytes, const BlockExpectation& expected);
[[nodiscard]] Result<DecodedBlock> decode_block_view(ByteView bytes,
                                                     const BlockExpectation& expected);

}  // namespace wal
