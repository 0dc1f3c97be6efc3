// Checkpoints of open quorum segments: a long-open segment's data moves to object storage while
// its writer is still appending, not only after the seal.
//
// At each upload scan, for an open segment of which this node holds confirmed entries:
//  1. Cut blocks greedily from the checkpoint's end (a block start) over [checkpoint end, L),
//     L = min(confirmed end, durable end). Only *full* blocks (followed by another block start)
//     are stored: a full block's bytes are final, so every ensemble member, and the sealed upload
//     later, produce the same objects (logstore_blocks.h).
//  2. PUT them create-only (identical bytes already there are fine), write manifest
//     m<blocks> covering every block so far, read the new blocks back and compare.
//  3. CAS the segment key (compare: its mod_revision) to record checkpoint_block_count and
//     checkpoint_end_entry_id. A writer sealing at the same moment wins the race or retries
//     its seal on top of ours (seal_quorum_segment); either way nothing is lost.
//
// Why only confirmed entries: they are acknowledged, so every seal keeps them (invariant I4 in
// docs/protocol.md). An entry above the confirmed end may be cut by a recovery, and a block
// holding it would then differ from the sealed segment's.
// A node in limbo for the segment does not checkpoint it: its copy may be incomplete.
#include <algorithm>

#include "wal/format/block_codec.h"
#include "wal/format/segment_manifest.h"
#include "wal/log/keys.h"
#include "wal/log/segment_recovery.h"
#include "logstore_blocks.h"
#include "logstore_node.h"

namespace wal::quorum {

Task<Status> LogStoreNode::checkpoint(Segment& segment, const SegmentMeta& meta,
                                      int64_t mod_revision) {
  const SegmentRef& ref = segment.ref();
  if (segment.knowledge_lost() || meta.first_entry_id != segment.first_entry_id()) {
    co_return Status{};
  }
  const EntryId from = std::max(meta.checkpoint_end_entry_id, meta.first_entry_id);
  const EntryId limit = std::min(segment.confirmed_end(), segment.durable_end());
  if (limit <= from) co_return Status{};
  if (Status sizes = check_entry_sizes(segment, from, limit); !sizes.ok()) {
    co_return Status{};  // the sealed upload reports it
  }
  const uint64_t block_bytes_max = upload_block_bytes_max(meta);
  const std::vector<EntryId> starts = block_starts(segment, from, limit, block_bytes_max);
  if (starts.size() < 2) co_return Status{};  // no full block yet
  const size_t first_new_index = meta.checkpoint_block_count;
  const size_t new_block_count = starts.size() - 1;
  if (first_new_index + new_block_count + 1 > limits::manifest_block_count_max) {
    co_return Status{};  // leave room for the sealed upload's last block
  }

  const LogKeys keys{options_.meta_root, options_.object_root, ref.log_name, ref.log_id};
  SegmentManifest manifest;
  if (first_new_index > 0) {
    Result<SegmentManifest> previous =
        co_await read_manifest(env_, keys, ref.segment_id, first_new_index, Backoff{});
    if (!previous.ok()) co_return std::move(previous).error();
    if (previous->next_entry_id() != from || previous->first_entry_id != meta.first_entry_id) {
      co_return make_error(Errc::corrupt, describe(ref) + ": checkpoint manifest does not end "
                                                          "where the segment record says");
    }
    manifest = std::move(previous).value();
  } else {
    manifest.log_id = ref.log_id;
    manifest.segment_id = ref.segment_id;
    manifest.first_entry_id = meta.first_entry_id;
  }
  manifest.sealed = false;
  manifest.writer_epoch = meta.epoch;
  manifest.updated_unix_ms = env_.clock.unix_time_ms();
  for (size_t i = 0; i < new_block_count; ++i) {
    const size_t index = first_new_index + i;
    WAL_CO_ASSIGN(Bytes block,
                  co_await encode_segment_block(segment, meta, starts[i], starts[i + 1]));
    Result<BlockFrame> frame = decode_block_frame(block);
    WAL_ASSERT(frame.ok());
    manifest.blocks.push_back(manifest_block_for(static_cast<uint32_t>(index), *frame));
    Status put = co_await put_block_create_only(env_, keys.block_key(ref.segment_id, index), block);
    if (!put.ok()) {
      if (put.error().code == Errc::corrupt) note_problem(put.error().message);
      co_return put;
    }
  }
  manifest.entry_count = starts.back() - manifest.first_entry_id;
  segment.note_checkpoint_manifest(manifest.blocks.size());  // perhaps written even on an error
  WAL_CO_TRY(co_await write_manifest(env_, keys, manifest, Backoff{}));
  WAL_CO_TRY(co_await verify_uploaded_blocks(env_, keys, segment, manifest, first_new_index));

  SegmentMeta updated = meta;
  updated.checkpoint_block_count = manifest.blocks.size();
  updated.checkpoint_end_entry_id = manifest.next_entry_id();
  const std::string segment_key = keys.segment_key(ref.segment_id);
  TxnRequest request;
  request.compares = {Compare::mod_revision_is(segment_key, mod_revision)};
  request.success = {PutOp{segment_key, encode(updated), 0}};
  Result<TxnResponse> marked = co_await env_.meta_store->txn(std::move(request));
  if (!marked.ok()) co_return std::move(marked).error();
  if (!marked->succeeded) co_return make_error(Errc::condition_failed, segment_key + " changed");
  ++stats_.checkpoints;
  emit(LogStoreEventKind::checkpoint_recorded, &segment, updated.checkpoint_end_entry_id);
  co_return Status{};
}

}  // namespace wal::quorum
