// LogReader, QuorumBuffer part: entries of segments not yet uploaded come from their LogStores,
// through the SegmentReplicas the reader was given (wal/log/segment_replicas.h), which returns
// only acknowledged entries.
#include <algorithm>

#include "wal/log/log_reader.h"

namespace wal {

std::optional<LogEntry> LogReader::take_buffered() {
  if (quorum_buffer_.empty()) return std::nullopt;
  if (quorum_buffer_first_ != next_id_) {  // the reader moved on (a reopen, a truncation)
    quorum_buffer_.clear();
    return std::nullopt;
  }
  LogEntry entry{next_id_, std::move(quorum_buffer_.front())};
  quorum_buffer_.pop_front();
  ++quorum_buffer_first_;
  ++next_id_;
  return entry;
}

const SegmentMeta* LogReader::unuploaded_quorum_segment_at_next() const {
  if (replicas_ == nullptr) return nullptr;
  const SegmentMeta* segment = segment_for(next_id_);
  if (segment == nullptr || !segment->quorum() || segment->uploaded) return nullptr;
  return segment;
}

Task<EntryId> LogReader::acknowledged_end() {
  const EntryId end = visible_end();
  if (segments_.empty() || replicas_ == nullptr) co_return end;
  const SegmentMeta segment = segments_.rbegin()->second;
  if (!segment.quorum() || segment.uploaded || segment.state != SegmentState::open) co_return end;
  const EntryId floor = std::max(segment.first_entry_id, segment.checkpoint_end_entry_id);
  const EntryId confirmed = co_await replicas_->confirmed_end(keys_, segment, floor);
  WAL_ASSERT_GE(confirmed, floor);
  co_return confirmed;
}

Task<Result<bool>> LogReader::load_from_logstores(const SegmentMeta& segment, uint32_t wait_ms) {
  WAL_ASSERT(segment.quorum());
  WAL_ASSERT(replicas_ != nullptr);
  std::optional<ReplicaEntries> read = co_await replicas_->read(
      keys_, segment, next_id_, options_.logstore_read_bytes_max, wait_ms, quorum_replica_);
  // Unreachable LogStores just mean "not readable now": the caller waits.
  if (!read) co_return false;
  WAL_ASSERT_LT(read->replica_index, segment.ensemble.size());
  EntryId end = next_id_ + read->payloads.size();
  if (segment.state == SegmentState::sealed) end = std::min(end, segment.end_entry_id);
  quorum_buffer_.clear();
  quorum_buffer_first_ = next_id_;
  for (EntryId id = next_id_; id < end; ++id) {
    quorum_buffer_.push_back(std::move(read->payloads[id - next_id_]));
  }
  quorum_replica_ = read->replica_index;
  co_return !quorum_buffer_.empty();
}

}  // namespace wal
