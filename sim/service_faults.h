#pragma once
// Fault configuration of the simulated services: S3 (sim_object_store.h), etcd
// (sim_meta_store.h) and each node's disk (sim_disk.h). Integers only: probabilities are parts
// per million of requests, durations are nanoseconds (wal::Duration). No floating point reaches
// a decision, so a seed means the same run on every compiler and build type.
//
// Every default is "no fault": only a small, fixed base latency. A swarm run (dst.md G11) draws
// its own values per seed; the defaults are what the contract suites and unit tests run with.
// Every knob may be changed at any time with the service's set_faults(); requests already in
// flight keep the decisions drawn when they were sent.

#include <chrono>
#include <cstdint>

#include "wal/env/clock.h"

namespace wal::sim {

// One delay: base + an exponential-ish tail (mean tail_mean, one draw capped at tail_max) +, with
// probability spike_ppm, a spike drawn uniformly from [spike_min, spike_max]. A service that
// models a round trip draws one delay per request and spends half of it on the way in, half on
// the way back.
struct LatencySpec {
  Duration base = std::chrono::milliseconds(1);
  Duration tail_mean = Duration::zero();
  Duration tail_max = std::chrono::seconds(1);
  uint32_t spike_ppm = 0;
  Duration spike_min = std::chrono::milliseconds(100);
  Duration spike_max = std::chrono::seconds(2);
};

// S3 (peers.md section 4). Planning figures for S3 Standard: small-request p50 30-100 ms, p99
// 200-400 ms, p99.9 above 1 s; a swarm sets base/tail/spikes from those.
struct ObjectStoreFaults {
  // Default: a 2 ms round trip, no tail, no spikes.
  LatencySpec latency{.base = std::chrono::milliseconds(2),
                      .tail_mean = Duration::zero(),
                      .tail_max = std::chrono::seconds(2),
                      .spike_ppm = 0,
                      .spike_min = std::chrono::milliseconds(200),
                      .spike_max = std::chrono::seconds(3)};
  // Extra one-way time per MiB of body (a PUT's request, a GET's reply); 0: size-independent.
  Duration transfer_per_mib = Duration::zero();
  // The client's deadline per request, as an SDK's request timeout. A reply that is not back by
  // then is a timeout: OUTCOME UNKNOWN for put/remove/remove_many, definite for reads.
  Duration request_timeout = std::chrono::seconds(10);
  // 503 SlowDown: not applied; answered after the base round trip; unavailable, definite.
  uint32_t slow_down_ppm = 0;
  // 500 InternalError. On a mutation the request may have been applied (internal_error_applied
  // _ppm of them are): unavailable, OUTCOME UNKNOWN. On a read: unavailable, definite.
  uint32_t internal_error_ppm = 0;
  uint32_t internal_error_applied_ppm = 500'000;
  // A lost request (never applied) or a lost reply (applied): the caller sees timeout at its
  // deadline in both cases and cannot tell them apart.
  uint32_t request_loss_ppm = 0;
  uint32_t reply_loss_ppm = 0;
  // A GET whose returned copy has one flipped bit (never the stored object): exercises readers'
  // checksums. Empty bodies are never corrupted.
  uint32_t get_corruption_ppm = 0;
};

// etcd (peers.md section 5).
struct MetaStoreFaults {
  // Default: a 1 ms round trip (one AZ, a Raft commit on a quiet cluster).
  LatencySpec latency{.base = std::chrono::milliseconds(1),
                      .tail_mean = Duration::zero(),
                      .tail_max = std::chrono::milliseconds(500),
                      .spike_ppm = 0,
                      .spike_min = std::chrono::milliseconds(50),
                      .spike_max = std::chrono::seconds(1)};
  // The client's deadline per request (clientv3 callers pass a context with a timeout).
  // Timeout: OUTCOME UNKNOWN for txn/lease/compact calls that may write, definite for reads.
  Duration request_timeout = std::chrono::seconds(5);
  // Random request timeouts: the request (not applied) or the reply (applied, timeout_applied
  // _ppm of them) is lost and the caller times out at its deadline.
  uint32_t timeout_ppm = 0;
  uint32_t timeout_applied_ppm = 500'000;
  // leader_change(): this share of the requests in flight fail with unavailable; of those not
  // yet applied, leader_change_applied_ppm are committed anyway (the proposal survived).
  uint32_t leader_change_fail_ppm = 500'000;
  uint32_t leader_change_applied_ppm = 500'000;
  // After leader_change() no request is served for this long (the election); requests that
  // arrive meanwhile wait for the new leader.
  Duration election_time = Duration::zero();
  // A watch of a partitioned node stalls, and fails with unavailable after this much partition.
  Duration watch_unavailable_after = std::chrono::seconds(5);
};

// A node's local disk (an NVMe SSD with a page cache).
struct DiskFaults {
  // Each call waits half its delay, is applied (in call order per disk), then waits the rest.
  LatencySpec read_latency{.base = std::chrono::microseconds(20),
                           .tail_mean = Duration::zero(),
                           .tail_max = std::chrono::milliseconds(10),
                           .spike_ppm = 0,
                           .spike_min = std::chrono::milliseconds(1),
                           .spike_max = std::chrono::milliseconds(50)};
  // write, append, truncate.
  LatencySpec write_latency{.base = std::chrono::microseconds(20),
                            .tail_mean = Duration::zero(),
                            .tail_max = std::chrono::milliseconds(10),
                            .spike_ppm = 0,
                            .spike_min = std::chrono::milliseconds(1),
                            .spike_max = std::chrono::milliseconds(50)};
  // sync, and rename/remove (which sync the directory). Spikes are slow fsyncs.
  LatencySpec sync_latency{.base = std::chrono::microseconds(200),
                           .tail_mean = Duration::zero(),
                           .tail_max = std::chrono::milliseconds(20),
                           .spike_ppm = 0,
                           .spike_min = std::chrono::milliseconds(50),
                           .spike_max = std::chrono::seconds(2)};
  // Any call fails with io_error and has no effect (definite), as MemDisk::fail_next does.
  uint32_t io_error_ppm = 0;
  // After a write or append lands, one bit inside the bytes it wrote flips (silently, in the
  // stored copy, durable or not): a latent media error for readers' checksums to catch.
  uint32_t bit_flip_ppm = 0;
  // A write() (not append) lands one sector away from its offset (forward, or backward when
  // there is room), reporting success; the intended range keeps its old bytes.
  uint32_t misdirected_write_ppm = 0;
};

}  // namespace wal::sim
