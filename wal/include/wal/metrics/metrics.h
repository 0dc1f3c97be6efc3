#pragma once
// Metrics: counters, gauges and histograms kept by one node, rendered in the Prometheus text
// exposition format (version 0.0.4) for a scrape endpoint.
//
// Names follow upstream Woodpecker's (prefix `woodpecker_`, e.g.
// `woodpecker_logstore_operations_total`), with the unit last as Prometheus asks
// (`_seconds`, `_bytes`, `_total`); docs/deploy.md lists every metric.
//
// A series is a family name plus label values; the first call for a series creates it, later
// calls return the same object, whose address stays valid for the registry's lifetime. Asking
// for a known family with another type or other label names is a programming error (asserted).
// Counters and gauges may also be read when rendered (counter_function, gauge_function), for
// values another object owns (a LogStore's statistics).
//
// Threading: none. Every call, render() included, on the node's executor; a scrape served by
// another thread posts render() to the executor (wal/real/metrics_http_server.h). Nothing here
// touches a clock: callers measure durations with their Env's Clock and observe() them.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace wal::metrics {

// Label name -> value, in the order the family declares them.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void add(double amount = 1.0);  // amount >= 0
  [[nodiscard]] double value() const { return value_; }

 private:
  double value_ = 0;
};

class Gauge {
 public:
  void set(double value) { value_ = value; }
  void add(double amount) { value_ += amount; }
  [[nodiscard]] double value() const { return value_; }

 private:
  double value_ = 0;
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  [[nodiscard]] uint64_t count() const { return count_; }
  [[nodiscard]] double sum() const { return sum_; }
  [[nodiscard]] const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Observations <= upper_bounds()[i] (cumulative, as Prometheus exports them).
  [[nodiscard]] uint64_t cumulative_count(size_t bucket_index) const;

 private:
  std::vector<double> upper_bounds_;  // strictly increasing; +Inf is implicit
  std::vector<uint64_t> bucket_counts_;  // per bucket, not cumulative; last: above every bound
  uint64_t count_ = 0;
  double sum_ = 0;
};

// Bucket bounds for latencies in seconds: 50 us .. 10 s. The low end resolves an fdatasync on a
// fast disk (0.5-4 ms on the machines this was measured on), the high end an S3 timeout.
[[nodiscard]] std::span<const double> latency_buckets_seconds();
// Bucket bounds for sizes in bytes: 256 B .. 64 MiB in powers of 4 (one entry .. one block).
[[nodiscard]] std::span<const double> size_buckets_bytes();

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       std::span<const double> upper_bounds, const Labels& labels = {});
  // A gauge read from `read` at every render(); replaces an earlier function of the series.
  void gauge_function(const std::string& name, const std::string& help, const Labels& labels,
                      std::function<double()> read);
  // A counter read from `read` (which must never decrease) at every render().
  void counter_function(const std::string& name, const std::string& help, const Labels& labels,
                        std::function<double()> read);

  // Every series, families in name order, series in label order.
  [[nodiscard]] std::string render() const;

 private:
  enum class Type : uint8_t { counter, gauge, histogram };
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    Type type = Type::counter;
    std::string help;
    std::vector<std::string> label_names;
    std::map<std::string, Series> series;  // key: rendered label set ({a="x",b="y"})
  };
  Series& series_for(const std::string& name, const std::string& help, Type type,
                     const Labels& labels);
  static void render_family(std::string& out, const std::string& name, const Family& family);

  std::map<std::string, Family> families_;
};

}  // namespace wal::metrics
