#pragma once
// Where a quorum append's time goes, from the LogStores' own /metrics (docs/deploy.md): the
// sums and counts of their add service time, journal fsync latency and bytes per fsync, summed
// over the LogStores of a scripts/cluster.sh folder (DIR/lsN.metrics_port). Two snapshots taken
// around a case give that case's means.
//
// scrape_logstores() fetches with curl; a LogStore that does not answer adds nothing (the
// report then says fewer LogStores answered).

#include <cstdint>
#include <string>

namespace wal::bench {

struct LogStoreTotals {
  uint32_t answered_count = 0;
  double add_seconds_sum = 0;  // woodpecker_logstore_operation_latency_seconds, logstore.add
  double add_count = 0;
  double fsync_seconds_sum = 0;  // woodpecker_file_flush_latency_seconds
  double fsync_count = 0;
  double fsync_bytes_sum = 0;  // woodpecker_flush_block_bytes
  double resident_bytes_max = 0;  // process_resident_memory_bytes, the largest LogStore's
  double cache_bytes_max = 0;     // woodpecker_logstore_entry_cache_bytes, the largest
  double unsynced_bytes_max = 0;  // woodpecker_logstore_entry_bytes_in_memory, the largest
};

[[nodiscard]] LogStoreTotals scrape_logstores(const std::string& cluster_dir);

// One line: the means between `before` and `after`.
[[nodiscard]] std::string describe_logstore_delta(const LogStoreTotals& before,
                                                  const LogStoreTotals& after);

}  // namespace wal::bench
