// QuorumBuffer on real parts, in one process: three-plus LogStores and a writer talking gRPC on
// loopback ports (GrpcNetwork), each LogStore journaling to its own directory (PosixDisk), all
// sharing a LocalObjectStore and a SQLite MetaStore, on the production EventLoop. The same code
// the simulator proves, over the transport a deployment uses.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "wal/async/scope.h"
#include "wal/async/sleep.h"
#include "wal/env/env.h"
#include "wal/env/fault_points.h"
#include "wal/env/random.h"
#include "wal/log/keys.h"
#include "wal/log/log_client.h"
#include "wal/log/metadata.h"
#include "wal/quorum/logstore.h"
#include "wal/quorum/quorum_writer.h"
#include "wal/quorum/replica_reads.h"
#include "wal/real/event_loop.h"
#include "wal/real/grpc_network.h"
#include "wal/real/local_object_store.h"
#include "wal/real/os_random.h"
#include "wal/real/posix_disk.h"
#include "wal/real/sqlite_meta_store.h"

using namespace std::chrono_literals;

namespace wal {
namespace {

Bytes payload_for(uint64_t i) { return to_bytes("grpc-entry-" + std::to_string(i) + "-" + std::string(i % 50, 'x')); }

struct Deployment {
  struct Store {
    std::unique_ptr<PosixDisk> disk;
    std::unique_ptr<GrpcNetwork> network;
    std::unique_ptr<Env> env;
    std::unique_ptr<quorum::LogStore> store;
  };

  explicit Deployment(size_t store_count) {
    root = std::filesystem::temp_directory_path() /
           ("quorum-grpc-" + std::to_string(os_entropy_seed()));
    std::filesystem::create_directories(root);
    auto opened_objects = loop.run(LocalObjectStore::open(pool, (root / "objects").string()));
    WAL_ASSERT(opened_objects.ok());
    objects = std::move(opened_objects).value();
    auto opened_meta = loop.run(SqliteMetaStore::open(loop, loop, (root / "meta.sqlite").string()));
    WAL_ASSERT(opened_meta.ok());
    meta = std::move(opened_meta).value();
    store_options.upload_scan_interval = 50ms;
    stores.resize(store_count);
    for (size_t i = 0; i < store_count; ++i) start_store(i);
    auto client_network = GrpcNetwork::start(loop, loop, "writer", directory);
    WAL_ASSERT(client_network.ok());
    client_net = std::move(client_network).value();
    client_env = std::make_unique<Env>(
        Env{loop, loop, random, faults, objects.get(), meta.get(), nullptr, client_net.get()});
    client_replicas = quorum::replica_reads_for(*client_env);
    client = std::make_unique<LogClient>(*client_env, ClientOptions{}, client_replicas.get());
  }
  ~Deployment() {
    client.reset();
    client_replicas.reset();
    client_net.reset();
    for (size_t i = 0; i < stores.size(); ++i) crash_store(i);
    meta.reset();
    objects.reset();
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }

  NodeId store_id(size_t i) const { return "logstore-" + std::to_string(i + 1); }
  void start_store(size_t i) {
    Store& s = stores[i];
    const std::filesystem::path dir = root / store_id(i);
    std::filesystem::create_directories(dir);
    s.disk = std::make_unique<PosixDisk>(pool, dir.string());
    auto network = GrpcNetwork::start(loop, loop, store_id(i), directory);
    WAL_ASSERT(network.ok());
    s.network = std::move(network).value();
    s.env = std::make_unique<Env>(
        Env{loop, loop, random, faults, objects.get(), meta.get(), s.disk.get(), s.network.get()});
    auto started = loop.run(quorum::LogStore::start(*s.env, store_options));
    WAL_ASSERT(started.ok());
    s.store = std::move(started).value();
  }
  // The process dies: its gRPC port closes; its journal stays on disk.
  void crash_store(size_t i) {
    Store& s = stores[i];
    s.store.reset();
    s.network.reset();
    s.env.reset();
    s.disk.reset();
  }

