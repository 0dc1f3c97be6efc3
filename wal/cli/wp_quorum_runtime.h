#pragma once
// What `wp` adds to its process in QuorumBuffer mode: a gRPC endpoint for calling LogStores and
// the registry follower that tells it where they are.
#include <memory>
#include <string>

#include "wal/env/env.h"
#include "wal/real/event_loop.h"
#include "wal/real/grpc_network.h"
#include "wal/real/grpc_registry.h"
#include "config_quorum.h"

namespace wal::cli {

struct QuorumClientParts {
  std::shared_ptr<GrpcDirectory> directory = std::make_shared<GrpcDirectory>();
  std::unique_ptr<GrpcNetwork> network;
  std::unique_ptr<GrpcRegistry> registry;
};

// The endpoint, named "wp-<pid>-<random>" (LogStores see it as the caller), on a loopback port
// nobody dials (replies travel on the caller's connection). Errors: GrpcNetwork::start's.
[[nodiscard]] Result<std::unique_ptr<QuorumClientParts>> start_quorum_network(
    EventLoop& loop, uint64_t seed);
// Reads the LogStore registry under `meta_root` and follows it; `config.logstores` first.
// Errors: the first registry read's.
Task<Status> follow_logstore_registry(QuorumClientParts& parts, Env& env, std::string meta_root,
                                      std::map<std::string, std::string> static_addresses);

}  // namespace wal::cli
