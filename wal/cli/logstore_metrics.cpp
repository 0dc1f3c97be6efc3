// wp-logstore's metrics beyond the metered stores (wal/metrics/metered_stores.h): the node's
// statistics and gauges, the process's memory and the data disk's free space; and /health.
// docs/deploy.md lists every series.
#include <nlohmann/json.hpp>

#include "logstore_daemon_parts.h"

namespace wal::cli {

namespace {

using Stat = uint64_t quorum::LogStoreStats::*;
using GaugeField = uint64_t quorum::LogStoreGauges::*;

struct StatSeries {
  const char* name;
  const char* help;
  Stat field;
};

constexpr StatSeries stat_series[] = {
    {"woodpecker_logstore_entries_appended_total", "Entries made durable in journals",
     &quorum::LogStoreStats::entries_stored},
    {"woodpecker_logstore_fsyncs_total", "Journal fsyncs (entries per fsync: group commit)",
     &quorum::LogStoreStats::fsyncs},
    {"woodpecker_logstore_fences_total", "Fence requests (writer takeovers and recoveries)",
     &quorum::LogStoreStats::fences},
    {"woodpecker_logstore_segments_uploaded_total", "Sealed segments this node uploaded",
     &quorum::LogStoreStats::segments_uploaded},
    {"woodpecker_logstore_checkpoints_total", "Open segments' checkpoints recorded",
     &quorum::LogStoreStats::checkpoints},
    {"woodpecker_logstore_repairs_total", "Sealed segments repaired from peers after limbo",
     &quorum::LogStoreStats::segments_repaired},
    {"woodpecker_logstore_entries_repaired_total", "Entries copied from peers by repairs",
     &quorum::LogStoreStats::entries_repaired},
    {"woodpecker_logstore_journals_dropped_total", "Journals removed after upload or deletion",
     &quorum::LogStoreStats::journals_dropped},
    {"woodpecker_logstore_write_rejected_total",
     "Requests refused (malformed, stale epoch, gap, limbo)",
     &quorum::LogStoreStats::requests_rejected},
    {"woodpecker_logstore_registrations_total", "Registrations put (first, and after a lost lease)",
     &quorum::LogStoreStats::registrations},
    {"woodpecker_logstore_entry_cache_hits_total", "Durable entries served from the entry cache",
     &quorum::LogStoreStats::entry_cache_hits},
    {"woodpecker_logstore_entry_cache_misses_total",
     "Durable entries not in the entry cache (read back from the journal)",
     &quorum::LogStoreStats::entry_cache_misses},
    {"woodpecker_logstore_journal_reads_total", "Disk reads of journal entries (one per run)",
     &quorum::LogStoreStats::journal_reads},
    {"woodpecker_logstore_journal_write_errors_total",
     "Journal batches whose append or sync failed (their entries were not acknowledged)",
     &quorum::LogStoreStats::journal_write_errors},
};

struct GaugeSeries {
  const char* name;
  const char* help;
  GaugeField field;
};

constexpr GaugeSeries gauge_series[] = {
    {"woodpecker_logstore_segments_held", "Segments with a journal or state on this node",
     &quorum::LogStoreGauges::segments_held},
    {"woodpecker_logstore_segments_open", "Held segments not seen sealed yet",
     &quorum::LogStoreGauges::segments_open},
    {"woodpecker_logstore_pending_uploads", "Held segments sealed and not uploaded yet",
     &quorum::LogStoreGauges::segments_pending_upload},
    {"woodpecker_logstore_segments_in_limbo", "Held segments this node answers unknown for",
     &quorum::LogStoreGauges::segments_in_limbo},
    {"woodpecker_logstore_entries_in_memory", "Entries accepted and not yet synced to a journal",
     &quorum::LogStoreGauges::entries_in_memory},
    {"woodpecker_logstore_entry_bytes_in_memory", "Payload bytes of those entries",
     &quorum::LogStoreGauges::entry_bytes_in_memory},
    {"woodpecker_logstore_entry_cache_entries", "Durable entries in the entry cache",
     &quorum::LogStoreGauges::entry_cache_entries},
    {"woodpecker_logstore_entry_cache_bytes", "Payload bytes in the entry cache",
     &quorum::LogStoreGauges::entry_cache_bytes},
};

}  // namespace

void LogStoreDaemon::register_metrics() {
  WAL_ASSERT(parts_ != nullptr && parts_->store != nullptr);
  const quorum::LogStore* store = parts_->store.get();
  for (const StatSeries& s : stat_series) {
    registry_.counter_function(s.name, s.help, {}, [store, field = s.field] {
      return static_cast<double>(store->stats().*field);
    });
  }
  for (const GaugeSeries& s : gauge_series) {
    registry_.gauge_function(s.name, s.help, {}, [store, field = s.field] {
      return static_cast<double>(store->gauges().*field);
    });
  }
  registry_.gauge_function("woodpecker_logstore_registered",
                           "1 while this node's registration is in place", {},
                           [store] { return store->gauges().registered ? 1.0 : 0.0; });
  registry_.gauge_function("woodpecker_logstore_draining", "1 once a drain began", {},
                           [this] { return state_ == State::draining ? 1.0 : 0.0; });
  registry_.gauge_function("process_resident_memory_bytes", "Resident memory of this process",
                           {}, [] { return static_cast<double>(resident_memory_bytes()); });
  registry_.gauge_function("woodpecker_logstore_disk_free_bytes",
                           "Free bytes on the data directory's file system", {},
                           [dir = config_.data_dir] {
                             return static_cast<double>(free_disk_bytes(dir));
                           });
}

std::string LogStoreDaemon::health_json(bool& healthy) const {
  nlohmann::json body{{"node", config_.node}, {"state", state_name(state_)}};
  healthy = false;
  if (parts_ != nullptr && parts_->store != nullptr) {
    const quorum::LogStoreGauges g = parts_->store->gauges();
    body["registered"] = g.registered;
    body["segments_held"] = g.segments_held;
    body["segments_in_limbo"] = g.segments_in_limbo;
    body["pending_uploads"] = g.segments_pending_upload;
    healthy = state_ == State::serving && g.registered;
  }
  body["healthy"] = healthy;
  return body.dump();
}

}  // namespace wal::cli
