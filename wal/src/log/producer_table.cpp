#include "wal/log/producer_table.h"

#include "wal/core/assert.h"

namespace wal {

ProducerTable::ProducerTable(uint32_t producers_max) : producers_max_(producers_max) {
  WAL_ASSERT_GT(producers_max_, 0u);
  WAL_ASSERT_LE(producers_max_, limits::manifest_producer_count_max);
}

std::optional<ProducerTable::Last> ProducerTable::find(uint64_t producer_id) const {
  const auto found = by_producer_.find(producer_id);
  if (found == by_producer_.end()) return std::nullopt;
  return found->second;
}

void ProducerTable::record(const AppendKey& key, EntryId entry_id) {
  WAL_ASSERT_NE(key.producer_id, 0u);
  if (!by_entry_.empty()) WAL_ASSERT_GT(entry_id, by_entry_.rbegin()->first);
  const auto found = by_producer_.find(key.producer_id);
  if (found != by_producer_.end()) {
    by_entry_.erase(found->second.entry_id);
    found->second = Last{key.sequence, entry_id};
  } else {
    if (by_producer_.size() >= producers_max_) forget_oldest();
    by_producer_.emplace(key.producer_id, Last{key.sequence, entry_id});
  }
  by_entry_.emplace(entry_id, key.producer_id);
  WAL_ASSERT_EQ(by_entry_.size(), by_producer_.size());
  WAL_ASSERT_LE(by_producer_.size(), producers_max_);
}

void ProducerTable::load(std::span<const ManifestProducer> producers) {
  by_producer_.clear();
  by_entry_.clear();
  for (const ManifestProducer& producer : producers) {
    WAL_ASSERT_NE(producer.producer_id, 0u);  // validate_segment_manifest checked both
    const bool fresh = by_entry_.emplace(producer.entry_id, producer.producer_id).second;
    WAL_ASSERT(fresh);
    by_producer_.emplace(producer.producer_id, Last{producer.sequence, producer.entry_id});
  }
  while (by_producer_.size() > producers_max_) forget_oldest();
  WAL_ASSERT_EQ(by_entry_.size(), by_producer_.size());
}

std::vector<ManifestProducer> ProducerTable::snapshot() const {
  std::vector<ManifestProducer> out;
  out.reserve(by_producer_.size());
  for (const auto& [producer_id, last] : by_producer_) {
    out.push_back(ManifestProducer{producer_id, last.sequence, last.entry_id});
  }
  WAL_ASSERT_LE(out.size(), limits::manifest_producer_count_max);
  return out;
}

void ProducerTable::forget_oldest() {
  WAL_ASSERT(!by_entry_.empty());
  const auto oldest = by_entry_.begin();
  const size_t erased = by_producer_.erase(oldest->second);
  WAL_ASSERT_EQ(erased, 1u);
  by_entry_.erase(oldest);
  ++forgotten_count_;
}

}  // namespace wal
