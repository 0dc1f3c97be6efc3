// How the S3 client reaches a real S3 server (Ceph RGW, the CTest fixture `rgw`): HTTPS with a
// given CA file (and UNSIGNED-PAYLOAD over it), a certificate nobody vouches for, virtual-host
// addressing, the capability probe, and the options open() refuses.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "tests/support/s3_test_bucket.h"

namespace wal::testing {
namespace {

// A gateway of this test's own on the fixture's cluster, killed when the test ends.
class Gateway {
 public:
  Gateway(const RgwSettings& settings, const std::string& name, bool tls)
      : dir_(settings.dir), name_(name) {
    const std::string out =
        run_rgw_script("start-gateway " + dir_ + " " + name_ + (tls ? " --tls" : ""));
    const size_t at = out.find("S3_ENDPOINT=");
    if (at == std::string::npos) throw std::runtime_error("no endpoint in: " + out);
    endpoint_ = out.substr(at + 12, out.find('\n', at) - at - 12);
    ca_file_ = dir_ + "/tls/cert.pem";
  }
  ~Gateway() {
    try {
      run_rgw_script("kill-gateway " + dir_ + " " + name_);
    } catch (const std::exception&) {
      // The fixture's stop kills it anyway.
    }
  }
  [[nodiscard]] const std::string& endpoint() const { return endpoint_; }
  [[nodiscard]] const std::string& ca_file() const { return ca_file_; }

