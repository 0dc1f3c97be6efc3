// The `object_store` config section (wal/real/s3_config.h): defaults, the environment's
// credentials and region, and one-line errors for every mistake.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "wal/real/s3_config.h"

namespace wal {
namespace {

EnvironmentLookup environment(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    const auto found = values.find(name);
    if (found == values.end()) return std::nullopt;
    return found->second;
  };
}

Result<ObjectStoreConfig> parse(const std::string& text,
                                std::map<std::string, std::string> env = {}) {
  return parse_object_store_config(nlohmann::json::parse(text), environment(std::move(env)));
}

TEST(s3_config, s3_section_takes_credentials_and_region_from_the_environment) {
  Result<ObjectStoreConfig> config =
      parse(R"({"type": "s3", "endpoint": "http://127.0.0.1:7480", "bucket": "wal"})",
            {{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_SECRET_ACCESS_KEY", "SK"},
             {"AWS_SESSION_TOKEN", "TOKEN"}, {"AWS_DEFAULT_REGION", "eu-west-1"}});
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->type, ObjectStoreConfig::Type::s3);
  EXPECT_EQ(config->s3.endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(config->s3.bucket, "wal");
  EXPECT_EQ(config->s3.region, "eu-west-1");
  EXPECT_EQ(config->s3.addressing, s3::Addressing::path);
  EXPECT_EQ(config->s3.credentials.access_key_id, "AK");
  EXPECT_EQ(config->s3.credentials.secret_access_key, "SK");
  EXPECT_EQ(config->s3.credentials.session_token, "TOKEN");
  EXPECT_TRUE(config->probe);
}

TEST(s3_config, the_section_overrides_the_environment_and_aws_is_the_default_endpoint) {
  Result<ObjectStoreConfig> config = parse(
      R"({"type": "s3", "bucket": "logs", "region": "us-west-2", "addressing": "virtual",
          "access_key_id": "K2", "secret_access_key": "S2", "attempts_max": 3,
          "attempt_timeout_ms": 2500, "probe": false, "resolve": ["logs.h:443:10.0.0.5"]})",
      {{"AWS_ACCESS_KEY_ID", "AK"}, {"AWS_REGION", "eu-west-1"}});
  ASSERT_TRUE(config.ok()) << config.error().describe();
  EXPECT_EQ(config->s3.endpoint, "https://s3.us-west-2.amazonaws.com");
  EXPECT_EQ(config->s3.addressing, s3::Addressing::virtual_host);
  EXPECT_EQ(config->s3.credentials.access_key_id, "K2");
  EXPECT_EQ(config->s3.attempts_max, 3u);
  EXPECT_EQ(config->s3.attempt_timeout, std::chrono::milliseconds(2500));
  EXPECT_FALSE(config->probe);
  EXPECT_EQ(config->s3.resolve, (std::vector<std::string>{"logs.h:443:10.0.0.5"}));
  EXPECT_EQ(parse(R"({"type": "s3", "bucket": "b"})", {{"AWS_ENDPOINT_URL", "http://h:1"}})
                ->s3.endpoint,
            "http://h:1");
}

TEST(s3_config, local_section_names_a_directory) {
  Result<ObjectStoreConfig> config = parse(R"({"type": "local", "dir": "/var/lib/wal"})");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->type, ObjectStoreConfig::Type::local);
  EXPECT_EQ(config->local_dir, "/var/lib/wal");
}

TEST(s3_config, mistakes_are_one_line_errors_that_name_the_key) {
  const std::map<std::string, std::string> cases = {
      {R"({"bucket": "b"})", "type is required"},
      {R"({"type": "gcs"})", "type must be"},
      {R"({"type": "s3"})", "bucket is required"},
      {R"({"type": "s3", "bucket": "b", "adressing": "path"})", "adressing is not a known key"},
      {R"({"type": "s3", "bucket": "b", "addressing": "dns"})", "addressing must be"},
      {R"({"type": "s3", "bucket": 7})", "bucket must be a string"},
      {R"({"type": "s3", "bucket": "b", "attempts_max": 0})", "attempts_max must be"},
      {R"({"type": "s3", "bucket": "b", "call_timeout_ms": -5})", "call_timeout_ms must be"},
      {R"({"type": "s3", "bucket": "b", "unsigned_payload": "yes"})", "unsigned_payload must"},
      {R"({"type": "local", "bucket": "b"})", "bucket is not a known key"},
      {R"("s3")", "must be a JSON object"},
      {R"({"type": "s3", "bucket": "b", "resolve": "h:1:a"})", "resolve must be a list"},
  };
  for (const auto& [text, expected] : cases) {
    Result<ObjectStoreConfig> config = parse(text, {{"AWS_SECRET_ACCESS_KEY", "hidden-secret"}});
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.error().code, Errc::invalid_argument) << text;
    EXPECT_NE(config.error().message.find(expected), std::string::npos)
        << text << " -> " << config.error().message;
    EXPECT_EQ(config.error().message.find("hidden-secret"), std::string::npos);
    EXPECT_EQ(config.error().message.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace wal
