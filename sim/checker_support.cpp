#include "sim/checker_support.h"

#include <fmt/core.h>

namespace wal::sim::checker_support {

int64_t ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string who(const AppendRecord& a) {
  return fmt::format("append from node {} writer #{} invoked at {}ms ({})", a.node, a.writer_index,
                     ms(a.invoked), append_outcome_name(a.outcome));
}

void add(std::vector<Anomaly>& out, std::string name, std::string detail) {
  if (out.size() < anomalies_max) out.push_back(Anomaly{std::move(name), std::move(detail)});
}

std::optional<EntryId> Observed::id_of(uint64_t payload_hash) const {
  if (const auto found = final_id.find(payload_hash); found != final_id.end()) {
    return found->second;
  }
  if (const auto found = read_id.find(payload_hash); found != read_id.end()) return found->second;
  return std::nullopt;
}

Observed observe(const History& history) {
  Observed observed;
  const FinalLog& log = history.final_log;
  if (log.read_ok) {
    WAL_ASSERT_EQ(log.ids.size(), log.payload_hashes.size());
    for (size_t i = 0; i < log.ids.size(); ++i) {
      observed.final_id.emplace(log.payload_hashes[i], log.ids[i]);
    }
  }
  for (const ReadRecord& r : history.reads) observed.read_id.emplace(r.payload_hash, r.id);
  for (const AppendRecord& a : history.appends) observed.append_of.emplace(a.payload_hash, &a);
  for (const WriterOpenRecord& o : history.opens) {
    observed.epoch_of_writer[o.writer_index] = o.epoch;
  }
  return observed;
}

std::optional<EntryId> known_id(const AppendRecord& a, const Observed& observed) {
  if (a.outcome == AppendOutcome::ok) return a.id;
  return observed.id_of(a.payload_hash);
}

}  // namespace wal::sim::checker_support