 private:
  std::string dir_;
  std::string name_;
  std::string endpoint_;
  std::string ca_file_;
};

Result<std::unique_ptr<S3ObjectStore>> open_store(EventLoop& loop, S3Options options) {
  return loop.run(S3ObjectStore::open(loop, std::move(options), /*probe_conditions=*/true));
}

void expect_round_trip(EventLoop& loop, S3ObjectStore& store, const std::string& key) {
  Result<ObjectInfo> put = loop.run(store.put(key, to_bytes("body of " + key),
                                              PutCondition::create_only()));
  ASSERT_TRUE(put.ok()) << put.error().describe();
  Result<ObjectData> got = loop.run(store.get(key, std::nullopt));
  ASSERT_TRUE(got.ok()) << got.error().describe();
  EXPECT_EQ(to_string(got->body), "body of " + key);
  EXPECT_EQ(got->info.etag, put->etag);
}

TEST(s3_transport, https_with_the_given_ca_file_round_trips_also_with_unsigned_payload) {
  const std::optional<RgwSettings> settings = rgw_settings();
  if (!settings) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  EventLoop loop;
  std::unique_ptr<S3TestBucket> bucket = S3TestBucket::create(loop);
  Gateway gateway(*settings, "tls" + std::to_string(getpid()), /*tls=*/true);
  ASSERT_TRUE(gateway.endpoint().starts_with("https://")) << gateway.endpoint();
  S3Options options = bucket->options();
  options.endpoint = gateway.endpoint();
  options.ca_file = gateway.ca_file();
  Result<std::unique_ptr<S3ObjectStore>> store = open_store(loop, options);
  ASSERT_TRUE(store.ok()) << store.error().describe();
  expect_round_trip(loop, **store, "over/tls");
  options.unsigned_payload = true;  // allowed over TLS only
  Result<std::unique_ptr<S3ObjectStore>> unsigned_store = open_store(loop, options);
  ASSERT_TRUE(unsigned_store.ok()) << unsigned_store.error().describe();
  expect_round_trip(loop, **unsigned_store, "over/tls/unsigned");
}

TEST(s3_transport, a_certificate_nobody_vouches_for_fails_open_with_one_clear_line) {
  const std::optional<RgwSettings> settings = rgw_settings();
  if (!settings) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  EventLoop loop;
  std::unique_ptr<S3TestBucket> bucket = S3TestBucket::create(loop);
  Gateway gateway(*settings, "untrusted" + std::to_string(getpid()), /*tls=*/true);
  S3Options options = bucket->options();
  options.endpoint = gateway.endpoint();  // no ca_file: the system store does not know it
  Result<std::unique_ptr<S3ObjectStore>> store = open_store(loop, options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, Errc::permission_denied);
  EXPECT_FALSE(store.error().unknown());
  EXPECT_NE(store.error().message.find("certificate"), std::string::npos)
      << store.error().message;
  EXPECT_EQ(store.error().message.find('\n'), std::string::npos);
}

TEST(s3_transport, virtual_host_addressing_round_trips) {
  EventLoop loop;
  std::unique_ptr<S3TestBucket> bucket = S3TestBucket::create(loop);
  if (bucket == nullptr) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  S3Options options = bucket->options();
  const std::string port = options.endpoint.substr(options.endpoint.rfind(':') + 1);
  // RGW takes the bucket from the Host header under its DNS name (rgw dns name = localhost,
  // scripts/rgw.sh); bucket.localhost has no DNS record here, so pin it.
  options.endpoint = "http://localhost:" + port;
  options.addressing = s3::Addressing::virtual_host;
  options.resolve = {options.bucket + ".localhost:" + port + ":127.0.0.1"};
  Result<std::unique_ptr<S3ObjectStore>> store = open_store(loop, options);
  ASSERT_TRUE(store.ok()) << store.error().describe();
  expect_round_trip(loop, **store, "virtual/one");
  expect_round_trip(loop, **store, "virtual/two");
  Result<ListPage> page = loop.run((*store)->list("virtual/", "", 1));
  ASSERT_TRUE(page.ok()) << page.error().describe();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "virtual/one");
  Result<std::vector<Status>> removed =
      loop.run((*store)->remove_many({"virtual/one", "virtual/two"}));
  ASSERT_TRUE(removed.ok()) << removed.error().describe();
  EXPECT_TRUE((*removed)[0].ok());
  EXPECT_TRUE((*removed)[1].ok());
}

TEST(s3_transport, the_probe_finds_rgw_enforcing_both_conditions_and_prints_no_secret) {
  EventLoop loop;
  std::unique_ptr<S3TestBucket> bucket = S3TestBucket::create(loop);
  if (bucket == nullptr) GTEST_SKIP() << "no RGW (WAL_RGW_DIR unset)";
  Result<std::unique_ptr<S3ObjectStore>> store = open_store(loop, bucket->options());
  ASSERT_TRUE(store.ok()) << store.error().describe();
  ASSERT_TRUE((*store)->capabilities().has_value());
  EXPECT_TRUE((*store)->capabilities()->create_only_enforced);
  EXPECT_TRUE((*store)->capabilities()->if_match_enforced);
  const std::string line = (*store)->capabilities()->describe(bucket->options());
  EXPECT_NE(line.find("fencing by fence object"), std::string::npos) << line;
  EXPECT_EQ(line.find(bucket->options().credentials.secret_access_key), std::string::npos);
  // The probe's scratch key is gone.
  Result<ListPage> page = loop.run((*store)->list(".wal-probe/", "", 10));
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->objects.empty());
}

TEST(s3_transport, open_refuses_options_that_cannot_work_with_one_line_each) {
  EventLoop loop;
  S3Options options;
  options.endpoint = "http://127.0.0.1:1";
  options.bucket = "wal";
  options.credentials = {"key", "secret", ""};
  options.unsigned_payload = true;
  EXPECT_EQ(open_store(loop, options).error().code, Errc::invalid_argument);  // over http
  options.unsigned_payload = false;
  options.bucket = "Bad_Bucket";
  EXPECT_EQ(open_store(loop, options).error().code, Errc::invalid_argument);
  options.bucket = "wal";
  options.credentials = {};
  Result<std::unique_ptr<S3ObjectStore>> no_keys = open_store(loop, options);
  EXPECT_EQ(no_keys.error().code, Errc::invalid_argument);
  EXPECT_NE(no_keys.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  options.credentials = {"key", "secret", ""};
  options.endpoint = "127.0.0.1:1";
  EXPECT_EQ(open_store(loop, options).error().code, Errc::invalid_argument);  // no scheme
}

}  // namespace
}  // namespace wal::testing
