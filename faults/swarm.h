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
  [[nodiscard]] uint32_t admin_node() const { return writer_nodes + reader_nodes + 1; }
  [[nodiscard]] uint32_t node_count() const { return admin_node(); }
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

  [[nodiscard]] std::string describe() const;  // the run header
};

[[nodiscard]] SwarmDraw draw_swarm(uint64_t seed);
[[nodiscard]] Schedule swarm_schedule(uint64_t seed, const SwarmDraw& draw, WorldShape shape,
                                      Duration fault_phase);
// Only the workload (appends, one takeover), no faults: the `--faults none` mode.
[[nodiscard]] Schedule workload_schedule(uint64_t seed, WorldShape shape, Duration fault_phase);

}  // namespace wal::faults