  std::vector<Result<EntryId>> append_all(quorum::QuorumWriter& writer, uint64_t first,
                                          uint64_t count) {
    std::vector<std::optional<Result<EntryId>>> results(count);
    Scope scope(loop);
    for (uint64_t i = 0; i < count; ++i) {
      scope.spawn([](quorum::QuorumWriter& w, Bytes payload,
                     std::optional<Result<EntryId>>& out) -> Task<void> {
        out.emplace(co_await w.append(std::move(payload)));
      }(writer, payload_for(first + i), results[i]));
    }
    loop.run([](std::vector<std::optional<Result<EntryId>>>& all, Clock& clock) -> Task<void> {
      while (true) {
        bool done = true;
        for (auto& r : all) done = done && r.has_value();
        if (done) co_return;
        co_await sleep_for(clock, 5ms);
      }
    }(results, loop));
    std::vector<Result<EntryId>> out;
    for (auto& r : results) out.push_back(std::move(*r));
    return out;
  }

  // Reads the whole log with a reader on `env` (with or without a network).
  std::vector<LogEntry> read_all(Env& env) {
    std::unique_ptr<SegmentReplicas> replicas = quorum::replica_reads_for(env);
    LogClient reader_client(env, ClientOptions{}, replicas.get());
    auto reader = loop.run(reader_client.open_reader("q", ReadPosition::earliest()));
    WAL_ASSERT(reader.ok());
    std::vector<LogEntry> entries;
    while (true) {
      auto entry = loop.run((*reader)->try_next());
      WAL_ASSERT(entry.ok());
      if (!*entry) break;
      entries.push_back(std::move(**entry));
    }
    return entries;
  }

  // Reads `count` entries with next(), which long-polls the LogStores at the tail; gives up
  // after `limit` (the test then fails on the count).
  std::vector<LogEntry> read_waiting(Env& env, size_t count, Duration limit) {
    std::unique_ptr<SegmentReplicas> replicas = quorum::replica_reads_for(env);
    LogClient reader_client(env, ClientOptions{}, replicas.get());
    auto reader = loop.run(reader_client.open_reader("q", ReadPosition::earliest()));
    WAL_ASSERT(reader.ok());
    std::vector<LogEntry> entries;
    Scope scope(loop);
    scope.spawn([](LogReader& r, std::vector<LogEntry>& out, size_t n) -> Task<void> {
      while (out.size() < n) {
        Result<LogEntry> entry = co_await r.next();
        if (!entry.ok()) co_return;
        out.push_back(std::move(*entry));
      }
    }(**reader, entries, count));
    loop.run([](std::vector<LogEntry>& out, size_t n, Clock& clock, Duration max) -> Task<void> {
      const TimePoint deadline = clock.now() + max;
      while (out.size() < n && clock.now() < deadline) co_await sleep_for(clock, 5ms);
    }(entries, count, loop, limit));
    return entries;
  }

  bool all_uploaded(const LogKeys& keys) {
    RangeRequest request;
    request.key = keys.segment_prefix();
    request.range_end = prefix_end(keys.segment_prefix());
    auto range = loop.run(meta->range(request));
    WAL_ASSERT(range.ok());
    for (const KeyValue& kv : range->kvs) {
      auto segment = decode_segment(kv.key, kv.value);
      WAL_ASSERT(segment.ok());
      if (!segment->uploaded) return false;
    }
    return !range->kvs.empty();
  }

