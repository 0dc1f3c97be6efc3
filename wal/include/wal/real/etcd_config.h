#pragma once
// The `meta_store` section of a JSON config file, shared by `wp`, the library and daemons:
// which MetaStore to use and how to reach it.
//
//   "meta_store": {"type": "sqlite"}                              the embedded default
//   "meta_store": {"type": "etcd",
//                  "endpoints": ["127.0.0.1:2379", "https://10.0.0.2:2379", ...],
//                  "prefix": "/wal/",                          every key the WAL writes
//                  "username": "wal", "password": "...",       or "password_file": "path"
//                  "tls": {"ca_file": "ca.pem", "cert_file": "client.pem",
//                          "key_file": "client-key.pem"},
//                  "request_timeout_ms": 1000, "operation_timeout_ms": 10000}
//
// Every key but "type" is optional ("endpoints" is required for etcd). Unknown keys and wrong
// types are errors, so a typo never falls back to a default silently. "prefix" (default "/wal/",
// must end with '/') becomes ClientOptions::meta_root for either type, so several deployments
// can share one etcd. docs/metadata.md lists the keys under it.

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "wal/async/task.h"
#include "wal/env/clock.h"
#include "wal/env/meta_store.h"
#include "wal/real/etcd_meta_store.h"

namespace wal {

struct MetaStoreConfig {
  enum class Type : uint8_t { sqlite, etcd };
  Type type = Type::sqlite;
  std::string prefix = "/wal/";
  EtcdOptions etcd;  // for Type::etcd
};

// Reads `section` over `config`. invalid_argument naming the key ("meta_store.endpoints must
// be a list of strings"); not_found / io_error when password_file cannot be read.
[[nodiscard]] Status parse_meta_store_config(const nlohmann::json& section,
                                             MetaStoreConfig& config);

// Opens the configured store on the loop `executor` (which `clock` runs on): SQLite in
// `<data_dir>/meta.sqlite` (SqliteMetaStore::open), or etcd (EtcdMetaStore::open, which
// connects and authenticates first). Errors: those of the store's open().
Task<Result<std::unique_ptr<MetaStore>>> open_meta_store(const MetaStoreConfig& config,
                                                         Executor& executor, Clock& clock,
                                                         const std::string& data_dir);

}  // namespace wal
