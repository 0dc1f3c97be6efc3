// Truncation garbage collection and orphan cleanup. Runs with no writer open (Woodpecker ran
// both only inside an open writer's auditor, woodpecker#357).
#include <set>

#include "wal/format/block_codec.h"
#include "wal/log/fence_object.h"
#include "wal/log/log_client.h"
#include "wal/log/retry.h"

namespace wal {

namespace {
struct SegmentEntry {
  SegmentMeta meta;
  int64_t mod_revision = 0;
};
}  // namespace

Task<Result<GcReport>> LogClient::collect_garbage(std::string name, bool full) {
  Result<LogInfo> info = co_await get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  const LogKeys keys = keys_for(*info);
  MetaStore& meta = *env_.meta_store;
  RangeRequest request;
  request.key = keys.log_prefix();
  request.range_end = prefix_end(keys.log_prefix());
  Result<RangeResponse> all = co_await retry_read(env_, {}, [&] { return meta.range(request); });
  if (!all.ok()) co_return std::move(all).error();
  TruncationRecord truncation;
  std::vector<SegmentEntry> segments;
  for (const KeyValue& kv : all->kvs) {
    if (kv.key == keys.truncation_key()) {
      Result<TruncationRecord> decoded = decode_truncation(kv.key, kv.value);
      if (!decoded.ok()) co_return std::move(decoded).error();
      truncation = *decoded;
    } else if (parse_segment_key(keys.segment_prefix(), kv.key)) {
      Result<SegmentMeta> decoded = decode_segment(kv.key, kv.value);
      if (!decoded.ok()) co_return std::move(decoded).error();
      segments.push_back(SegmentEntry{*decoded, kv.mod_revision});
    }
  }
  GcReport report;
  std::optional<SegmentId> first_live_segment;
  for (size_t i = 0; i < segments.size(); ++i) {
    const SegmentEntry& entry = segments[i];
    // The last segment always stays, whatever the truncation point: it is where the next writer
    // learns the next segment id and entry id. Without it ids would restart at 0.
    const bool last = i + 1 == segments.size();
    // A quorum segment still being uploaded waits for its upload: deleting it under a LogStore's
    // running upload would leave the blocks that upload still writes as orphans.
    const bool settled = !entry.meta.quorum() || entry.meta.uploaded;
    bool below = !last && entry.meta.state == SegmentState::sealed && settled &&
                 entry.meta.end_entry_id <= truncation.first_kept_entry_id;
    if (!below && !last && i > 0 && env_.faults.bug(SimBug::truncate_needed_segment)) {
      // Planted bug: also drops the segment just above the truncation point.
      const SegmentEntry& previous = segments[i - 1];
      below = entry.meta.state == SegmentState::sealed && previous.meta.state ==
              SegmentState::sealed && previous.meta.end_entry_id <= truncation.first_kept_entry_id;
    }
    if (!below) {
      if (!first_live_segment) first_live_segment = entry.meta.segment_id;
      // A quorum segment being uploaded has blocks its metadata does not list yet: not orphans.
      const bool in_storage = !entry.meta.quorum() || entry.meta.uploaded;
      if (entry.meta.state == SegmentState::sealed && in_storage &&
          (full || !entry.meta.orphans_collected)) {
        Result<uint64_t> swept = co_await sweep_sealed_segment(keys, entry.meta);
        if (!swept.ok()) co_return std::move(swept).error();
        report.orphans_deleted += *swept;
        SegmentMeta marked = entry.meta;
        marked.orphans_collected = true;
        TxnRequest mark;
        mark.compares = {Compare::mod_revision_is(keys.segment_key(marked.segment_id),
                                                  entry.mod_revision)};
        mark.success = {PutOp{keys.segment_key(marked.segment_id), encode(marked), 0}};
        // Best effort: a lost mark only means the next pass sweeps again.
        ignore_result(co_await meta.txn(std::move(mark)));
      }
      continue;
    }
    // Metadata first: once the key is gone no reader looks for the objects.
    TxnRequest remove;
    remove.compares = {Compare::mod_revision_is(keys.segment_key(entry.meta.segment_id),
                                                entry.mod_revision)};
    remove.success = {DeleteOp{keys.segment_key(entry.meta.segment_id), {}}};
    Result<TxnResponse> removed = co_await meta.txn(std::move(remove));
    if (!removed.ok()) co_return std::move(removed).error();  // settled by the next pass
    if (!removed->succeeded) continue;                         // changed meanwhile
    // Everything goes but a fence object: a stale writer's create-only PUT may still be on its
    // way to that key, and must keep failing (deleting the fence re-opens the key to it).
    Result<uint64_t> deleted = co_await delete_segment_objects_keeping_fence(keys,
                                                                             entry.meta.segment_id);
    if (!deleted.ok()) co_return std::move(deleted).error();
    report.objects_deleted += *deleted;
    ++report.segments_deleted;
  }
  // Leftovers of segments deleted earlier (a zombie's late PUT, an interrupted deletion): every
  // object of a segment id below the first live segment.
  ObjectStore& store = *env_.object_store;
  std::string token;
  bool past_dead_segments = false;
  while (!past_dead_segments) {
    Result<ListPage> page = co_await retry_read(env_, {}, [&] {
      return store.list(keys.log_object_prefix(), token, limits::list_page_keys_max);
    });
    if (!page.ok()) co_return std::move(page).error();
    std::vector<std::string> doomed;
    for (const ObjectInfo& object : page->objects) {
      const auto parts = parse_object_key(keys.log_object_prefix(), object.key);
      if (!parts) continue;  // not ours: leave it
      if (!first_live_segment || parts->segment_id >= *first_live_segment) {
        past_dead_segments = true;
        break;
      }
      if (parts->kind == ObjectKeyParts::Kind::block && object.size_bytes == fence_format::size_bytes) {
        Result<bool> fence = co_await is_fence(object.key);
        if (!fence.ok() || *fence) continue;  // keep fences (and what we cannot tell)
      }
      doomed.push_back(object.key);
    }
    if (!doomed.empty()) {
      const size_t count = doomed.size();
      Result<std::vector<Status>> results =
          co_await retry_read(env_, {}, [&] { return store.remove_many(doomed); });
      if (!results.ok()) co_return std::move(results).error();
      report.orphans_deleted += count;
    }
    token = page->next_token;
    if (token.empty()) break;
  }
  co_return report;
}

// A fence must never be deleted because its bytes were damaged on the way to us: a flipped bit
// in the magic made a fence look like any other object, GC deleted it, and the zombie writer's
// re-PUT of that key landed and was acknowledged into a deleted segment (property seed 101).
// So the answer is verified: true for a fence whose CRC holds, false only for nothing at all or
// a data block whose header CRC holds. Anything else is retried as a damaged read and, if it
// stays unreadable, reported as corrupt; callers keep an object they cannot classify.
Task<Result<bool>> LogClient::is_fence(const std::string& key) {
  co_return co_await retry_verified_read(env_, {}, [&]() -> Task<Result<bool>> {
    Result<ObjectData> head = co_await env_.object_store->get(
        key, ByteRange{0, block_format::header_size_bytes});
    if (!head.ok()) {
      if (head.error().code == Errc::not_found) co_return false;
      co_return std::move(head).error();
    }
    if (looks_like_fence(head->body)) {
      Result<Epoch> fencer = decode_fence(head->body);
      if (!fencer.ok()) co_return make_error(Errc::corrupt, key + ": " + fencer.error().message);
      co_return true;
    }
    Result<BlockFrame> frame = decode_block_frame(head->body);
    if (!frame.ok()) co_return make_error(Errc::corrupt, key + ": neither a fence nor a block");
    co_return false;
  });
}

Task<Result<uint64_t>> LogClient::delete_segment_objects_keeping_fence(const LogKeys& keys,
                                                                       SegmentId segment_id) {
  ObjectStore& store = *env_.object_store;
  const std::string prefix = keys.segment_object_prefix(segment_id);
  uint64_t deleted = 0;
  std::string token;
  do {
    Result<ListPage> page = co_await retry_read(
        env_, {}, [&] { return store.list(prefix, token, limits::list_page_keys_max); });
    if (!page.ok()) co_return std::move(page).error();
    std::vector<std::string> doomed;
    for (const ObjectInfo& object : page->objects) {
      if (object.size_bytes == fence_format::size_bytes) {
        Result<bool> fence = co_await is_fence(object.key);
        if (!fence.ok() || *fence) continue;
      }
      doomed.push_back(object.key);
    }
    token = page->next_token;
    if (doomed.empty()) continue;
    const size_t count = doomed.size();
    Result<std::vector<Status>> results =
        co_await retry_read(env_, {}, [&] { return store.remove_many(doomed); });
    if (!results.ok()) co_return std::move(results).error();
    deleted += count;
  } while (!token.empty());
  co_return deleted;
}

// Deletes what a sealed segment does not own: data blocks at or past block_count (never
// acknowledged: they sit at or after the fence or the first missing block) and manifests other
// than the footer. The fence object itself is kept (see collect_garbage).
Task<Result<uint64_t>> LogClient::sweep_sealed_segment(const LogKeys& keys,
                                                       const SegmentMeta& segment) {
  WAL_ASSERT(segment.state == SegmentState::sealed);
  ObjectStore& store = *env_.object_store;
  const std::string prefix = keys.segment_object_prefix(segment.segment_id);
  uint64_t deleted = 0;
  std::string token;
  do {
    Result<ListPage> page = co_await retry_read(
        env_, {}, [&] { return store.list(prefix, token, limits::list_page_keys_max); });
    if (!page.ok()) co_return std::move(page).error();
    std::vector<std::string> doomed;
    for (const ObjectInfo& object : page->objects) {
      const auto parts = parse_object_key(keys.log_object_prefix(), object.key);
      if (!parts) continue;
      if (parts->kind == ObjectKeyParts::Kind::manifest) {
        if (parts->number != segment.block_count) doomed.push_back(object.key);
        continue;
      }
      if (parts->number < segment.block_count) continue;
      if (parts->number == segment.block_count) {
        // The fence position: keep a fence (and what we cannot tell), delete a zombie's block.
        Result<bool> fence = co_await is_fence(object.key);
        if (!fence.ok() || *fence) continue;
      }
      doomed.push_back(object.key);
    }
    token = page->next_token;
    if (doomed.empty()) continue;
    const size_t count = doomed.size();
    Result<std::vector<Status>> results =
        co_await retry_read(env_, {}, [&] { return store.remove_many(doomed); });
    if (!results.ok()) co_return std::move(results).error();
    deleted += count;
  } while (!token.empty());
  co_return deleted;
}

}  // namespace wal
