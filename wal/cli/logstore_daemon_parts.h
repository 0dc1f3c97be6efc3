#pragma once
// The parts of a wp-logstore process (logstore_daemon.h), shared by its .cpp files.
#include <memory>

#include "config_planted_bug.h"
#include "daemon_support.h"
#include "logstore_daemon.h"
#include "wal/env/fault_points.h"
#include "wal/env/random.h"
#include "wal/metrics/metered_stores.h"
#include "wal/quorum/logstore.h"
#include "wal/real/grpc_network.h"
#include "wal/real/grpc_registry.h"
#include "wal/real/metrics_http_server.h"
#include "wal/real/os_random.h"
#include "wal/real/posix_disk.h"
#include "wal/real/s3_config.h"

namespace wal::cli {

// Declared in construction order; destroyed in reverse, so the HTTP threads stop before the
// node they read, the node before the network it serves, and the stores last.
struct LogStoreDaemon::Parts {
  std::unique_ptr<DirectoryLock> lock;
  std::unique_ptr<BlockingPool> pool;
  Xoshiro256 random{os_entropy_seed()};
  PlantedBugFaults faults;  // nothing planted but in test builds (config_planted_bug.h)
  std::unique_ptr<MetaStore> meta;
  std::unique_ptr<metrics::MeteredMetaStore> metered_meta;
  std::unique_ptr<ObjectStore> objects;
  std::unique_ptr<metrics::MeteredObjectStore> metered_objects;
  std::unique_ptr<PosixDisk> disk;
  std::unique_ptr<metrics::MeteredDisk> metered_disk;
  std::shared_ptr<GrpcDirectory> directory = std::make_shared<GrpcDirectory>();
  std::unique_ptr<GrpcNetwork> network;
  std::unique_ptr<metrics::MeteredNetwork> metered_network;
  std::unique_ptr<Env> env;
  std::unique_ptr<GrpcRegistry> peers;
  std::unique_ptr<quorum::LogStore> store;
  std::unique_ptr<MetricsHttpServer> http;
};

}  // namespace wal::cli
