#include "sim/ack_audit.h"

#include <fmt/core.h>

#include "wal/quorum/protocol.h"
#include "wal/src/quorum/logstore_journal.h"  // the LogStore's own replay of a journal

namespace wal::sim {

void AckAudit::on_reply(NodeIndex server, TimePoint at, const MemDisk* disk,
                        const RpcRequest& request, const Result<Bytes>& reply) {
  if (disk == nullptr || request.method != quorum::method_add || !reply.ok()) return;
  Result<quorum::AddRequest> add = quorum::decode_add_request(request.body);
  Result<quorum::AddReply> answer = quorum::decode_add_reply(*reply);
  // The node encoded both itself; a request it could not decode got an error reply instead.
  if (!add.ok() || !answer.ok() || answer->status != quorum::AddStatus::ok) return;
  ++audited_count_;
  const quorum::SegmentRef& segment = add->segment;
  const std::string path = quorum::journal::journal_path(segment.log_id, segment.segment_id);
  const std::optional<Bytes> synced = disk->synced_contents(path);
  EntryId kept_end = segment.first_entry_id;  // nothing kept: the segment starts empty
  if (synced) {
    const quorum::journal::JournalReplay replayed = quorum::journal::replay_journal(*synced);
    if (replayed.segment && replayed.segment->segment_id == segment.segment_id) {
      kept_end = replayed.segment->first_entry_id + replayed.entries.size();
    }
  }
  if (kept_end >= answer->durable_end || findings_.size() >= findings_max) return;
  findings_.push_back(fmt::format(
      "{}ms: node {} acknowledged segment {} of log {} durable up to entry {}, but a crash then "
      "keeps its journal only up to entry {} (synced bytes: {})",
      std::chrono::duration_cast<std::chrono::milliseconds>(at - TimePoint{}).count(), server,
      segment.segment_id, segment.log_id, answer->durable_end, kept_end,
      synced ? synced->size() : 0));
  WAL_ASSERT_LE(findings_.size(), findings_max);
}

}  // namespace wal::sim
