#include "wal/real/grpc_registry.h"

#include <nlohmann/json.hpp>

#include "wal/async/sleep.h"
#include "wal/log/retry.h"
#include "wal/quorum/logstore.h"

namespace wal {

namespace {
// Pause before re-reading the registry after a failed read or a broken watch: long enough not
// to spin against an etcd that is down, short next to a LogStore lease (10 s by default).
constexpr std::chrono::milliseconds registry_retry_pause{500};
}  // namespace

GrpcRegistry::GrpcRegistry(Env& env, std::string meta_root,
                           std::shared_ptr<GrpcDirectory> directory)
    : env_(env),
      prefix_(quorum::logstore_registry_prefix(meta_root)),
      directory_(std::move(directory)),
      scope_(env.executor) {
  WAL_ASSERT(env_.meta_store != nullptr);
  WAL_ASSERT(directory_ != nullptr);
}

GrpcRegistry::~GrpcRegistry() = default;

Task<Result<std::unique_ptr<GrpcRegistry>>> GrpcRegistry::start(
    Env& env, std::string meta_root, std::shared_ptr<GrpcDirectory> directory,
    std::map<NodeId, std::string> static_addresses) {
  for (const auto& [node, address] : static_addresses) directory->set(node, address);
  std::unique_ptr<GrpcRegistry> registry(
      new GrpcRegistry(env, std::move(meta_root), std::move(directory)));
  Result<int64_t> revision = co_await registry->read_all();
  if (!revision.ok()) co_return std::move(revision).error();
  registry->scope_.spawn(follow(*registry, *revision));
  co_return registry;
}

bool GrpcRegistry::apply(const std::string& key, const std::string& value) {
  WAL_ASSERT(key.starts_with(prefix_));
  const std::string node = key.substr(prefix_.size());
  // Bytes from the MetaStore are validated, never asserted on.
  const nlohmann::json parsed = nlohmann::json::parse(value, nullptr, false);
  if (node.empty() || !parsed.is_object() || !parsed.contains("address") ||
      !parsed["address"].is_string()) {
    return false;
  }
  const std::string address = parsed["address"].get<std::string>();
  if (address.empty()) return false;
  directory_->set(node, address);
  ++updates_;
  return true;
}

Task<Result<int64_t>> GrpcRegistry::read_all() {
  RangeRequest request;
  request.key = prefix_;
  request.range_end = prefix_end(prefix_);
  Result<RangeResponse> range =
      co_await retry_read(env_, Backoff{}, [&] { return env_.meta_store->range(request); });
  if (!range.ok()) co_return std::move(range).error();
  for (const KeyValue& kv : range->kvs) {
    const bool has_address = apply(kv.key, kv.value);
    WAL_MAYBE(has_address);  // WAL_MAYBE does not evaluate its argument
  }
  co_return range->revision;
}

// Watches from the revision after the last read; any failure (compacted, a lost stream, etcd
// down) re-reads everything and watches again from there. Removals are ignored (see the header).
Task<void> GrpcRegistry::follow(GrpcRegistry& self, int64_t revision) {
  while (true) {
    Result<std::unique_ptr<Watch>> watch =
        co_await self.env_.meta_store->watch(self.prefix_, prefix_end(self.prefix_), revision + 1);
    while (watch.ok()) {
      Result<std::vector<WatchEvent>> events = co_await (*watch)->next();
      if (!events.ok()) break;
      for (const WatchEvent& event : *events) {
        revision = std::max(revision, event.kv.mod_revision);
        if (event.type != WatchEvent::Type::put) continue;
        const bool has_address = self.apply(event.kv.key, event.kv.value);
        WAL_MAYBE(has_address);
      }
    }
    while (true) {
      co_await sleep_for(self.env_.clock, registry_retry_pause);
      Result<int64_t> read = co_await self.read_all();
      if (read.ok()) {
        revision = *read;
        break;
      }
    }
  }
}

}  // namespace wal
