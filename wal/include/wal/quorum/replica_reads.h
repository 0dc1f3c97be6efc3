#pragma once
// ReplicaReads: SegmentReplicas (wal/log/segment_replicas.h) over the LogStore protocol
// (wal/quorum/protocol.h, method logstore.read), for readers of QuorumBuffer logs. Stateless
// apart from the Network and Clock it is given, which must outlive it. Errors: none, as the
// interface says (replies are validated by quorum::decode_read_reply, never asserted on).

#include <memory>

#include "wal/env/clock.h"
#include "wal/env/env.h"
#include "wal/env/network.h"
#include "wal/log/segment_replicas.h"

namespace wal::quorum {

class ReplicaReads final : public SegmentReplicas {
 public:
  ReplicaReads(Network& network, Clock& clock) : network_(network), clock_(clock) {}

  Task<EntryId> confirmed_end(const LogKeys& keys, const SegmentMeta& segment,
                              EntryId floor) override;
  Task<std::optional<ReplicaEntries>> read(const LogKeys& keys, const SegmentMeta& segment,
                                           EntryId from, uint64_t bytes_max, uint32_t wait_ms,
                                           size_t replica_first) override;

 private:
  Network& network_;
  Clock& clock_;
};

// ReplicaReads over env.network and env.clock; null when `env` has no network (its readers then
// wait for uploads). The result must not outlive `env`'s network and clock.
[[nodiscard]] inline std::unique_ptr<ReplicaReads> replica_reads_for(const Env& env) {
  if (env.network == nullptr) return nullptr;
  return std::make_unique<ReplicaReads>(*env.network, env.clock);
}

}  // namespace wal::quorum
