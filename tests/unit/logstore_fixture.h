#pragma once
// LogStore nodes on a ManualLoop with MemDisk, MemNetworkHub, MemObjectStore and MemMetaStore,
// plus a client endpoint that speaks the protocol. A node's disk outlives the node, so tests can
// crash (destroy the node, then MemDisk::crash) and restart it on what survived.

#include <map>
#include <memory>
#include <string>

#include "wal/async/sleep.h"
#include "wal/env/env.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"
#include "wal/mem/manual_loop.h"
#include "wal/mem/mem_disk.h"
#include "wal/mem/mem_meta_store.h"
#include "wal/mem/mem_network.h"
#include "wal/mem/mem_object_store.h"
#include "wal/quorum/logstore.h"
#include "wal/quorum/protocol.h"
#include "wal/src/quorum/logstore_node.h"

namespace wal::quorum::testing {

// A Disk whose sync takes `sync_latency`, so tests can act while an fsync is running.
class SlowSyncDisk final : public Disk {
 public:
  SlowSyncDisk(MemDisk& inner, Clock& clock) : inner_(inner), clock_(clock) {}
  Duration sync_latency{0};
  uint64_t sync_calls = 0;

  Task<Status> write(std::string path, uint64_t offset, Bytes bytes) override {
    return inner_.write(std::move(path), offset, std::move(bytes));
  }
  Task<Result<uint64_t>> append(std::string path, Bytes bytes) override {
    return inner_.append(std::move(path), std::move(bytes));
  }
  Task<Status> sync(std::string path) override {
    ++sync_calls;
    if (sync_latency > Duration::zero()) co_await sleep_for(clock_, sync_latency);
    co_return co_await inner_.sync(std::move(path));
  }
  Task<Result<Bytes>> read(std::string path, uint64_t offset, uint64_t length) override {
    return inner_.read(std::move(path), offset, length);
  }
  Task<Result<uint64_t>> size(std::string path) override { return inner_.size(std::move(path)); }
  Task<Status> truncate(std::string path, uint64_t length) override {
    return inner_.truncate(std::move(path), length);
  }
  Task<Result<std::vector<std::string>>> list(std::string prefix) override {
    return inner_.list(std::move(prefix));
  }
  Task<Status> rename(std::string from, std::string to) override {
    return inner_.rename(std::move(from), std::move(to));
  }
  Task<Status> remove(std::string path) override { return inner_.remove(std::move(path)); }

 private:
  MemDisk& inner_;
  Clock& clock_;
};

struct LogStoreFixture {
  struct Node {
    Node(ManualLoop& loop) : slow_disk(disk, loop) {}
    MemDisk disk;
    SlowSyncDisk slow_disk;
    std::unique_ptr<Network> network;
    std::unique_ptr<Env> env;
    std::unique_ptr<LogStore> store;
  };

  LogStoreFixture() { options.upload_scan_interval = std::chrono::milliseconds(100); }

  template <typename T>
  T run(Task<T> task) {
    return loop.run(std::move(task));
  }

  Node& node(const std::string& name) {
    auto [it, inserted] = nodes.try_emplace(name, nullptr);
    if (inserted) it->second = std::make_unique<Node>(loop);
    return *it->second;
  }

  LogStoreNode& start(const std::string& name) {
    Node& n = node(name);
    WAL_ASSERT(n.store == nullptr);
    n.network = hub.endpoint(name);
    n.env = std::make_unique<Env>(Env{loop, loop, random, faults, &objects, &meta, &n.slow_disk,
                                      n.network.get()});
    auto started = run(LogStore::start(*n.env, options));
    WAL_ASSERT(started.ok());
    n.store = std::move(started).value();
    return store(name);
  }
  LogStoreNode& store(const std::string& name) {
    return static_cast<LogStoreNode&>(*node(name).store);
  }
  // Destroys the node (its memory and running work) and drops what its disk had not synced.
  void crash(const std::string& name) {
    Node& n = node(name);
    n.store.reset();
    n.network.reset();
    n.env.reset();
    (void)n.disk.crash(random);
  }
  LogStoreNode& restart(const std::string& name) {
    crash(name);
    return start(name);
  }

