// ReplicaReads: a reader's view of an unuploaded QuorumBuffer segment, over logstore.read. A
// LogStore serves ordinary reads only below the writer's last-add-confirmed, so everything read
// here is acknowledged and can never change: one writer wrote each id of a segment, and recovery
// only copies those bytes.
#include "wal/quorum/replica_reads.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "wal/quorum/protocol.h"

namespace wal::quorum {

namespace {

// How long a reader waits for one LogStore's reply beyond its long poll: a LogStore answers a
// read from memory or its journal in milliseconds, so two seconds means it is gone or partitioned
// and the next replica is a better bet.
constexpr std::chrono::seconds reply_timeout{2};

ReadRequest read_request(const LogKeys& keys, const SegmentMeta& segment, EntryId from) {
  ReadRequest request;
  request.segment = {keys.name, keys.log_id, segment.segment_id, segment.first_entry_id,
                     segment.create_revision};
  request.from = from;
  return request;
}

}  // namespace

Task<EntryId> ReplicaReads::confirmed_end(const LogKeys& keys, const SegmentMeta& segment,
                                          EntryId floor) {
  WAL_ASSERT(segment.quorum());
  ReadRequest request = read_request(keys, segment, segment.first_entry_id);
  request.bytes_max = 1;  // the reply's ends are wanted, not its entries
  EntryId confirmed = floor;
  for (const std::string& node : segment.ensemble) {
    Result<Bytes> reply = co_await network_.call(node, std::string(method_read), encode(request),
                                                 clock_.now() + reply_timeout);
    if (!reply.ok()) continue;
    Result<ReadReply> decoded = decode_read_reply(*reply);
    if (!decoded.ok() || decoded->knowledge == Knowledge::unknown) continue;
    confirmed = std::max(confirmed, decoded->confirmed_end);
  }
  WAL_ASSERT_GE(confirmed, floor);
  co_return confirmed;
}

Task<std::optional<ReplicaEntries>> ReplicaReads::read(const LogKeys& keys,
                                                       const SegmentMeta& segment, EntryId from,
                                                       uint64_t bytes_max, uint32_t wait_ms,
                                                       size_t replica_first) {
  WAL_ASSERT(segment.quorum());
  ReadRequest request = read_request(keys, segment, from);
  request.bytes_max = bytes_max;
  request.wait_ms = wait_ms;
  const size_t replicas = segment.ensemble.size();
  for (size_t attempt = 0; attempt < replicas; ++attempt) {
    const size_t index = (replica_first + attempt) % replicas;
    const TimePoint deadline = clock_.now() + std::chrono::milliseconds(wait_ms) + reply_timeout;
    Result<Bytes> reply = co_await network_.call(segment.ensemble[index], std::string(method_read),
                                                 encode(request), deadline);
    if (!reply.ok()) continue;  // unreachable: try the next replica
    Result<ReadReply> decoded = decode_read_reply(*reply);
    if (!decoded.ok()) continue;
    // A node that may have lost data (limbo) is not asked to vouch for anything.
    if (decoded->knowledge == Knowledge::unknown) continue;
    if (decoded->payloads.empty() || decoded->first_entry_id != from) {
      // Nothing confirmed past `from` on this node: with a long poll it already waited;
      // otherwise another replica may have heard of a later confirmed end.
      if (wait_ms > 0) co_return std::nullopt;
      continue;
    }
    ReplicaEntries entries{index, std::move(decoded->payloads)};
    WAL_ASSERT(!entries.payloads.empty());
    co_return entries;
  }
  co_return std::nullopt;  // every replica unreachable or behind: not readable now
}

}  // namespace wal::quorum
