#include "wp_runtime.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <algorithm>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "wal/log/store_identity.h"
#include "wal/quorum/replica_reads.h"
#include "wal/real/local_object_store.h"
#include "wal/real/os_random.h"
#include "wal/real/sqlite_meta_store.h"
#include "wp_quorum_runtime.h"

// Early return of a failed Status in this file's plain (non-coroutine) functions.
#define WAL_TRY_STATUS(expr)                      \
  do {                                            \
    Status wal_try_status_ = (expr);              \
    if (!wal_try_status_.ok()) return wal_try_status_; \
  } while (false)

namespace wal::cli {

namespace {

// Reads an optional unsigned integer `name` of `object` within [min, max]. JSON numbers that are
// negative, fractional or beyond 2^64 (which nlohmann parses as floating point) are refused, as
// are strings: a value is never cut to fit.
Status read_u64(const nlohmann::json& object, const std::string& where, const char* name,
                uint64_t min, uint64_t max, uint64_t& out) {
  if (!object.contains(name)) return Status{};
  const nlohmann::json& value = object[name];
  const std::string key = where + name;
  if (!value.is_number_unsigned()) {
    return make_error(Errc::invalid_argument,
                      fmt::format("config: '{}' must be an integer in {}..{}, got {}", key, min,
                                  max, value.dump()));
  }
  const uint64_t number = value.get<uint64_t>();
  if (number < min || number > max) {
    return make_error(Errc::invalid_argument,
                      fmt::format("config: '{}' must be in {}..{}, got {}", key, min, max,
                                  number));
  }
  out = number;
  return Status{};
}

Status check_keys(const nlohmann::json& object, const std::string& where,
                  std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const char* name : allowed) known = known || key == name;
    if (!known) {
      return make_error(Errc::invalid_argument, "config: unknown key '" + where + key + "'");
    }
  }
  return Status{};
}

// A section must be an object: `"writer": null` or `[]` would otherwise read as "no options".
Status check_section(const nlohmann::json& root, const char* name) {
  if (root[name].is_object()) return Status{};
  return make_error(Errc::invalid_argument, std::string("config: '") + name +
                                                "' must be an object, got " +
                                                root[name].type_name());
}

