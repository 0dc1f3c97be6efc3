#pragma once
// The whole JSON configuration of a WAL process, as the client library (wal/client/client.h)
// reads it, and the `writer` and `reader` sections any tool can share:
//
//   {"data_dir": "/var/lib/wal",                    the embedded stores' directory
//    "writer": {"block_size_bytes_max": 4194304, "inflight_blocks_max": 4,
//               "inflight_bytes_max": 67108864, "segment_size_bytes_max": 268435456,
//               "segment_age_max_ms": 600000, "checkpoint_interval_blocks": 32,
//               "tail_publish_interval_ms": 50, "producers_max": 4096,
//               "fencing": "fence_object" | "meta_confirm"},
//    "reader": {"prefetch_blocks": 4},
//    "object_store": {...},                         wal/real/s3_config.h
//    "meta_store": {...}}                           wal/real/etcd_config.h
//
// Every key is optional. Unknown keys, wrong types and values out of range are errors
// (invalid_argument, one line naming the key and the accepted range), so a typo never falls
// back to a default silently. The ranges are those of docs/api.md: tighter than what
// WriterOptions tolerates, so that a slip cannot make a writer roll a segment per block.
//
// "data_dir" is needed when an embedded store is used (the local object store keeps its files
// in <data_dir>/objects unless object_store.dir says otherwise; SQLite keeps
// <data_dir>/meta.sqlite); with S3 and etcd it may be left out.

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "wal/core/result.h"
#include "wal/log/options.h"
#include "wal/real/etcd_config.h"
#include "wal/real/s3_config.h"

namespace wal {

struct WalConfig {
  std::string data_dir;            // empty: none given
  ObjectStoreConfig object_store;  // default: local, in <data_dir>/objects
  MetaStoreConfig meta_store;      // default: SQLite in <data_dir>/meta.sqlite
  WriterOptions writer;
  ReaderOptions reader;
};

// Reads a whole configuration (the object above). `env` supplies S3 credentials and endpoint
// defaults (wal/real/s3_config.h). Errors: invalid_argument; not_found / io_error when a file
// the config names (meta_store.password_file) cannot be read.
[[nodiscard]] Result<WalConfig> parse_wal_config(const nlohmann::json& root,
                                                 const EnvironmentLookup& env);
// The same from JSON text; invalid_argument when the text is not one JSON object (the message
// says where parsing stopped). `origin` names the text in messages ("config file 'x.json'").
[[nodiscard]] Result<WalConfig> parse_wal_config_text(std::string_view text,
                                                      std::string_view origin,
                                                      const EnvironmentLookup& env);
// The same from a file: not_found when it cannot be opened.
[[nodiscard]] Result<WalConfig> load_wal_config_file(const std::string& path,
                                                     const EnvironmentLookup& env);

// The `writer` and `reader` sections, read over the options given (keys left out keep their
// value). invalid_argument naming the key.
[[nodiscard]] Status parse_writer_section(const nlohmann::json& section, WriterOptions& writer);
[[nodiscard]] Status parse_reader_section(const nlohmann::json& section, ReaderOptions& reader);

// True when the configuration uses an embedded store, which lives under data_dir.
[[nodiscard]] bool uses_data_dir(const WalConfig& config);

}  // namespace wal
