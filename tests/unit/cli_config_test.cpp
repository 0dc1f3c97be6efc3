// The tools' configuration: wp-logstore's file and derived values, and wp's quorum mode. A typo
// or a wrong type is an error naming the key, never a silent default.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config_logstore.h"
#include "config_quorum.h"

using namespace std::chrono_literals;

namespace wal::cli {
namespace {

nlohmann::json parse(const char* text) { return nlohmann::json::parse(text); }

std::string error_of(const Status& status) {
  return status.ok() ? std::string("(ok)") : status.error().message;
}

TEST(logstore_config, a_full_file_is_read_and_completed) {
  LogStoreDaemonConfig config;
  ASSERT_TRUE(parse_logstore_config(parse(R"({
      "node": "ls-1", "zone": "z1", "listen": "0.0.0.0:7001", "advertise": "10.0.0.5:7001",
      "metrics_listen": "0.0.0.0:9091", "data_dir": "/d", "drain_timeout_ms": 1500,
      "meta_store": {"type": "etcd", "endpoints": ["127.0.0.1:2379"], "prefix": "/p/"},
      "object_store": {"type": "local", "dir": "/o"},
      "logstore": {"registration_ttl_ms": 4000, "upload_scan_interval_ms": 250,
                   "upload_block_bytes_max": 65536, "upload_open_segments": false}})"),
                                    config)
                  .ok());
  ASSERT_TRUE(finish_logstore_config(config).ok());
  EXPECT_EQ(config.node, "ls-1");
  EXPECT_EQ(config.drain_timeout, 1500ms);
  ASSERT_TRUE(config.object_store.has_value());
  EXPECT_EQ(config.object_store->local_dir, "/o");
  EXPECT_EQ(config.logstore.registration_ttl, 4s);
  EXPECT_EQ(config.logstore.upload_scan_interval, 250ms);
  EXPECT_EQ(config.logstore.upload_block_bytes_max, 65536u);
  EXPECT_FALSE(config.logstore.upload_open_segments);
  // Derived: the node registers where it is reached, under the etcd prefix.
  EXPECT_EQ(config.logstore.advertise_address, "10.0.0.5:7001");
  EXPECT_EQ(config.logstore.zone, "z1");
  EXPECT_EQ(config.logstore.meta_root, "/p/");
}

TEST(logstore_config, mistakes_are_errors_naming_the_key) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"lisen": "x"})", "unknown key 'lisen'"},
      {R"({"node": 7})", "'node' must be a string"},
      {R"({"logstore": {"registration_ttl_ms": 500}})", "logstore.registration_ttl_ms"},
      {R"({"logstore": {"upload_open_segment": true}})", "unknown key 'logstore.upload_open"},
      {R"({"object_store": {"type": "s4"}})", "object_store.type"},
      {R"({"drain_timeout_ms": -1})", "'drain_timeout_ms' must be an integer"},
  };
  for (const auto& [text, expected] : cases) {
    LogStoreDaemonConfig config;
    const std::string error = error_of(parse_logstore_config(parse(text), config));
    EXPECT_NE(error.find(expected), std::string::npos) << text << " gave: " << error;
  }
}

TEST(logstore_config, an_incomplete_or_unusable_setup_is_refused) {
  auto finished = [](const char* text) {
    LogStoreDaemonConfig config;
    WAL_ASSERT(parse_logstore_config(parse(text), config).ok());
    return error_of(finish_logstore_config(config));
  };
  const char* etcd = R"("meta_store": {"type": "etcd", "endpoints": ["127.0.0.1:2379"]})";
  const std::string node = R"({"node": "a", "data_dir": "/d", )";
  const std::string objects = R"("object_store": {"type": "local", "dir": "/o"})";
  EXPECT_NE(finished(R"({"data_dir": "/d"})").find("no node id"), std::string::npos);
  EXPECT_NE(finished(R"({"node": "a b"})").find("must be 1-64 of"), std::string::npos);
  EXPECT_NE(finished((node + objects + "}").c_str()).find("must be etcd"), std::string::npos);
  const std::string unroutable = node + etcd + ", " + objects + R"(, "listen": "0.0.0.0:7001"})";
  EXPECT_NE(finished(unroutable.c_str()).find("not dialable"), std::string::npos);
  const std::string bad_port = node + etcd + ", " + objects + R"(, "listen": "127.0.0.1:99999"})";
  EXPECT_NE(finished(bad_port.c_str()).find("out of range"), std::string::npos);
  const std::string good = node + etcd + ", " + objects + "}";
  EXPECT_EQ(finished(good.c_str()), "(ok)");
}

TEST(quorum_config, mode_and_section_are_read_and_checked) {
  QuorumClientConfig config;
  ASSERT_TRUE(parse_quorum_config(parse(R"({"mode": "quorum", "quorum": {
      "segment_entries_max": 5000, "segment_age_max_ms": 30000, "rpc_timeout_ms": 500,
      "logstores": {"ls1": "10.0.0.1:7001"}}})"),
                                  config)
                  .ok());
  EXPECT_TRUE(config.enabled);
  EXPECT_EQ(config.writer.segment_entries_max, 5000u);
  EXPECT_EQ(config.writer.segment_age_max, 30s);
  EXPECT_EQ(config.writer.rpc_timeout, 500ms);
  EXPECT_EQ(config.logstores.at("ls1"), "10.0.0.1:7001");
  const std::pair<const char*, const char*> cases[] = {
      {R"({"mode": "quorom"})", "'mode' must be"},
      {R"({"quorum": {}})", "needs \"mode\": \"quorum\""},
      {R"({"mode": "quorum", "quorum": {"segment_age_max_ms": 10}})", "segment_age_max_ms"},
      {R"({"mode": "quorum", "quorum": {"logstores": {"ls1": "nohost"}}})", "quorum.logstores"},
      {R"({"mode": "quorum", "quorum": {"segment_entries": 1}})", "unknown key"},
  };
  for (const auto& [text, expected] : cases) {
    QuorumClientConfig other;
    const std::string error = error_of(parse_quorum_config(parse(text), other));
    EXPECT_NE(error.find(expected), std::string::npos) << text << " gave: " << error;
  }
}

}  // namespace
}  // namespace wal::cli
