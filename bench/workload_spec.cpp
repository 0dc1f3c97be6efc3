#include "workload_spec.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "wal/core/assert.h"

namespace wal::bench {

namespace {

using Json = nlohmann::json;

Error bad(const std::string& key, const std::string& what) {
  return make_error(Errc::invalid_argument, "workload: \"" + key + "\" " + what);
}

Result<double> number(const Json& value, const std::string& key, double min, double max) {
  if (!value.is_number()) return bad(key, "must be a number");
  const double x = value.get<double>();
  if (!(x >= min && x <= max)) {
    return bad(key, "must be in " + std::to_string(min) + " .. " + std::to_string(max));
  }
  return x;
}

Result<uint64_t> whole(const Json& value, const std::string& key, uint64_t min, uint64_t max) {
  if (!value.is_number_unsigned() && !value.is_number_integer()) {
    return bad(key, "must be a whole number");
  }
  if (value.is_number_integer() && value.get<int64_t>() < 0) return bad(key, "is negative");
  const uint64_t x = value.get<uint64_t>();
  if (x < min || x > max) {
    return bad(key, "must be in " + std::to_string(min) + " .. " + std::to_string(max));
  }
  return x;
}

// Moves an ok value into `target`; returns the error otherwise.
template <typename T, typename U>
Status assign(T& target, Result<U> value) {
  if (!value.ok()) return std::move(value).error();
  target = static_cast<T>(*value);
  return Status{};
}

Status apply_key(Workload& w, const std::string& key, const Json& value) {
  if (key == "name") {
    if (!value.is_string() || value.get<std::string>().empty()) return bad(key, "must be text");
    w.name = value.get<std::string>();
  } else if (key == "entry_sizes_bytes" || key == "rates_per_second") {
    if (!value.is_array() || value.empty()) return bad(key, "must be a non-empty array");
    std::vector<double> items;
    for (const Json& item : value) {
      Result<double> x = key == "rates_per_second"
                             ? number(item, key, 0, 1e7)
                             : number(item, key, entry_size_bytes_min, entry_size_bytes_max);
      if (!x.ok()) return x.error();
      items.push_back(*x);
    }
    if (key == "rates_per_second") w.rates_per_second = items;
    if (key == "entry_sizes_bytes") {
      w.entry_sizes_bytes.clear();
      for (double x : items) {
        if (x != std::floor(x)) return bad(key, "must hold whole numbers");
        w.entry_sizes_bytes.push_back(static_cast<uint64_t>(x));
      }
    }
  } else if (key == "paced_bytes_per_second_max") {
    return assign(w.paced_bytes_per_second_max, number(value, key, 1024, 1e12));
  } else if (key == "inflight_bytes_max") {
    return assign(w.inflight_bytes_max, whole(value, key, 1, uint64_t{1} << 34));
  } else if (key == "inflight_entries_max") {
    return assign(w.inflight_entries_max, whole(value, key, 1, 1 << 20));
  } else if (key == "consumers") {
    return assign(w.consumers, whole(value, key, 0, 1));
  } else if (key == "warmup_seconds") {
    return assign(w.warmup_seconds, number(value, key, 0, 600));
  } else if (key == "duration_seconds") {
    return assign(w.duration_seconds, number(value, key, 0.05, 3600));
  } else {
    return bad(key, "is not a workload key");
  }
  return Status{};
}

}  // namespace

uint64_t Workload::saturation_window(uint64_t entry_bytes) const {
  WAL_ASSERT_GT(entry_bytes, uint64_t{0});
  const uint64_t by_bytes = (inflight_bytes_max + entry_bytes - 1) / entry_bytes;
  const uint64_t window = std::clamp<uint64_t>(by_bytes, 1, inflight_entries_max);
  WAL_ASSERT_GE(window, uint64_t{1});
  return window;
}

double Workload::offered_rate(double rate, uint64_t entry_bytes) const {
  WAL_ASSERT_GT(rate, 0.0);
  return std::min(rate, paced_bytes_per_second_max / static_cast<double>(entry_bytes));
}

Result<Workload> parse_workload(const std::string& json_text) {
  Json root = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return make_error(Errc::invalid_argument, "workload: not JSON");
  if (!root.is_object()) return make_error(Errc::invalid_argument, "workload: not an object");
  Workload workload;
  for (const auto& [key, value] : root.items()) {
    Status applied = apply_key(workload, key, value);
    if (!applied.ok()) return std::move(applied).error();
  }
  return workload;
}

Result<Workload> load_workload(const std::string& path) {
  std::ifstream file(path);
  if (!file) return make_error(Errc::not_found, "workload: cannot open " + path);
  std::stringstream text;
  text << file.rdbuf();
  Result<Workload> workload = parse_workload(text.str());
  if (!workload.ok()) {
    return make_error(workload.error().code, path + ": " + workload.error().message);
  }
  return workload;
}

}  // namespace wal::bench
