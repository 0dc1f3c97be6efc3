#pragma once
// A QuorumBuffer world on in-memory services and a ManualLoop, for unit tests: one MetaStore,
// one ObjectStore, a MemNetworkHub, and `logstore_count` LogStore nodes ("ls1", "ls2", ...) each
// with its own MemDisk. Nodes can crash (disk keeps only synced bytes), be wiped, restart, and be
// cut off from the network.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wal/env/env.h"
#include "wal/log/log_client.h"
#include "wal/mem/manual_loop.h"
#include "wal/mem/mem_disk.h"
#include "wal/mem/mem_meta_store.h"
#include "wal/mem/mem_network.h"
#include "wal/mem/mem_object_store.h"
#include "wal/quorum/logstore.h"
#include "wal/quorum/quorum_writer.h"
#include "wal/quorum/replica_reads.h"

namespace wal::testing {

struct QuorumFixture {
  struct StoreNode {
    std::string id;
    MemDisk disk;
    std::unique_ptr<Network> network;
    std::unique_ptr<Env> env;
    std::unique_ptr<quorum::LogStore> store;
  };
  struct ClientNode {
    std::unique_ptr<Network> network;
    std::unique_ptr<Env> env;
    std::unique_ptr<SegmentReplicas> replicas;
    std::unique_ptr<LogClient> client;
  };

  explicit QuorumFixture(size_t logstore_count = 4)
      : meta(loop, loop), hub(loop, loop), random(20261122) {
    hub.set_latency(std::chrono::microseconds(200));
    for (size_t i = 1; i <= logstore_count; ++i) {
      auto node = std::make_unique<StoreNode>();
      node->id = "ls" + std::to_string(i);
      stores.push_back(std::move(node));
      start_store(i - 1);
    }
  }

  template <typename T>
  T run(Task<T> task) {
    return loop.run(std::move(task));
  }

  void start_store(size_t index) {
    StoreNode& node = *stores[index];
    node.network = hub.endpoint(node.id);
    node.env = std::make_unique<Env>(Env{loop, loop, random, faults, &objects, &meta, &node.disk,
                                         node.network.get()});
    Result<std::unique_ptr<quorum::LogStore>> started =
        run(quorum::LogStore::start(*node.env, store_options));
    WAL_ASSERT(started.ok());
    node.store = std::move(started).value();
  }
  // The node's process dies: memory gone, unsynced disk bytes lost or torn.
  void crash_store(size_t index) {
    StoreNode& node = *stores[index];
    node.store.reset();
    node.network.reset();
    (void)node.disk.crash(random);
  }
  void wipe_store(size_t index) {
    crash_store(index);
    stores[index]->disk.wipe();
  }

  // A client process (writer or reader) named `id`. `meta_view`: the MetaStore it talks to
  // (default: the shared one), e.g. a ScriptedMetaStore over it; fixed at its first call.
  ClientNode& client(const std::string& id, MetaStore* meta_view = nullptr) {
    auto it = clients.find(id);
    if (it != clients.end()) return *it->second;
    auto node = std::make_unique<ClientNode>();
    node->network = hub.endpoint(id);
    node->env = std::make_unique<Env>(Env{loop, loop, random, faults, &objects,
                                          meta_view != nullptr ? meta_view : &meta, nullptr,
                                          node->network.get()});
    node->replicas = quorum::replica_reads_for(*node->env);
    node->client = std::make_unique<LogClient>(*node->env, ClientOptions{}, node->replicas.get());
    return *clients.emplace(id, std::move(node)).first->second;
  }

  LogKeys create_log(const std::string& name) {
    ClientNode& admin = client("admin");
    Result<LogInfo> info = run(admin.client->create_log(name));
    WAL_ASSERT(info.ok());
    return admin.client->keys_for(*info);
  }

  Result<std::unique_ptr<quorum::QuorumWriter>> open_writer(const std::string& client_id,
                                                            const LogKeys& keys) {
    return run(quorum::QuorumWriter::open(*client(client_id).env, keys, writer_options));
  }

  ManualLoop loop;
  MemMetaStore meta;
  MemObjectStore objects;
  MemNetworkHub hub;
  Xoshiro256 random;
  NoFaults faults;
  quorum::LogStoreOptions store_options;
  quorum::QuorumWriterOptions writer_options;
  std::vector<std::unique_ptr<StoreNode>> stores;
  std::map<std::string, std::unique_ptr<ClientNode>> clients;
};

}  // namespace wal::testing
