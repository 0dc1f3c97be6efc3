#pragma once
// What the safety checkers (sim/checkers.h) share: naming an append in a report, a bounded
// anomaly list, and where the run saw each payload. Internal to the checkers.

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/history.h"

namespace wal::sim::checker_support {

inline constexpr size_t anomalies_max = 20;  // per checker: enough to read, bounded output

[[nodiscard]] int64_t ms(TimePoint t);
// "append from node 1 writer #2 invoked at 350ms (ok)"
[[nodiscard]] std::string who(const AppendRecord& a);
void add(std::vector<Anomaly>& out, std::string name, std::string detail);

// What every rule looks up, computed once per history: where the run put each payload (in the
// final log, when it was read, or in what readers returned), which append sent it, and each
// writer's epoch. A payload seen at two ids keeps the first (the rules report the second).
// Hash maps are only looked up, never iterated, so their order never reaches a report.
struct Observed {
  std::unordered_map<uint64_t, EntryId> final_id;  // payload hash -> id in the final log
  std::unordered_map<uint64_t, EntryId> read_id;   // payload hash -> id a reader first saw
  std::unordered_map<uint64_t, const AppendRecord*> append_of;  // payload hash -> its append
  std::map<uint64_t, Epoch> epoch_of_writer;
  [[nodiscard]] bool visible(uint64_t payload_hash) const {
    return final_id.count(payload_hash) > 0 || read_id.count(payload_hash) > 0;
  }
  // The final log's id if it holds the payload, else a reader's, else nothing.
  [[nodiscard]] std::optional<EntryId> id_of(uint64_t payload_hash) const;
};
[[nodiscard]] Observed observe(const History& history);

// The id an append is known to have: its acknowledged id, or where it was seen.
[[nodiscard]] std::optional<EntryId> known_id(const AppendRecord& a, const Observed& observed);

// The rules of sim/checkers.h on a history observed once (check_safety shares it).
[[nodiscard]] std::vector<Anomaly> durability(const History& history, const Observed& observed);
[[nodiscard]] std::vector<Anomaly> whole_history(const History& history,
                                                 const Observed& observed);
[[nodiscard]] std::vector<Anomaly> ordering(const History& history, const Observed& observed);
[[nodiscard]] std::vector<Anomaly> fencing(const History& history, const Observed& observed);
[[nodiscard]] std::vector<Anomaly> outcomes(const History& history, const Observed& observed);
[[nodiscard]] std::vector<Anomaly> linearizable(const History& history,
                                                const Observed& observed);

// phantom_entry for ids below the final log's end that no append can have written
// (sim/checkers_accounting.cpp).
void check_ids_accounted(const History& history, const Observed& observed,
                         std::vector<Anomaly>& out);

}  // namespace wal::sim::checker_support
