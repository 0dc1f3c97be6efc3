#include "tests/support/s3_test_bucket.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>

#include "wal/real/s3_http.h"
#include "wal/real/s3_request.h"

namespace wal::testing {

namespace {

std::map<std::string, std::string> read_env_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path + " (did scripts/rgw.sh start run?)");
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    const size_t equals = line.find('=');
    if (equals != std::string::npos) values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return values;
}

// A bucket-level request (create or delete the bucket itself), signed like the store's.
int bucket_request(EventLoop& loop, const S3Options& options, const std::string& method) {
  Result<s3::Endpoint> endpoint = s3::Endpoint::parse(options.endpoint);
  if (!endpoint.ok()) throw std::runtime_error(endpoint.error().describe());
  s3::RequestSigner signer(s3::SignerConfig{*endpoint, options.bucket, options.addressing,
                                            {options.region, "s3"}, options.credentials, false});
  s3::HttpTransport transport(loop, {});
  s3::Operation operation{method, "", {}, {}, nullptr};
  if (method == "PUT") operation.body = std::make_shared<const Bytes>();
  s3::HttpResult result = loop.run(transport.send(signer.build(std::move(operation))));
  if (result.failure != s3::HttpFailure::none) {
    throw std::runtime_error(method + " bucket " + options.bucket + ": " +
                             result.failure_message);
  }
  return static_cast<int>(result.status);
}

}  // namespace

std::optional<RgwSettings> rgw_settings() {
  const char* dir = std::getenv("WAL_RGW_DIR");
  if (dir == nullptr || *dir == '\0') return std::nullopt;
  std::map<std::string, std::string> env = read_env_file(std::string(dir) + "/env");
  RgwSettings settings;
  settings.dir = dir;
  settings.options.endpoint = env["S3_ENDPOINT"];
  settings.options.bucket = env["S3_BUCKET"];
  settings.options.region = env["S3_REGION"];
  settings.options.credentials.access_key_id = env["AWS_ACCESS_KEY_ID"];
  settings.options.credentials.secret_access_key = env["AWS_SECRET_ACCESS_KEY"];
  if (settings.options.endpoint.empty() || settings.options.credentials.access_key_id.empty()) {
    throw std::runtime_error(std::string(dir) + "/env lacks S3_ENDPOINT or the keys");
  }
  return settings;
}

std::string run_rgw_script(const std::string& arguments) {
  const std::optional<RgwSettings> settings = rgw_settings();
  if (!settings) throw std::runtime_error("no RGW: WAL_RGW_DIR is not set");
  const std::string command = std::string(WAL_SOURCE_DIR) + "/scripts/rgw.sh " + arguments +
                              " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  std::string output;
  char buffer[512];
  while (size_t length = fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, length);
  const int status = pclose(pipe);
  if (status != 0) throw std::runtime_error(command + " failed:\n" + output);
  return output;
}

std::unique_ptr<S3TestBucket> S3TestBucket::create(EventLoop& loop) {
  std::optional<RgwSettings> settings = rgw_settings();
  if (!settings) return nullptr;
  S3Options options = settings->options;
  std::random_device entropy;
  char name[32];
  std::snprintf(name, sizeof name, "t-%08x%08x", entropy(), entropy());
  options.bucket = name;
  const int status = bucket_request(loop, options, "PUT");
  if (status != 200) {
    throw std::runtime_error("creating bucket " + options.bucket + ": HTTP " +
                             std::to_string(status));
  }
  return std::unique_ptr<S3TestBucket>(new S3TestBucket(loop, std::move(*settings), options));
}

S3TestBucket::S3TestBucket(EventLoop& loop, RgwSettings settings, S3Options options)
    : loop_(loop), settings_(std::move(settings)), options_(std::move(options)) {}

S3TestBucket::~S3TestBucket() {
  try {
    std::unique_ptr<S3ObjectStore> store = open_s3_store(loop_, options_);
    for (int page_index = 0; page_index < 1000; ++page_index) {
      Result<ListPage> page = loop_.run(store->list("", "", limits::list_page_keys_max));
      if (!page.ok() || page->objects.empty()) break;
      std::vector<std::string> keys;
      for (const ObjectInfo& info : page->objects) keys.push_back(info.key);
      if (!loop_.run(store->remove_many(std::move(keys))).ok()) break;
    }
    store.reset();
    (void)bucket_request(loop_, options_, "DELETE");
  } catch (const std::exception&) {
    // Best effort: the bucket goes away with the cluster at the end of the run.
  }
}

std::unique_ptr<S3ObjectStore> open_s3_store(EventLoop& loop, S3Options options, bool probe) {
  Result<std::unique_ptr<S3ObjectStore>> opened =
      loop.run(S3ObjectStore::open(loop, std::move(options), probe));
  if (!opened.ok()) throw std::runtime_error("open S3 store: " + opened.error().describe());
  return std::move(opened).value();
}

}  // namespace wal::testing
