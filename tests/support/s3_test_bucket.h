#pragma once
// The real S3 server of the test run (Ceph RGW, started once by the CTest fixture `rgw`:
// scripts/rgw.sh start, see CMakeLists.txt) and a fresh bucket per test on it, so tests that
// run in parallel never see each other's objects.
//
// The fixture's directory comes from the environment variable WAL_RGW_DIR; its `env` file holds
// the endpoint and keys (scripts/rgw.sh). Without WAL_RGW_DIR (a test binary run by hand)
// rgw_settings() is nullopt and S3 tests skip themselves; under CTest the variable is always
// set, so a missing or dead server fails the tests instead of skipping them.

#include <memory>
#include <optional>
#include <string>

#include "wal/real/event_loop.h"
#include "wal/real/s3_object_store.h"

namespace wal::testing {

struct RgwSettings {
  std::string dir;  // the cluster's directory (scripts/rgw.sh DIR)
  S3Options options;  // endpoint, region, credentials, and the bucket the script created
};

// nullopt when WAL_RGW_DIR is unset; aborts the test binary (a broken fixture) when it is set
// but the env file cannot be read.
[[nodiscard]] std::optional<RgwSettings> rgw_settings();

// Runs `scripts/rgw.sh ARGS...` for the fixture's cluster; returns its stdout. Throws on failure.
std::string run_rgw_script(const std::string& arguments);

// A bucket of its own for one test: created empty on construction, emptied and deleted when
// destroyed (best effort: a leftover bucket dies with the cluster).
class S3TestBucket {
 public:
  // nullptr when there is no RGW (rgw_settings() is nullopt). Throws if creating fails.
  [[nodiscard]] static std::unique_ptr<S3TestBucket> create(EventLoop& loop);
  ~S3TestBucket();
  S3TestBucket(const S3TestBucket&) = delete;
  S3TestBucket& operator=(const S3TestBucket&) = delete;

  // Options for an S3ObjectStore on this bucket (endpoint, credentials, bucket, region).
  [[nodiscard]] const S3Options& options() const { return options_; }
  [[nodiscard]] const RgwSettings& settings() const { return settings_; }

 private:
  S3TestBucket(EventLoop& loop, RgwSettings settings, S3Options options);
  EventLoop& loop_;
  RgwSettings settings_;
  S3Options options_;
};

// Opens an S3ObjectStore on the loop (running it until open() finishes). Throws on failure.
[[nodiscard]] std::unique_ptr<S3ObjectStore> open_s3_store(EventLoop& loop, S3Options options,
                                                           bool probe = false);

}  // namespace wal::testing
