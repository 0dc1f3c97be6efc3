#pragma once
// `wp` in QuorumBuffer mode: the config file's "mode" and "quorum" keys.
//
//   {"mode": "quorum",                      "memory" (the default) or "quorum"
//    "meta_store": {"type": "etcd", ...},   required in quorum mode: LogStores register there
//    "quorum": {"segment_entries_max": 100000, "segment_bytes_max": 268435456,
//               "segment_age_max_ms": 600000, "rpc_timeout_ms": 2000,
//               "buffered_bytes_max": 33554432, "message_bytes_max": 1048576,
//               "upload_block_bytes_max": 8388608,
//               "logstores": {"logstore-1": "10.0.0.5:7001", ...}}}   optional static addresses
//
// LogStores are found through their etcd registrations (wal/real/grpc_registry.h);
// "logstores" adds addresses for nodes that do not register one.
#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "wal/core/result.h"
#include "wal/quorum/quorum_writer.h"

namespace wal::cli {

struct QuorumClientConfig {
  bool enabled = false;  // "mode": "quorum"
  quorum::QuorumWriterOptions writer;
  std::map<std::string, std::string> logstores;  // static node id -> host:port
};

// Reads "mode" and "quorum" from the config file's root object over `config`.
// invalid_argument naming the key.
[[nodiscard]] Status parse_quorum_config(const nlohmann::json& root, QuorumClientConfig& config);

}  // namespace wal::cli
