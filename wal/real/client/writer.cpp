// wal::client::Writer (wal/include/wal/client/writer.h) and its loop-thread core.
#include "wal/client/writer.h"

#include "client_runtime.h"

namespace wal::client {

namespace detail {

namespace {

Task<Result<Writer>> open_writer_task(std::shared_ptr<ClientRuntime> runtime, std::string name) {
  Result<std::unique_ptr<LogWriter>> opened =
      co_await runtime->log_client().open_writer(std::move(name), runtime->config().writer);
  if (!opened.ok()) co_return std::move(opened).error();
  if (runtime->shutting_down()) {
    // The drain has collected the writers to close already; this one would escape it. It is
    // dropped as a crash would drop it: the next writer recovers its (empty) segment.
    co_return make_error(Errc::closed, "the client is closing");
  }
  auto core = std::make_shared<WriterCore>();
  core->writer = std::move(opened).value();
  runtime->add_writer(core);
  co_return Handles::writer(std::move(runtime), std::move(core));
}

Task<Result<EntryId>> append_task(std::shared_ptr<WriterCore> core, Bytes payload,
                                  std::optional<AppendKey> key) {
  if (!core->writer) co_return make_error(Errc::closed, "the writer is closed");
  co_return co_await core->writer->append(std::move(payload), key);
}

Task<Status> run_writer_close(std::shared_ptr<WriterCore> core) {
  WAL_ASSERT(core->close_started);
  WAL_ASSERT(!core->close_result.has_value());
  // Not `writer ? co_await ... : error`: GCC 12 frees a wrong temporary for a co_await inside
  // ?: (free(): invalid pointer at close).
  Status status = make_error(Errc::closed, "the writer is closed");
  if (core->writer) status = co_await core->writer->close();
  core->close_result = status;
  std::vector<std::function<void(const Status&)>> waiting = std::exchange(core->on_closed, {});
  for (auto& done : waiting) done(status);
  co_return status;
}

Task<void> run_writer_close_detached(std::shared_ptr<WriterCore> core) {
  ignore_result(co_await run_writer_close(std::move(core)));  // its waiters got the result
}

Task<Status> close_task(ClientRuntime* runtime, std::shared_ptr<WriterCore> core) {
  Completion<Status> closed(runtime->loop());
  close_writer(*runtime, core, [closed](const Status& status) mutable { closed.set(status); });
  co_return co_await closed.wait();
}

Task<Result<std::optional<ProducerPosition>>> last_appended_task(
    std::shared_ptr<WriterCore> core, uint64_t producer_id) {
  if (!core->writer) co_return make_error(Errc::closed, "the writer is closed");
  const std::optional<ProducerTable::Last> last = core->writer->producers().find(producer_id);
  if (!last) co_return std::optional<ProducerPosition>{};
  co_return std::optional<ProducerPosition>(ProducerPosition{last->sequence, last->entry_id});
}

TaskFactory<void> close_factory(ClientRuntime* runtime, std::shared_ptr<WriterCore> core) {
  WAL_ASSERT(core != nullptr);  // a moved-from handle
  return [runtime, core = std::move(core)] { return close_task(runtime, core); };
}

TaskFactory<EntryId> append_factory(std::shared_ptr<WriterCore> core, Bytes payload,
                                    std::optional<AppendKey> key) {
  WAL_ASSERT(core != nullptr);  // a moved-from handle
  return [core = std::move(core), payload = std::move(payload), key]() mutable {
    return append_task(core, std::move(payload), key);
  };
}

}  // namespace

TaskFactory<Writer> open_writer_factory(std::shared_ptr<ClientRuntime> runtime,
                                        const std::string& name) {
  return [runtime = std::move(runtime), name] { return open_writer_task(runtime, name); };
}

void close_writer(ClientRuntime& runtime, const std::shared_ptr<WriterCore>& core,
                  std::function<void(const Status&)> done) {
  WAL_ASSERT(runtime.on_loop_thread());
  if (core->close_result.has_value()) {
    done(*core->close_result);
    return;
  }
  core->on_closed.push_back(std::move(done));
  if (core->close_started) return;
  core->close_started = true;
  runtime.spawn(run_writer_close_detached(core));
}

Writer Handles::writer(std::shared_ptr<ClientRuntime> runtime, std::shared_ptr<WriterCore> core) {
  return Writer(std::move(runtime), std::move(core));
}

}  // namespace detail

using detail::append_factory;
using detail::TaskFactory;

Writer::Writer(std::shared_ptr<detail::ClientRuntime> runtime,
               std::shared_ptr<detail::WriterCore> core)
    : runtime_(std::move(runtime)), core_(std::move(core)) {
  WAL_ASSERT(runtime_ != nullptr);
  WAL_ASSERT(core_ != nullptr);
}

Writer::Writer(Writer&& other) noexcept = default;
Writer& Writer::operator=(Writer&& other) noexcept {
  if (this != &other) {
    release();
    runtime_ = std::move(other.runtime_);
    core_ = std::move(other.core_);
  }
  return *this;
}
Writer::~Writer() { release(); }

// Hands the core to the loop thread, which closes the writer (unless that began already) and
// then forgets it. The last reference may drop there, so the LogWriter dies on its thread.
void Writer::release() {
  if (!core_) return;
  detail::ClientRuntime* runtime = runtime_.get();
  const bool posted = runtime->post([runtime, core = std::move(core_)] {
    core->released = true;
    const uint64_t registry_id = core->registry_id;
    detail::close_writer(*runtime, core,
                         [runtime, registry_id](const Status&) {
                           runtime->forget_writer(registry_id);
                         });
  });
  WAL_MAYBE(posted);  // refused: the client closed, which closed and destroyed the LogWriter
  runtime_.reset();
}

// Appends are unknown when dropped at shutdown: the entry may be durable already.
Result<EntryId> Writer::append(ByteView payload) {
  return runtime_->call_blocking(append_factory(core_, Bytes(payload.begin(), payload.end()), {}),
                                 Outcome::unknown);
}
Result<EntryId> Writer::append(ByteView payload, AppendKey key) {
  return runtime_->call_blocking(
      append_factory(core_, Bytes(payload.begin(), payload.end()), key), Outcome::unknown);
}
std::future<Result<EntryId>> Writer::append_async(Bytes payload) {
  return runtime_->call_future(append_factory(core_, std::move(payload), {}), Outcome::unknown);
}
std::future<Result<EntryId>> Writer::append_async(Bytes payload, AppendKey key) {
  return runtime_->call_future(append_factory(core_, std::move(payload), key), Outcome::unknown);
}
void Writer::append_async(Bytes payload, Callback<EntryId> done) {
  runtime_->call(append_factory(core_, std::move(payload), {}), std::move(done),
                 Outcome::unknown);
}
void Writer::append_async(Bytes payload, AppendKey key, Callback<EntryId> done) {
  runtime_->call(append_factory(core_, std::move(payload), key), std::move(done),
                 Outcome::unknown);
}

Result<std::optional<ProducerPosition>> Writer::last_appended(uint64_t producer_id) {
  WAL_ASSERT(core_ != nullptr);  // a moved-from handle
  TaskFactory<std::optional<ProducerPosition>> factory = [core = core_, producer_id] {
    return detail::last_appended_task(core, producer_id);
  };
  return runtime_->call_blocking(std::move(factory), Outcome::definite);
}

Status Writer::close() {
  return runtime_->call_blocking(detail::close_factory(runtime_.get(), core_), Outcome::unknown);
}
std::future<Status> Writer::close_async() {
  return runtime_->call_future(detail::close_factory(runtime_.get(), core_), Outcome::unknown);
}
void Writer::close_async(Callback<void> done) {
  runtime_->call(detail::close_factory(runtime_.get(), core_), std::move(done), Outcome::unknown);
}

}  // namespace wal::client
