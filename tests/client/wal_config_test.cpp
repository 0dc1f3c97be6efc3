// The whole JSON configuration the client library reads (wal/include/wal/real/wal_config.h):
// every writer and reader key lands in the options, the sections of the stores are read by
// their own parsers, and every mistake is a one-line invalid_argument naming the key.
#include <gtest/gtest.h>

#include <string>

#include "wal/real/wal_config.h"

namespace wal {
namespace {

Result<WalConfig> parse(const std::string& text) {
  return parse_wal_config_text(text, "test config",
                               [](const std::string&) { return std::nullopt; });
}

TEST(wal_config, every_writer_and_reader_key_lands_in_the_options) {
  Result<WalConfig> config = parse(R"({"data_dir": "/d",
      "writer": {"block_size_bytes_max": 65536, "inflight_blocks_max": 8,
                 "inflight_bytes_max": 2097152, "segment_size_bytes_max": 1048576,
                 "segment_age_max_ms": 5000, "checkpoint_interval_blocks": 7,
                 "tail_publish_interval_ms": 0, "producers_max": 12,
                 "fencing": "meta_confirm"},
      "reader": {"prefetch_blocks": 0}})");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->data_dir, "/d");
  EXPECT_EQ(config->writer.block_size_bytes_max, 65536u);
  EXPECT_EQ(config->writer.inflight_blocks_max, 8u);
  EXPECT_EQ(config->writer.inflight_bytes_max, 2097152u);
  EXPECT_EQ(config->writer.segment_size_bytes_max, 1048576u);
  EXPECT_EQ(config->writer.segment_age_max, std::chrono::milliseconds(5000));
  EXPECT_EQ(config->writer.checkpoint_interval_blocks, 7u);
  EXPECT_EQ(config->writer.tail_publish_interval_min, std::chrono::milliseconds(0));
  EXPECT_EQ(config->writer.producers_max, 12u);
  EXPECT_EQ(config->writer.fencing, FencingMode::meta_confirm);
  EXPECT_GE(config->writer.unacknowledged_blocks_max, 32u);  // 4 rounds of 8 slots
  EXPECT_EQ(config->reader.prefetch_blocks, 0u);
  EXPECT_TRUE(uses_data_dir(*config));
}

TEST(wal_config, an_empty_object_keeps_the_defaults_and_the_stores_sections_are_parsed) {
  Result<WalConfig> empty = parse("{}");
  ASSERT_TRUE(empty.ok()) << empty.error().describe();
  EXPECT_EQ(empty->writer.block_size_bytes_max, WriterOptions{}.block_size_bytes_max);
  EXPECT_EQ(empty->writer.producers_max, WriterOptions{}.producers_max);
  EXPECT_EQ(empty->object_store.type, ObjectStoreConfig::Type::local);
  EXPECT_EQ(empty->meta_store.type, MetaStoreConfig::Type::sqlite);
  Result<WalConfig> remote = parse(R"({
      "object_store": {"type": "s3", "endpoint": "http://127.0.0.1:1", "bucket": "b",
                       "access_key_id": "k", "secret_access_key": "s"},
      "meta_store": {"type": "etcd", "endpoints": ["127.0.0.1:2379"], "prefix": "/p/"}})");
  ASSERT_TRUE(remote.ok()) << remote.error().describe();
  EXPECT_EQ(remote->object_store.type, ObjectStoreConfig::Type::s3);
  EXPECT_EQ(remote->object_store.s3.bucket, "b");
  EXPECT_EQ(remote->meta_store.type, MetaStoreConfig::Type::etcd);
  EXPECT_EQ(remote->meta_store.prefix, "/p/");
  EXPECT_FALSE(uses_data_dir(*remote));
}

TEST(wal_config, mistakes_are_one_line_errors_naming_the_key) {
  const struct {
    const char* text;
    const char* names;
  } cases[] = {
      {R"({"writer": {"block_size": 1}})", "writer.block_size"},
      {R"({"reader": {"prefetch": 1}})", "reader.prefetch"},
      {R"({"writers": {}})", "writers"},
      {R"({"writer": []})", "'writer' must be an object"},
      {R"({"writer": {"block_size_bytes_max": 1023}})", "writer.block_size_bytes_max"},
      {R"({"writer": {"block_size_bytes_max": "4096"}})", "writer.block_size_bytes_max"},
      {R"({"writer": {"inflight_blocks_max": 0}})", "writer.inflight_blocks_max"},
      {R"({"writer": {"inflight_blocks_max": -1}})", "writer.inflight_blocks_max"},
      {R"({"writer": {"segment_age_max_ms": 1.5}})", "writer.segment_age_max_ms"},
      {R"({"writer": {"producers_max": 0}})", "writer.producers_max"},
      {R"({"writer": {"producers_max": 65537}})", "writer.producers_max"},
      {R"({"writer": {"fencing": "none"}})", "writer.fencing"},
      {R"({"writer": {"segment_size_bytes_max": 1048576, "block_size_bytes_max": 2097152}})",
       "writer.segment_size_bytes_max"},
      {R"({"reader": {"prefetch_blocks": 65}})", "reader.prefetch_blocks"},
      {R"({"data_dir": ""})", "data_dir"},
      {R"({"object_store": {"type": "s4"}})", "object_store"},
      {R"({"meta_store": {"type": "etcd"}})", "meta_store.endpoints"},
      {R"({"writer": {)", "not valid JSON"},
      {"[1]", "not a JSON object"},
  };
  for (const auto& mistake : cases) {
    Result<WalConfig> config = parse(mistake.text);
    ASSERT_FALSE(config.ok()) << mistake.text;
    EXPECT_EQ(config.error().code, Errc::invalid_argument) << mistake.text;
    EXPECT_NE(config.error().message.find(mistake.names), std::string::npos)
        << mistake.text << " -> " << config.error().message;
    EXPECT_EQ(config.error().message.find('\n'), std::string::npos) << config.error().message;
  }
}

}  // namespace
}  // namespace wal
