#include "config_logstore.h"

#include <nlohmann/json.hpp>

#include "config_json.h"
#include "wal/format/block_format.h"

namespace wal::cli {

namespace {

Status parse_logstore_section(const nlohmann::json& section, quorum::LogStoreOptions& options) {
  const std::string where = "logstore.";
  WAL_CLI_TRY(
      check_config_keys(section, "logstore.",
                        {"registration_ttl_ms", "upload_scan_interval_ms", "upload_block_bytes_max",
                         "upload_open_segments", "read_reply_bytes_max", "repair_read_timeout_ms",
                         "entry_cache_bytes_max"}));
  // etcd rounds lease TTLs below 2 s up; an hour is far beyond any sensible liveness signal.
  WAL_CLI_TRY(read_config_ms(section, where, "registration_ttl_ms", 2000, 3'600'000,
                         options.registration_ttl));
  WAL_CLI_TRY(read_config_ms(section, where, "upload_scan_interval_ms", 10, 600'000,
                         options.upload_scan_interval));
  WAL_CLI_TRY(read_config_u64(section, where, "upload_block_bytes_max", 1024,
                          limits::block_size_bytes_max, options.upload_block_bytes_max));
  WAL_CLI_TRY(read_config_bool(section, where, "upload_open_segments", options.upload_open_segments));
  WAL_CLI_TRY(read_config_u64(section, where, "read_reply_bytes_max", 1024, 64ull << 20,
                          options.read_reply_bytes_max));
  WAL_CLI_TRY(read_config_ms(section, where, "repair_read_timeout_ms", 10, 600'000,
                         options.repair_read_timeout));
  // 0 turns the cache off (every read goes to the journal); 64 GiB is beyond any machine here.
  WAL_CLI_TRY(read_config_u64(section, where, "entry_cache_bytes_max", 0, 64ull << 30,
                              options.entry_cache_bytes_max));
  return Status{};
}

bool valid_node_id(const std::string& node) {
  if (node.empty() || node.size() > 64) return false;
  for (char c : node) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Status parse_logstore_config(const nlohmann::json& root, LogStoreDaemonConfig& config) {
  WAL_CLI_TRY(check_config_keys(root, "",
                            {"node", "zone", "listen", "advertise", "metrics_listen", "data_dir",
                             "drain_timeout_ms", "meta_store", "object_store", "logstore"}));
  WAL_CLI_TRY(read_config_string(root, "", "node", config.node));
  WAL_CLI_TRY(read_config_string(root, "", "zone", config.zone));
  WAL_CLI_TRY(read_config_string(root, "", "listen", config.listen));
  WAL_CLI_TRY(read_config_string(root, "", "advertise", config.advertise));
  WAL_CLI_TRY(read_config_string(root, "", "metrics_listen", config.metrics_listen));
  WAL_CLI_TRY(read_config_string(root, "", "data_dir", config.data_dir));
  WAL_CLI_TRY(read_config_ms(root, "", "drain_timeout_ms", 0, 86'400'000, config.drain_timeout));
  if (root.contains("meta_store")) {
    WAL_CLI_TRY(parse_meta_store_config(root["meta_store"], config.meta_store));
  }
  if (root.contains("object_store")) {
    Result<ObjectStoreConfig> objects =
        parse_object_store_config(root["object_store"], process_environment());
    if (!objects.ok()) return std::move(objects).error();
    config.object_store = std::move(objects).value();
  }
  if (root.contains("logstore")) WAL_CLI_TRY(parse_logstore_section(root["logstore"], config.logstore));
  return Status{};
}

Status finish_logstore_config(LogStoreDaemonConfig& config) {
  if (!valid_node_id(config.node)) {
    return make_error(Errc::invalid_argument,
                      config.node.empty()
                          ? "no node id: pass --node NAME or \"node\" in the config file"
                          : "node id '" + config.node + "' must be 1-64 of letters, digits, - _ .");
  }
  if (config.data_dir.empty()) {
    return make_error(Errc::invalid_argument, "no data directory: pass --data-dir or \"data_dir\"");
  }
  // No default directory: a LogStore's uploads must land where every reader looks.
  if (!config.object_store || (config.object_store->type == ObjectStoreConfig::Type::local &&
                               config.object_store->local_dir.empty())) {
    return make_error(Errc::invalid_argument,
                      "no object store: pass --objects DIR or \"object_store\": {\"type\": "
                      "\"s3\", ...} or {\"type\": \"local\", \"dir\": ...}");
  }
  if (config.meta_store.type != MetaStoreConfig::Type::etcd) {
    return make_error(Errc::invalid_argument,
                      "the metadata store must be etcd (\"meta_store\": {\"type\": \"etcd\", "
                      "\"endpoints\": [...]} or --etcd HOST:PORT): LogStores and their writers "
                      "share it across processes");
  }
  WAL_CLI_TRY(check_host_port(config.listen, "listen", /*port_zero_ok=*/false));
  if (config.advertise.empty()) {
    const std::string host = config.listen.substr(0, config.listen.rfind(':'));
    if (host == "0.0.0.0" || host == "[::]" || host == "::") {
      return make_error(Errc::invalid_argument,
                        "listen address " + config.listen +
                            " is not dialable: pass --advertise HOST:PORT (how peers reach it)");
    }
    config.advertise = config.listen;
  }
  WAL_CLI_TRY(check_host_port(config.advertise, "advertise", /*port_zero_ok=*/false));
  if (!config.metrics_listen.empty()) {
    WAL_CLI_TRY(check_host_port(config.metrics_listen, "metrics_listen", /*port_zero_ok=*/true));
  }
  config.logstore.meta_root = config.meta_store.prefix;
  config.logstore.advertise_address = config.advertise;
  config.logstore.zone = config.zone;
  return Status{};
}

}  // namespace wal::cli
