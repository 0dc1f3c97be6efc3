#pragma once
// AckAudit: checks every acknowledgement against what a crash at that instant would keep. The
// class it catches is "a group commit acknowledges work its sync did not cover" (an ack sent
// before the fdatasync that covers it, a batch acknowledged up to where it was filled rather
// than up to where it was synced). The final-log checkers see such a bug only when a crash hits
// the window between the ack and the sync; this audit sees it at every ack, crash or not.
//
//   LogStore (QuorumBuffer): an add reply with status ok promises that every entry below its
//   durable_end is durable on the node (wal/quorum/protocol.h). At the instant the reply leaves
//   the node, the audit replays the node's journal of that segment as its disk's synced bytes
//   alone would leave it (MemDisk::synced_contents, the crash model's durable state) with the
//   LogStore's own replay, and requires it to hold every entry below durable_end.
//
// Reads state only: no request, no trace event, no random draw, so auditing changes no run.
// A finding names the node, segment and both ends; findings() is bounded (findings_max).

#include <cstddef>
#include <string>
#include <vector>

#include "sim/scheduler.h"
#include "wal/core/result.h"
#include "wal/env/network.h"
#include "wal/mem/mem_disk.h"

namespace wal::sim {

class AckAudit {
 public:
  static constexpr size_t findings_max = 20;  // enough to read, bounded output

  // One reply of `server`'s RPC handler to `request`, as it leaves the node; `disk` is the
  // server's disk (null: the node has none, nothing to audit).
  void on_reply(NodeIndex server, TimePoint at, const MemDisk* disk, const RpcRequest& request,
                const Result<Bytes>& reply);

  [[nodiscard]] const std::vector<std::string>& findings() const { return findings_; }
  [[nodiscard]] uint64_t audited_count() const { return audited_count_; }

 private:
  std::vector<std::string> findings_;
  uint64_t audited_count_ = 0;
};

}  // namespace wal::sim