  // ---- the MetaStore side: logs and segments as a writer would create them ----
  uint64_t create_log(const std::string& log_name) {
    const uint64_t log_id = next_log_id++;
    const LogKeys k = keys(log_name, log_id);
    LogMeta log{log_id, loop.unix_time_ms()};
    WAL_ASSERT(meta.apply_txn(TxnRequest{{}, {PutOp{k.log_key(), encode(log), 0}}, {}}).ok());
    return log_id;
  }
  LogKeys keys(const std::string& log_name, uint64_t log_id) const {
    return LogKeys{options.meta_root, options.object_root, log_name, log_id};
  }
  // Creates an open quorum segment's metadata and returns its reference.
  SegmentRef create_segment(const std::string& log_name, uint64_t log_id, SegmentId segment_id,
                            EntryId first_entry_id) {
    SegmentMeta segment;
    segment.segment_id = segment_id;
    segment.epoch = 1;
    segment.first_entry_id = first_entry_id;
    segment.checkpoint_end_entry_id = first_entry_id;
    segment.ensemble = {"a", "b", "c"};
    segment.uploaded = false;
    const std::string key = keys(log_name, log_id).segment_key(segment_id);
    auto put = meta.apply_txn(TxnRequest{{}, {PutOp{key, encode(segment), 0}}, {}});
    WAL_ASSERT(put.ok());
    return SegmentRef{log_name, log_id, segment_id, first_entry_id, put->revision};
  }
  // Seals the segment's metadata at `end_entry_id` (as a writer's seal txn would).
  void seal_segment(const SegmentRef& ref, EntryId end_entry_id, Epoch epoch = 1) {
    const std::string key = keys(ref.log_name, ref.log_id).segment_key(ref.segment_id);
    auto kv = meta.apply_range(RangeRequest{key, {}, 0, 0});
    WAL_ASSERT(kv.ok() && kv->kvs.size() == 1);
    auto segment = decode_segment(key, kv->kvs[0].value);
    WAL_ASSERT(segment.ok());
    segment->state = SegmentState::sealed;
    segment->end_entry_id = end_entry_id;
    segment->sealed_by_epoch = epoch;
    segment->sealed_unix_ms = loop.unix_time_ms();
    WAL_ASSERT(meta.apply_txn(TxnRequest{{}, {PutOp{key, encode(*segment), 0}}, {}}).ok());
  }
  std::optional<SegmentMeta> segment_meta(const SegmentRef& ref) {
    const std::string key = keys(ref.log_name, ref.log_id).segment_key(ref.segment_id);
    auto kv = meta.apply_range(RangeRequest{key, {}, 0, 0});
    WAL_ASSERT(kv.ok());
    if (kv->kvs.empty()) return std::nullopt;
    auto segment = decode_segment(key, kv->kvs[0].value);
    WAL_ASSERT(segment.ok());
    return *segment;
  }

  // ---- the client side ----
  Task<Result<Bytes>> call(std::string target, std::string_view method, Bytes body) {
    return client->call(std::move(target), std::string(method), std::move(body),
                        loop.now() + std::chrono::seconds(30));
  }
  template <typename Reply, typename Decode>
  Result<Reply> call_and_decode(const std::string& target, std::string_view method, Bytes body,
                                Decode decode) {
    Result<Bytes> reply = run(call(target, method, std::move(body)));
    if (!reply.ok()) return std::move(reply).error();
    return decode(*reply);
  }
  Result<AddReply> add(const std::string& target, const AddRequest& request) {
    return call_and_decode<AddReply>(target, method_add, encode(request), decode_add_reply);
  }
  Result<FenceReply> fence(const std::string& target, const SegmentRef& ref, Epoch epoch) {
    return call_and_decode<FenceReply>(target, method_fence, encode(FenceRequest{ref, epoch}),
                                       decode_fence_reply);
  }
  Result<ReadReply> read(const std::string& target, const ReadRequest& request) {
    return call_and_decode<ReadReply>(target, method_read, encode(request), decode_read_reply);
  }

  ManualLoop loop;
  Xoshiro256 random{20261122};
  NoFaults faults;
  MemObjectStore objects;
  MemMetaStore meta{loop, loop};
  MemNetworkHub hub{loop, loop};
  std::unique_ptr<Network> client = hub.endpoint("client");
  LogStoreOptions options;
  uint64_t next_log_id = 1;
  std::map<std::string, std::unique_ptr<Node>> nodes;
};

[[nodiscard]] inline Bytes payload(uint64_t id) {
  return to_bytes("entry-" + std::to_string(id) + std::string(id % 23, 'p'));
}

// An add of entries [first, end) with payload(id), at `epoch`.
[[nodiscard]] inline AddRequest add_request(const SegmentRef& ref, EntryId first, EntryId end,
                                            Epoch epoch = 1, EntryId confirmed_end = 0) {
  AddRequest request;
  request.segment = ref;
  request.epoch = epoch;
  request.first_entry_id = first;
  request.confirmed_end = confirmed_end;
  for (EntryId id = first; id < end; ++id) request.payloads.push_back(payload(id));
  return request;
}

}  // namespace wal::quorum::testing
