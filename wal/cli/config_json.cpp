#include "config_json.h"

#include <fstream>

namespace wal::cli {

namespace {
Error invalid(const std::string& key, const std::string& why) {
  return make_error(Errc::invalid_argument, "config: '" + key + "' " + why);
}
}  // namespace

Status check_config_keys(const nlohmann::json& object, const std::string& where,
                         std::initializer_list<const char*> allowed) {
  if (!object.is_object()) {
    const std::string name = where.empty() ? std::string("(top)") : where.substr(0, where.size() - 1);
    return make_error(Errc::invalid_argument, "config: '" + name + "' must be a JSON object");
  }
  for (const auto& [key, value] : object.items()) {
    bool known = false;
    for (const char* name : allowed) known = known || key == name;
    if (!known) return make_error(Errc::invalid_argument, "config: unknown key '" + where + key + "'");
  }
  return Status{};
}

Status read_config_string(const nlohmann::json& object, const std::string& where,
                          const char* name, std::string& out) {
  if (!object.contains(name)) return Status{};
  if (!object[name].is_string()) return invalid(where + name, "must be a string");
  out = object[name].get<std::string>();
  return Status{};
}

Status read_config_bool(const nlohmann::json& object, const std::string& where, const char* name,
                        bool& out) {
  if (!object.contains(name)) return Status{};
  if (!object[name].is_boolean()) return invalid(where + name, "must be true or false");
  out = object[name].get<bool>();
  return Status{};
}

Status read_config_u64(const nlohmann::json& object, const std::string& where, const char* name,
                       uint64_t min, uint64_t max, uint64_t& out) {
  WAL_ASSERT_LE(min, max);
  if (!object.contains(name)) return Status{};
  const nlohmann::json& value = object[name];
  if (!value.is_number_unsigned() || value.get<uint64_t>() < min || value.get<uint64_t>() > max) {
    return invalid(where + name,
                   "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  out = value.get<uint64_t>();
  return Status{};
}

Status read_config_ms(const nlohmann::json& object, const std::string& where, const char* name,
                      uint64_t min_ms, uint64_t max_ms, std::chrono::nanoseconds& out) {
  uint64_t ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(out).count());
  if (Status s = read_config_u64(object, where, name, min_ms, max_ms, ms); !s.ok()) return s;
  out = std::chrono::milliseconds(ms);
  return Status{};
}

Status read_config_string_map(const nlohmann::json& object, const std::string& where,
                              const char* name, std::map<std::string, std::string>& out) {
  if (!object.contains(name)) return Status{};
  const nlohmann::json& value = object[name];
  if (!value.is_object()) return invalid(where + name, "must be an object of strings");
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) return invalid(where + name + "." + key, "must be a string");
    out[key] = item.get<std::string>();
  }
  return Status{};
}

Result<nlohmann::json> read_config_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(Errc::not_found, "cannot open config file '" + path + "'");
  nlohmann::json root = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return make_error(Errc::invalid_argument, "config file '" + path + "' is not a JSON object");
  }
  return root;
}

Status check_host_port(const std::string& address, const std::string& what, bool port_zero_ok) {
  const size_t colon = address.rfind(':');
  const std::string why = "'" + address + "' is not host:port";
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return make_error(Errc::invalid_argument, what + ": " + why);
  }
  const std::string port_text = address.substr(colon + 1);
  if (port_text.size() > 5 || port_text.find_first_not_of("0123456789") != std::string::npos) {
    return make_error(Errc::invalid_argument, what + ": " + why);
  }
  const unsigned long port = std::stoul(port_text);
  if (port > 65535 || (port == 0 && !port_zero_ok)) {
    return make_error(Errc::invalid_argument, what + ": port " + port_text + " out of range");
  }
  return Status{};
}

}  // namespace wal::cli
