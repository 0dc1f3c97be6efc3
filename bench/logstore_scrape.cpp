#include "logstore_scrape.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace wal::bench {

namespace {

std::string fetch(const std::string& port) {
  const std::string command =
      "curl -s --max-time 2 http://127.0.0.1:" + port + "/metrics 2> /dev/null";
  std::string text;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return text;
  char buffer[4096];
  size_t read_bytes = 0;
  while ((read_bytes = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    text.append(buffer, read_bytes);
  }
  ::pclose(pipe);
  return text;
}

// Adds the value of the series named exactly `series` (with its labels) in `text`.
void add_series(const std::string& text, const std::string& series, double& total) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      total += std::stod(line.substr(series.size() + 1));
    }
  }
}

}  // namespace

LogStoreTotals scrape_logstores(const std::string& cluster_dir) {
  LogStoreTotals totals;
  for (int n = 1; n <= 4; ++n) {
    std::ifstream port_file(cluster_dir + "/ls" + std::to_string(n) + ".metrics_port");
    std::string port;
    if (!(port_file >> port)) continue;
    const std::string text = fetch(port);
    if (text.empty()) continue;
    ++totals.answered_count;
    const std::string add = "{operation=\"logstore.add\"}";
    add_series(text, "woodpecker_logstore_operation_latency_seconds_sum" + add,
               totals.add_seconds_sum);
    add_series(text, "woodpecker_logstore_operation_latency_seconds_count" + add,
               totals.add_count);
    add_series(text, "woodpecker_file_flush_latency_seconds_sum", totals.fsync_seconds_sum);
    add_series(text, "woodpecker_file_flush_latency_seconds_count", totals.fsync_count);
    add_series(text, "woodpecker_flush_block_bytes_sum", totals.fsync_bytes_sum);
    auto keep_max = [&](const std::string& series, double& max) {
      double value = 0;
      add_series(text, series, value);
      max = std::max(max, value);
    };
    keep_max("process_resident_memory_bytes", totals.resident_bytes_max);
    keep_max("woodpecker_logstore_entry_cache_bytes", totals.cache_bytes_max);
    keep_max("woodpecker_logstore_entry_bytes_in_memory", totals.unsynced_bytes_max);
  }
  return totals;
}

std::string describe_logstore_delta(const LogStoreTotals& before, const LogStoreTotals& after) {
  const double adds = after.add_count - before.add_count;
  const double fsyncs = after.fsync_count - before.fsync_count;
  char line[256];
  std::snprintf(line, sizeof line,
                "LogStores (%u answered): %.0f adds served in %.2f ms mean; %.0f journal fsyncs "
                "of %.2f ms mean, %.1f KiB each",
                after.answered_count, adds,
                adds > 0 ? (after.add_seconds_sum - before.add_seconds_sum) * 1e3 / adds : 0.0,
                fsyncs,
                fsyncs > 0 ? (after.fsync_seconds_sum - before.fsync_seconds_sum) * 1e3 / fsyncs
                           : 0.0,
                fsyncs > 0 ? (after.fsync_bytes_sum - before.fsync_bytes_sum) / 1024 / fsyncs
                           : 0.0);
  return line;
}

}  // namespace wal::bench