// The ranges `wp` accepts (docs/cli.md): tighter than what WriterOptions tolerates, so that a
// typo cannot make the tool roll a segment per block or per millisecond.
Status load_writer_section(const nlohmann::json& w, WriterOptions& writer) {
  WAL_TRY_STATUS(check_keys(w, "writer.", {"block_size_bytes_max", "inflight_blocks_max",
                                          "inflight_bytes_max", "segment_size_bytes_max",
                                          "segment_age_max_ms", "checkpoint_interval_blocks",
                                          "tail_publish_interval_ms", "fencing"}));
  constexpr uint64_t mib = 1 << 20;
  const std::string at = "writer.";
  WAL_TRY_STATUS(read_u64(w, at, "block_size_bytes_max", 1024, limits::block_size_bytes_max,
                          writer.block_size_bytes_max));
  WAL_TRY_STATUS(read_u64(w, at, "inflight_bytes_max", mib, 16ull << 30,
                          writer.inflight_bytes_max));
  WAL_TRY_STATUS(read_u64(w, at, "segment_size_bytes_max", mib, 1ull << 40,
                          writer.segment_size_bytes_max));
  uint64_t value = writer.inflight_blocks_max;
  WAL_TRY_STATUS(read_u64(w, at, "inflight_blocks_max", 1, 64, value));
  writer.inflight_blocks_max = static_cast<uint32_t>(value);
  // Blocks may run ahead of a slow PUT by four rounds of the slots (WriterOptions).
  writer.unacknowledged_blocks_max = std::max(writer.unacknowledged_blocks_max,
                                               4 * writer.inflight_blocks_max);
  value = writer.checkpoint_interval_blocks;
  WAL_TRY_STATUS(read_u64(w, at, "checkpoint_interval_blocks", 1,
                          limits::manifest_block_count_max, value));
  writer.checkpoint_interval_blocks = static_cast<uint32_t>(value);
  value = static_cast<uint64_t>(writer.segment_age_max.count());
  WAL_TRY_STATUS(read_u64(w, at, "segment_age_max_ms", 1000, 30ull * 24 * 3600 * 1000, value));
  writer.segment_age_max = std::chrono::milliseconds(value);
  value = static_cast<uint64_t>(writer.tail_publish_interval_min.count());
  WAL_TRY_STATUS(read_u64(w, at, "tail_publish_interval_ms", 0, 60'000, value));
  writer.tail_publish_interval_min = std::chrono::milliseconds(value);
  if (w.contains("fencing")) {
    const std::string mode = w["fencing"].is_string() ? w["fencing"].get<std::string>() : "";
    if (mode == "fence_object") {
      writer.fencing = FencingMode::fence_object;
    } else if (mode == "meta_confirm") {
      writer.fencing = FencingMode::meta_confirm;
    } else {
      return make_error(Errc::invalid_argument,
                        "config: writer.fencing must be \"fence_object\" or \"meta_confirm\"");
    }
  }
  if (writer.inflight_bytes_max < writer.block_size_bytes_max ||
      writer.segment_size_bytes_max < writer.block_size_bytes_max) {
    return make_error(Errc::invalid_argument,
                      "config: writer.inflight_bytes_max and writer.segment_size_bytes_max must "
                      "be at least writer.block_size_bytes_max");
  }
  return validate(writer);
}

Status load_reader_section(const nlohmann::json& r, ReaderOptions& reader) {
  WAL_TRY_STATUS(check_keys(r, "reader.", {"prefetch_blocks"}));
  uint64_t value = reader.prefetch_blocks;
  WAL_TRY_STATUS(read_u64(r, "reader.", "prefetch_blocks", 0, 64, value));
  reader.prefetch_blocks = static_cast<uint32_t>(value);
  return Status{};
}

}  // namespace

Status load_config_file(const std::string& path, WpConfig& config) {
  std::ifstream in(path);
  if (!in) return make_error(Errc::not_found, "cannot open config file '" + path + "'");
  const nlohmann::json root = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return make_error(Errc::invalid_argument, "config file '" + path + "' is not a JSON object");
  }
  if (Status s = check_keys(root, "", {"data_dir", "writer", "reader", "meta_store",
                                        "object_store", "mode", "quorum"});
      !s.ok()) {
    return s;
  }
  if (Status s = parse_quorum_config(root, config.quorum); !s.ok()) return s;
  if (root.contains("meta_store")) {
    Status parsed = parse_meta_store_config(root["meta_store"], config.meta_store);
    if (!parsed.ok()) return parsed;
  }
  if (root.contains("object_store")) {
    auto objects = parse_object_store_config(root["object_store"], process_environment());
    if (!objects.ok()) return std::move(objects).error();
    config.object_store = std::move(objects).value();
  }
  if (root.contains("data_dir")) {
    if (!root["data_dir"].is_string() || root["data_dir"].get<std::string>().empty()) {
      return make_error(Errc::invalid_argument, "config: 'data_dir' must be a non-empty string");
    }
    config.data_dir = root["data_dir"].get<std::string>();
  }
  if (root.contains("writer")) {
    WAL_TRY_STATUS(check_section(root, "writer"));
    WAL_TRY_STATUS(load_writer_section(root["writer"], config.writer));
  }
  if (root.contains("reader")) {
    WAL_TRY_STATUS(check_section(root, "reader"));
    WAL_TRY_STATUS(load_reader_section(root["reader"], config.reader));
  }
  return Status{};
}

WpRuntime::WpRuntime(WpConfig config) : config_(std::move(config)) {}

WpRuntime::~WpRuntime() {
  client_.reset();
  replicas_.reset();
  quorum_.reset();
  env_.reset();
  meta_.reset();
  objects_.reset();
  pool_.reset();  // joins its threads after queued jobs finish
}

