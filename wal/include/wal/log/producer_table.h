#pragma once
// ProducerTable: for idempotent appends (LogWriter::append with an AppendKey), each producer's
// last sequence in the log and the entry holding it. The writer updates it as entries are
// acknowledged; recovery rebuilds the same table from the last manifest plus the keys of the
// blocks after it, so both apply the same rule: entries in id order, the later entry wins.
//
// Bounded by `producers_max`: recording a producer that is not in a full table first forgets
// the producer whose last entry is oldest (least recently appended). A forgotten producer's
// retry is appended again: the at-most-once guarantee holds only while a producer is remembered.
// Deterministic (ordered containers), so a writer and a recovery rebuild agree.

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "wal/format/append_key.h"
#include "wal/format/segment_manifest.h"
#include "wal/log/options.h"

namespace wal {

class ProducerTable {
 public:
  struct Last {
    uint64_t sequence = 0;
    EntryId entry_id = 0;
  };

  // Precondition: 0 < producers_max <= limits::manifest_producer_count_max (asserted).
  explicit ProducerTable(uint32_t producers_max);

  [[nodiscard]] std::optional<Last> find(uint64_t producer_id) const;

  // Entry `entry_id` holds `key`. Precondition: key.producer_id != 0, and `entry_id` is above
  // every entry id recorded so far (asserted: entries are recorded in id order).
  void record(const AppendKey& key, EntryId entry_id);

  // Replaces the table with a manifest's (validated: sorted, distinct entry ids), forgetting the
  // oldest producers beyond producers_max.
  void load(std::span<const ManifestProducer> producers);

  // The table as manifest records, sorted by producer_id.
  [[nodiscard]] std::vector<ManifestProducer> snapshot() const;
  [[nodiscard]] size_t size() const { return by_producer_.size(); }
  [[nodiscard]] uint64_t forgotten_count() const { return forgotten_count_; }

 private:
  void forget_oldest();

  uint32_t producers_max_;
  std::map<uint64_t, Last> by_producer_;
  std::map<EntryId, uint64_t> by_entry_;  // entry id -> producer: the eviction order
  uint64_t forgotten_count_ = 0;
};

}  // namespace wal
