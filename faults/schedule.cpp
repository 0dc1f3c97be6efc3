#include "faults/schedule.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include <fmt/core.h>

namespace wal::faults {

namespace {
constexpr std::string_view kind_names[] = {"open_writer",       "append",
                                           "close_writer",      "truncate",
                                           "collect_garbage",   "crash",
                                           "meta_partition",    "meta_leader_change",
                                           "meta_compact",      "s3_latency_spike",
                                           "s3_errors",         "s3_timeouts",
                                           "s3_outage",         "s3_get_corruption",
                                           "disk_wipe",         "net_partition",
                                           "net_chaos",         "slow_fsync",
                                           "logstores_restart", "meta_txn_lost"};
static_assert(std::size(kind_names) == static_cast<size_t>(EventKind::count_));

int64_t to_ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }
}  // namespace

std::string_view event_kind_name(EventKind kind) {
  const auto index = static_cast<size_t>(kind);
  WAL_ASSERT_LT(index, std::size(kind_names));
  return kind_names[index];
}

MetaTxnTarget meta_txn_target(uint32_t magnitude) {
  return static_cast<MetaTxnTarget>(magnitude & 3u);
}

std::string_view meta_txn_target_name(MetaTxnTarget target) {
  switch (target) {
    case MetaTxnTarget::any: return "epoch bump, create or seal";
    case MetaTxnTarget::epoch_bump: return "epoch bump";
    case MetaTxnTarget::segment_create: return "segment create";
    case MetaTxnTarget::seal: return "seal";
  }
  WAL_UNREACHABLE();
}

bool is_fault(EventKind kind) { return static_cast<uint8_t>(kind) >= static_cast<uint8_t>(EventKind::crash); }

void sort_events(Schedule& schedule) {
  std::stable_sort(schedule.events.begin(), schedule.events.end(), [](const Event& a, const Event& b) {
    return a.at != b.at ? a.at < b.at : a.id < b.id;
  });
}

std::string describe(const Event& e) {
  std::string text = fmt::format("#{} t={}ms {}", e.id, to_ms(e.at), event_kind_name(e.kind));
  if (e.node != 0) text += fmt::format(" node={}", e.node);
  if (e.count != 0) text += fmt::format(" count={}", e.count);
  if (e.duration.count() != 0) text += fmt::format(" for={}ms", to_ms(e.duration));
  if (e.magnitude != 0) text += fmt::format(" magnitude={}", e.magnitude);
  return text;
}

std::string to_json(const Schedule& schedule) {
  nlohmann::json events = nlohmann::json::array();
  for (const Event& e : schedule.events) {
    nlohmann::json item{{"id", e.id}, {"at_ms", to_ms(e.at)}, {"kind", event_kind_name(e.kind)}};
    if (e.node != 0) item["node"] = e.node;
    if (e.count != 0) item["count"] = e.count;
    if (e.duration.count() != 0) item["for_ms"] = to_ms(e.duration);
    if (e.magnitude != 0) item["magnitude"] = e.magnitude;
    events.push_back(std::move(item));
  }
  return nlohmann::json{{"events", events}}.dump();
}

Result<Schedule> schedule_from_json(std::string_view text) {
  const nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object() || !root.contains("events") ||
      !root["events"].is_array()) {
    return make_error(Errc::invalid_argument, "a schedule is a JSON object {\"events\": [...]}");
  }
  Schedule schedule;
  for (const auto& item : root["events"]) {
    if (!item.is_object()) return make_error(Errc::invalid_argument, "an event is a JSON object");
    for (const auto& [key, value] : item.items()) {
      static const std::vector<std::string> known{"id", "at_ms", "kind", "node", "count", "for_ms",
                                                  "magnitude"};
      if (std::find(known.begin(), known.end(), key) == known.end() ||
          (key != "kind" && !value.is_number_unsigned()) || (key == "kind" && !value.is_string())) {
        return make_error(Errc::invalid_argument, "event field '" + key + "' is unknown or has the "
                                                  "wrong type");
      }
    }
    Event e;
    const std::string kind = item.value("kind", "");
    const auto found = std::find(std::begin(kind_names), std::end(kind_names), kind);
    if (found == std::end(kind_names)) {
      return make_error(Errc::invalid_argument, "unknown event kind '" + kind + "'");
    }
    e.kind = static_cast<EventKind>(found - std::begin(kind_names));
    e.id = item.value("id", 0u);
    e.at = std::chrono::milliseconds(item.value("at_ms", uint64_t{0}));
    e.node = item.value("node", 0u);
    e.count = item.value("count", 0u);
    e.duration = std::chrono::milliseconds(item.value("for_ms", uint64_t{0}));
    e.magnitude = item.value("magnitude", 0u);
    schedule.events.push_back(e);
  }
  sort_events(schedule);
  return schedule;
}

}  // namespace wal::faults
