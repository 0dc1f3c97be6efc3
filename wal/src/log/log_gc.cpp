// Truncation garbage collection and orphan cleanup. Runs with no writer open (Woodpecker ran
// both only inside an open writer's auditor, woodpecker#357), and from any number of clients at
// once: passes coordinate only through MetaStore compares, never through a lock.
//
// The rule every deletion here follows (docs/protocol.md, G1): an object a segment owns is
// deleted only after this pass has seen the segment's metadata gone, either deleted by its own
// txn or absent from its snapshot below a segment that exists. Which of the pass's txns failed
// or were skipped never widens what it deletes.
#include <set>

#include "wal/log/fence_object.h"
#include "wal/log/log_client.h"
#include "wal/log/log_state.h"
#include "wal/log/object_sweep.h"
#include "wal/log/retry.h"

namespace wal {

namespace {

// The log's metadata at one revision: the truncation point and every segment, in id order.
Task<Result<LogState>> read_snapshot(Env& env, const LogKeys& keys) {
  const std::string prefix = keys.log_prefix();  // no temporary in a co_await expression
  Result<RangeResponse> all = co_await read_prefix(env, prefix);
  if (!all.ok()) co_return std::move(all).error();
  co_return decode_log_state(keys, *all);
}

// Whether segment `i` of the snapshot is wholly below the truncation point and may go.
bool below_truncation(const Env& env, const LogState& snapshot, size_t i) {
  const std::vector<StoredSegment>& segments = snapshot.segments;
  WAL_ASSERT_LT(i, segments.size());
  const EntryId first_kept = snapshot.truncation.first_kept_entry_id;
  // The last segment always stays, whatever the truncation point: it is where the next writer
  // learns the next segment id and entry id. Without it ids would restart at 0.
  if (i + 1 == segments.size()) return false;
  const SegmentMeta& meta = segments[i].meta;
  // A quorum segment still being uploaded waits for its upload: deleting it under a LogStore's
  // running upload would leave the blocks that upload still writes as orphans.
  const bool settled = !meta.quorum() || meta.uploaded;
  if (meta.state == SegmentState::sealed && settled && meta.end_entry_id <= first_kept) {
    return true;
  }
  if (i > 0 && env.faults.bug(SimBug::truncate_needed_segment)) {
    // Planted bug: also drops the segment just above the truncation point.
    const SegmentMeta& previous = segments[i - 1].meta;
    return meta.state == SegmentState::sealed && previous.state == SegmentState::sealed &&
           previous.end_entry_id <= first_kept;
  }
  return false;
}

// Deletes what a sealed segment does not own: data blocks at or past block_count (never
// acknowledged: they sit at or after the fence or the first missing block) and manifests other
// than the footer. The fence object itself is kept (see LogClient::collect_garbage).
Task<Result<uint64_t>> sweep_sealed_segment(Env& env, const LogKeys& keys,
                                            const SegmentMeta& segment) {
  WAL_ASSERT(segment.state == SegmentState::sealed);
  const std::string log_prefix = keys.log_object_prefix();
  co_return co_await sweep_objects(
      env, keys.segment_object_prefix(segment.segment_id), [&](const ObjectInfo& object) {
        const auto parts = parse_object_key(log_prefix, object.key);
        if (!parts || parts->segment_id != segment.segment_id) return SweepChoice::keep;
        if (parts->kind == ObjectKeyParts::Kind::manifest) {
          return parts->number == segment.block_count ? SweepChoice::keep : SweepChoice::remove;
        }
        if (parts->number < segment.block_count) return SweepChoice::keep;
        // The fence position: keep a fence (and what we cannot tell), delete a zombie's block.
        if (parts->number == segment.block_count) return SweepChoice::remove_unless_fence;
        return SweepChoice::remove;
      });
}

// Everything under a deleted segment's prefix goes but a fence object: a stale writer's
// create-only PUT may still be on its way to that key, and must keep failing (deleting the
// fence re-opens the key to it).
Task<Result<uint64_t>> delete_objects_keeping_fences(Env& env, std::string prefix) {
  co_return co_await sweep_objects(env, std::move(prefix), [](const ObjectInfo& object) {
    return object.size_bytes == fence_format::size_bytes ? SweepChoice::remove_unless_fence
                                                         : SweepChoice::remove;
  });
}

// Leftovers of segments deleted earlier (a zombie's late PUT, a pass that died between a
// segment's metadata and its objects): every object, fences aside, of a segment id below
// `first_kept_segment`. Keys list in segment order, so the sweep stops at the first kept one.
Task<Result<uint64_t>> sweep_leftovers(Env& env, const LogKeys& keys,
                                       SegmentId first_kept_segment) {
  const std::string log_prefix = keys.log_object_prefix();
  co_return co_await sweep_objects(env, log_prefix, [&](const ObjectInfo& object) {
    const auto parts = parse_object_key(log_prefix, object.key);
    if (!parts) return SweepChoice::keep;  // not ours: leave it
    if (parts->segment_id >= first_kept_segment) return SweepChoice::stop;
    const bool fence_sized = parts->kind == ObjectKeyParts::Kind::block &&
                             object.size_bytes == fence_format::size_bytes;
    return fence_sized ? SweepChoice::remove_unless_fence : SweepChoice::remove;
  });
}

// The lowest segment id whose objects this pass must keep: the first segment of the snapshot
// whose metadata the pass did not delete itself. Every id below it is absent from the snapshot
// or was deleted by this pass, and cannot come back: a writer creates segment ids strictly above
// the last one it listed while holding the epoch, and the last segment is never deleted. So a
// failed, skipped or unknown txn only ever keeps more.
std::optional<SegmentId> first_kept_segment(const LogState& snapshot,
                                            const std::set<SegmentId>& deleted) {
  for (const StoredSegment& entry : snapshot.segments) {
    if (!deleted.contains(entry.meta.segment_id)) return entry.meta.segment_id;
  }
  WAL_ASSERT(snapshot.segments.empty());  // the last segment is never deleted
  return std::nullopt;
}

}  // namespace

Task<Result<GcReport>> LogClient::collect_garbage(std::string name, bool full) {
  Result<LogInfo> info = co_await get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  const LogKeys keys = keys_for(*info);
  Result<LogState> snapshot = co_await read_snapshot(env_, keys);
  if (!snapshot.ok()) co_return std::move(snapshot).error();
  GcReport report;
  std::set<SegmentId> deleted;                   // metadata deleted by this pass's own txns
  std::optional<SegmentId> first_found_live;     // for the planted bug only
  for (size_t i = 0; i < snapshot->segments.size(); ++i) {
    const StoredSegment& entry = snapshot->segments[i];
    if (!below_truncation(env_, *snapshot, i)) {
      if (!first_found_live) first_found_live = entry.meta.segment_id;
      Result<uint64_t> swept = co_await sweep_if_unswept(keys, entry.meta, entry.mod_revision,
                                                         full);
      if (!swept.ok()) co_return std::move(swept).error();
      report.orphans_deleted += *swept;
      continue;
    }
    // Metadata first: once the key is gone no reader looks for the objects.
    TxnRequest remove;
    remove.compares = {Compare::mod_revision_is(keys.segment_key(entry.meta.segment_id),
                                                entry.mod_revision)};
    remove.success = {DeleteOp{keys.segment_key(entry.meta.segment_id), {}}};
    Result<TxnResponse> removed = co_await env_.meta_store->txn(std::move(remove));
    // Unknown: settled by the next pass, which finds the key gone (its objects are leftovers
    // then) or still there (and deletes it again).
    if (!removed.ok()) co_return std::move(removed).error();
    // Changed meanwhile (another pass swept and marked it, or deleted it): not ours to delete.
    WAL_MAYBE(removed->succeeded);
    if (!removed->succeeded) continue;
    deleted.insert(entry.meta.segment_id);
    Result<uint64_t> objects = co_await delete_objects_keeping_fences(
        env_, keys.segment_object_prefix(entry.meta.segment_id));
    if (!objects.ok()) co_return std::move(objects).error();
    report.objects_deleted += *objects;
    ++report.segments_deleted;
  }
  WAL_ASSERT_EQ(report.segments_deleted, uint64_t{deleted.size()});
  std::optional<SegmentId> bound = first_kept_segment(*snapshot, deleted);
  if (bound) WAL_ASSERT(!deleted.contains(*bound));
  if (env_.faults.bug(SimBug::gc_sweeps_undeleted_segment)) {
    // Planted bug (keyed seed 19094): the bound comes from the loop's control flow, so a
    // segment whose delete lost its compare to an overlapping pass counts as gone.
    bound = first_found_live;
  }
  if (bound) {
    Result<uint64_t> leftovers = co_await sweep_leftovers(env_, keys, *bound);
    if (!leftovers.ok()) co_return std::move(leftovers).error();
    report.orphans_deleted += *leftovers;
  }
  co_return report;
}

// A live sealed segment's orphans, swept once after sealing (every time when `full`: a
// zombie's late PUT can land after a sweep), then marked so later passes skip it.
Task<Result<uint64_t>> LogClient::sweep_if_unswept(const LogKeys& keys, const SegmentMeta& meta,
                                                   int64_t mod_revision, bool full) {
  // A quorum segment being uploaded has blocks its metadata does not list yet: not orphans.
  const bool in_storage = !meta.quorum() || meta.uploaded;
  if (meta.state != SegmentState::sealed || !in_storage || (!full && meta.orphans_collected)) {
    co_return uint64_t{0};
  }
  Result<uint64_t> swept = co_await sweep_sealed_segment(env_, keys, meta);
  if (!swept.ok()) co_return std::move(swept).error();
  SegmentMeta marked = meta;
  marked.orphans_collected = true;
  TxnRequest mark;
  mark.compares = {Compare::mod_revision_is(keys.segment_key(marked.segment_id), mod_revision)};
  mark.success = {PutOp{keys.segment_key(marked.segment_id), encode(marked), 0}};
  // Best effort: a lost mark only means the next pass sweeps again. A mark that lands moves the
  // segment's mod revision, so an overlapping pass's delete of it fails its compare.
  ignore_result(co_await env_.meta_store->txn(std::move(mark)));
  co_return *swept;
}

}  // namespace wal
