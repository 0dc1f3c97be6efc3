#pragma once
// GrpcRegistry: fills a GrpcDirectory (node id -> "host:port") from the LogStore registry in the
// MetaStore, <meta_root>logstores/<node id> = {"node": id, "address": "host:port", ...}, so the
// processes of a deployment (LogStore daemons, writers, readers) find each other by node id.
//
// start() reads the registry once, so the directory knows every registered node when it
// returns, then follows changes with a watch (re-reading after a compaction or a lost stream).
// A registration that goes away (a drained node, an expired lease) keeps its last address: a
// node cut off from the MetaStore still serves the segments it holds, and readers and recovery
// must still reach it. A registration without an address is ignored (in-process deployments).
// `static_addresses` (from a config file) are set first; a registered address replaces one.
//
// start() errors: the MetaStore's, for the first read (after read retries). Later failures are
// retried with a pause, never reported: the directory keeps what it knows meanwhile.
// Threading: start() and the watch run on env.executor; the directory itself is thread-safe.
// Destroying the GrpcRegistry stops the watch.

#include <map>
#include <memory>
#include <string>

#include "wal/async/scope.h"
#include "wal/async/task.h"
#include "wal/env/env.h"
#include "wal/real/grpc_network.h"

namespace wal {

class GrpcRegistry {
 public:
  static Task<Result<std::unique_ptr<GrpcRegistry>>> start(
      Env& env, std::string meta_root, std::shared_ptr<GrpcDirectory> directory,
      std::map<NodeId, std::string> static_addresses = {});
  ~GrpcRegistry();
  GrpcRegistry(const GrpcRegistry&) = delete;
  GrpcRegistry& operator=(const GrpcRegistry&) = delete;

  // Registry updates applied since start (for tests and logs).
  [[nodiscard]] uint64_t updates() const { return updates_; }

 private:
  GrpcRegistry(Env& env, std::string meta_root, std::shared_ptr<GrpcDirectory> directory);
  // Applies one registration value; false if it names no address.
  bool apply(const std::string& key, const std::string& value);
  Task<Result<int64_t>> read_all();  // returns the revision read at
  static Task<void> follow(GrpcRegistry& self, int64_t revision);

  Env& env_;
  std::string prefix_;
  std::shared_ptr<GrpcDirectory> directory_;
  uint64_t updates_ = 0;
  Scope scope_;  // last: destroyed first
};

}  // namespace wal