  EventLoop loop;
  BlockingPool pool{loop, 4};
  Xoshiro256 random{20261122};
  NoFaults faults;
  std::filesystem::path root;
  std::unique_ptr<LocalObjectStore> objects;
  std::unique_ptr<SqliteMetaStore> meta;
  std::shared_ptr<GrpcDirectory> directory = std::make_shared<GrpcDirectory>();
  quorum::LogStoreOptions store_options;
  std::vector<Store> stores;
  std::unique_ptr<GrpcNetwork> client_net;
  std::unique_ptr<Env> client_env;
  std::unique_ptr<SegmentReplicas> client_replicas;
  std::unique_ptr<LogClient> client;
};

TEST(quorum_grpc, appends_over_grpc_are_acknowledged_read_back_and_uploaded) {
  Deployment d(3);
  auto info = d.loop.run(d.client->create_log("q"));
  ASSERT_TRUE(info.ok()) << info.error().describe();
  const LogKeys keys = d.client->keys_for(*info);
  quorum::QuorumWriterOptions options;
  options.segment_entries_max = 700;  // a few rolls
  auto writer = d.loop.run(quorum::QuorumWriter::open(*d.client_env, keys, options));
  ASSERT_TRUE(writer.ok()) << writer.error().describe();
  auto results = d.append_all(**writer, 0, 2000);
  for (uint64_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].error().describe();
    ASSERT_EQ(*results[i], i);
  }
  // Reads from the LogStores over gRPC while the last segment is open (long polls at the tail:
  // the writer confirms the last entries when idle).
  std::vector<LogEntry> from_logstores = d.read_waiting(*d.client_env, 2000, 30s);
  ASSERT_EQ(from_logstores.size(), 2000u);
  for (EntryId id = 0; id < from_logstores.size(); ++id) {
    ASSERT_EQ(from_logstores[id].payload, payload_for(id)) << id;
  }
  ASSERT_TRUE(d.loop.run((*writer)->close()).ok());
  d.loop.run([](Deployment& dep, const LogKeys& k) -> Task<void> {
    for (int i = 0; i < 200 && !dep.all_uploaded(k); ++i) co_await sleep_for(dep.loop, 50ms);
  }(d, keys));
  ASSERT_TRUE(d.all_uploaded(keys)) << "sealed segments were not uploaded";
  // Now readable from object storage alone.
  Env storage_only{d.loop, d.loop, d.random, d.faults, d.objects.get(), d.meta.get(), nullptr,
                   nullptr};
  std::vector<LogEntry> from_objects = d.read_all(storage_only);
  ASSERT_EQ(from_objects.size(), 2000u);
  for (EntryId id = 0; id < 2000; ++id) ASSERT_EQ(from_objects[id].payload, payload_for(id));
}

TEST(quorum_grpc, a_logstore_process_dying_makes_the_writer_roll_and_loses_nothing) {
  Deployment d(4);
  auto info = d.loop.run(d.client->create_log("q"));
  ASSERT_TRUE(info.ok());
  const LogKeys keys = d.client->keys_for(*info);
  quorum::QuorumWriterOptions options;
  options.rpc_timeout = 1s;
  auto writer = d.loop.run(quorum::QuorumWriter::open(*d.client_env, keys, options));
  ASSERT_TRUE(writer.ok()) << writer.error().describe();
  for (auto& r : d.append_all(**writer, 0, 300)) ASSERT_TRUE(r.ok()) << r.error().describe();
  // Kill one member of the current ensemble.
  RangeRequest request;
  request.key = keys.segment_prefix();
  request.range_end = prefix_end(keys.segment_prefix());
  auto range = d.loop.run(d.meta->range(request));
  ASSERT_TRUE(range.ok() && !range->kvs.empty());
  auto segment = decode_segment(range->kvs.back().key, range->kvs.back().value);
  ASSERT_TRUE(segment.ok());
  size_t victim = 0;
  while (d.store_id(victim) != segment->ensemble[0]) ++victim;
  d.crash_store(victim);
  auto more = d.append_all(**writer, 300, 300);
  for (uint64_t i = 0; i < more.size(); ++i) {
    ASSERT_TRUE(more[i].ok()) << more[i].error().describe();
    EXPECT_EQ(*more[i], 300 + i);
  }
  EXPECT_GE((*writer)->stats().replica_failures, 1u);
  ASSERT_TRUE(d.loop.run((*writer)->close()).ok());
  d.loop.run([](Deployment& dep, const LogKeys& k) -> Task<void> {
    for (int i = 0; i < 200 && !dep.all_uploaded(k); ++i) co_await sleep_for(dep.loop, 50ms);
  }(d, keys));
  ASSERT_TRUE(d.all_uploaded(keys));
  Env storage_only{d.loop, d.loop, d.random, d.faults, d.objects.get(), d.meta.get(), nullptr,
                   nullptr};
  std::vector<LogEntry> entries = d.read_all(storage_only);
  ASSERT_EQ(entries.size(), 600u);
  for (EntryId id = 0; id < 600; ++id) ASSERT_EQ(entries[id].payload, payload_for(id));
}

}  // namespace
}  // namespace wal
