#pragma once
// Swarm mode: each seed draws which fault families are on and how often, then generates a
// schedule for the fault phase. Different seeds explore very different mixes (no crashes but
// heavy S3 timeouts; constant writer takeovers; etcd partitions only...), which finds more bugs
// at equal budget than one fixed "everything a little" mix (research/dst.md, TigerBeetle VOPR).

#include <cstdint>
#include <string>

#include "faults/schedule.h"

namespace wal::faults {

struct WorldShape {
  uint32_t writer_nodes = 2;  // nodes 1..writer_nodes run writers
  uint32_t reader_nodes = 1;  // the next nodes run readers; the node after them is the admin
  uint32_t logstore_nodes = 0;  // QuorumBuffer: the nodes after the admin run LogStores
  [[nodiscard]] uint32_t admin_node() const { return writer_nodes + reader_nodes + 1; }
  [[nodiscard]] uint32_t first_logstore() const { return admin_node() + 1; }
  [[nodiscard]] uint32_t node_count() const { return admin_node() + logstore_nodes; }
  [[nodiscard]] bool is_logstore(uint32_t node) const {
    return node >= first_logstore() && node <= node_count();
  }
};

struct SwarmDraw {
  // Mean time between events of each family, in ms; 0 = the family is off for this seed.
  uint32_t append_interval_ms = 0;
  uint32_t append_batch_max = 0;
  uint32_t takeover_interval_ms = 0;
  uint32_t crash_interval_ms = 0;
  uint32_t meta_partition_interval_ms = 0;
  uint32_t leader_change_interval_ms = 0;
  uint32_t compaction_interval_ms = 0;
  uint32_t s3_latency_interval_ms = 0;
  uint32_t s3_error_interval_ms = 0;
  uint32_t s3_timeout_interval_ms = 0;
  uint32_t s3_outage_interval_ms = 0;
  uint32_t get_corruption_interval_ms = 0;
  uint32_t truncate_interval_ms = 0;
  // QuorumBuffer families; drawn from their own stream, so MemoryBuffer seeds are unchanged.
  uint32_t logstore_crash_interval_ms = 0;
  uint32_t disk_wipe_interval_ms = 0;
  uint32_t net_partition_interval_ms = 0;
  uint32_t net_chaos_interval_ms = 0;
  uint32_t slow_fsync_interval_ms = 0;
  uint32_t restart_all_interval_ms = 0;
  uint32_t logstore_meta_partition_interval_ms = 0;  // a LogStore cut off from etcd
  // Overlapping GC (drawn from its own stream, so every other event of a seed is unchanged):
  // bursts of two passes on two client nodes with the truncation point moved between them,
  // and passes right after writer opens and restarts (while the writer recovers).
  uint32_t gc_overlap_interval_ms = 0;
  // Aimed metadata txn losses (meta_txn_lost; its own stream too): when on, half the writer
  // opens lose the reply (or now and then the request) of their epoch bump, recovery seal or
  // create, a third of those with a competing writer opening meanwhile; and at about this mean
  // interval a writer's next seal or create (a roll) loses its reply.
  uint32_t meta_txn_loss_interval_ms = 0;

  [[nodiscard]] std::string describe() const;  // the run header
};

// `quorum` also draws the QuorumBuffer families (LogStore crashes, wipes, network faults).
[[nodiscard]] SwarmDraw draw_swarm(uint64_t seed, bool quorum = false);
[[nodiscard]] Schedule swarm_schedule(uint64_t seed, const SwarmDraw& draw, WorldShape shape,
                                      Duration fault_phase);
// Only the workload (appends, one takeover), no faults: the `--faults none` mode.
[[nodiscard]] Schedule workload_schedule(uint64_t seed, WorldShape shape, Duration fault_phase);

}  // namespace wal::faults
