// The object-storage form of a quorum segment (logstore_blocks.h).
#include "logstore_blocks.h"

#include <algorithm>
#include <fmt/format.h>

#include "wal/format/block_codec.h"
#include "wal/quorum/protocol.h"

namespace wal::quorum {

std::vector<EntryId> block_starts(const Segment& segment, EntryId from, EntryId end,
                                  uint64_t block_bytes_max) {
  std::vector<EntryId> starts;
  uint64_t block_bytes = 0;
  uint32_t block_entries = 0;
  for (EntryId id = from; id < end; ++id) {
    const uint64_t entry_bytes =
        block_format::entry_length_size_bytes + segment.entry_size_bytes(id);
    const bool full = block_entries == limits::block_entry_count_max ||
                      block_bytes + entry_bytes > block_bytes_max;
    if (starts.empty() || (block_entries > 0 && full)) {
      starts.push_back(id);
      block_bytes = block_format::header_size_bytes;
      block_entries = 0;
    }
    block_bytes += entry_bytes;
    ++block_entries;
  }
  return starts;
}

Task<Result<Bytes>> encode_segment_block(Segment& segment, const SegmentMeta& meta, EntryId first,
                                         EntryId end) {
  WAL_ASSERT_LT(first, end);
  WAL_ASSERT_LE(end, segment.durable_end());
  Result<std::vector<SharedBytes>> payloads =
      co_await segment.read_entries(first, end, CacheFill::bypass);
  if (!payloads.ok()) co_return std::move(payloads).error();
  // Durable entries are never rolled back: all of them came back.
  WAL_ASSERT_EQ(payloads->size(), end - first);
  std::vector<ByteView> entries;
  entries.reserve(end - first);
  for (const SharedBytes& payload : *payloads) entries.emplace_back(*payload);
  BlockHeader header;
  header.log_id = segment.ref().log_id;
  header.segment_id = segment.ref().segment_id;
  header.first_entry_id = first;
  header.entry_count = static_cast<uint32_t>(end - first);
  // From the segment's record as created, not from this node or the seal: every node, before and
  // after the seal, must produce the same bytes.
  header.writer_epoch = meta.epoch;
  header.created_unix_ms = meta.created_unix_ms;
  co_return encode_block(header, entries);
}

Status check_entry_sizes(const Segment& segment, EntryId first, EntryId end) {
  for (EntryId id = first; id < end; ++id) {
    if (segment.entry_size_bytes(id) > limits::entry_size_bytes_max) {
      return make_error(Errc::too_large, fmt::format("{}: entry {} is larger than a block entry may be",
                                                     describe(segment.ref()), id));
    }
  }
  return Status{};
}

Task<Status> put_block_create_only(Env& env, const std::string& key, const Bytes& block) {
  ObjectStore& objects = *env.object_store;
  Result<ObjectInfo> put = co_await objects.put(key, block, PutCondition::create_only());
  if (put.ok()) co_return Status{};
  if (put.error().code != Errc::already_exists) co_return std::move(put).error();
  // Another ensemble member (or our earlier attempt) wrote it: it must be these very bytes.
  Result<ObjectData> existing = co_await objects.get(key, std::nullopt);
  if (!existing.ok()) co_return std::move(existing).error();
  if (existing->body != block) {
    co_return make_error(Errc::corrupt,
                         key + " exists with other bytes than this node holds; not overwritten");
  }
  co_return Status{};
}

Task<Status> verify_uploaded_blocks(Env& env, const LogKeys& keys, Segment& segment,
                                    const SegmentManifest& manifest, size_t from_index) {
  const SegmentId segment_id = segment.ref().segment_id;
  const EntryId end = manifest.next_entry_id();
  EntryId next = from_index < manifest.blocks.size() ? manifest.blocks[from_index].first_entry_id
                                                     : end;
  for (size_t index = from_index; index < manifest.blocks.size(); ++index) {
    const std::string block_key = keys.block_key(segment_id, index);
    Result<ObjectData> read = co_await env.object_store->get(block_key, std::nullopt);
    if (!read.ok()) co_return std::move(read).error();
    Result<DecodedBlock> block = decode_block(
        std::move(read->body), block_expectation(manifest, static_cast<uint32_t>(index)));
    if (!block.ok()) co_return std::move(block).error();
    const EntryId block_end = next + block->entry_count();
    if (block_end > end) {
      co_return make_error(Errc::corrupt, block_key + " runs past the manifest's end");
    }
    if (block_end > segment.durable_end()) {
      co_return make_error(Errc::corrupt, block_key + " holds entries this node does not");
    }
    Result<std::vector<SharedBytes>> held =
        co_await segment.read_entries(next, block_end, CacheFill::bypass);
    if (!held.ok()) co_return std::move(held).error();
    WAL_ASSERT_EQ(held->size(), block_end - next);
    for (uint32_t i = 0; i < block->entry_count(); ++i, ++next) {
      if (!std::ranges::equal(block->entry(i), ByteView(*(*held)[i]))) {
        co_return make_error(Errc::corrupt, block_key + " does not read back as written");
      }
    }
  }
  if (next != end) {
    co_return make_error(Errc::corrupt, describe(segment.ref()) + ": blocks end early");
  }
  co_return Status{};
}

}  // namespace wal::quorum
