// LogReader, QuorumBuffer part: entries of segments not yet uploaded come from their LogStores
// (wal/quorum/protocol.h). A LogStore serves ordinary reads only below the writer's
// last-add-confirmed, so everything read here is acknowledged and can never change: one writer
// wrote each id of a segment, and recovery only copies those bytes.
#include <fmt/format.h>

#include "wal/log/log_reader.h"
#include "wal/quorum/protocol.h"

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
  if (env_.network == nullptr) return nullptr;
  const SegmentMeta* segment = segment_for(next_id_);
  if (segment == nullptr || !segment->quorum() || segment->uploaded) return nullptr;
  return segment;
}

Task<EntryId> LogReader::acknowledged_end() {
  const EntryId end = visible_end();
  if (segments_.empty() || env_.network == nullptr) co_return end;
  const SegmentMeta segment = segments_.rbegin()->second;
  if (!segment.quorum() || segment.uploaded || segment.state != SegmentState::open) co_return end;
  EntryId confirmed = std::max(segment.first_entry_id, segment.checkpoint_end_entry_id);
  quorum::ReadRequest request;
  request.segment = {keys_.name, keys_.log_id, segment.segment_id, segment.first_entry_id,
                     segment.create_revision};
  request.from = segment.first_entry_id;
  request.bytes_max = 1;  // the reply's ends are wanted, not its entries
  for (const std::string& node : segment.ensemble) {
    Result<Bytes> reply =
        co_await env_.network->call(node, std::string(quorum::method_read), quorum::encode(request),
                                    env_.clock.now() + std::chrono::seconds(2));
    if (!reply.ok()) continue;
    Result<quorum::ReadReply> decoded = quorum::decode_read_reply(*reply);
    if (!decoded.ok() || decoded->knowledge == quorum::Knowledge::unknown) continue;
    confirmed = std::max(confirmed, decoded->confirmed_end);
  }
  WAL_ASSERT_GE(confirmed, segment.first_entry_id);
  co_return confirmed;
}

Task<Result<bool>> LogReader::load_from_logstores(const SegmentMeta& segment, uint32_t wait_ms) {
  WAL_ASSERT(segment.quorum());
  WAL_ASSERT(env_.network != nullptr);
  quorum::ReadRequest request;
  request.segment = {keys_.name, keys_.log_id, segment.segment_id, segment.first_entry_id,
                     segment.create_revision};
  request.from = next_id_;
  request.bytes_max = options_.logstore_read_bytes_max;
  request.wait_ms = wait_ms;
  const size_t replicas = segment.ensemble.size();
  for (size_t attempt = 0; attempt < replicas; ++attempt) {
    const size_t index = (quorum_replica_ + attempt) % replicas;
    const TimePoint deadline =
        env_.clock.now() + std::chrono::milliseconds(wait_ms) + std::chrono::seconds(2);
    Result<Bytes> reply = co_await env_.network->call(
        segment.ensemble[index], std::string(quorum::method_read), quorum::encode(request),
        deadline);
    if (!reply.ok()) continue;  // unreachable: try the next replica
    Result<quorum::ReadReply> decoded = quorum::decode_read_reply(*reply);
    if (!decoded.ok()) continue;
    // A node that may have lost data (limbo) is not asked to vouch for anything.
    if (decoded->knowledge == quorum::Knowledge::unknown) continue;
    if (decoded->payloads.empty() || decoded->first_entry_id != next_id_) {
      // Nothing confirmed past our position on this node: with a long poll it already waited;
      // otherwise another replica may have heard of a later confirmed end.
      if (wait_ms > 0) co_return false;
      continue;
    }
    EntryId end = next_id_ + decoded->payloads.size();
    if (segment.state == SegmentState::sealed) end = std::min(end, segment.end_entry_id);
    quorum_buffer_.clear();
    quorum_buffer_first_ = next_id_;
    for (EntryId id = next_id_; id < end; ++id) {
      quorum_buffer_.push_back(std::move(decoded->payloads[id - next_id_]));
    }
    quorum_replica_ = index;
    co_return !quorum_buffer_.empty();
  }
  // Unreachable LogStores just mean "not readable now": the caller waits.
  co_return false;
}

}  // namespace wal
