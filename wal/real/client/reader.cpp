// wal::client::Reader (wal/include/wal/client/reader.h) and its loop-thread core.
//
// A LogReader serves one next() at a time, and a next() that waits at the tail cannot be
// cancelled without destroying the reader's state. So reads with a timeout do not cancel it:
// each read queues a waiter, one "pump" task runs LogReader::next() while waiters are queued,
// and every result goes to the front waiter; a waiter whose timeout passes leaves the queue
// with nullopt, and a result that finds no waiter is kept for the next read.
#include "wal/client/reader.h"

#include "client_runtime.h"

namespace wal::client {

namespace detail {

namespace {

using ReadResult = Result<std::optional<Entry>>;

ReadResult to_read_result(Result<LogEntry> next) {
  if (!next.ok()) return std::move(next).error();
  return std::optional<Entry>(Entry{next->id, std::move(next->payload)});
}

// Hands `next` to the front waiter, or keeps it when nobody waits.
void deliver(ClientRuntime& runtime, ReaderCore& core, Result<LogEntry> next) {
  WAL_ASSERT(core.arrived.empty());
  if (core.waiters.empty()) {
    core.arrived.push_back(std::move(next));
    return;
  }
  ReaderCore::Waiter waiter = std::move(core.waiters.front());
  core.waiters.pop_front();
  if (waiter.timer) runtime.loop().cancel(*waiter.timer);
  waiter.done.set(to_read_result(std::move(next)));
}

Task<void> pump(ClientRuntime* runtime, std::shared_ptr<ReaderCore> core) {
  WAL_ASSERT(core->pumping);  // set by the read that spawned it (spawned tasks start later)
  while (!core->waiters.empty() && !core->closed && core->reader) {
    Result<LogEntry> next = co_await core->reader->next();
    if (core->closed) break;  // its waiters got closed already
    deliver(*runtime, *core, std::move(next));
  }
  core->pumping = false;
}

void expire(ClientRuntime& runtime, ReaderCore& core, uint64_t waiter_id) {
  WAL_ASSERT(runtime.on_loop_thread());
  for (auto it = core.waiters.begin(); it != core.waiters.end(); ++it) {
    if (it->waiter_id != waiter_id) continue;
    Completion<ReadResult> done = it->done;
    core.waiters.erase(it);
    done.set(std::optional<Entry>{});
    return;
  }
}

Task<ReadResult> read_task(ClientRuntime* runtime, std::shared_ptr<ReaderCore> core,
                           std::optional<std::chrono::milliseconds> timeout) {
  if (core->closed || !core->reader) co_return make_error(Errc::closed, "the reader is closed");
  if (!core->arrived.empty()) {
    WAL_ASSERT(core->waiters.empty());
    Result<LogEntry> next = std::move(core->arrived.front());
    core->arrived.pop_front();
    co_return to_read_result(std::move(next));
  }
  ReaderCore::Waiter waiter{core->next_waiter_id++, Completion<ReadResult>(runtime->loop()), {}};
  if (timeout) {
    std::weak_ptr<ReaderCore> weak = core;
    waiter.timer = runtime->loop().call_at(
        runtime->loop().now() + *timeout, [runtime, weak, waiter_id = waiter.waiter_id] {
          if (std::shared_ptr<ReaderCore> alive = weak.lock()) expire(*runtime, *alive, waiter_id);
        });
  }
  Completion<ReadResult> done = waiter.done;
  core->waiters.push_back(std::move(waiter));
  if (!core->pumping) {
    core->pumping = true;
    runtime->spawn(pump(runtime, core));
  }
  co_return co_await done.wait();
}

Task<Result<Entry>> next_task(ClientRuntime* runtime, std::shared_ptr<ReaderCore> core) {
  ReadResult read = co_await read_task(runtime, std::move(core), std::nullopt);
  if (!read.ok()) co_return std::move(read).error();
  WAL_ASSERT(read->has_value());  // only a timeout ends a read without an entry
  co_return std::move(**read);
}

Task<Result<Reader>> open_reader_task(std::shared_ptr<ClientRuntime> runtime, std::string name,
                                      StartAt start) {
  ReadPosition position = ReadPosition::earliest();
  switch (start.kind) {
    case StartAt::Kind::earliest: break;
    case StartAt::Kind::latest: position = ReadPosition::latest(); break;
    case StartAt::Kind::id: position = ReadPosition::at(start.entry_id); break;
  }
  Result<std::unique_ptr<LogReader>> opened = co_await runtime->log_client().open_reader(
      std::move(name), position, runtime->config().reader);
  if (!opened.ok()) co_return std::move(opened).error();
  if (runtime->shutting_down()) co_return make_error(Errc::closed, "the client is closing");
  auto core = std::make_shared<ReaderCore>();
  core->reader = std::move(opened).value();
  runtime->add_reader(core);
  co_return Handles::reader(std::move(runtime), std::move(core));
}

Task<Status> close_task(ClientRuntime* runtime, std::shared_ptr<ReaderCore> core) {
  close_reader(*runtime, *core);
  co_return Status{};
}

TaskFactory<Entry> next_factory(ClientRuntime* runtime, std::shared_ptr<ReaderCore> core) {
  WAL_ASSERT(core != nullptr);  // a moved-from handle
  return [runtime, core = std::move(core)] { return next_task(runtime, core); };
}

TaskFactory<std::optional<Entry>> next_for_factory(ClientRuntime* runtime,
                                                   std::shared_ptr<ReaderCore> core,
                                                   std::chrono::milliseconds timeout) {
  WAL_ASSERT(core != nullptr);  // a moved-from handle
  if (timeout.count() < 0) timeout = std::chrono::milliseconds(0);
  return [runtime, core = std::move(core), timeout] {
    return read_task(runtime, core, timeout);
  };
}

}  // namespace

TaskFactory<Reader> open_reader_factory(std::shared_ptr<ClientRuntime> runtime,
                                        const std::string& name, StartAt start) {
  return [runtime = std::move(runtime), name, start] {
    return open_reader_task(runtime, name, start);
  };
}

void close_reader(ClientRuntime& runtime, ReaderCore& core) {
  WAL_ASSERT(runtime.on_loop_thread());
  if (core.closed) return;
  core.closed = true;
  if (core.reader) core.reader->close();
  core.arrived.clear();
  std::deque<ReaderCore::Waiter> waiting = std::exchange(core.waiters, {});
  for (ReaderCore::Waiter& waiter : waiting) {
    if (waiter.timer) runtime.loop().cancel(*waiter.timer);
    waiter.done.set(make_error(Errc::closed, "the reader was closed"));
  }
}

Reader Handles::reader(std::shared_ptr<ClientRuntime> runtime, std::shared_ptr<ReaderCore> core) {
  return Reader(std::move(runtime), std::move(core));
}

}  // namespace detail

Reader::Reader(std::shared_ptr<detail::ClientRuntime> runtime,
               std::shared_ptr<detail::ReaderCore> core)
    : runtime_(std::move(runtime)), core_(std::move(core)) {
  WAL_ASSERT(runtime_ != nullptr);
  WAL_ASSERT(core_ != nullptr);
}

Reader::Reader(Reader&& other) noexcept = default;
Reader& Reader::operator=(Reader&& other) noexcept {
  if (this != &other) {
    release();
    runtime_ = std::move(other.runtime_);
    core_ = std::move(other.core_);
  }
  return *this;
}
Reader::~Reader() { release(); }

// As Writer::release: the loop thread closes the reader and forgets it, and the LogReader dies
// there (or in the pump task that still holds it, also there).
void Reader::release() {
  if (!core_) return;
  detail::ClientRuntime* runtime = runtime_.get();
  const bool posted = runtime->post([runtime, core = std::move(core_)] {
    detail::close_reader(*runtime, *core);
    runtime->forget_reader(core->registry_id);
  });
  WAL_MAYBE(posted);  // refused: the client closed, which closed and destroyed the LogReader
  runtime_.reset();
}

// Reads are definite when dropped at shutdown: nothing was consumed that a new reader at the
// same position would not return again.
Result<Entry> Reader::next() {
  return runtime_->call_blocking(detail::next_factory(runtime_.get(), core_), Outcome::definite);
}
std::future<Result<Entry>> Reader::next_async() {
  return runtime_->call_future(detail::next_factory(runtime_.get(), core_), Outcome::definite);
}
void Reader::next_async(Callback<Entry> done) {
  runtime_->call(detail::next_factory(runtime_.get(), core_), std::move(done), Outcome::definite);
}

Result<std::optional<Entry>> Reader::next_for(std::chrono::milliseconds timeout) {
  return runtime_->call_blocking(detail::next_for_factory(runtime_.get(), core_, timeout),
                                 Outcome::definite);
}
std::future<Result<std::optional<Entry>>> Reader::next_for_async(
    std::chrono::milliseconds timeout) {
  return runtime_->call_future(detail::next_for_factory(runtime_.get(), core_, timeout),
                               Outcome::definite);
}
void Reader::next_for_async(std::chrono::milliseconds timeout,
                            Callback<std::optional<Entry>> done) {
  runtime_->call(detail::next_for_factory(runtime_.get(), core_, timeout), std::move(done),
                 Outcome::definite);
}

Status Reader::close() {
  WAL_ASSERT(core_ != nullptr);  // a moved-from handle
  detail::ClientRuntime* runtime = runtime_.get();
  detail::TaskFactory<void> factory = [runtime, core = core_] {
    return detail::close_task(runtime, core);
  };
  return runtime_->call_blocking(std::move(factory), Outcome::definite);
}

}  // namespace wal::client
