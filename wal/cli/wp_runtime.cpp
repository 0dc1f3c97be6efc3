#include "wp_runtime.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fstream>
#include <nlohmann/json.hpp>

#include "wal/real/os_random.h"
#include "wp_quorum_runtime.h"

namespace wal::cli {

namespace {

Status read_u64(const nlohmann::json& object, const char* name, uint64_t& out) {
  if (!object.contains(name)) return Status{};
  if (!object[name].is_number_unsigned()) {
    return make_error(Errc::invalid_argument, std::string("config: '") + name +
                                                  "' must be a non-negative integer");
  }
  out = object[name].get<uint64_t>();
  return Status{};
}

Status check_keys(const nlohmann::json& object, const std::string& where,
                  std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const char* name : allowed) known = known || key == name;
    if (!known) return make_error(Errc::invalid_argument, "config: unknown key '" + where + key + "'");
  }
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
    if (!root["data_dir"].is_string()) {
      return make_error(Errc::invalid_argument, "config: 'data_dir' must be a string");
    }
    config.data_dir = root["data_dir"].get<std::string>();
  }
  if (root.contains("writer")) {
    const auto& w = root["writer"];
    if (Status s = check_keys(w, "writer.", {"block_size_bytes_max", "inflight_blocks_max",
                                             "inflight_bytes_max", "segment_size_bytes_max",
                                             "segment_age_max_ms", "checkpoint_interval_blocks",
                                             "tail_publish_interval_ms", "fencing"});
        !s.ok()) {
      return s;
    }
    uint64_t value = 0;
    for (auto [name, target] : {std::pair{"block_size_bytes_max", &config.writer.block_size_bytes_max},
                                std::pair{"inflight_bytes_max", &config.writer.inflight_bytes_max},
                                std::pair{"segment_size_bytes_max",
                                          &config.writer.segment_size_bytes_max}}) {
      if (Status s = read_u64(w, name, *target); !s.ok()) return s;
    }
    value = config.writer.inflight_blocks_max;
    if (Status s = read_u64(w, "inflight_blocks_max", value); !s.ok()) return s;
    config.writer.inflight_blocks_max = static_cast<uint32_t>(value);
    value = config.writer.checkpoint_interval_blocks;
    if (Status s = read_u64(w, "checkpoint_interval_blocks", value); !s.ok()) return s;
    config.writer.checkpoint_interval_blocks = static_cast<uint32_t>(value);
    value = static_cast<uint64_t>(config.writer.segment_age_max.count());
    if (Status s = read_u64(w, "segment_age_max_ms", value); !s.ok()) return s;
    config.writer.segment_age_max = std::chrono::milliseconds(value);
    value = static_cast<uint64_t>(config.writer.tail_publish_interval_min.count());
    if (Status s = read_u64(w, "tail_publish_interval_ms", value); !s.ok()) return s;
    config.writer.tail_publish_interval_min = std::chrono::milliseconds(value);
    if (w.contains("fencing")) {
      const std::string mode = w["fencing"].is_string() ? w["fencing"].get<std::string>() : "";
      if (mode == "fence_object") {
        config.writer.fencing = FencingMode::fence_object;
      } else if (mode == "meta_confirm") {
        config.writer.fencing = FencingMode::meta_confirm;
      } else {
        return make_error(Errc::invalid_argument,
                          "config: writer.fencing must be \"fence_object\" or \"meta_confirm\"");
      }
    }
    if (config.writer.block_size_bytes_max > limits::block_size_bytes_max ||
        config.writer.block_size_bytes_max < 1024 || config.writer.inflight_blocks_max == 0) {
      return make_error(Errc::invalid_argument,
                        "config: writer.block_size_bytes_max must be 1 KiB..64 MiB and "
                        "writer.inflight_blocks_max at least 1");
    }
  }
  if (root.contains("reader")) {
    const auto& r = root["reader"];
    if (Status s = check_keys(r, "reader.", {"prefetch_blocks"}); !s.ok()) return s;
    uint64_t value = config.reader.prefetch_blocks;
    if (Status s = read_u64(r, "prefetch_blocks", value); !s.ok()) return s;
    config.reader.prefetch_blocks = static_cast<uint32_t>(value);
  }
  return Status{};
}

WpRuntime::WpRuntime(WpConfig config) : config_(std::move(config)) {}

WpRuntime::~WpRuntime() {
  client_.reset();
  quorum_.reset();
  env_.reset();
  meta_.reset();
  objects_.reset();
  pool_.reset();  // joins its threads after queued jobs finish
}

Result<std::unique_ptr<WpRuntime>> WpRuntime::open(const WpConfig& config) {
  if (config.data_dir.empty()) {
    return make_error(Errc::invalid_argument, "no data directory: pass --data DIR");
  }
  if (mkdir(config.data_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return make_error(Errc::io_error, "cannot create data directory '" + config.data_dir +
                                          "': " + std::strerror(errno));
  }
  std::unique_ptr<WpRuntime> runtime(new WpRuntime(config));
  runtime->pool_ = std::make_unique<BlockingPool>(runtime->loop_, 4);
  runtime->random_ = std::make_unique<Xoshiro256>(os_entropy_seed());
  auto objects = runtime->run(open_object_store(runtime->loop_, *runtime->pool_,
                                                config.object_store, config.data_dir + "/objects"));
  if (!objects.ok()) return std::move(objects).error();
  runtime->objects_ = std::move(objects->store);
  if (config.object_store.type == ObjectStoreConfig::Type::s3) {
    std::fprintf(stderr, "%s\n", objects->description.c_str());
  }
  if (!objects->create_only_enforced) runtime->config_.writer.fencing = FencingMode::meta_confirm;
  auto meta = runtime->run(
      open_meta_store(config.meta_store, runtime->loop_, runtime->loop_, config.data_dir));
  if (!meta.ok()) return std::move(meta).error();
  runtime->meta_ = std::move(meta).value();
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
  runtime->env_.emplace(Env{runtime->loop_, runtime->loop_, *runtime->random_, runtime->faults_,
                            runtime->objects_.get(), runtime->meta_.get(), nullptr, network});
  if (config.quorum.enabled) {
    Status followed = runtime->run(follow_logstore_registry(
        *runtime->quorum_, *runtime->env_, config.meta_store.prefix, config.quorum.logstores));
    if (!followed.ok()) return std::move(followed).error();
  }
  runtime->client_.emplace(*runtime->env_, ClientOptions{.meta_root = config.meta_store.prefix});
  return runtime;
}

}  // namespace wal::cli
