#include "wp_quorum_runtime.h"

#include <unistd.h>

#include <fmt/format.h>

namespace wal::cli {

Result<std::unique_ptr<QuorumClientParts>> start_quorum_network(EventLoop& loop, uint64_t seed) {
  auto parts = std::make_unique<QuorumClientParts>();
  const std::string self = fmt::format("wp-{}-{:08x}", ::getpid(), seed & 0xffffffffu);
  GrpcNetworkOptions options;
  options.listen_address = "127.0.0.1:0";
  Result<std::unique_ptr<GrpcNetwork>> network =
      GrpcNetwork::start(loop, loop, self, parts->directory, options);
  if (!network.ok()) return std::move(network).error();
  parts->network = std::move(network).value();
  return parts;
}

Task<Status> follow_logstore_registry(QuorumClientParts& parts, Env& env, std::string meta_root,
                                      std::map<std::string, std::string> static_addresses) {
  Result<std::unique_ptr<GrpcRegistry>> registry = co_await GrpcRegistry::start(
      env, std::move(meta_root), parts.directory, std::move(static_addresses));
  if (!registry.ok()) co_return std::move(registry).error();
  parts.registry = std::move(registry).value();
  co_return Status{};
}

}  // namespace wal::cli
