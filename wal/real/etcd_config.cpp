// The `meta_store` config section (wal/include/wal/real/etcd_config.h).
#include "wal/real/etcd_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "wal/real/sqlite_meta_store.h"

namespace wal {

namespace {

using nlohmann::json;

Error invalid(const std::string& key, const std::string& why) {
  return make_error(Errc::invalid_argument, "config: meta_store." + key + " " + why);
}

Status check_keys(const json& object, const std::string& where,
                  std::initializer_list<const char*> allowed) {
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const char* name : allowed) known = known || key == name;
    if (!known) {
      return make_error(Errc::invalid_argument,
                        "config: unknown key 'meta_store." + where + key + "'");
    }
  }
  return {};
}

Status read_string(const json& object, const char* name, const std::string& where,
                   std::string& out) {
  if (!object.contains(name)) return {};
  if (!object[name].is_string()) return invalid(where + name, "must be a string");
  out = object[name].get<std::string>();
  return {};
}

Status read_milliseconds(const json& object, const char* name, std::chrono::milliseconds& out) {
  if (!object.contains(name)) return {};
  if (!object[name].is_number_unsigned() || object[name].get<uint64_t>() == 0 ||
      object[name].get<uint64_t>() > 3'600'000) {
    return invalid(name, "must be an integer from 1 to 3600000");
  }
  out = std::chrono::milliseconds(object[name].get<int64_t>());
  return {};
}

Status read_password_file(const std::string& path, std::string& password) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::not_found, "config: cannot read meta_store.password_file '" +
                                                  path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  password = text.str();
  while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) {
    password.pop_back();  // a file written by `echo` ends in a newline that is not the password
  }
  return {};
}

Status parse_tls(const json& section, EtcdTlsOptions& tls) {
  if (!section.is_object()) return invalid("tls", "must be an object");
  if (Status s = check_keys(section, "tls.", {"ca_file", "cert_file", "key_file"}); !s.ok()) {
    return s;
  }
  for (auto [name, target] : {std::pair{"ca_file", &tls.ca_file},
                              std::pair{"cert_file", &tls.cert_file},
                              std::pair{"key_file", &tls.key_file}}) {
    if (Status s = read_string(section, name, "tls.", *target); !s.ok()) return s;
  }
  return {};
}

Status parse_etcd(const json& section, EtcdOptions& etcd) {
  if (Status s = check_keys(section, "", {"type", "prefix", "endpoints", "username", "password",
                                          "password_file", "tls", "request_timeout_ms",
                                          "operation_timeout_ms"});
      !s.ok()) {
    return s;
  }
  if (!section.contains("endpoints")) return invalid("endpoints", "is required for etcd");
  const json& endpoints = section["endpoints"];
  if (!endpoints.is_array() || endpoints.empty()) {
    return invalid("endpoints", "must be a non-empty list of strings");
  }
  etcd.endpoints.clear();
  for (const json& endpoint : endpoints) {
    if (!endpoint.is_string()) return invalid("endpoints", "must be a non-empty list of strings");
    etcd.endpoints.push_back(endpoint.get<std::string>());
  }
  if (Status s = read_string(section, "username", "", etcd.username); !s.ok()) return s;
  if (Status s = read_string(section, "password", "", etcd.password); !s.ok()) return s;
  if (section.contains("password_file")) {
    if (section.contains("password")) {
      return invalid("password_file", "and meta_store.password exclude each other");
    }
    std::string path;
    if (Status s = read_string(section, "password_file", "", path); !s.ok()) return s;
    if (Status s = read_password_file(path, etcd.password); !s.ok()) return s;
  }
  if (section.contains("tls")) {
    etcd.tls.emplace();
    if (Status s = parse_tls(section["tls"], *etcd.tls); !s.ok()) return s;
  }
  if (Status s = read_milliseconds(section, "request_timeout_ms", etcd.request_timeout); !s.ok()) {
    return s;
  }
  if (Status s = read_milliseconds(section, "operation_timeout_ms", etcd.operation_timeout);
      !s.ok()) {
    return s;
  }
  if (Status s = validate_etcd_options(etcd); !s.ok()) {
    return make_error(Errc::invalid_argument, "config: meta_store: " + s.error().message);
  }
  return {};
}

}  // namespace

Status parse_meta_store_config(const json& section, MetaStoreConfig& config) {
  if (!section.is_object()) {
    return make_error(Errc::invalid_argument, "config: meta_store must be an object");
  }
  std::string type = "sqlite";
  if (Status s = read_string(section, "type", "", type); !s.ok()) return s;
  if (Status s = read_string(section, "prefix", "", config.prefix); !s.ok()) return s;
  if (config.prefix.empty() || config.prefix.back() != '/') {
    return invalid("prefix", "must end with '/' (\"/wal/\")");
  }
  if (type == "sqlite") {
    config.type = MetaStoreConfig::Type::sqlite;
    return check_keys(section, "", {"type", "prefix"});
  }
  if (type == "etcd") {
    config.type = MetaStoreConfig::Type::etcd;
    return parse_etcd(section, config.etcd);
  }
  return invalid("type", "must be \"sqlite\" or \"etcd\"");
}

Task<Result<std::unique_ptr<MetaStore>>> open_meta_store(const MetaStoreConfig& config,
                                                         Executor& executor, Clock& clock,
                                                         const std::string& data_dir) {
  switch (config.type) {
    case MetaStoreConfig::Type::sqlite: {
      std::string path = data_dir + "/meta.sqlite";  // named: see docs/architecture.md
      Result<std::unique_ptr<SqliteMetaStore>> store =
          co_await SqliteMetaStore::open(executor, clock, std::move(path));
      if (!store.ok()) co_return std::move(store).error();
      co_return std::unique_ptr<MetaStore>(std::move(*store));
    }
    case MetaStoreConfig::Type::etcd: {
      Result<std::unique_ptr<EtcdMetaStore>> store =
          co_await EtcdMetaStore::open(executor, clock, config.etcd);
      if (!store.ok()) co_return std::move(store).error();
      co_return std::unique_ptr<MetaStore>(std::move(*store));
    }
  }
  WAL_UNREACHABLE();
}

}  // namespace wal
