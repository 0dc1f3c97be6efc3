#include "wal/real/s3_config.h"

#include <cstdlib>
#include <initializer_list>

#include "wal/real/local_object_store.h"

namespace wal {

namespace {

Error config_error(const std::string& message) {
  return make_error(Errc::invalid_argument, "config: object_store." + message);
}

Status check_known_keys(const nlohmann::json& section,
                        std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : section.items()) {
    bool known = false;
    for (const char* name : allowed) known = known || key == name;
    if (!known) return config_error(key + " is not a known key");
  }
  return Status{};
}

// Reads an optional string; keeps `out` when absent.
Status read_string(const nlohmann::json& section, const char* name, std::string& out) {
  if (!section.contains(name)) return Status{};
  if (!section[name].is_string()) return config_error(std::string(name) + " must be a string");
  out = section[name].get<std::string>();
  return Status{};
}

Status read_bool(const nlohmann::json& section, const char* name, bool& out) {
  if (!section.contains(name)) return Status{};
  if (!section[name].is_boolean()) return config_error(std::string(name) + " must be true/false");
  out = section[name].get<bool>();
  return Status{};
}

Status read_positive(const nlohmann::json& section, const char* name, uint64_t& out) {
  if (!section.contains(name)) return Status{};
  if (!section[name].is_number_unsigned() || section[name].get<uint64_t>() == 0) {
    return config_error(std::string(name) + " must be a positive integer");
  }
  out = section[name].get<uint64_t>();
  return Status{};
}

Status read_milliseconds(const nlohmann::json& section, const char* name,
                         std::chrono::milliseconds& out) {
  uint64_t value = static_cast<uint64_t>(out.count());
  if (Status s = read_positive(section, name, value); !s.ok()) return s;
  out = std::chrono::milliseconds(value);
  return Status{};
}

// The first variable of `names` that is set and not empty.
std::optional<std::string> first_set(const EnvironmentLookup& env,
                                     std::initializer_list<const char*> names) {
  for (const char* name : names) {
    std::optional<std::string> value = env(name);
    if (value.has_value() && !value->empty()) return value;
  }
  return std::nullopt;
}

Status read_s3_section(const nlohmann::json& section, const EnvironmentLookup& env,
                       ObjectStoreConfig& config) {
  S3Options& s3 = config.s3;
  if (Status s = check_known_keys(section, {"type", "endpoint", "bucket", "region", "addressing",
                                            "ca_file", "unsigned_payload", "access_key_id",
                                            "secret_access_key", "session_token",
                                            "connect_timeout_ms", "attempt_timeout_ms",
                                            "call_timeout_ms", "attempts_max", "probe",
                                            "resolve"});
      !s.ok()) {
    return s;
  }
  s3.region = first_set(env, {"AWS_REGION", "AWS_DEFAULT_REGION"}).value_or("us-east-1");
  s3.credentials.access_key_id = first_set(env, {"AWS_ACCESS_KEY_ID"}).value_or("");
  s3.credentials.secret_access_key = first_set(env, {"AWS_SECRET_ACCESS_KEY"}).value_or("");
  s3.credentials.session_token = first_set(env, {"AWS_SESSION_TOKEN"}).value_or("");
  std::string addressing = "path";
  using Field = std::pair<const char*, std::string*>;
  for (auto [name, target] : {Field{"endpoint", &s3.endpoint}, Field{"bucket", &s3.bucket},
                              Field{"region", &s3.region}, Field{"addressing", &addressing},
                              Field{"ca_file", &s3.ca_file},
                              Field{"access_key_id", &s3.credentials.access_key_id},
                              Field{"secret_access_key", &s3.credentials.secret_access_key},
                              Field{"session_token", &s3.credentials.session_token}}) {
    if (Status s = read_string(section, name, *target); !s.ok()) return s;
  }
  if (s3.endpoint.empty()) {
    s3.endpoint = first_set(env, {"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"})
                      .value_or("https://s3." + s3.region + ".amazonaws.com");
  }
  if (addressing == "path") {
    s3.addressing = s3::Addressing::path;
  } else if (addressing == "virtual") {
    s3.addressing = s3::Addressing::virtual_host;
  } else {
    return config_error("addressing must be \"path\" or \"virtual\"");
  }
  if (s3.bucket.empty()) return config_error("bucket is required for type \"s3\"");
  if (section.contains("resolve")) {
    const nlohmann::json& pins = section["resolve"];
    if (!pins.is_array()) return config_error("resolve must be a list of \"host:port:address\"");
    for (const nlohmann::json& pin : pins) {
      if (!pin.is_string()) return config_error("resolve must be a list of strings");
      s3.resolve.push_back(pin.get<std::string>());
    }
  }
  if (Status s = read_bool(section, "unsigned_payload", s3.unsigned_payload); !s.ok()) return s;
  if (Status s = read_bool(section, "probe", config.probe); !s.ok()) return s;
  using TimeoutField = std::pair<const char*, std::chrono::milliseconds*>;
  for (auto [name, target] : {TimeoutField{"connect_timeout_ms", &s3.connect_timeout},
                              TimeoutField{"attempt_timeout_ms", &s3.attempt_timeout},
                              TimeoutField{"call_timeout_ms", &s3.call_timeout}}) {
    if (Status s = read_milliseconds(section, name, *target); !s.ok()) return s;
  }
  uint64_t attempts = s3.attempts_max;
  if (Status s = read_positive(section, "attempts_max", attempts); !s.ok()) return s;
  if (attempts > 100) return config_error("attempts_max must be at most 100");
  s3.attempts_max = static_cast<uint32_t>(attempts);
  return Status{};
}

}  // namespace