namespace {

bool exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

// Only `log create` makes a data directory: any other command on a mistyped path would
// otherwise create an empty store there and report "no such log" (or, for `log list`, nothing
// at all) as if the store were real.
Status check_data_dir(const std::string& data_dir, StoreAccess access, bool sqlite) {
  if (data_dir.empty()) {
    return make_error(Errc::invalid_argument, "no data directory: pass --data DIR");
  }
  if (access == StoreAccess::create) {
    if (mkdir(data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return make_error(Errc::io_error, "cannot create data directory '" + data_dir +
                                            "': " + std::strerror(errno));
    }
    return {};
  }
  if (!exists(data_dir)) {
    return make_error(Errc::not_found, "no data directory '" + data_dir +
                                           "' (`wp log create` makes one)");
  }
  if (sqlite && !exists(data_dir + "/meta.sqlite")) {
    return make_error(Errc::not_found, "'" + data_dir + "' holds no store (no meta.sqlite; "
                                      "`wp log create` makes one)");
  }
  return {};
}

}  // namespace

Status WpRuntime::open_objects(StoreAccess access) {
  const ObjectStoreConfig& objects = config_.object_store;
  if (objects.type == ObjectStoreConfig::Type::local) {
    const std::string dir =
        objects.local_dir.empty() ? config_.data_dir + "/objects" : objects.local_dir;
    auto local = run(access == StoreAccess::read_only
                         ? LocalObjectStore::open_read_only(*pool_, dir)
                         : LocalObjectStore::open(*pool_, dir));
    if (!local.ok()) return std::move(local).error();
    objects_ = std::move(local).value();
    return {};
  }
  auto opened = run(open_object_store(loop_, *pool_, objects, config_.data_dir + "/objects"));
  if (!opened.ok()) return std::move(opened).error();
  objects_ = std::move(opened->store);
  std::fprintf(stderr, "%s\n", opened->description.c_str());
  if (!opened->create_only_enforced) config_.writer.fencing = FencingMode::meta_confirm;
  return {};
}

Status WpRuntime::open_meta(StoreAccess access) {
  if (config_.meta_store.type != MetaStoreConfig::Type::sqlite) {
    auto opened = run(open_meta_store(config_.meta_store, loop_, loop_, config_.data_dir));
    if (!opened.ok()) return std::move(opened).error();
    meta_ = std::move(opened).value();
    return {};
  }
  SqliteMetaOptions options;
  options.read_only = access == StoreAccess::read_only;
  options.create = access == StoreAccess::create;
  auto opened =
      run(SqliteMetaStore::open(loop_, loop_, config_.data_dir + "/meta.sqlite", options));
  if (!opened.ok()) return std::move(opened).error();
  meta_ = std::move(opened).value();
  return {};
}

Result<std::unique_ptr<WpRuntime>> WpRuntime::open(const WpConfig& config, StoreAccess access) {
  const bool sqlite = config.meta_store.type == MetaStoreConfig::Type::sqlite;
  if (Status usable = check_data_dir(config.data_dir, access, sqlite); !usable) {
    return std::move(usable).error();
  }
  const bool read_only = access == StoreAccess::read_only;
  std::unique_ptr<WpRuntime> runtime(new WpRuntime(config));
  runtime->pool_ = std::make_unique<BlockingPool>(runtime->loop_, 4);
  runtime->random_ = std::make_unique<Xoshiro256>(os_entropy_seed());
  if (Status opened = runtime->open_objects(access); !opened) return std::move(opened).error();
  if (Status opened = runtime->open_meta(access); !opened) return std::move(opened).error();
  Network* network = nullptr;
  if (config.quorum.enabled) {
    if (config.meta_store.type != MetaStoreConfig::Type::etcd) {
      return make_error(Errc::invalid_argument,
                        "quorum mode needs etcd as the metadata store (\"meta_store\": {\"type\": "
                        "\"etcd\", ...}): the LogStores register there");
    }
    auto parts = start_quorum_network(runtime->loop_, runtime->random_->next_u64());
    if (!parts.ok()) return std::move(parts).error();
    runtime->quorum_ = std::move(parts).value();
    network = runtime->quorum_->network.get();
  }
  Result<SimBug> planted = planted_bug_from_environment("wp");
  if (!planted.ok()) return std::move(planted).error();
  runtime->faults_.plant(*planted);
  runtime->env_.emplace(Env{runtime->loop_, runtime->loop_, *runtime->random_, runtime->faults_,
                            runtime->objects_.get(), runtime->meta_.get(), nullptr, network});
  if (config.quorum.enabled) {
    Status followed = runtime->run(follow_logstore_registry(
        *runtime->quorum_, *runtime->env_, config.meta_store.prefix, config.quorum.logstores));
    if (!followed.ok()) return std::move(followed).error();
  }
  ClientOptions client_options;
  client_options.meta_root = config.meta_store.prefix;
  client_options.skip_log_ids_with_objects = true;  // see ClientOptions
  runtime->replicas_ = quorum::replica_reads_for(*runtime->env_);
  runtime->client_.emplace(*runtime->env_, client_options, runtime->replicas_.get());
  auto identity = runtime->run(check_store_identity(
      *runtime->env_, client_options,
      read_only ? IdentityAccess::read_only : IdentityAccess::read_write));
  if (!identity.ok()) {
    Error error = std::move(identity).error();
    error.message = "data directory '" + config.data_dir + "': " + error.message;
    return error;
  }
  return runtime;
}

}  // namespace wal::cli
