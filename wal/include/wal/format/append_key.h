#pragma once
// AppendKey: the identity of an idempotent append (LogWriter::append). A producer numbers its
// appends with strictly increasing sequences; the writer applies each (producer_id, sequence) at
// most once, also when the append is retried through a later writer after an unknown outcome.
// The key is stored with the entry (docs/format.md, "Entry keys"), so recovery can rebuild it.

#include <cstdint>

namespace wal {

struct AppendKey {
  // Chosen by the client, stable across its restarts. 0 is reserved: in a block with entry keys
  // it marks an entry appended without a key.
  uint64_t producer_id = 0;
  uint64_t sequence = 0;  // strictly increasing per producer; gaps are allowed

  bool operator==(const AppendKey&) const = default;
};

}  // namespace wal
