#pragma once
// wp-logstore's configuration: a JSON file (--config) with flags on top. docs/deploy.md has the
// reference; every key:
//
//   {"node": "logstore-1",              this node's id: ensembles and registrations name it
//    "zone": "zone-a",                  optional, registered for operators
//    "listen": "0.0.0.0:7001",          the LogStore protocol (gRPC)
//    "advertise": "10.0.0.5:7001",      how peers and clients reach it (default: listen, unless
//                                       its host is 0.0.0.0 or ::, which nobody can dial)
//    "metrics_listen": "0.0.0.0:9091",  GET /metrics and /health ("" turns them off)
//    "data_dir": "/var/lib/wp-logstore",journals and the disk identity marker
//    "drain_timeout_ms": 30000,         SIGTERM: how long to wait for held segments to leave
//    "meta_store": {"type": "etcd", ...},       wal/real/etcd_config.h (etcd is required)
//    "object_store": {"type": "local", "dir": "..."} or {"type": "s3", ...},
//                                       where uploads go (wal/real/s3_config.h); required
//    "logstore": {"registration_ttl_ms": 10000, "upload_scan_interval_ms": 500,
//                 "upload_block_bytes_max": 8388608, "upload_open_segments": true,
//                 "read_reply_bytes_max": 4194304, "repair_read_timeout_ms": 2000,
//                 "entry_cache_bytes_max": 67108864}}
//
// Unknown keys and wrong types are errors (invalid_argument, naming the key).
#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "wal/quorum/logstore.h"
#include "wal/real/etcd_config.h"
#include "wal/real/s3_config.h"

namespace wal::cli {

struct LogStoreDaemonConfig {
  std::string node;
  std::string zone;
  std::string listen = "127.0.0.1:7001";
  std::string advertise;  // empty: derived from listen
  std::string metrics_listen = "127.0.0.1:9091";
  std::string data_dir;
  std::chrono::nanoseconds drain_timeout = std::chrono::seconds(30);
  MetaStoreConfig meta_store;
  std::optional<ObjectStoreConfig> object_store;  // required: local (with a dir) or s3
  quorum::LogStoreOptions logstore;
};

// Reads the JSON object `root` over `config`.
[[nodiscard]] Status parse_logstore_config(const nlohmann::json& root,
                                           LogStoreDaemonConfig& config);
// Fills derived values (advertise) and checks the whole: node id, addresses, data dir, an etcd
// MetaStore, an object store. invalid_argument with the reason.
[[nodiscard]] Status finish_logstore_config(LogStoreDaemonConfig& config);

}  // namespace wal::cli
