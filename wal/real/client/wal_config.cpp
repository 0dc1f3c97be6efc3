// The JSON configuration of a WAL process (wal/include/wal/real/wal_config.h). Part of
// wal_client: it reads the meta_store section with wal_etcd's parser, which wal_real cannot link.
#include "wal/real/wal_config.h"

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "wal/format/block_format.h"

namespace wal {

namespace {

using nlohmann::json;

Error invalid(std::string message) {
  return make_error(Errc::invalid_argument, "config: " + std::move(message));
}

Status check_keys(const json& object, const std::string& where,
                  std::initializer_list<const char*> allowed) {
  for (const auto& item : object.items()) {
    // A named reference, not a structured binding: clang 14 cannot capture a binding.
    const std::string& key = item.key();
    const bool known = std::any_of(allowed.begin(), allowed.end(),
                                   [&key](const char* name) { return key == name; });
    if (!known) return invalid("unknown key '" + where + key + "'");
  }
  return {};
}

// A section must be an object: `"writer": null` or `[]` would otherwise read as "no options".
Status check_section(const json& section, const std::string& name) {
  if (section.is_object()) return {};
  return invalid("'" + name + "' must be an object, got " + section.type_name());
}

// An optional unsigned integer within [min, max]. Negative, fractional and string values are
// refused, as are numbers beyond 2^64 (which nlohmann parses as floating point): a value is
// never cut to fit.
Status read_u64(const json& object, const std::string& where, const char* name, uint64_t min,
                uint64_t max, uint64_t& out) {
  if (!object.contains(name)) return {};
  const json& value = object[name];
  const std::string key = where + name;
  if (!value.is_number_unsigned()) {
    return invalid(fmt::format("'{}' must be an integer in {}..{}, got {}", key, min, max,
                               value.dump()));
  }
  const uint64_t number = value.get<uint64_t>();
  if (number < min || number > max) {
    return invalid(fmt::format("'{}' must be in {}..{}, got {}", key, min, max, number));
  }
  out = number;
  return {};
}

Status read_u32(const json& object, const std::string& where, const char* name, uint32_t min,
                uint32_t max, uint32_t& out) {
  uint64_t value = out;
  if (Status s = read_u64(object, where, name, min, max, value); !s.ok()) return s;
  out = static_cast<uint32_t>(value);
  return {};
}

Status read_ms(const json& object, const std::string& where, const char* name, uint64_t min,
               uint64_t max, std::chrono::milliseconds& out) {
  uint64_t value = static_cast<uint64_t>(out.count());
  if (Status s = read_u64(object, where, name, min, max, value); !s.ok()) return s;
  out = std::chrono::milliseconds(value);
  return {};
}

Status read_fencing(const json& section, FencingMode& fencing) {
  if (!section.contains("fencing")) return {};
  const json& value = section["fencing"];
  const std::string mode = value.is_string() ? value.get<std::string>() : "";
  if (mode == "fence_object") {
    fencing = FencingMode::fence_object;
  } else if (mode == "meta_confirm") {
    fencing = FencingMode::meta_confirm;
  } else {
    return invalid("writer.fencing must be \"fence_object\" or \"meta_confirm\", got " +
                   value.dump());
  }
  return {};
}

Status read_data_dir(const json& root, std::string& data_dir) {
  if (!root.contains("data_dir")) return {};
  const json& value = root["data_dir"];
  if (!value.is_string() || value.get<std::string>().empty()) {
    return invalid("'data_dir' must be a non-empty string");
  }
  data_dir = value.get<std::string>();
  return {};
}

}  // namespace

Status parse_writer_section(const json& section, WriterOptions& writer) {
  if (Status s = check_section(section, "writer"); !s.ok()) return s;
  if (Status s = check_keys(section, "writer.",
                            {"block_size_bytes_max", "inflight_blocks_max", "inflight_bytes_max",
                             "segment_size_bytes_max", "segment_age_max_ms",
                             "checkpoint_interval_blocks", "tail_publish_interval_ms",
                             "producers_max", "fencing"});
      !s.ok()) {
    return s;
  }
  constexpr uint64_t mib = 1ull << 20;
  const std::string at = "writer.";
  // Each range: 1 KiB blocks (smaller ones cost a PUT per handful of entries), 64 blocks in
  // flight (far past where a store's bandwidth is reached, bench/README.md), 16 GiB buffered,
  // segments of 1 MiB..1 TiB living 1 s..30 days, a tail publication at least once a minute.
  Status s = read_u64(section, at, "block_size_bytes_max", 1024, limits::block_size_bytes_max,
                      writer.block_size_bytes_max);
  if (s.ok()) {
    s = read_u64(section, at, "inflight_bytes_max", mib, 16ull << 30, writer.inflight_bytes_max);
  }
  if (s.ok()) {
    s = read_u64(section, at, "segment_size_bytes_max", mib, 1ull << 40,
                 writer.segment_size_bytes_max);
  }
  if (s.ok()) s = read_u32(section, at, "inflight_blocks_max", 1, 64, writer.inflight_blocks_max);
  if (s.ok()) {
    s = read_u32(section, at, "checkpoint_interval_blocks", 1, limits::manifest_block_count_max,
                 writer.checkpoint_interval_blocks);
  }
  if (s.ok()) {
    s = read_ms(section, at, "segment_age_max_ms", 1000, 30ull * 24 * 3600 * 1000,
                writer.segment_age_max);
  }
  if (s.ok()) {
    s = read_ms(section, at, "tail_publish_interval_ms", 0, 60'000,
                writer.tail_publish_interval_min);
  }
  if (s.ok()) {
    s = read_u32(section, at, "producers_max", 1, limits::manifest_producer_count_max,
                 writer.producers_max);
  }
  if (s.ok()) s = read_fencing(section, writer.fencing);
  if (!s.ok()) return s;
  // Blocks may run ahead of a slow PUT by four rounds of the slots (WriterOptions).
  writer.unacknowledged_blocks_max =
      std::max(writer.unacknowledged_blocks_max, 4 * writer.inflight_blocks_max);
  if (writer.inflight_bytes_max < writer.block_size_bytes_max ||
      writer.segment_size_bytes_max < writer.block_size_bytes_max) {
    return invalid("writer.inflight_bytes_max and writer.segment_size_bytes_max must be at "
                   "least writer.block_size_bytes_max");
  }
  return {};
}

Status parse_reader_section(const json& section, ReaderOptions& reader) {
  if (Status s = check_section(section, "reader"); !s.ok()) return s;
  if (Status s = check_keys(section, "reader.", {"prefetch_blocks"}); !s.ok()) return s;
  // 64 blocks of 4 MiB ahead is 256 MiB of memory per reader: more buys nothing on a store
  // that answers in one round trip.
  return read_u32(section, "reader.", "prefetch_blocks", 0, 64, reader.prefetch_blocks);
}

Result<WalConfig> parse_wal_config(const json& root, const EnvironmentLookup& env) {
  if (!root.is_object()) return invalid(std::string("must be a JSON object, got ") +
                                        root.type_name());
  if (Status s = check_keys(root, "", {"data_dir", "writer", "reader", "object_store",
                                       "meta_store"});
      !s.ok()) {
    return std::move(s).error();
  }
  WalConfig config;
  Status s = read_data_dir(root, config.data_dir);
  if (s.ok() && root.contains("writer")) s = parse_writer_section(root["writer"], config.writer);
  if (s.ok() && root.contains("reader")) s = parse_reader_section(root["reader"], config.reader);
  if (s.ok() && root.contains("meta_store")) {
    s = parse_meta_store_config(root["meta_store"], config.meta_store);
  }
  if (!s.ok()) return std::move(s).error();
  if (root.contains("object_store")) {
    Result<ObjectStoreConfig> objects = parse_object_store_config(root["object_store"], env);
    if (!objects.ok()) return std::move(objects).error();
    config.object_store = std::move(objects).value();
  }
  return config;
}

Result<WalConfig> parse_wal_config_text(std::string_view text, std::string_view origin,
                                        const EnvironmentLookup& env) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& error) {
    // The exception's text names the line and column where parsing stopped.
    return make_error(Errc::invalid_argument,
                      std::string(origin) + " is not valid JSON: " + error.what());
  }
  if (!root.is_object()) {
    return make_error(Errc::invalid_argument,
                      std::string(origin) + " is not a JSON object (got " + root.type_name() +
                          ")");
  }
  return parse_wal_config(root, env);
}

Result<WalConfig> load_wal_config_file(const std::string& path, const EnvironmentLookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "cannot open config file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(Errc::io_error, "cannot read config file '" + path + "'");
  return parse_wal_config_text(text.str(), "config file '" + path + "'", env);
}

bool uses_data_dir(const WalConfig& config) {
  const bool local_objects_in_data_dir =
      config.object_store.type == ObjectStoreConfig::Type::local &&
      config.object_store.local_dir.empty();
  return local_objects_in_data_dir || config.meta_store.type == MetaStoreConfig::Type::sqlite;
}

}  // namespace wal
