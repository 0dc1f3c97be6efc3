// wp-logstore: a QuorumBuffer LogStore node as a daemon (wal/cli/logstore_daemon.h).
//   wp-logstore --config logstore.json
//   wp-logstore --node logstore-1 --listen 127.0.0.1:7001 --data-dir /var/lib/wp/ls1
//               --etcd 127.0.0.1:2379 --objects /var/lib/wp/objects --metrics 127.0.0.1:9091
// Flags override the config file. docs/deploy.md is the reference.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <sstream>

#include "config_json.h"
#include "config_logstore.h"
#include "config_planted_bug.h"
#include "logstore_daemon.h"

namespace {

int fail(const wal::Error& error) {
  std::fprintf(stderr, "wp-logstore: error: %s\n", error.describe().c_str());
  return 1;
}

std::vector<std::string> split_endpoints(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "wp-logstore: a LogStore node of a QuorumBuffer deployment. Keeps the entries of the "
      "segments whose ensemble it is in, in journals under its data directory, until they are "
      "uploaded to object storage; registers in etcd under a lease; serves /metrics and /health. "
      "SIGTERM drains (deregisters, waits for held segments to be uploaded) and exits; SIGKILL "
      "is always safe."};
  std::string config_path;
  std::optional<std::string> node, zone, listen, advertise, metrics, data_dir, etcd, prefix,
      objects;
  std::optional<uint64_t> drain_timeout_ms;
  bool check_config = false;
  app.add_option("--config", config_path, "JSON config file (docs/deploy.md has every key)");
  app.add_option("--node", node, "this node's id (letters, digits, - _ .)");
  app.add_option("--zone", zone, "availability zone, registered for operators");
  app.add_option("--listen", listen, "LogStore protocol address, host:port (default "
                                     "127.0.0.1:7001)");
  app.add_option("--advertise", advertise,
                 "address peers and clients dial, host:port (default: --listen)");
  app.add_option("--metrics", metrics,
                 "HTTP address for /metrics and /health, host:port (default 127.0.0.1:9091; "
                 "'' turns them off)");
  app.add_option("--data-dir", data_dir, "journals and the disk identity marker");
  app.add_option("--etcd", etcd, "etcd endpoints, comma-separated (host:port)");
  app.add_option("--prefix", prefix, "etcd key prefix (default /wal/)");
  app.add_option("--objects", objects,
                 "a local object store's directory (shared by every process on this machine); "
                 "S3: the config file's \"object_store\" section");
  app.add_option("--drain-timeout-ms", drain_timeout_ms,
                 "on SIGTERM, wait at most this long for held segments (default 30000)");
  app.add_flag("--check-config", check_config,
               "check the configuration (file and flags), print it, and exit without starting");
  app.set_version_flag("--version", wal::cli::version_text("wp-logstore"));
  CLI11_PARSE(app, argc, argv);

  wal::cli::LogStoreDaemonConfig config;
  if (!config_path.empty()) {
    wal::Result<nlohmann::json> root = wal::cli::read_config_file(config_path);
    if (!root.ok()) return fail(root.error());
    wal::Status parsed = wal::cli::parse_logstore_config(*root, config);
    if (!parsed.ok()) return fail(parsed.error());
  }
  if (node) config.node = *node;
  if (zone) config.zone = *zone;
  if (listen) config.listen = *listen;
  if (advertise) config.advertise = *advertise;
  if (metrics) config.metrics_listen = *metrics;
  if (data_dir) config.data_dir = *data_dir;
  if (objects) {
    config.object_store = wal::ObjectStoreConfig{};
    config.object_store->local_dir = *objects;
  }
  if (drain_timeout_ms) config.drain_timeout = std::chrono::milliseconds(*drain_timeout_ms);
  if (etcd) {
    config.meta_store.type = wal::MetaStoreConfig::Type::etcd;
    config.meta_store.etcd.endpoints = split_endpoints(*etcd);
  }
  if (prefix) config.meta_store.prefix = *prefix;
  if (config.meta_store.type == wal::MetaStoreConfig::Type::etcd) {
    wal::Status valid = wal::validate_etcd_options(config.meta_store.etcd);
    if (!valid.ok()) return fail(valid.error());
  }
  wal::Status finished = wal::cli::finish_logstore_config(config);
  if (!finished.ok()) return fail(finished.error());
  if (check_config) {
    std::printf("config ok: node %s, zone '%s', listen %s, advertise %s, metrics %s, data %s, "
                "etcd %zu endpoint(s) prefix %s, object store %s\n",
                config.node.c_str(), config.zone.c_str(), config.listen.c_str(),
                config.advertise.c_str(),
                config.metrics_listen.empty() ? "off" : config.metrics_listen.c_str(),
                config.data_dir.c_str(), config.meta_store.etcd.endpoints.size(),
                config.meta_store.prefix.c_str(),
                config.object_store->type == wal::ObjectStoreConfig::Type::s3
                    ? ("s3 " + config.object_store->s3.endpoint).c_str()
                    : ("local " + config.object_store->local_dir).c_str());
    return 0;
  }
  wal::cli::LogStoreDaemon daemon(std::move(config));
  return daemon.run();
}
