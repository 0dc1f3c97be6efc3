// GrpcRegistry fills the gRPC directory from the LogStore registry in the MetaStore: what is
// registered at start, what registers later (through the watch), never an entry without an
// address or with a malformed value, and a removed registration keeps its last address.
#include <gtest/gtest.h>

#include "wal/env/fault_points.h"
#include "wal/env/random.h"
#include "wal/mem/manual_loop.h"
#include "wal/mem/mem_meta_store.h"
#include "wal/quorum/logstore.h"
#include "wal/real/grpc_registry.h"

using namespace std::chrono_literals;

namespace wal {
namespace {

struct RegistryFixture {
  ManualLoop loop;
  MemMetaStore meta{loop, loop};
  Xoshiro256 random{7};
  NoFaults faults;
  Env env{loop, loop, random, faults, nullptr, &meta, nullptr, nullptr};
  std::shared_ptr<GrpcDirectory> directory = std::make_shared<GrpcDirectory>();
  const std::string prefix = quorum::logstore_registry_prefix("/wal/");

  void put(const std::string& node, const std::string& value) {
    ASSERT_TRUE(meta.apply_txn(TxnRequest{{}, {PutOp{prefix + node, value, 0}}, {}}).ok());
  }
  void remove(const std::string& node) {
    ASSERT_TRUE(meta.apply_txn(TxnRequest{{}, {DeleteOp{prefix + node, {}}}, {}}).ok());
  }
};

TEST(grpc_registry, fills_the_directory_from_registrations_and_follows_them) {
  RegistryFixture f;
  f.put("ls1", R"({"node": "ls1", "address": "10.0.0.1:7001", "zone": "a"})");
  f.put("ls2", R"({"node": "ls2"})");     // an in-process node: no address
  f.put("ls3", "not json");               // bytes from etcd are checked, never trusted
  auto registry = f.loop.run(GrpcRegistry::start(f.env, "/wal/", f.directory,
                                                 {{"static1", "10.9.9.9:1"}}));
  ASSERT_TRUE(registry.ok()) << registry.error().describe();
  EXPECT_EQ(f.directory->lookup("ls1"), "10.0.0.1:7001");  // known when start() returns
  EXPECT_EQ(f.directory->lookup("ls2"), std::nullopt);
  EXPECT_EQ(f.directory->lookup("ls3"), std::nullopt);
  EXPECT_EQ(f.directory->lookup("static1"), "10.9.9.9:1");
  // Later registrations arrive through the watch; a new address replaces the old one.
  f.put("ls4", R"({"node": "ls4", "address": "10.0.0.4:7001"})");
  f.put("ls1", R"({"node": "ls1", "address": "10.0.0.11:7001"})");
  f.loop.run_for(100ms);
  EXPECT_EQ(f.directory->lookup("ls4"), "10.0.0.4:7001");
  EXPECT_EQ(f.directory->lookup("ls1"), "10.0.0.11:7001");
  // A node whose lease expired may still serve what it holds: its address stays.
  f.remove("ls4");
  f.loop.run_for(100ms);
  EXPECT_EQ(f.directory->lookup("ls4"), "10.0.0.4:7001");
  EXPECT_EQ((*registry)->updates(), 3u);
}

}  // namespace
}  // namespace wal
