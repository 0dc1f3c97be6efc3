// LogStore start-up, disk identity and request dispatch (logstore_node.h lists the other files).
#include "wal/quorum/logstore.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "wal/log/retry.h"

#include "logstore_node.h"

namespace wal::quorum {

std::string logstore_registry_prefix(std::string_view meta_root) {
  return std::string(meta_root) + "logstores/";
}

Task<Result<std::unique_ptr<LogStore>>> LogStore::start(Env& env, LogStoreOptions options) {
  WAL_ASSERT(env.disk != nullptr);
  WAL_ASSERT(env.network != nullptr);
  WAL_ASSERT(env.meta_store != nullptr);
  WAL_ASSERT(env.object_store != nullptr);
  auto node = std::make_unique<LogStoreNode>(env, std::move(options));
  WAL_CO_TRY(co_await node->load_disk_identity());
  WAL_CO_TRY(co_await node->replay_journals());
  node->serve();
  node->start_background();
  node->announce_start();
  co_return std::unique_ptr<LogStore>(std::move(node));
}

LogStoreNode::LogStoreNode(Env& env, LogStoreOptions options)
    : env_(env),
      options_(std::move(options)),
      cache_(options_.entry_cache_bytes_max, stats_),
      scope_(env.executor) {
  link_->node = this;
}

LogStoreNode::~LogStoreNode() { link_->node = nullptr; }

const Segment* LogStoreNode::find_segment(uint64_t log_id, SegmentId segment_id) const {
  auto it = segments_.find(SegmentKey{log_id, segment_id});
  return it == segments_.end() ? nullptr : it->second.get();
}

std::vector<SegmentId> LogStoreNode::held_segments(uint64_t log_id) const {
  std::vector<SegmentId> held;
  for (const auto& [key, segment] : segments_) {
    if (key.log_id == log_id) held.push_back(key.segment_id);
  }
  return held;
}

// The marker is written once per disk (temp file, sync, rename), so it is whole or absent. An
// absent or unreadable marker means a new or wiped disk: its revision is read now, so every
// segment created before it may have had entries here that are gone.
Task<Status> LogStoreNode::load_disk_identity() {
  Disk& disk = *env_.disk;
  const std::string path(disk_marker_path);
  Result<Bytes> existing = co_await disk.read(path, 0, 4096);
  if (existing.ok()) {
    const nlohmann::json parsed = nlohmann::json::parse(as_string_view(*existing), nullptr, false);
    if (parsed.is_object() && parsed.contains("init_revision") &&
        parsed["init_revision"].is_number_integer()) {
      init_revision_ = parsed["init_revision"].get<int64_t>();
      co_return Status{};
    }
  } else if (existing.error().code != Errc::not_found) {
    co_return std::move(existing).error();
  }
  RangeRequest request;
  request.key = logstore_registry_prefix(options_.meta_root);
  request.range_end = prefix_end(request.key);
  request.limit = 1;
  // A read: retried while etcd is unreachable (a node restarting into a partition must not give
  // up for good).
  Result<RangeResponse> current =
      co_await retry_read(env_, Backoff{}, [&] { return env_.meta_store->range(request); });
  if (!current.ok()) co_return std::move(current).error();
  init_revision_ = current->revision;
  disk_initialised_now_ = true;
  const std::string temp(disk_marker_temp_path);
  const nlohmann::json marker = {{"init_revision", init_revision_},
                                 {"node", env_.network->self()}};
  WAL_CO_TRY(co_await disk.write(temp, 0, to_bytes(marker.dump())));
  WAL_CO_TRY(co_await disk.sync(temp));
  co_return co_await disk.rename(temp, path);
}

void LogStoreNode::serve() {
  std::shared_ptr<Link> link = link_;
  env_.network->serve(
      [link](RpcRequest request) { return serve_request(link, std::move(request)); });
}

void LogStoreNode::announce_start() {
  emit(LogStoreEventKind::started, nullptr, segments_.size(),
       fmt::format("disk initialised at MetaStore revision {}{}", init_revision_,
                   disk_initialised_now_
                       ? " just now (a new or wiped disk: in limbo for older segments)"
                       : ""));
}

void LogStoreNode::start_background() {
  scope_.spawn(upload_loop(*this));
  scope_.spawn(registration_loop(*this));
}

// Runs the request inside the node's Scope, so a crash (destroying the node) also ends it; the
// caller then sees no reply, as from a crashed machine.
Task<Result<Bytes>> LogStoreNode::serve_request(std::shared_ptr<Link> link, RpcRequest request) {
  if (link->node == nullptr) co_return make_error(Errc::unavailable, "the LogStore is down");
  LogStoreNode& node = *link->node;
  Completion<Result<Bytes>> reply(node.env_.executor);
  node.scope_.spawn(run_request(node, std::move(request), reply));
  co_return co_await reply.wait();
}

Task<void> LogStoreNode::run_request(LogStoreNode& node, RpcRequest request,
                                     Completion<Result<Bytes>> reply) {
  reply.set(co_await node.handle(std::move(request)));
}

Task<Result<Bytes>> LogStoreNode::handle(RpcRequest request) {
  if (request.method == method_add) co_return co_await handle_add(request.body);
  if (request.method == method_fence) co_return co_await handle_fence(request.body);
  if (request.method == method_read) co_return co_await handle_read(request.body);
  ++stats_.requests_rejected;
  co_return make_error(Errc::protocol, "unknown LogStore method '" + request.method + "'");
}

}  // namespace wal::quorum
