// The `meta_store` config section (wal/include/wal/real/etcd_config.h): what it accepts, and
// that every mistake is an error naming the key rather than a silent default.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include "wal/real/etcd_config.h"

namespace wal {
namespace {

Result<MetaStoreConfig> parse(const std::string& text) {
  MetaStoreConfig config;
  Status parsed = parse_meta_store_config(nlohmann::json::parse(text), config);
  if (!parsed.ok()) return std::move(parsed).error();
  return config;
}

TEST(etcd_config, the_default_is_sqlite_under_wal) {
  Result<MetaStoreConfig> config = parse(R"({"type": "sqlite"})");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->type, MetaStoreConfig::Type::sqlite);
  EXPECT_EQ(config->prefix, "/wal/");
  EXPECT_EQ(parse(R"({})")->type, MetaStoreConfig::Type::sqlite);
}

TEST(etcd_config, an_etcd_section_sets_every_option) {
  Result<MetaStoreConfig> config = parse(R"({"type": "etcd", "prefix": "/prod/",
      "endpoints": ["127.0.0.1:2379", "https://10.0.0.2:2379"], "username": "wal",
      "password": "pw", "tls": {"ca_file": "ca.pem", "cert_file": "c.pem", "key_file": "k.pem"},
      "request_timeout_ms": 500, "operation_timeout_ms": 4000})");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->type, MetaStoreConfig::Type::etcd);
  EXPECT_EQ(config->prefix, "/prod/");
  EXPECT_EQ(config->etcd.endpoints.size(), 2u);
  EXPECT_EQ(config->etcd.username, "wal");
  EXPECT_EQ(config->etcd.password, "pw");
  ASSERT_TRUE(config->etcd.tls.has_value());
  EXPECT_EQ(config->etcd.tls->key_file, "k.pem");
  EXPECT_EQ(config->etcd.request_timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(config->etcd.operation_timeout, std::chrono::milliseconds(4000));
}

TEST(etcd_config, mistakes_are_errors_that_name_the_key) {
  auto error_of = [](const std::string& text) {
    Result<MetaStoreConfig> config = parse(text);
    EXPECT_FALSE(config.ok()) << text;
    return config.ok() ? std::string() : config.error().message;
  };
  EXPECT_NE(error_of(R"({"type": "etcd"})").find("endpoints"), std::string::npos);
  EXPECT_NE(error_of(R"({"type": "etcd", "endpoints": []})").find("endpoints"), std::string::npos);
  EXPECT_NE(error_of(R"({"type": "etcd", "endpoints": ["a:1"], "endpont": 1})").find("endpont"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "etcd", "endpoints": ["no-port"]})").find("no-port"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "etcd", "endpoints": ["https://a:1"]})").find("tls"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "etcd", "endpoints": ["a:1"], "tls": {"cert_file": "c"}})")
                .find("ca_file"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "etcd", "endpoints": ["a:1"], "request_timeout_ms": 0})")
                .find("request_timeout_ms"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "etcd", "endpoints": ["a:1"], "request_timeout_ms": 5000,
                         "operation_timeout_ms": 1000})")
                .find("timeout"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"type": "zookeeper"})").find("type"), std::string::npos);
  EXPECT_NE(error_of(R"({"type": "sqlite", "endpoints": ["a:1"]})").find("endpoints"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"prefix": "/no-slash"})").find("prefix"), std::string::npos);
  EXPECT_NE(error_of(R"({"type": "etcd", "endpoints": ["a:1"], "password": "x"})")
                .find("username"),
            std::string::npos);
}

TEST(etcd_config, a_password_file_is_read_without_its_trailing_newline) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("wal-password-" + std::to_string(getpid()))).string();
  std::ofstream(path) << "s3cret\n";
  Result<MetaStoreConfig> config =
      parse(R"({"type": "etcd", "endpoints": ["a:1"], "username": "u", "password_file": ")" +
            path + R"("})");
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->etcd.password, "s3cret");
  Result<MetaStoreConfig> missing = parse(
      R"({"type": "etcd", "endpoints": ["a:1"], "username": "u", "password_file": "/no/such"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_FALSE(parse(R"({"type": "etcd", "endpoints": ["a:1"], "username": "u", "password": "p",
                         "password_file": ")" + path + R"("})")
                   .ok());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace wal
