#pragma once
// ClientRuntime: what a wal::client::Client owns (wal/include/wal/client/client.h): the event
// loop and its thread, the blocking pool, the stores, the Env and the LogClient, the Scope the
// calls run in, and the writers and readers open on it. Internal to the client library.
//
// Threading: post(), call(), call_future(), call_blocking(), close() and describe() may be
// called from any thread. Everything else runs on the loop thread only (`// loop thread`).
//
// Lifetime: handles (Client, Writer, Reader) hold shared pointers to it. close() leaves it a
// shell: the loop thread joined, the stores, writers and readers destroyed (on the loop thread,
// before it ended), every later call refused with closed.

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "client_cores.h"
#include "wal/async/scope.h"
#include "wal/async/task.h"
#include "wal/client/client.h"
#include "wal/log/log_client.h"
#include "wal/real/event_loop.h"
#include "wal/real/wal_config.h"

namespace wal::client::detail {

// Produces, on the loop thread, the task an operation runs.
template <typename T>
using TaskFactory = std::function<Task<Result<T>>()>;

// Holds an operation's callback and calls it exactly once: with the result, or, when the
// operation is dropped unfinished (the client shut down), with closed and `if_dropped`.
template <typename T>
class OnceCallback {
 public:
  OnceCallback(Callback<T> done, Outcome if_dropped)
      : done_(std::move(done)), if_dropped_(if_dropped) {
    WAL_ASSERT(done_ != nullptr);
  }
  ~OnceCallback() {
    if (done_) {
      fire(Error{Errc::closed, if_dropped_, "the client shut down before the call finished"});
    }
  }
  OnceCallback(const OnceCallback&) = delete;
  OnceCallback& operator=(const OnceCallback&) = delete;

  void fire(Result<T> result) {
    WAL_ASSERT(done_ != nullptr);
    Callback<T> done = std::exchange(done_, nullptr);
    done(std::move(result));
  }

 private:
  Callback<T> done_;
  Outcome if_dropped_;
};

class ClientRuntime {
 public:
  // Parses the configuration, starts the loop thread and opens the stores (Client::open).
  [[nodiscard]] static Result<std::shared_ptr<ClientRuntime>> open(ClientOptions options);
  ~ClientRuntime();  // close()
  ClientRuntime(const ClientRuntime&) = delete;
  ClientRuntime& operator=(const ClientRuntime&) = delete;

  // Runs `fn` on the loop thread after everything posted before it. False once close() began:
  // `fn` is then destroyed unrun, on the calling thread.
  [[nodiscard]] bool post(std::function<void()> fn);

  // The one core under the three forms of every operation: runs `start()`'s task on the loop
  // thread and hands its result to `done` (OnceCallback says when it gets closed instead).
  template <typename T>
  void call(TaskFactory<T> start, Callback<T> done, Outcome if_dropped);
  template <typename T>
  std::future<Result<T>> call_future(TaskFactory<T> start, Outcome if_dropped);
  template <typename T>
  Result<T> call_blocking(TaskFactory<T> start, Outcome if_dropped);

  [[nodiscard]] bool on_loop_thread() const;
  // Client::close(). Aborts (with a message) on the loop thread, which cannot join itself.
  Status close();
  [[nodiscard]] const std::string& describe() const { return description_; }

  // loop thread:
  [[nodiscard]] EventLoop& loop() { return loop_; }
  [[nodiscard]] LogClient& log_client();
  [[nodiscard]] const WalConfig& config() const { return config_; }
  [[nodiscard]] bool shutting_down() const { return shutting_down_; }
  void spawn(Task<void> task);
  void add_writer(const std::shared_ptr<WriterCore>& core);
  void add_reader(const std::shared_ptr<ReaderCore>& core);
  void forget_writer(uint64_t registry_id);
  void forget_reader(uint64_t registry_id);

 private:
  ClientRuntime(WalConfig config, ClientOptions options);
  Task<Status> open_stores();
  Task<void> drain(std::shared_ptr<std::promise<Status>> drained);
  void tear_down();

  WalConfig config_;
  ClientOptions options_;
  std::string description_;  // written by open() before any other thread reads it
  EventLoop loop_;
  std::unique_ptr<BlockingPool> pool_;
  std::thread thread_;
  std::thread::id loop_thread_id_;

  std::mutex mutex_;
  bool accepting_ = true;  // guarded by mutex_
  std::once_flag close_once_;
  Status close_status_;

  // loop thread:
  std::unique_ptr<Random> random_;
  NoFaults faults_;
  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<MetaStore> meta_;
  std::optional<Env> env_;
  std::optional<LogClient> log_client_;
  std::optional<Scope> scope_;  // the calls; destroyed first at teardown
  bool shutting_down_ = false;
  uint64_t next_registry_id_ = 1;
  std::map<uint64_t, std::shared_ptr<WriterCore>> writers_;  // by registry id
  std::map<uint64_t, std::shared_ptr<ReaderCore>> readers_;
};

// Builds the handles (their constructors are private to the public API).
struct Handles {
  static Writer writer(std::shared_ptr<ClientRuntime> runtime, std::shared_ptr<WriterCore> core);
  static Reader reader(std::shared_ptr<ClientRuntime> runtime, std::shared_ptr<ReaderCore> core);
};

// The operations that open a writer or a reader (writer.cpp, reader.cpp).
[[nodiscard]] TaskFactory<Writer> open_writer_factory(std::shared_ptr<ClientRuntime> runtime,
                                                      const std::string& name);
[[nodiscard]] TaskFactory<Reader> open_reader_factory(std::shared_ptr<ClientRuntime> runtime,
                                                      const std::string& name, StartAt start);

template <typename T>
Task<void> run_call(Task<Result<T>> task, std::shared_ptr<OnceCallback<T>> once) {
  Result<T> result = co_await std::move(task);
  once->fire(std::move(result));
}

template <typename T>
void ClientRuntime::call(TaskFactory<T> start, Callback<T> done, Outcome if_dropped) {
  auto once = std::make_shared<OnceCallback<T>>(std::move(done), if_dropped);
  const bool posted = post([this, start = std::move(start), once] {
    spawn(run_call<T>(start(), once));
  });
  if (!posted) once->fire(make_error(Errc::closed, "the client is closed"));
}

template <typename T>
std::future<Result<T>> ClientRuntime::call_future(TaskFactory<T> start, Outcome if_dropped) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  std::future<Result<T>> future = promise->get_future();
  call<T>(
      std::move(start), [promise](Result<T> result) { promise->set_value(std::move(result)); },
      if_dropped);
  return future;
}

template <typename T>
Result<T> ClientRuntime::call_blocking(TaskFactory<T> start, Outcome if_dropped) {
  if (on_loop_thread()) {
    return make_error(Errc::invalid_argument,
                      "a blocking call inside a callback of the same client would deadlock; "
                      "use the _async form");
  }
  return call_future<T>(std::move(start), if_dropped).get();
}

}  // namespace wal::client::detail
