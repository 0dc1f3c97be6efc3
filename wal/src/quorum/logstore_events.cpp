// The LogStore's state-change events (for a daemon's log lines) and gauges (for its metrics).
// Neither changes what the node does: with no observer, emit() only returns.
#include <fmt/format.h>

#include "logstore_node.h"

namespace wal::quorum {

std::string_view event_kind_name(LogStoreEventKind kind) {
  switch (kind) {
    case LogStoreEventKind::started: return "started";
    case LogStoreEventKind::registered: return "registered";
    case LogStoreEventKind::registration_lost: return "registration_lost";
    case LogStoreEventKind::deregistered: return "deregistered";
    case LogStoreEventKind::segment_opened: return "segment_opened";
    case LogStoreEventKind::segment_fenced: return "segment_fenced";
    case LogStoreEventKind::segment_sealed: return "segment_sealed";
    case LogStoreEventKind::checkpoint_recorded: return "checkpoint_recorded";
    case LogStoreEventKind::segment_uploaded: return "segment_uploaded";
    case LogStoreEventKind::segment_repaired: return "segment_repaired";
    case LogStoreEventKind::journal_dropped: return "journal_dropped";
    case LogStoreEventKind::upload_problem: return "upload_problem";
  }
  WAL_UNREACHABLE();
}

namespace {

std::string what_happened(const LogStoreEvent& e) {
  switch (e.kind) {
    case LogStoreEventKind::started:
      return fmt::format("serving: {} segment(s) held after replay; {}", e.value, e.detail);
    case LogStoreEventKind::registered:
      return fmt::format("registered for new ensembles (lease {:x}){}", e.value,
                         e.detail.empty() ? "" : ": " + e.detail);
    case LogStoreEventKind::registration_lost:
      return "registration lost: the lease expired; registering again";
    case LogStoreEventKind::deregistered:
      return "deregistered: no new ensembles will choose this node";
    case LogStoreEventKind::segment_opened:
      return e.value != 0 ? "held, IN LIMBO (this disk may have lost its entries): answers "
                            "unknown until a recovery or repair"
                          : "held: journal opened";
    case LogStoreEventKind::segment_fenced:
      return fmt::format("fenced at epoch {}", e.value);
    case LogStoreEventKind::segment_sealed:
      return fmt::format("sealed at end {}", e.value);
    case LogStoreEventKind::checkpoint_recorded:
      return fmt::format("checkpointed: entries below {} are in object storage", e.value);
    case LogStoreEventKind::segment_uploaded:
      return fmt::format("uploaded to object storage up to end {}", e.value);
    case LogStoreEventKind::segment_repaired:
      return fmt::format("repaired from peers ({} entries copied): known again", e.value);
    case LogStoreEventKind::journal_dropped:
      return "journal dropped (uploaded, truncated or deleted)";
    case LogStoreEventKind::upload_problem:
      return "PROBLEM: " + e.detail;
  }
  WAL_UNREACHABLE();
}

}  // namespace

std::string describe(const LogStoreEvent& event) {
  if (!event.segment) return what_happened(event);
  const SegmentRef& s = *event.segment;
  return fmt::format("segment {}/{}#{} (first id {}): {}", s.log_name, s.log_id, s.segment_id,
                     s.first_entry_id, what_happened(event));
}

void LogStoreNode::emit(LogStoreEventKind kind, const Segment* segment, uint64_t value,
                        std::string detail) {
  if (!options_.observer) return;
  LogStoreEvent event{kind, std::nullopt, value, std::move(detail)};
  if (segment != nullptr) event.segment = segment->ref();
  options_.observer(event);
}

void LogStoreNode::note_problem(std::string problem) {
  emit(LogStoreEventKind::upload_problem, nullptr, 0, problem);
  problems_.push_back(std::move(problem));
}

LogStoreGauges LogStoreNode::gauges() const {
  LogStoreGauges g;
  for (const auto& [key, segment] : segments_) {
    ++g.segments_held;
    if (!segment->sealed_end()) {
      ++g.segments_open;
    } else if (!segment->dropped()) {
      ++g.segments_pending_upload;
    }
    if (segment->knowledge_lost()) ++g.segments_in_limbo;
    g.entries_in_memory += segment->unsynced_entry_count();
    g.entry_bytes_in_memory += segment->unsynced_entry_bytes();
  }
  g.entry_cache_entries = cache_.entry_count();
  g.entry_cache_bytes = cache_.bytes();
  WAL_ASSERT_LE(g.entry_cache_bytes, options_.entry_cache_bytes_max);
  g.registered = registered_;
  WAL_ASSERT_LE(g.segments_open + g.segments_pending_upload, g.segments_held);
  return g;
}

}  // namespace wal::quorum
