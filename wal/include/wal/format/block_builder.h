#pragma once
// BlockBuilder: encodes one block an entry at a time, as the entries are appended, so a writer
// keeps no buffer per entry and has the block ready to PUT the moment it is cut. The bytes are
// exactly encode_block()'s for the same header, entries and keys (tests/unit/block_builder_test.cpp
// compares them); the format is docs/format.md, its constants wal/format/block_format.h.
//
// The header is written last, by finish(), because what it holds is decided when the block is
// cut (the segment, which a roll may change meanwhile; the creation time; the entry count). The
// CRC of the entries is computed as each one is added, while its bytes are still in cache, and
// finish() combines it with the header's (crc32c_combine) without reading the entries again.
//
// A block carries entry keys as soon as one entry has one (block_format::flag_entry_keys). The
// entries added before that one are then re-encoded with an empty key prefix: at most once per
// block, and only for logs that mix keyed and unkeyed appends.
//
// Pure computation, no I/O; move-only (it owns the block's buffer).

#include <cstdint>
#include <optional>

#include "wal/core/bytes.h"
#include "wal/format/append_key.h"
#include "wal/format/block_codec.h"

namespace wal {

class BlockBuilder {
 public:
  // Reserves `capacity_bytes` (at least the header), so entries up to that size are appended
  // without moving the bytes already encoded. `recycled`: a spent block's buffer to reuse (its
  // contents are discarded); a fresh allocation of megabytes costs page faults, and with glibc
  // a malloc_consolidate of every small free chunk, each time (bench/README.md).
  explicit BlockBuilder(uint64_t capacity_bytes, Bytes recycled = {});
  BlockBuilder(BlockBuilder&&) noexcept = default;
  BlockBuilder& operator=(BlockBuilder&&) noexcept = default;
  BlockBuilder(const BlockBuilder&) = delete;
  BlockBuilder& operator=(const BlockBuilder&) = delete;

  [[nodiscard]] uint32_t entry_count() const { return entry_count_; }
  [[nodiscard]] bool entry_keys() const { return entry_keys_; }
  // The size of the block so far, header included.
  [[nodiscard]] uint64_t size_bytes() const { return bytes_.size(); }
  // The size the block would have with one more entry of `payload_size_bytes`, with a key or
  // without (a first key adds a prefix to every earlier entry too).
  [[nodiscard]] uint64_t size_bytes_with(uint64_t payload_size_bytes, bool keyed) const;

  // Appends one entry. Preconditions (asserted; the writer validates client input first):
  // payload.size() <= limits::entry_size_bytes_max, entry_count() < limits::block_entry_count_max,
  // key->producer_id != 0, and the grown block within limits::block_size_bytes_max.
  void add(ByteView payload, const std::optional<AppendKey>& key);

  // Writes `header` and both CRCs and returns the block. Preconditions (asserted): at least one
  // entry; header.entry_count == entry_count(); header.entry_keys == entry_keys();
  // header.codec == none; the ids do not overflow. The builder is spent afterwards.
  [[nodiscard]] Bytes finish(const BlockHeader& header) &&;

 private:
  void add_key_prefixes();  // the first keyed entry: give every earlier entry an empty key

  Bytes bytes_;                 // a header-sized placeholder, then the entries as encoded
  uint32_t entries_crc32c_ = 0;  // CRC32C of bytes_ after the header (unmasked)
  uint32_t entry_count_ = 0;
  bool entry_keys_ = false;
};

}  // namespace wal
