// ClientRuntime (client_runtime.h): opening, the loop thread, and shutdown.
#include "client_runtime.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "wal/real/os_random.h"

namespace wal::client::detail {

namespace {

// ClientOptions::io_threads: more than 64 threads of blocking I/O is a typo, not a tuning.
constexpr uint32_t io_threads_max = 64;

Status check_options(const ClientOptions& options) {
  if (!options.config_file.empty() && !options.config_json.empty()) {
    return make_error(Errc::invalid_argument,
                      "ClientOptions: give config_file or config_json, not both");
  }
  if (options.io_threads == 0 || options.io_threads > io_threads_max) {
    return make_error(Errc::invalid_argument, "ClientOptions: io_threads must be in 1.." +
                                                  std::to_string(io_threads_max) + ", got " +
                                                  std::to_string(options.io_threads));
  }
  if (options.close_timeout.count() <= 0) {
    return make_error(Errc::invalid_argument, "ClientOptions: close_timeout must be positive");
  }
  return {};
}

Result<WalConfig> load_config(const ClientOptions& options) {
  Result<WalConfig> config =
      options.config_file.empty()
          ? parse_wal_config_text(options.config_json.empty() ? "{}" : options.config_json,
                                  "ClientOptions::config_json", process_environment())
          : load_wal_config_file(options.config_file, process_environment());
  if (!config.ok()) return config;
  if (!options.data_dir.empty()) config->data_dir = options.data_dir;
  if (!uses_data_dir(*config)) return config;
  if (config->data_dir.empty()) {
    return make_error(Errc::invalid_argument,
                      "config: no 'data_dir': the local object store and the SQLite metadata "
                      "keep their files there (or configure S3 and etcd)");
  }
  // Only the directory itself is made: a missing parent is more likely a typo than a wish.
  if (mkdir(config->data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    const int error = errno;
    return make_error(error == ENOENT ? Errc::not_found : Errc::io_error,
                      "cannot create data directory '" + config->data_dir +
                          "': " + std::strerror(error));
  }
  return config;
}

std::string describe_meta_store(const WalConfig& config) {
  switch (config.meta_store.type) {
    case MetaStoreConfig::Type::sqlite:
      return "meta store: SQLite " + config.data_dir + "/meta.sqlite";
    case MetaStoreConfig::Type::etcd: {
      std::string endpoints;
      for (const std::string& endpoint : config.meta_store.etcd.endpoints) {
        endpoints += (endpoints.empty() ? "" : ",") + endpoint;
      }
      return "meta store: etcd " + endpoints + " prefix " + config.meta_store.prefix;
    }
  }
  WAL_UNREACHABLE();
}

}  // namespace

ClientRuntime::ClientRuntime(WalConfig config, ClientOptions options)
    : config_(std::move(config)), options_(std::move(options)) {
  pool_ = std::make_unique<BlockingPool>(loop_, options_.io_threads);
  random_ = std::make_unique<Xoshiro256>(os_entropy_seed());
  scope_.emplace(loop_);
  thread_ = std::thread([this] { loop_.run_until_stopped(); });
  // Read by the loop thread only inside callbacks posted after this line (under the loop's
  // mutex), so the write is visible there.
  loop_thread_id_ = thread_.get_id();
}

ClientRuntime::~ClientRuntime() { ignore_result(close()); }  // its error was Client::close()'s

Result<std::shared_ptr<ClientRuntime>> ClientRuntime::open(ClientOptions options) {
  if (Status checked = check_options(options); !checked.ok()) return std::move(checked).error();
  Result<WalConfig> config = load_config(options);
  if (!config.ok()) return std::move(config).error();
  std::shared_ptr<ClientRuntime> runtime(
      new ClientRuntime(std::move(config).value(), std::move(options)));
  ClientRuntime* raw = runtime.get();
  Status opened = runtime->call_blocking<void>([raw] { return raw->open_stores(); },
                                               Outcome::definite);
  if (!opened.ok()) {
    ignore_result(runtime->close());  // nothing was open yet that could fail to close
    return std::move(opened).error();
  }
  return runtime;
}

Task<Status> ClientRuntime::open_stores() {
  Result<OpenedObjectStore> objects = co_await open_object_store(
      loop_, *pool_, config_.object_store, config_.data_dir + "/objects");
  if (!objects.ok()) co_return std::move(objects).error();
  objects_ = std::move(objects->store);
  // Without If-None-Match a fence object cannot stop a stale writer's PUT: re-read the epoch.
  if (!objects->create_only_enforced) config_.writer.fencing = FencingMode::meta_confirm;
  Result<std::unique_ptr<MetaStore>> meta =
      co_await open_meta_store(config_.meta_store, loop_, loop_, config_.data_dir);
  if (!meta.ok()) co_return std::move(meta).error();
  meta_ = std::move(meta).value();
  description_ = objects->description + "\n" + describe_meta_store(config_);
  env_.emplace(Env{loop_, loop_, *random_, faults_, objects_.get(), meta_.get(), nullptr,
                   nullptr});
  log_client_.emplace(*env_, wal::ClientOptions{.meta_root = config_.meta_store.prefix});
  co_return Status{};
}

bool ClientRuntime::post(std::function<void()> fn) {
  // The loop's post happens under mutex_, so every accepted call is queued before the drain
  // that close() queues after refusing new ones: none can run after the teardown.
  std::lock_guard lock(mutex_);
  if (!accepting_) return false;
  loop_.post(std::move(fn));
  return true;
}

bool ClientRuntime::on_loop_thread() const { return std::this_thread::get_id() == loop_thread_id_; }

LogClient& ClientRuntime::log_client() {
  WAL_ASSERT(on_loop_thread());
  WAL_ASSERT(log_client_.has_value());
  return *log_client_;
}

void ClientRuntime::spawn(Task<void> task) {
  WAL_ASSERT(on_loop_thread());
  WAL_ASSERT(scope_.has_value());
  scope_->spawn(std::move(task));
}

void ClientRuntime::add_writer(const std::shared_ptr<WriterCore>& core) {
  WAL_ASSERT(core->registry_id == 0);
  core->registry_id = next_registry_id_++;
  writers_.emplace(core->registry_id, core);
}

void ClientRuntime::add_reader(const std::shared_ptr<ReaderCore>& core) {
  WAL_ASSERT(core->registry_id == 0);
  core->registry_id = next_registry_id_++;
  readers_.emplace(core->registry_id, core);
}

void ClientRuntime::forget_writer(uint64_t registry_id) { writers_.erase(registry_id); }
void ClientRuntime::forget_reader(uint64_t registry_id) { readers_.erase(registry_id); }

Status ClientRuntime::close() {
  if (on_loop_thread()) {
    std::fputs("wal::client: a Client was closed or destroyed inside one of its own callbacks; "
               "its event loop thread cannot join itself\n",
               stderr);
    std::abort();
  }
  std::call_once(close_once_, [this] {
    auto drained = std::make_shared<std::promise<Status>>();
    std::future<Status> drained_status = drained->get_future();
    {
      std::lock_guard lock(mutex_);
      accepting_ = false;
      loop_.post([this, drained] { spawn(drain(drained)); });
    }
    thread_.join();
    close_status_ = drained_status.get();
    pool_.reset();  // finishes queued jobs (their results land in a loop nobody runs), joins
  });
  return close_status_;
}

// Closes every reader, and every writer with a time limit; then tears down on a later turn
// (a Scope must not be destroyed from inside one of its tasks).
Task<void> ClientRuntime::drain(std::shared_ptr<std::promise<Status>> drained) {
  shutting_down_ = true;
  for (auto& [registry_id, reader] : readers_) close_reader(*this, *reader);
  struct Progress {
    size_t pending = 1;  // one for the loop below, so a writer closed already cannot finish it
    Status first_error;
  };
  auto progress = std::make_shared<Progress>();
  Completion<bool> all_closed(loop_);
  auto one_closed = [progress, all_closed](const Status& status) mutable {
    if (!status.ok() && progress->first_error.ok()) progress->first_error = status;
    if (--progress->pending == 0) all_closed.set(true);
  };
  std::vector<std::shared_ptr<WriterCore>> writers;
  for (auto& [registry_id, writer] : writers_) writers.push_back(writer);
  for (const auto& writer : writers) {
    if (!writer->writer) continue;
    ++progress->pending;
    close_writer(*this, writer, one_closed);
  }
  one_closed(Status{});
  const TimerId deadline = loop_.call_at(loop_.now() + options_.close_timeout,
                                         [all_closed]() mutable { all_closed.set(false); });
  const bool in_time = co_await all_closed.wait();
  loop_.cancel(deadline);
  if (!in_time) {
    progress->first_error = make_unknown(
        Errc::timeout, std::to_string(progress->pending) +
                           " writer(s) did not finish closing within close_timeout; their "
                           "pending appends were abandoned (the next writer recovers them)");
  }
  drained->set_value(progress->first_error);
  loop_.post([this] { tear_down(); });
}

void ClientRuntime::tear_down() {
  WAL_ASSERT(on_loop_thread());
  scope_.reset();  // unfinished calls end here: their callbacks get closed
  for (auto& [registry_id, core] : writers_) core->writer.reset();
  for (auto& [registry_id, core] : readers_) core->reader.reset();
  writers_.clear();
  readers_.clear();
  log_client_.reset();
  env_.reset();
  meta_.reset();
  objects_.reset();
  loop_.stop();
}

}  // namespace wal::client::detail
