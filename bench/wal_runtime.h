#pragma once
// The process around the WAL for the benchmark, wired as `wp` wires it (wal/cli/wp_runtime.cpp):
// an EventLoop, a BlockingPool, LocalObjectStore under <dir>/objects (or an S3ObjectStore) and
// the configured MetaStore (SqliteMetaStore in <dir>/meta.sqlite by default, or etcd), each
// behind a counting pass-through (counting_stores.h), an Env with NoFaults, and a LogClient over
// it.

#include <memory>
#include <optional>
#include <string>

#include "counting_stores.h"
#include "wal/env/env.h"
#include "wal/env/fault_points.h"
#include "wal/env/random.h"
#include "wal/log/log_client.h"
#include "wal/real/etcd_config.h"
#include "wal/real/event_loop.h"
#include "wal/real/s3_object_store.h"

namespace wal::bench {

class WalRuntime {
 public:
  // wp uses 4 pool threads: one per PUT the writer keeps in flight by default.
  static constexpr size_t pool_threads_count = 4;

  // Creates `dir` if needed and opens both stores in it; with `s3`, the objects go to that S3
  // bucket instead (S3ObjectStore::open without the capability probe). The stores' open errors.
  [[nodiscard]] static Result<std::unique_ptr<WalRuntime>> open(
      const std::string& dir, const MetaStoreConfig& meta_config = {},
      const std::optional<S3Options>& s3 = std::nullopt);
  ~WalRuntime();
  WalRuntime(const WalRuntime&) = delete;
  WalRuntime& operator=(const WalRuntime&) = delete;

  template <typename T>
  T run(Task<T> task) {
    return loop_.run(std::move(task));
  }
  EventLoop& loop() { return loop_; }
  LogClient& client() { return *client_; }
  CountingObjectStore& objects() { return *counting_objects_; }
  CountingMetaStore& meta() { return *counting_meta_; }
  MetaStore& meta_store() { return *meta_; }  // under the counting pass-through

 private:
  WalRuntime() = default;
  EventLoop loop_;
  std::unique_ptr<BlockingPool> pool_;
  std::unique_ptr<Random> random_;
  NoFaults faults_;
  std::unique_ptr<ObjectStore> objects_;
  std::unique_ptr<MetaStore> meta_;
  std::unique_ptr<CountingObjectStore> counting_objects_;
  std::unique_ptr<CountingMetaStore> counting_meta_;
  std::optional<Env> env_;
  std::optional<LogClient> client_;
};

}  // namespace wal::bench
