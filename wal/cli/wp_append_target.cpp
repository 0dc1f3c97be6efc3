#include "wp_append_target.h"

#include "wal/quorum/quorum_writer.h"

namespace wal::cli {

namespace {

class MemoryTarget final : public AppendTarget {
 public:
  explicit MemoryTarget(std::unique_ptr<LogWriter> writer) : writer_(std::move(writer)) {}
  Task<Result<EntryId>> append(Bytes payload, std::optional<AppendKey> key) override {
    return writer_->append(std::move(payload), key);
  }
  Task<Status> close() override { return writer_->close(); }
  [[nodiscard]] EntryId next_entry_id() const override { return writer_->next_entry_id(); }
  [[nodiscard]] Epoch epoch() const override { return writer_->epoch(); }
  [[nodiscard]] std::optional<ProducerTable::Last> last_of_producer(
      uint64_t producer_id) const override {
    return writer_->producers().find(producer_id);
  }

 private:
  std::unique_ptr<LogWriter> writer_;
};

class QuorumTarget final : public AppendTarget {
 public:
  explicit QuorumTarget(std::unique_ptr<quorum::QuorumWriter> writer)
      : writer_(std::move(writer)) {}
  Task<Result<EntryId>> append(Bytes payload, std::optional<AppendKey> key) override {
    WAL_ASSERT(!key.has_value());  // refused at open
    return writer_->append(std::move(payload));
  }
  Task<Status> close() override { return writer_->close(); }
  [[nodiscard]] EntryId next_entry_id() const override { return writer_->next_entry_id(); }
  [[nodiscard]] Epoch epoch() const override { return writer_->epoch(); }
  [[nodiscard]] std::optional<ProducerTable::Last> last_of_producer(uint64_t) const override {
    return std::nullopt;
  }

 private:
  std::unique_ptr<quorum::QuorumWriter> writer_;
};

}  // namespace

Task<Result<std::unique_ptr<AppendTarget>>> open_append_target(WpRuntime& runtime,
                                                               std::string name, bool keyed) {
  if (!runtime.config().quorum.enabled) {
    Result<std::unique_ptr<LogWriter>> writer =
        co_await runtime.client().open_writer(name, runtime.config().writer);
    if (!writer.ok()) co_return std::move(writer).error();
    co_return std::unique_ptr<AppendTarget>(new MemoryTarget(std::move(writer).value()));
  }
  if (keyed) {
    co_return make_error(Errc::invalid_argument,
                         "idempotent appends (--producer) are not supported in quorum mode");
  }
  Result<LogInfo> info = co_await runtime.client().get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  Result<std::unique_ptr<quorum::QuorumWriter>> writer = co_await quorum::QuorumWriter::open(
      runtime.env(), runtime.client().keys_for(*info), runtime.config().quorum.writer);
  if (!writer.ok()) co_return std::move(writer).error();
  co_return std::unique_ptr<AppendTarget>(new QuorumTarget(std::move(writer).value()));
}

}  // namespace wal::cli