EnvironmentLookup process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());  // wal/real: the environment is allowed here
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<ObjectStoreConfig> parse_object_store_config(const nlohmann::json& section,
                                                    const EnvironmentLookup& env) {
  if (!section.is_object()) return config_error("must be a JSON object");
  if (!section.contains("type") || !section["type"].is_string()) {
    return config_error("type is required: \"local\" or \"s3\"");
  }
  ObjectStoreConfig config;
  const std::string type = section["type"].get<std::string>();
  if (type == "local") {
    config.type = ObjectStoreConfig::Type::local;
    if (Status s = check_known_keys(section, {"type", "dir"}); !s.ok()) return std::move(s).error();
    if (Status s = read_string(section, "dir", config.local_dir); !s.ok()) {
      return std::move(s).error();
    }
    return config;
  }
  if (type != "s3") return config_error("type must be \"local\" or \"s3\", not \"" + type + "\"");
  config.type = ObjectStoreConfig::Type::s3;
  if (Status s = read_s3_section(section, env, config); !s.ok()) return std::move(s).error();
  WAL_ASSERT(!config.s3.bucket.empty());
  return config;
}

Task<Result<OpenedObjectStore>> open_object_store(EventLoop& loop, BlockingPool& pool,
                                                  ObjectStoreConfig config,
                                                  std::string default_local_dir) {
  OpenedObjectStore opened;
  if (config.type == ObjectStoreConfig::Type::local) {
    const std::string dir = config.local_dir.empty() ? default_local_dir : config.local_dir;
    Result<std::unique_ptr<LocalObjectStore>> local = co_await LocalObjectStore::open(pool, dir);
    if (!local.ok()) co_return std::move(local).error();
    opened.store = std::move(local).value();
    opened.description = "object store: local directory " + dir +
                         " (create-only enforced); fencing by fence object";
    co_return opened;
  }
  const S3Options options = config.s3;
  Result<std::unique_ptr<S3ObjectStore>> s3 =
      co_await S3ObjectStore::open(loop, options, config.probe);
  if (!s3.ok()) co_return std::move(s3).error();
  if ((*s3)->capabilities().has_value()) {
    opened.create_only_enforced = (*s3)->capabilities()->create_only_enforced;
    opened.description = (*s3)->capabilities()->describe(options);
  } else {
    // Not probed: the operator vouches for the server (config "probe": false).
    opened.description = "object store: S3 " + options.endpoint + " bucket '" + options.bucket +
                         "' (conditional PUTs not probed; assumed enforced)";
  }
  opened.store = std::move(s3).value();
  co_return opened;
}

}  // namespace wal
