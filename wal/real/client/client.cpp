// wal::client::Client (wal/include/wal/client/client.h): each operation is one task factory,
// run in its three forms by ClientRuntime::call / call_future / call_blocking.
#include "wal/client/client.h"

#include <algorithm>

#include "client_runtime.h"

namespace wal::client {

using detail::ClientRuntime;
using detail::TaskFactory;
using detail::open_reader_factory;
using detail::open_writer_factory;

namespace {

Task<Status> create_log_task(ClientRuntime* runtime, std::string name) {
  Result<LogInfo> created = co_await runtime->log_client().create_log(std::move(name));
  if (!created.ok()) co_return std::move(created).error();
  co_return Status{};
}

Task<Status> delete_log_task(ClientRuntime* runtime, std::string name) {
  co_return co_await runtime->log_client().delete_log(std::move(name));
}

Task<Result<std::vector<std::string>>> list_logs_task(ClientRuntime* runtime) {
  Result<std::vector<LogInfo>> logs = co_await runtime->log_client().list_logs();
  if (!logs.ok()) co_return std::move(logs).error();
  std::vector<std::string> names;
  for (const LogInfo& info : *logs) names.push_back(info.name);
  std::sort(names.begin(), names.end());
  co_return names;
}

Task<Status> truncate_task(ClientRuntime* runtime, std::string name, EntryId first_kept) {
  co_return co_await runtime->log_client().truncate(std::move(name), first_kept);
}

Task<Result<GarbageReport>> collect_garbage_task(ClientRuntime* runtime, std::string name) {
  Result<GcReport> report = co_await runtime->log_client().collect_garbage(std::move(name));
  if (!report.ok()) co_return std::move(report).error();
  co_return GarbageReport{report->segments_deleted, report->objects_deleted,
                          report->orphans_deleted};
}

TaskFactory<void> create_log_factory(ClientRuntime* runtime, const std::string& name) {
  return [runtime, name] { return create_log_task(runtime, name); };
}
TaskFactory<void> delete_log_factory(ClientRuntime* runtime, const std::string& name) {
  return [runtime, name] { return delete_log_task(runtime, name); };
}
TaskFactory<std::vector<std::string>> list_logs_factory(ClientRuntime* runtime) {
  return [runtime] { return list_logs_task(runtime); };
}
TaskFactory<void> truncate_factory(ClientRuntime* runtime, const std::string& name,
                                   EntryId first_kept) {
  return [runtime, name, first_kept] { return truncate_task(runtime, name, first_kept); };
}
TaskFactory<GarbageReport> collect_garbage_factory(ClientRuntime* runtime,
                                                   const std::string& name) {
  return [runtime, name] { return collect_garbage_task(runtime, name); };
}

}  // namespace

Result<Client> Client::open(ClientOptions options) {
  Result<std::shared_ptr<ClientRuntime>> runtime = ClientRuntime::open(std::move(options));
  if (!runtime.ok()) return std::move(runtime).error();
  return Client(std::move(runtime).value());
}

Client::Client(std::shared_ptr<ClientRuntime> runtime) : runtime_(std::move(runtime)) {
  WAL_ASSERT(runtime_ != nullptr);
}
Client::Client(Client&& other) noexcept = default;
Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    if (runtime_) ignore_result(runtime_->close());  // as the destructor would
    runtime_ = std::move(other.runtime_);
  }
  return *this;
}
Client::~Client() {
  if (runtime_) ignore_result(runtime_->close());  // callers who want the error call close()
}

Status Client::close() {
  WAL_ASSERT(runtime_ != nullptr);
  return runtime_->close();
}

std::string Client::describe() const {
  WAL_ASSERT(runtime_ != nullptr);
  return runtime_->describe();
}

// Mutations are unknown when dropped at shutdown (they may have happened); reads definite.
Status Client::create_log(const std::string& name) {
  return runtime_->call_blocking(create_log_factory(runtime_.get(), name), Outcome::unknown);
}
std::future<Status> Client::create_log_async(const std::string& name) {
  return runtime_->call_future(create_log_factory(runtime_.get(), name), Outcome::unknown);
}
void Client::create_log_async(const std::string& name, Callback<void> done) {
  runtime_->call(create_log_factory(runtime_.get(), name), std::move(done), Outcome::unknown);
}

Status Client::delete_log(const std::string& name) {
  return runtime_->call_blocking(delete_log_factory(runtime_.get(), name), Outcome::unknown);
}
std::future<Status> Client::delete_log_async(const std::string& name) {
  return runtime_->call_future(delete_log_factory(runtime_.get(), name), Outcome::unknown);
}
void Client::delete_log_async(const std::string& name, Callback<void> done) {
  runtime_->call(delete_log_factory(runtime_.get(), name), std::move(done), Outcome::unknown);
}

Result<std::vector<std::string>> Client::list_logs() {
  return runtime_->call_blocking(list_logs_factory(runtime_.get()), Outcome::definite);
}
std::future<Result<std::vector<std::string>>> Client::list_logs_async() {
  return runtime_->call_future(list_logs_factory(runtime_.get()), Outcome::definite);
}
void Client::list_logs_async(Callback<std::vector<std::string>> done) {
  runtime_->call(list_logs_factory(runtime_.get()), std::move(done), Outcome::definite);
}

Status Client::truncate(const std::string& name, EntryId first_kept) {
  return runtime_->call_blocking(truncate_factory(runtime_.get(), name, first_kept),
                                 Outcome::unknown);
}
std::future<Status> Client::truncate_async(const std::string& name, EntryId first_kept) {
  return runtime_->call_future(truncate_factory(runtime_.get(), name, first_kept),
                               Outcome::unknown);
}
void Client::truncate_async(const std::string& name, EntryId first_kept, Callback<void> done) {
  runtime_->call(truncate_factory(runtime_.get(), name, first_kept), std::move(done),
                 Outcome::unknown);
}

Result<GarbageReport> Client::collect_garbage(const std::string& name) {
  return runtime_->call_blocking(collect_garbage_factory(runtime_.get(), name), Outcome::unknown);
}
std::future<Result<GarbageReport>> Client::collect_garbage_async(const std::string& name) {
  return runtime_->call_future(collect_garbage_factory(runtime_.get(), name), Outcome::unknown);
}
void Client::collect_garbage_async(const std::string& name, Callback<GarbageReport> done) {
  runtime_->call(collect_garbage_factory(runtime_.get(), name), std::move(done),
                 Outcome::unknown);
}

Result<Writer> Client::open_writer(const std::string& name) {
  return runtime_->call_blocking(open_writer_factory(runtime_, name), Outcome::unknown);
}
std::future<Result<Writer>> Client::open_writer_async(const std::string& name) {
  return runtime_->call_future(open_writer_factory(runtime_, name), Outcome::unknown);
}
void Client::open_writer_async(const std::string& name, Callback<Writer> done) {
  runtime_->call(open_writer_factory(runtime_, name), std::move(done), Outcome::unknown);
}

Result<Reader> Client::open_reader(const std::string& name, StartAt start) {
  return runtime_->call_blocking(open_reader_factory(runtime_, name, start), Outcome::definite);
}
std::future<Result<Reader>> Client::open_reader_async(const std::string& name, StartAt start) {
  return runtime_->call_future(open_reader_factory(runtime_, name, start), Outcome::definite);
}
void Client::open_reader_async(const std::string& name, StartAt start, Callback<Reader> done) {
  runtime_->call(open_reader_factory(runtime_, name, start), std::move(done), Outcome::definite);
}

}  // namespace wal::client
