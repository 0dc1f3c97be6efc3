#include "wal/metrics/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "wal/core/assert.h"

namespace wal::metrics {

namespace {

constexpr std::array<double, 18> latency_bounds_seconds{
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,    0.1,    0.25,    0.5,    1.0,   2.5,    5.0,   10.0, 30.0};

constexpr std::array<double, 10> size_bounds_bytes{
    256.0,        1024.0,        4096.0,         16384.0,         65536.0,
    262144.0,     1048576.0,     4194304.0,      16777216.0,      67108864.0};

// Prometheus label values escape backslash, double quote and newline.
std::string escape_label_value(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// HELP text escapes backslash and newline only.
std::string escape_help(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string label_key(const Labels& labels) {
  if (labels.empty()) return {};
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ",";
    out += labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
  }
  return out + "}";
}

// The label set with one more label (the histogram's `le`) appended.
std::string with_label(const std::string& key, const std::string& name, const std::string& value) {
  const std::string extra = name + "=\"" + value + "\"";
  if (key.empty()) return "{" + extra + "}";
  return key.substr(0, key.size() - 1) + "," + extra + "}";
}

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counts print as integers ("1000000", not "1e+06"): exact up to 2^53, and easy on tools.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return std::to_string(static_cast<int64_t>(value));
  }
  return fmt::format("{}", value);
}

bool valid_name(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

}  // namespace

void Counter::add(double amount) {
  WAL_ASSERT(amount >= 0);
  value_ += amount;
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), bucket_counts_(upper_bounds_.size() + 1, 0) {
  WAL_ASSERT(!upper_bounds_.empty());
  WAL_ASSERT(std::is_sorted(upper_bounds_.begin(), upper_bounds_.end()));
  WAL_ASSERT(std::adjacent_find(upper_bounds_.begin(), upper_bounds_.end()) ==
             upper_bounds_.end());
}

void Histogram::observe(double value) {
  const auto it = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  ++bucket_counts_[static_cast<size_t>(it - upper_bounds_.begin())];
  ++count_;
  sum_ += value;
}

uint64_t Histogram::cumulative_count(size_t bucket_index) const {
  WAL_ASSERT_LT(bucket_index, upper_bounds_.size());
  uint64_t total = 0;
  for (size_t i = 0; i <= bucket_index; ++i) total += bucket_counts_[i];
  WAL_ASSERT_LE(total, count_);
  return total;
}

std::span<const double> latency_buckets_seconds() { return latency_bounds_seconds; }
std::span<const double> size_buckets_bytes() { return size_bounds_bytes; }

Registry::Series& Registry::series_for(const std::string& name, const std::string& help,
                                       Type type, const Labels& labels) {
  WAL_ASSERT(valid_name(name));
  std::vector<std::string> label_names;
  for (const auto& [label, value] : labels) {
    WAL_ASSERT(valid_name(label));
    label_names.push_back(label);
  }
  auto [it, created] = families_.try_emplace(name);
  Family& family = it->second;
  if (created) {
    family.type = type;
    family.help = help;
    family.label_names = label_names;
  }
  WAL_ASSERT(family.type == type);
  WAL_ASSERT(family.label_names == label_names);
  return family.series[label_key(labels)];
}

Counter& Registry::counter(const std::string& name, const std::string& help,
                           const Labels& labels) {
  Series& series = series_for(name, help, Type::counter, labels);
  WAL_ASSERT(!series.read);  // a series is stored or computed, not both
  if (!series.counter) series.counter = std::make_unique<Counter>();
  return *series.counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  Series& series = series_for(name, help, Type::gauge, labels);
  WAL_ASSERT(!series.read);  // a series is stored or computed, not both
  if (!series.gauge) series.gauge = std::make_unique<Gauge>();
  return *series.gauge;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               std::span<const double> upper_bounds, const Labels& labels) {
  Series& series = series_for(name, help, Type::histogram, labels);
  if (!series.histogram) {
    series.histogram =
        std::make_unique<Histogram>(std::vector<double>(upper_bounds.begin(), upper_bounds.end()));
  }
  WAL_ASSERT(std::equal(upper_bounds.begin(), upper_bounds.end(),
                        series.histogram->upper_bounds().begin(),
                        series.histogram->upper_bounds().end()));
  return *series.histogram;
}

void Registry::gauge_function(const std::string& name, const std::string& help,
                              const Labels& labels, std::function<double()> read) {
  WAL_ASSERT(read != nullptr);
  Series& series = series_for(name, help, Type::gauge, labels);
  WAL_ASSERT(!series.gauge);
  series.read = std::move(read);
}

void Registry::counter_function(const std::string& name, const std::string& help,
                                const Labels& labels, std::function<double()> read) {
  WAL_ASSERT(read != nullptr);
  Series& series = series_for(name, help, Type::counter, labels);
  WAL_ASSERT(!series.counter);
  series.read = std::move(read);
}

void Registry::render_family(std::string& out, const std::string& name, const Family& family) {
  static constexpr const char* type_names[] = {"counter", "gauge", "histogram"};
  out += "# HELP " + name + " " + escape_help(family.help) + "\n";
  out += "# TYPE " + name + " " + type_names[static_cast<int>(family.type)] + "\n";
  for (const auto& [key, series] : family.series) {
    switch (family.type) {
      case Type::counter: {
        const double value = series.read ? series.read() : series.counter->value();
        out += name + key + " " + number(value) + "\n";
        break;
      }
      case Type::gauge: {
        const double value = series.read ? series.read() : series.gauge->value();
        out += name + key + " " + number(value) + "\n";
        break;
      }
      case Type::histogram: {
        const Histogram& h = *series.histogram;
        for (size_t i = 0; i < h.upper_bounds().size(); ++i) {
          out += name + "_bucket" + with_label(key, "le", number(h.upper_bounds()[i])) + " " +
                 std::to_string(h.cumulative_count(i)) + "\n";
        }
        out += name + "_bucket" + with_label(key, "le", "+Inf") + " " +
               std::to_string(h.count()) + "\n";
        out += name + "_sum" + key + " " + number(h.sum()) + "\n";
        out += name + "_count" + key + " " + std::to_string(h.count()) + "\n";
        break;
      }
    }
  }
}

std::string Registry::render() const {
  std::string out;
  for (const auto& [name, family] : families_) render_family(out, name, family);
  return out;
}

}  // namespace wal::metrics
