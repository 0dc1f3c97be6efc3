#pragma once
// The object-storage form of a quorum segment, shared by the uploader of sealed segments and the
// checkpointer of open ones (logstore_uploader.cpp, logstore_checkpoint.cpp).
//
// Every ensemble member must produce byte-identical objects, or create-only PUTs from two nodes
// would conflict. So everything here is a function of the segment's entries and its MetaStore
// record only: block boundaries are cut greedily from the segment's first entry (a checkpoint's
// full blocks are therefore a prefix of the sealed segment's blocks), and block headers carry the
// creating writer's epoch and creation time, which never change.

#include <string>
#include <vector>

#include "wal/async/task.h"
#include "wal/core/bytes.h"
#include "wal/env/env.h"
#include "wal/format/segment_manifest.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"

#include "logstore_segment.h"

namespace wal::quorum {

// Where the blocks of [from, end) start: each block as large as fits `block_bytes_max` (at least
// one entry). `from` must itself be a block start (the segment's first entry or a checkpoint's
// end), so the result is the same whatever prefix was cut before.
[[nodiscard]] std::vector<EntryId> block_starts(const Segment& segment, EntryId from, EntryId end,
                                                uint64_t block_bytes_max);

// The bytes of the block holding [first, end), whose payloads are read back from the journal
// (not through the cache). Precondition: the segment holds those entries durably. Errors: those
// of Segment::read_entries.
[[nodiscard]] Task<Result<Bytes>> encode_segment_block(Segment& segment, const SegmentMeta& meta,
                                                       EntryId first, EntryId end);

// too_large (with a message) when an entry in [first, end) cannot go into any block.
[[nodiscard]] Status check_entry_sizes(const Segment& segment, EntryId first, EntryId end);

// Puts `block` at `key` create-only. ok: the object now holds exactly these bytes (written now,
// or earlier by us or another ensemble member). corrupt: the key holds other bytes (never
// overwritten; the message is for a human). Other errors: the store's; nothing is known.
[[nodiscard]] Task<Status> put_block_create_only(Env& env, const std::string& key,
                                                 const Bytes& block);

// Reads blocks [from_index, manifest.blocks.size()) back and checks that they hold exactly the
// segment's entries from manifest block `from_index`'s first id to the manifest's end, one block
// at a time (the segment's entries are read back from its journal per block). ok: they do.
// corrupt: they do not (or a journal record fails its checks). Other errors: the store's or the
// Disk's.
[[nodiscard]] Task<Status> verify_uploaded_blocks(Env& env, const LogKeys& keys, Segment& segment,
                                                  const SegmentManifest& manifest,
                                                  size_t from_index);

}  // namespace wal::quorum
