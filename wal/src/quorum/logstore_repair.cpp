// Repair of a node in limbo for a sealed segment (docs/protocol.md, "Limbo and repair").
//
// A node answers "unknown" for a segment when it may have lost some of it: its disk was wiped
// or initialised after the segment was created, or its journal was damaged. For an open segment
// only a writer's recovery can settle that. Once the segment is sealed its contents are final,
// [first, end) per the MetaStore, so the node can copy what it lacks from the other ensemble
// members and know the segment again:
//  1. read [appended end, sealed end) from peers, ordinary reads: a peer serves a sealed
//     segment up to its sealed end (set_sealed_end raised its confirmed end);
//  2. append the entries to the journal (ids in order, as a recovery add would);
//  3. journal a fence at the sealing epoch (so a zombie writer's late add is refused even before
//     this node reads the seal again after a restart) and a repaired record with the sealed end,
//     sync, and only then answer "known".
// Every entry of a segment has exactly one value (one writer wrote it; recovery copies bytes),
// so bytes copied from any peer, in limbo or not, are the right ones.
// Repair restores the third copy before the upload: one more failure is then survivable.
#include <algorithm>

#include "wal/quorum/protocol.h"
#include "logstore_node.h"

namespace wal::quorum {

Task<void> LogStoreNode::repair(std::shared_ptr<Segment> segment, const SegmentMeta& meta) {
  WAL_ASSERT(meta.state == SegmentState::sealed);
  if (!segment->knowledge_lost() || segment->dropped() || segment->broken()) co_return;
  if (meta.first_entry_id != segment->first_entry_id() || env_.network == nullptr) co_return;
  const EntryId end = meta.end_entry_id;
  const NodeId& self = env_.network->self();
  uint64_t copied = 0;
  while (segment->appended_end() < end) {
    bool progressed = false;
    for (const std::string& peer : meta.ensemble) {
      if (peer == self || segment->appended_end() >= end) continue;
      ReadRequest request;
      request.segment = segment->ref();
      request.from = segment->appended_end();
      request.bytes_max = options_.read_reply_bytes_max;
      Result<Bytes> reply = co_await env_.network->call(
          peer, std::string(method_read), encode(request),
          env_.clock.now() + options_.repair_read_timeout);
      if (!reply.ok()) continue;
      Result<ReadReply> decoded = decode_read_reply(*reply);
      if (!decoded.ok()) continue;
      if (segment->dropped() || segment->broken()) co_return;
      // Another request may have appended meanwhile: take only what follows our end now.
      const EntryId from = segment->appended_end();
      if (decoded->first_entry_id > from || decoded->payloads.empty()) continue;
      const EntryId reply_end =
          std::min<EntryId>(decoded->first_entry_id + decoded->payloads.size(), end);
      if (reply_end <= from) continue;
      std::span<const Bytes> fresh(decoded->payloads);
      segment->append_entries(fresh.subspan(from - decoded->first_entry_id, reply_end - from));
      stats_.entries_repaired += reply_end - from;
      copied += reply_end - from;
      progressed = true;
    }
    if (!progressed) co_return;  // no peer had more: the next scan tries again
  }
  Status durable = co_await segment->wait_durable(end, 0);
  if (!durable.ok() || segment->dropped()) co_return;
  Status repaired = co_await segment->mark_repaired(end, meta.sealed_by_epoch);
  if (!repaired.ok()) co_return;
  ++stats_.segments_repaired;
  env_.faults.reached(CoverageMark::logstore_repaired);
  emit(LogStoreEventKind::segment_repaired, segment.get(), copied);
}

}  // namespace wal::quorum
