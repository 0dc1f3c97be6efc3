#pragma once
// wal::client::Client: the WAL as a library. Opens the stores a JSON configuration names (local
// files or S3 for the data, SQLite or etcd for the metadata; docs/api.md), and creates, lists,
// truncates and deletes logs, and opens writers (wal/client/writer.h) and readers
// (wal/client/reader.h) on them.
//
//   auto client = wal::client::Client::open({.config_json = R"({"data_dir": "/tmp/wal"})"});
//   if (!client) { fprintf(stderr, "%s\n", client.error().describe().c_str()); return 1; }
//   (void)client->create_log("orders");           // already_exists on a second run
//   auto writer = client->open_writer("orders");
//   wal::Result<wal::client::EntryId> id = writer->append(wal::as_bytes("hello"));
//
// Threading. The client owns one event loop thread on which all WAL work runs, and a few
// threads for blocking file and SQLite calls. Every method of Client, Writer and Reader may be
// called from any thread, concurrently; calls from one thread take effect in call order. Each
// operation comes in three forms over the same core:
//   op(args)                  blocks the calling thread until the operation finished;
//   op_async(args)            returns a std::future of the same result;
//   op_async(args, callback)  calls `callback` once with the result (wal/client/types.h says
//                             on which thread), and never blocks.
// A blocking call (or future::get) made on the event loop thread, i.e. inside a callback, fails
// with invalid_argument rather than deadlocking.
//
// Shutdown. close() (also run by the destructor) refuses new calls, closes every open writer
// (waiting for its accepted appends and sealing its segment, up to ClientOptions::close_timeout)
// and reader, then stops the event loop and joins every thread the client started. An
// operation still running when the time is up is abandoned, and its callback or future gets
// Errc::closed: with Outcome::unknown for a mutation (an append may be durable nonetheless;
// the next writer recovers it) and definite for a read. Writers and readers may outlive the
// client: their calls then fail with closed (definite). A client must not be closed or
// destroyed from one of its own callbacks (that aborts the process with a message: the event
// loop thread cannot join itself).
//
// Errors common to every call: closed (definite) after close(); the stores' errors once the
// WAL's own retries are exhausted (unavailable, timeout, permission_denied, io_error,
// no_space: a mutation that times out is unknown, everything else definite). Each method lists
// its own.

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "wal/client/reader.h"
#include "wal/client/types.h"
#include "wal/client/version.h"
#include "wal/client/writer.h"

namespace wal::client {

namespace detail {
class ClientRuntime;
}

struct ClientOptions {
  // The JSON configuration (docs/api.md, "Configuration"): the path of a file, or the text
  // itself. At most one of the two; with neither, "{}" (embedded stores, so data_dir is needed).
  std::string config_file;
  std::string config_json;
  // Overrides the configuration's "data_dir" when not empty.
  std::string data_dir;
  // Threads for blocking file I/O (the local object store; SQLite keeps threads of its own).
  // 4: enough to keep the writer's default 4 PUTs in flight at once. 1..64.
  uint32_t io_threads = 4;
  // How long close() waits for open writers to finish their accepted appends and seal. An
  // unreachable store would otherwise hold shutdown forever; what is abandoned is recovered by
  // the next writer. At least 1 ms.
  std::chrono::milliseconds close_timeout{30'000};
};

class Client {
 public:
  // Parses the configuration, creates data_dir if it is missing (not its parents), opens the
  // stores (an S3 store is probed for conditional PUTs; without If-None-Match writers fence by
  // MetaStore re-read) and starts the event loop thread. Errors: invalid_argument (a bad
  // configuration or option: the message names the key), not_found (a config file or
  // data_dir's parent is missing), and the stores' open errors (permission_denied for wrong
  // credentials, unavailable for an unreachable server, ...), all definite.
  [[nodiscard]] static Result<Client> open(ClientOptions options);

  Client(Client&& other) noexcept;
  Client& operator=(Client&& other) noexcept;
  ~Client();  // close()

  // See "Shutdown" above. ok, or the first error a writer's close met (its appends were then
  // failed as the writer reports them). A second call returns ok at once.
  Status close();

  // One line per store: which one, where, what it enforces and the fencing mode in use.
  [[nodiscard]] std::string describe() const;

  // Creates an empty log. Names: 1..200 bytes of [A-Za-z0-9._-]. Errors: invalid_argument
  // (bad name), already_exists (definite).
  Status create_log(const std::string& name);
  std::future<Status> create_log_async(const std::string& name);
  void create_log_async(const std::string& name, Callback<void> done);

  // Deletes a log's metadata, then its objects. A writer still open on it fails at its next
  // metadata update. Errors: not_found.
  Status delete_log(const std::string& name);
  std::future<Status> delete_log_async(const std::string& name);
  void delete_log_async(const std::string& name, Callback<void> done);

  // The names of every log, sorted.
  Result<std::vector<std::string>> list_logs();
  std::future<Result<std::vector<std::string>>> list_logs_async();
  void list_logs_async(Callback<std::vector<std::string>> done);

  // Entries below `first_kept` are gone: readers stop returning them at once (out_of_range),
  // and collect_garbage() frees the storage of whole segments below the point. Never moves the
  // point backwards (a smaller id is a no-op). Needs no writer. Errors: not_found.
  Status truncate(const std::string& name, EntryId first_kept);
  std::future<Status> truncate_async(const std::string& name, EntryId first_kept);
  void truncate_async(const std::string& name, EntryId first_kept, Callback<void> done);

  // Deletes the objects of sealed segments wholly below the truncation point and orphaned
  // objects. Safe with writers and readers open and from several processes. Errors: not_found.
  Result<GarbageReport> collect_garbage(const std::string& name);
  std::future<Result<GarbageReport>> collect_garbage_async(const std::string& name);
  void collect_garbage_async(const std::string& name, Callback<GarbageReport> done);

  // Opens the log's single writer: fences any earlier writer (in any process) by epoch, recovers
  // what it left and opens a new segment (Writer says what appends guarantee). Errors:
  // not_found (no such log), fenced (another writer opened at the same moment and won),
  // corrupt (metadata or a block is malformed).
  Result<Writer> open_writer(const std::string& name);
  std::future<Result<Writer>> open_writer_async(const std::string& name);
  void open_writer_async(const std::string& name, Callback<Writer> done);

  // Opens a reader at `start` (any number per log, in any process). Errors: not_found.
  Result<Reader> open_reader(const std::string& name, StartAt start = StartAt::earliest());
  std::future<Result<Reader>> open_reader_async(const std::string& name, StartAt start);
  void open_reader_async(const std::string& name, StartAt start, Callback<Reader> done);

 private:
  explicit Client(std::shared_ptr<detail::ClientRuntime> runtime);
  std::shared_ptr<detail::ClientRuntime> runtime_;
};

}  // namespace wal::client
