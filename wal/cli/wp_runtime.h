#pragma once
// The process around the WAL for the `wp` tool: the event loop, a blocking pool, the embedded
// stores under the data directory, and the options read from a JSON config file.
#include <memory>
#include <optional>
#include <string>

#include "config_planted_bug.h"
#include "config_quorum.h"
#include "wal/env/env.h"
#include "wal/log/log_client.h"
#include "wal/real/etcd_config.h"
#include "wal/real/event_loop.h"
#include "wal/real/s3_config.h"

namespace wal::cli {

// How a command uses the data directory. create: `log create` makes the directory and the
// stores if missing. read_write: they must exist. read_only: they must exist, nothing is
// written, and a read-only directory (a copy on read-only media) works.
enum class StoreAccess : uint8_t { create, read_write, read_only };

struct WpConfig {
  std::string data_dir;
  ObjectStoreConfig object_store;  // default: local, in <data_dir>/objects
  WriterOptions writer;
  ReaderOptions reader;
  MetaStoreConfig meta_store;  // "meta_store" section: SQLite (default) or etcd
  QuorumClientConfig quorum;   // "mode": "quorum" and the "quorum" section (config_quorum.h)
};

struct QuorumClientParts;  // wp_quorum_runtime.h

// Reads a JSON config file ({"data_dir": ..., "writer": {...}, "reader": {...},
// "object_store": {...} (wal/real/s3_config.h), "meta_store": {...}}) over `config`.
// Unknown keys are errors, so a typo never silently falls back to a default; so are values of
// the wrong type (null, arrays, strings where numbers belong) and numbers outside their range
// (docs/cli.md lists them). invalid_argument naming the key; not_found if the file is missing.
[[nodiscard]] Status load_config_file(const std::string& path, WpConfig& config);

class WpRuntime {
 public:
  // Opens the stores under config.data_dir and checks that they belong together
  // (check_store_identity). invalid_argument: no data directory given; not_found: the data
  // directory or its stores do not exist (and `access` is not create); failed_precondition-like
  // corrupt errors from the identity check; the stores' open errors.
  static Result<std::unique_ptr<WpRuntime>> open(const WpConfig& config, StoreAccess access);
  ~WpRuntime();

  template <typename T>
  T run(Task<T> task) {
    return loop_.run(std::move(task));
  }
  LogClient& client() { return *client_; }
  Env& env() { return *env_; }
  EventLoop& loop() { return loop_; }
  BlockingPool& pool() { return *pool_; }
  const WpConfig& config() const { return config_; }

 private:
  explicit WpRuntime(WpConfig config);
  // The two stores as `access` allows: local objects and SQLite read-only when it says so;
  // S3 and etcd through their own openers.
  [[nodiscard]] Status open_objects(StoreAccess access);
  [[nodiscard]] Status open_meta(StoreAccess access);
  WpConfig config_;
  EventLoop loop_;
  std::unique_ptr<BlockingPool> pool_;
  std::unique_ptr<Random> random_;
  PlantedBugFaults faults_;  // nothing planted but in test builds (config_planted_bug.h)
  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<MetaStore> meta_;
  std::optional<Env> env_;
  std::unique_ptr<SegmentReplicas> replicas_;  // QuorumBuffer mode: readers' LogStores
  std::optional<LogClient> client_;
  std::unique_ptr<QuorumClientParts> quorum_;  // QuorumBuffer mode only
};

}  // namespace wal::cli
