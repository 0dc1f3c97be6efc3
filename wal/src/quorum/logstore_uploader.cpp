// The LogStore uploader: every upload_scan_interval it looks up the metadata of each segment the
// node holds and
//  - drops the journal when the segment is gone (log deleted, segment truncated) or uploaded;
//  - uploads a sealed segment it holds completely: blocks split the same way on every node
//    (so all ensemble members produce identical objects), each PUT create-only and compared on
//    already_exists, the footer manifest, then every block read back and checked, and only then
//    a txn, guarded by the segment key's mod_revision, that marks the segment uploaded;
//  - repairs a sealed segment it is in limbo for (logstore_repair.cpp);
//  - checkpoints an open segment (logstore_checkpoint.cpp): its full blocks of confirmed entries
//    go to object storage while it is still open.
// An uploaded quorum segment is then read exactly like a sealed MemoryBuffer segment.
// Every failure leaves things as they were and is retried at the next scan; nothing here is
// acknowledged to anyone, so an unknown outcome is settled by the next scan's reads.
#include <set>

#include <fmt/format.h>

#include "wal/async/sleep.h"
#include "wal/format/block_codec.h"
#include "wal/format/segment_manifest.h"
#include "wal/log/keys.h"
#include "wal/log/segment_recovery.h"
#include "logstore_blocks.h"
#include "logstore_node.h"

