#pragma once
// The `object_store` section of a JSON configuration, shared by `wp` and anything else that
// builds an Env from a config file (a LogStore daemon, a library facade), and the one function
// that opens the store it describes.
//
//   {"type": "local", "dir": "/var/lib/wal/objects"}          the embedded default
//   {"type": "s3", "endpoint": "http://127.0.0.1:7480", "bucket": "wal", "region": "us-east-1",
//    "addressing": "path" | "virtual", "ca_file": "...", "unsigned_payload": false,
//    "access_key_id": "...", "secret_access_key": "...", "session_token": "...",
//    "connect_timeout_ms": 2000, "attempt_timeout_ms": 10000, "call_timeout_ms": 60000,
//    "attempts_max": 5, "probe": true, "resolve": ["bucket.host:443:10.0.0.5"]}
//
// Only "type" is required ("bucket" too for s3). Unknown keys are errors, so a typo never falls
// back to a default silently. Credentials missing from the section come from the standard
// variables AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; a missing region
// from AWS_REGION or AWS_DEFAULT_REGION (else us-east-1); a missing endpoint from
// AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (else AWS: https://s3.<region>.amazonaws.com).
// Secrets are never printed: no error message and no log line contains them.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "wal/env/object_store.h"
#include "wal/real/event_loop.h"
#include "wal/real/s3_object_store.h"

namespace wal {

struct ObjectStoreConfig {
  enum class Type : uint8_t { local, s3 };
  Type type = Type::local;
  std::string local_dir;  // local: the directory; empty: the caller's default
  S3Options s3;
  bool probe = true;  // s3: probe If-None-Match / If-Match when opening
};

// Looks up an environment variable; nullopt when unset. process_environment() reads the real
// environment (allowed in wal/real); tests pass a map.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;
[[nodiscard]] EnvironmentLookup process_environment();

// invalid_argument with a one-line reason ("config: object_store.addressing must be ...").
[[nodiscard]] Result<ObjectStoreConfig> parse_object_store_config(const nlohmann::json& section,
                                                                  const EnvironmentLookup& env);

struct OpenedObjectStore {
  std::unique_ptr<ObjectStore> store;
  // False when the store does not refuse an existing key on a create-only PUT: writers must
  // then fence with FencingMode::meta_confirm (wal/log/options.h).
  bool create_only_enforced = true;
  std::string description;  // one log line: which store, what it enforces, the fencing mode
};

// Opens the configured store: LocalObjectStore in local_dir (or `default_local_dir`), or an
// S3ObjectStore (S3ObjectStore::open, with its one-line errors). `pool` serves the local store.
[[nodiscard]] Task<Result<OpenedObjectStore>> open_object_store(EventLoop& loop,
                                                                BlockingPool& pool,
                                                                ObjectStoreConfig config,
                                                                std::string default_local_dir);

}  // namespace wal
