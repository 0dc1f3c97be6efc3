#pragma once
// One writer process of the simulated world, whichever mode the run uses: MemoryBuffer
// (LogWriter) or QuorumBuffer (QuorumWriter). The world drives both through this one face.

#include <memory>
#include <variant>

#include "wal/log/log_writer.h"
#include "wal/quorum/quorum_writer.h"

namespace wal::sim {

class SimWriter {
 public:
  explicit SimWriter(std::unique_ptr<LogWriter> writer) : writer_(std::move(writer)) {}
  explicit SimWriter(std::unique_ptr<quorum::QuorumWriter> writer) : writer_(std::move(writer)) {}

  // `key`: MemoryBuffer only (QuorumWriter has no idempotent appends yet).
  Task<Result<EntryId>> append(Bytes payload, std::optional<AppendKey> key = {}) {
    if (auto* log_writer = std::get_if<std::unique_ptr<LogWriter>>(&writer_)) {
      return (*log_writer)->append(std::move(payload), key);
    }
    WAL_ASSERT(!key.has_value());
    return std::get<std::unique_ptr<quorum::QuorumWriter>>(writer_)->append(std::move(payload));
  }
  Task<Status> close() {
    return std::visit([](auto& w) { return w->close(); }, writer_);
  }
  [[nodiscard]] Epoch epoch() const {
    return std::visit([](const auto& w) { return w->epoch(); }, writer_);
  }
  [[nodiscard]] EntryId next_entry_id() const {
    return std::visit([](const auto& w) { return w->next_entry_id(); }, writer_);
  }

 private:
  std::variant<std::unique_ptr<LogWriter>, std::unique_ptr<quorum::QuorumWriter>> writer_;
};

}  // namespace wal::sim
