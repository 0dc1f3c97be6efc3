#pragma once
// compare_bench's peer: NATS JetStream through libnats's C API, against a cluster of
// nats-server processes (bench/run-all.sh starts three on loopback). Each case creates a stream
// of its own (file storage, `replicas` copies, one subject), publishes the workload point with
// js_PublishAsync (the acknowledgement is the stream leader's, once a quorum of the replicas
// stored the message), and reads the stream back through a push consumer in the same process
// (end-to-end latency); the stream is deleted afterwards.
//
// Durability differs from the WAL's: nats-server 2.9 (Debian 12) has no per-message fsync
// option (`sync_interval` came with 2.10). An acknowledged message is in the files of two of
// the three servers, flushed to disk by each server's periodic sync (every 2 minutes), so
// power loss on all three machines at once can lose it; the WAL's and the journal's
// acknowledgements are fsynced. The report says so beside the figures.
//
// Errors: connecting (unavailable, with the server list), creating or deleting the stream,
// subscribing (io_error with libnats's text). Publish errors are counted in the result.

#include <memory>
#include <string>
#include <vector>

#include "case_recorder.h"
#include "wal/core/result.h"
#include "workload_spec.h"

namespace wal::bench {

class NatsSystem {
 public:
  // `urls`: nats://host:port of each server of the cluster.
  [[nodiscard]] static Result<std::unique_ptr<NatsSystem>> connect(
      const std::vector<std::string>& urls, int replicas);
  virtual ~NatsSystem() = default;
  // As WalSystem::run_case (compare_wal.h).
  [[nodiscard]] virtual Result<CaseResult> run_case(const Workload& workload, uint64_t entry_bytes,
                                                    double rate) = 0;
};

}  // namespace wal::bench