namespace wal::quorum {

Task<void> LogStoreNode::upload_loop(LogStoreNode& node) {
  while (true) {
    co_await sleep_for(node.env_.clock, node.options_.upload_scan_interval);
    std::vector<std::shared_ptr<Segment>> segments;
    for (const auto& [key, segment] : node.segments_) segments.push_back(segment);
    for (std::shared_ptr<Segment>& segment : segments) co_await node.scan_segment(segment);
  }
}

Task<void> LogStoreNode::scan_segment(std::shared_ptr<Segment> segment) {
  if (segment->dropped()) {
    co_await drop_journal(segment);  // an earlier remove failed
    co_return;
  }
  const SegmentRef& ref = segment->ref();
  const LogKeys keys{options_.meta_root, options_.object_root, ref.log_name, ref.log_id};
  MetaStore& meta_store = *env_.meta_store;
  const std::string key = keys.segment_key(ref.segment_id);
  Result<std::optional<KeyValue>> kv = co_await meta_store.get(key);
  if (!kv.ok()) co_return;
  if (!*kv) {
    co_await drop_journal(segment);  // truncated, collected, or its log deleted
    co_return;
  }
  if ((*kv)->create_revision != ref.create_revision) {
    // Another incarnation of the key: ours is gone if the log name now names another log.
    Result<std::optional<KeyValue>> log_kv = co_await meta_store.get(keys.log_key());
    if (!log_kv.ok()) co_return;
    Result<LogMeta> log = *log_kv ? decode_log_meta(keys.log_key(), (*log_kv)->value)
                                  : Result<LogMeta>(make_error(Errc::not_found));
    if (!log.ok() || log->log_id != ref.log_id) co_await drop_journal(segment);
    co_return;
  }
  Result<SegmentMeta> meta = decode_segment(key, (*kv)->value);
  if (!meta.ok()) co_return;
  meta->create_revision = (*kv)->create_revision;
  if (meta->uploaded) {
    if (!(co_await remove_stale_checkpoint_manifests(*segment, *meta)).ok()) co_return;
    co_await drop_journal(segment);
    co_return;
  }
  if (meta->state != SegmentState::sealed) {
    if (!options_.upload_open_segments) co_return;
    Status checkpointed = co_await checkpoint(*segment, *meta, (*kv)->mod_revision);
    if (!checkpointed.ok()) co_await discard_if_segment_gone(ref);
    co_return;
  }
  if (!segment->sealed_end()) {
    emit(LogStoreEventKind::segment_sealed, segment.get(), meta->end_entry_id);
  }
  segment->set_sealed_end(meta->end_entry_id);
  if (segment->knowledge_lost()) co_await repair(segment, *meta);
  const bool holds_all = meta->first_entry_id == segment->first_entry_id() &&
                         segment->durable_end() >= meta->end_entry_id;
  if (!holds_all) co_return;  // another ensemble member uploads it
  Status uploaded = co_await upload(*segment, *meta, (*kv)->mod_revision);
  if (uploaded.ok()) {
    ++stats_.segments_uploaded;
    emit(LogStoreEventKind::segment_uploaded, segment.get(), meta->end_entry_id);
  } else {
    co_await discard_if_segment_gone(ref);
  }
}

// Every manifest under the segment's prefix but the footer, not only those this node wrote: a
// checkpointing node may have crashed (or lost its disk) after its manifest landed, and would
// then never delete it. The upload mark is in the MetaStore, so no checkpoint can be recorded
// any more, and readers of an uploaded segment use the footer only (docs/protocol.md, G2).
Task<Status> LogStoreNode::remove_stale_checkpoint_manifests(const Segment& segment,
                                                             const SegmentMeta& meta) {
  WAL_ASSERT(meta.uploaded);
  const SegmentRef& ref = segment.ref();
  const LogKeys keys{options_.meta_root, options_.object_root, ref.log_name, ref.log_id};
  const std::string footer = keys.manifest_key(ref.segment_id, meta.block_count);
  std::set<std::string> stale;
  for (uint64_t block_count : segment.checkpoint_manifests()) {
    stale.insert(keys.manifest_key(ref.segment_id, block_count));
  }
  // Manifest keys are the segment prefix, "m" and a number: list only those.
  const std::string prefix = keys.segment_object_prefix(ref.segment_id) + "m";
  std::string token;
  do {
    Result<ListPage> page =
        co_await env_.object_store->list(prefix, token, limits::list_page_keys_max);
    if (!page.ok()) co_return std::move(page).error();
    for (const ObjectInfo& object : page->objects) {
      const std::optional<ObjectKeyParts> parts =
          parse_object_key(keys.log_object_prefix(), object.key);
      if (parts && parts->kind == ObjectKeyParts::Kind::manifest) stale.insert(object.key);
    }
    token = std::move(page->next_token);
  } while (!token.empty());
  stale.erase(footer);
  if (stale.empty()) co_return Status{};
  Result<std::vector<Status>> removed =
      co_await env_.object_store->remove_many(std::vector<std::string>(stale.begin(), stale.end()));
  if (!removed.ok()) co_return std::move(removed).error();
  for (const Status& each : *removed) {
    if (!each.ok() && each.error().code != Errc::not_found) co_return each;
  }
  co_return Status{};
}

// An upload that failed because GC deleted the segment under it (another node's upload was
// marked first, then the segment was truncated) may have written blocks or a manifest that no
// segment owns any more: remove everything under the segment's prefix.
Task<void> LogStoreNode::discard_if_segment_gone(const SegmentRef& ref) {
  const LogKeys keys{options_.meta_root, options_.object_root, ref.log_name, ref.log_id};
  Result<std::optional<KeyValue>> kv = co_await env_.meta_store->get(keys.segment_key(ref.segment_id));
  if (!kv.ok()) co_return;  // cannot tell: a later GC pass sweeps leftovers
  if (*kv && (*kv)->create_revision == ref.create_revision) co_return;  // still there
  ObjectStore& objects = *env_.object_store;
  const std::string prefix = keys.segment_object_prefix(ref.segment_id);
  Result<ListPage> page = co_await objects.list(prefix, "", limits::list_page_keys_max);
  if (!page.ok()) co_return;
  std::vector<std::string> doomed;
  for (const ObjectInfo& object : page->objects) doomed.push_back(object.key);
  if (!doomed.empty()) ignore_result(co_await objects.remove_many(std::move(doomed)));
}

uint64_t LogStoreNode::upload_block_bytes_max(const SegmentMeta& meta) const {
  const uint64_t chosen = meta.upload_block_bytes != 0 ? meta.upload_block_bytes
                                                       : options_.upload_block_bytes_max;
  return std::min(chosen, limits::block_size_bytes_max);
}

Task<Status> LogStoreNode::upload(Segment& segment, const SegmentMeta& meta, int64_t mod_revision) {
  const SegmentRef& ref = segment.ref();
  const LogKeys keys{options_.meta_root, options_.object_root, ref.log_name, ref.log_id};
  const EntryId first = meta.first_entry_id;
  const EntryId end = meta.end_entry_id;
  if (Status sizes = check_entry_sizes(segment, first, end); !sizes.ok()) {
    note_problem(sizes.error().message);
    co_return sizes;
  }
  const uint64_t block_bytes_max = upload_block_bytes_max(meta);
  const std::vector<EntryId> starts = block_starts(segment, first, end, block_bytes_max);
  SegmentManifest manifest;
  manifest.log_id = ref.log_id;
  manifest.segment_id = ref.segment_id;
  manifest.first_entry_id = first;
  manifest.entry_count = end - first;
  manifest.writer_epoch = meta.sealed_by_epoch;
  manifest.updated_unix_ms = meta.sealed_unix_ms;
  manifest.sealed = true;
  if (starts.size() > limits::manifest_block_count_max) {
    co_return make_error(Errc::too_large, describe(ref) + " needs more blocks than a manifest holds");
  }
  for (size_t index = 0; index < starts.size(); ++index) {
    const EntryId block_end = index + 1 < starts.size() ? starts[index + 1] : end;
    WAL_CO_ASSIGN(Bytes block,
                  co_await encode_segment_block(segment, meta, starts[index], block_end));
    Result<BlockFrame> frame = decode_block_frame(block);
    WAL_ASSERT(frame.ok());
    manifest.blocks.push_back(manifest_block_for(static_cast<uint32_t>(index), *frame));
    // Blocks a checkpoint stored while the segment was open are the same bytes (block starts
    // are cut from the first entry either way); the read-back below checks them all.
    if (index < meta.checkpoint_block_count) continue;
    Status put = co_await put_block_create_only(env_, keys.block_key(ref.segment_id, index), block);
    if (!put.ok()) {
      if (put.error().code == Errc::corrupt) note_problem(put.error().message);
      co_return put;
    }
  }
  if (!manifest.blocks.empty()) {
    WAL_CO_TRY(co_await write_manifest(env_, keys, manifest, Backoff{}));
  }
  // Read everything back: the objects, not our memory, are what readers will get.
  WAL_CO_TRY(co_await verify_uploaded_blocks(env_, keys, segment, manifest, 0));
  SegmentMeta uploaded = meta;
  uploaded.uploaded = true;
  uploaded.block_count = manifest.blocks.size();
  uploaded.size_bytes = 0;
  for (const ManifestBlock& block : manifest.blocks) uploaded.size_bytes += block.size_bytes;
  const std::string segment_key = keys.segment_key(ref.segment_id);
  TxnRequest request;
  request.compares = {Compare::mod_revision_is(segment_key, mod_revision)};
  request.success = {PutOp{segment_key, encode(uploaded), 0}};
  Result<TxnResponse> marked = co_await env_.meta_store->txn(std::move(request));
  if (!marked.ok()) co_return std::move(marked).error();
  if (!marked->succeeded) {
    co_return make_error(Errc::condition_failed, segment_key + " changed");
  }
  co_return Status{};
}

// The journal goes only after the MetaStore said the segment is gone or uploaded; a flush in
// progress finishes first (its file must not be recreated by a late append).
Task<void> LogStoreNode::drop_journal(std::shared_ptr<Segment> segment) {
  if (segment->flushing()) co_return;
  const SegmentKey key = segment->key();
  const bool had_journal = segment->has_journal();
  segment->drop();
  dropped_.insert(key);
  Status removed = co_await env_.disk->remove(segment->path());
  // A journal whose header was damaged was kept for inspection under another name; once the
  // segment is uploaded or gone, nothing in it can matter any more.
  if (removed.ok() && lost_.contains(key)) {
    removed = co_await env_.disk->remove(segment->path() + std::string(".damaged"));
  }
  if (!removed.ok()) co_return;  // retried at the next scan
  if (auto it = segments_.find(key); it != segments_.end() && it->second == segment) {
    segments_.erase(it);
    if (had_journal) ++stats_.journals_dropped;
    emit(LogStoreEventKind::journal_dropped, segment.get());
  }
}

}  // namespace wal::quorum
