#include "wal/format/block_builder.h"

#include <algorithm>
#include <array>

#include "wal/core/assert.h"
#include "wal/format/crc32c.h"

namespace wal {
namespace bf = block_format;

namespace {

size_t entry_overhead_bytes(bool keyed) {
  return bf::entry_length_size_bytes + (keyed ? bf::entry_key_size_bytes : 0);
}

// Appends the little-endian bytes of `value` without a push_back per byte.
template <typename T>
void append_le(Bytes& out, T value) {
  std::array<std::byte, sizeof(T)> le{};
  for (size_t i = 0; i < sizeof(T); ++i) le[i] = static_cast<std::byte>(value >> (8 * i));
  out.insert(out.end(), le.begin(), le.end());
}

}  // namespace

BlockBuilder::BlockBuilder(uint64_t capacity_bytes, Bytes recycled) : bytes_(std::move(recycled)) {
  WAL_ASSERT_LE(capacity_bytes, limits::block_size_bytes_max);
  bytes_.clear();
  bytes_.reserve(std::max<uint64_t>(capacity_bytes, bf::header_size_bytes));
  bytes_.resize(bf::header_size_bytes);  // the placeholder finish() overwrites
  WAL_ASSERT_EQ(size_bytes(), bf::header_size_bytes);
}

uint64_t BlockBuilder::size_bytes_with(uint64_t payload_size_bytes, bool keyed) const {
  const bool keys_after = entry_keys_ || keyed;
  uint64_t size = bytes_.size() + entry_overhead_bytes(keys_after) + payload_size_bytes;
  if (keys_after && !entry_keys_) size += uint64_t{entry_count_} * bf::entry_key_size_bytes;
  return size;
}

void BlockBuilder::add(ByteView payload, const std::optional<AppendKey>& key) {
  WAL_ASSERT_GE(bytes_.size(), bf::header_size_bytes);  // not spent by finish()
  WAL_ASSERT_LE(payload.size(), limits::entry_size_bytes_max);
  WAL_ASSERT_LT(entry_count_, limits::block_entry_count_max);
  if (key) WAL_ASSERT_NE(key->producer_id, 0u);
  const uint64_t size_after = size_bytes_with(payload.size(), key.has_value());
  WAL_ASSERT_LE(size_after, limits::block_size_bytes_max);
  if (key && !entry_keys_) add_key_prefixes();
  const size_t entry_offset = bytes_.size();
  if (entry_keys_) {
    const AppendKey stored = key.value_or(AppendKey{});
    append_le(bytes_, static_cast<uint32_t>(bf::entry_key_size_bytes + payload.size()));
    append_le(bytes_, stored.producer_id);
    append_le(bytes_, stored.sequence);
  } else {
    append_le(bytes_, static_cast<uint32_t>(payload.size()));
  }
  bytes_.insert(bytes_.end(), payload.begin(), payload.end());
  entries_crc32c_ = crc32c_extend(entries_crc32c_, ByteView(bytes_).subspan(entry_offset));
  ++entry_count_;
  WAL_ASSERT_EQ(bytes_.size(), size_after);
}

void BlockBuilder::add_key_prefixes() {
  WAL_ASSERT(!entry_keys_);
  Bytes keyed;
  keyed.reserve(std::max<uint64_t>(bytes_.capacity(),
                                   bytes_.size() + entry_count_ * bf::entry_key_size_bytes));
  keyed.insert(keyed.end(), bytes_.begin(), bytes_.begin() + bf::header_size_bytes);
  size_t offset = bf::header_size_bytes;
  for (uint32_t index = 0; index < entry_count_; ++index) {
    WAL_ASSERT_LE(offset + bf::entry_length_size_bytes, bytes_.size());
    const uint32_t size = get_u32(&bytes_[offset]);
    offset += bf::entry_length_size_bytes;
    WAL_ASSERT_LE(offset + size, bytes_.size());
    append_le(keyed, static_cast<uint32_t>(bf::entry_key_size_bytes + size));
    append_le(keyed, uint64_t{0});  // producer 0: no key
    append_le(keyed, uint64_t{0});
    const auto payload = bytes_.begin() + static_cast<std::ptrdiff_t>(offset);
    keyed.insert(keyed.end(), payload, payload + size);
    offset += size;
  }
  WAL_ASSERT_EQ(offset, bytes_.size());
  bytes_ = std::move(keyed);
  entries_crc32c_ = crc32c(ByteView(bytes_).subspan(bf::header_size_bytes));
  entry_keys_ = true;
}

Bytes BlockBuilder::finish(const BlockHeader& header) && {
  WAL_ASSERT_GT(entry_count_, 0u);
  WAL_ASSERT_EQ(header.entry_count, entry_count_);
  WAL_ASSERT_EQ(header.entry_keys, entry_keys_);
  WAL_ASSERT(header.codec == BlockCodec::none);
  WAL_ASSERT_LE(header.first_entry_id, UINT64_MAX - header.entry_count);
  WAL_ASSERT_LE(bytes_.size(), limits::block_size_bytes_max);
  const uint64_t payload_size = bytes_.size() - bf::header_size_bytes;
  Bytes head;
  head.reserve(bf::header_size_bytes);
  append_block_header_fields(head, header, static_cast<uint32_t>(payload_size));
  WAL_ASSERT_EQ(head.size(), bf::block_crc_offset);
  const uint32_t block_crc = crc32c_combine(crc32c(head), entries_crc32c_, payload_size);
  put_u32(head, crc32c_mask(block_crc));
  put_u32(head, crc32c_mask(crc32c(ByteView(head).first(bf::header_crc_offset))));
  WAL_ASSERT_EQ(head.size(), bf::header_size_bytes);
  std::copy(head.begin(), head.end(), bytes_.begin());
  Bytes block = std::move(bytes_);
  bytes_ = Bytes{};
  entry_count_ = 0;
  return block;
}

}  // namespace wal
