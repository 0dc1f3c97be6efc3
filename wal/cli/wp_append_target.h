#pragma once
// The writer `wp append` drives: a LogWriter (MemoryBuffer) or a QuorumWriter (QuorumBuffer),
// by the config's mode. append() and close() have the wrapped writer's contract
// (wal/log/log_writer.h, wal/quorum/quorum_writer.h). Idempotent appends (keys) are MemoryBuffer
// only: opening a quorum target for keyed appends fails.
#include <memory>
#include <optional>
#include <string>

#include "wal/format/append_key.h"
#include "wal/log/producer_table.h"
#include "wp_runtime.h"

namespace wal::cli {

class AppendTarget {
 public:
  virtual ~AppendTarget() = default;
  virtual Task<Result<EntryId>> append(Bytes payload, std::optional<AppendKey> key) = 0;
  virtual Task<Status> close() = 0;
  [[nodiscard]] virtual EntryId next_entry_id() const = 0;
  // The fencing token the writer holds (wal/log/writer_epoch.h).
  [[nodiscard]] virtual Epoch epoch() const = 0;
  // The producer's last key in the log as of the writer's open (MemoryBuffer; a quorum target
  // takes no keys and answers nullopt).
  [[nodiscard]] virtual std::optional<ProducerTable::Last> last_of_producer(
      uint64_t producer_id) const = 0;
};

// Opens the writer for log `name` with the runtime's options; `keyed`: appends will carry keys.
// Errors: the writer's open(); invalid_argument for keyed appends in quorum mode.
Task<Result<std::unique_ptr<AppendTarget>>> open_append_target(WpRuntime& runtime,
                                                               std::string name, bool keyed);

}  // namespace wal::cli
