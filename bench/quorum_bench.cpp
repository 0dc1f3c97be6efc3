// quorum_bench: QuorumBuffer over gRPC with 3 LogStores (wp-logstore processes) on loopback,
// against the disk's fdatasync latency at the same concurrency, measured in the same run. See
// README.md. Exit status: 0 when every case ran (a benchmark reports, it does not fail CI), 1
// when the cluster, the WAL or the disk failed, 2 on a usage error.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "fsync_baseline.h"
#include "logstore_scrape.h"
#include "quorum_append_case.h"
#include "wp_append_target.h"
#include "wp_runtime.h"

namespace wal::bench {
namespace {

constexpr uint64_t journal_record_overhead_bytes = 24;  // per entry (docs/deploy.md, sizing)
constexpr uint32_t replicas = 3;  // the ensemble: each append is 3 journal appends + fsyncs

struct Options {
  std::string cluster_dir;  // a running cluster (scripts/cluster.sh); empty: start one
  std::vector<uint64_t> sizes = {1024, 65536};
  double seconds = 5.0;     // per case
  double rate_per_second = 500;  // the paced case's offered rate, at most...
  double paced_mib_per_second_max = 4;  // ...this many MiB/s of entries (64 KiB: 64/s)
  uint64_t window = 64;     // appends in flight in the saturated case
  // The memory cases: one log per segment size, filled to 75% of it with 64 KiB entries (so the
  // segment stays open and every LogStore holds it all), LogStores' RSS before and after.
  std::vector<uint64_t> memory_segment_bytes = {16ull << 20, 64ull << 20};
  uint64_t cache_bytes = 4ull << 20;  // the entry cache of a cluster the bench starts
  bool memory_only = false;           // skip the latency cases
};

constexpr uint64_t memory_entry_bytes = 64 << 10;
constexpr uint64_t memory_window = 16;

// A cluster of 3 LogStores started by scripts/cluster.sh. Objects go to a local directory: an
// RGW would take CPU from the 2 cores the appends run on, and uploads are off the append path.
class OwnCluster {
 public:
  static std::unique_ptr<OwnCluster> start(uint64_t cache_bytes) {
    char pattern[] = "/tmp/quorum-bench-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return nullptr;
    auto cluster = std::unique_ptr<OwnCluster>(new OwnCluster(pattern));
    const std::string command = "BUILD_DIR=" + std::string(WAL_BINARY_DIR) + " " + script() +
                                " up " + cluster->dir_ + " --objects local --logstores 3" +
                                " --cache-bytes " + std::to_string(cache_bytes) + " > " +
                                cluster->dir_ + "/up.log 2>&1";
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "quorum_bench: cluster.sh up failed (%s/up.log)\n",
                   cluster->dir_.c_str());
      return nullptr;
    }
    return cluster;
  }
  ~OwnCluster() {
    const std::string command = script() + " down " + dir_ + " > /dev/null 2>&1";
    if (std::system(command.c_str()) != 0) std::fprintf(stderr, "quorum_bench: down failed\n");
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  [[nodiscard]] const std::string& dir() const { return dir_; }

 private:
  explicit OwnCluster(std::string dir) : dir_(std::move(dir)) {}
  static std::string script() { return std::string(WAL_SOURCE_DIR) + "/scripts/cluster.sh"; }
  std::string dir_;
};

std::string size_name(uint64_t bytes) {
  return bytes % 1024 == 0 ? std::to_string(bytes / 1024) + " KiB" : std::to_string(bytes) + " B";
}

double ms(uint64_t us) { return static_cast<double>(us) / 1000.0; }

void print_row(const std::string& size, const std::string& what, double per_second,
               const LatencySummary& latency) {
  std::printf("| %s | %s | %.0f | %.2f | %.2f | %.2f | %.2f |\n", size.c_str(), what.c_str(),
              per_second, ms(latency.p50_us), ms(latency.p99_us), ms(latency.p999_us),
              ms(latency.max_us));
  std::fflush(stdout);
}

void print_judgement(const LatencySummary& paced, const LatencySummary& disk, uint64_t size) {
  const double p50_ratio = disk.p50_us > 0 ? double(paced.p50_us) / double(disk.p50_us) : 0;
  const double p99_ratio = disk.p99_us > 0 ? double(paced.p99_us) / double(disk.p99_us) : 0;
  std::printf("  %s paced / fdatasync x%u: p50 %.2f (target <= 1.2: %s), p99 %.2f (target <= "
              "1.5: %s)",
              size_name(size).c_str(), replicas, p50_ratio, p50_ratio <= 1.2 ? "met" : "missed",
              p99_ratio, p99_ratio <= 1.5 ? "met" : "missed");
  if (size <= 1024) {
    std::printf("; absolute p50 <= 0.5 ms: %s, p99 <= 2 ms: %s",
                paced.p50_us <= 500 ? "met" : "missed", paced.p99_us <= 2000 ? "met" : "missed");
  }
  std::printf("\n");
}

// A fresh log per case, so each starts on a new segment.
Task<Result<std::unique_ptr<cli::AppendTarget>>> open_log(cli::WpRuntime& runtime,
                                                          const std::string& label) {
  const std::string name = "bench-" + label + "-" + std::to_string(::getpid());
  Result<LogInfo> created = co_await runtime.client().create_log(name);
  if (!created.ok()) co_return std::move(created).error();
  co_return co_await cli::open_append_target(runtime, name, false);
}

bool report_failures(const QuorumCaseResult& result) {
  if (result.failed_count == 0) return true;
  std::fprintf(stderr, "quorum_bench: %llu appends failed, first: %s\n",
               static_cast<unsigned long long>(result.failed_count),
               result.first_error->describe().c_str());
  return false;
}

// fdatasync x3, then the paced and the saturated quorum cases, for one entry size.
bool run_size(cli::WpRuntime& runtime, const Options& options, const std::string& disk_dir,
              uint64_t size) {
  Result<FsyncBaseline> disk = measure_fdatasync(
      disk_dir, replicas, size + journal_record_overhead_bytes, options.seconds);
  if (!disk.ok()) {
    std::fprintf(stderr, "quorum_bench: %s\n", disk.error().describe().c_str());
    return false;
  }
  print_row(size_name(size), "fdatasync x3 (baseline)", disk->fsyncs_per_second, disk->latency);
  auto target = runtime.run(open_log(runtime, std::to_string(size)));
  if (!target.ok()) {
    std::fprintf(stderr, "quorum_bench: %s\n", target.error().describe().c_str());
    return false;
  }
  cli::AppendTarget& writer = **target;
  // Warm-up: the first segment's create and the gRPC channels.
  (void)runtime.run(run_saturated_appends(runtime, writer, size, 8, 0.3));
  const double rate = std::min(options.rate_per_second,
                               options.paced_mib_per_second_max * (1 << 20) / double(size));
  LogStoreTotals before = scrape_logstores(disk_dir);
  QuorumCaseResult paced =
      runtime.run(run_paced_appends(runtime, writer, size, rate, options.seconds));
  LogStoreTotals after = scrape_logstores(disk_dir);
  print_row(size_name(size), "quorum, paced at " + std::to_string(int(rate)) + "/s",
            paced.appends_per_second(), paced.latency);
  std::printf("  paced: %s\n", describe_logstore_delta(before, after).c_str());
  before = after;
  QuorumCaseResult saturated = runtime.run(
      run_saturated_appends(runtime, writer, size, options.window, options.seconds));
  after = scrape_logstores(disk_dir);
  print_row(size_name(size), "quorum, saturated (" + std::to_string(options.window) +
                                 " in flight)", saturated.appends_per_second(),
            saturated.latency);
  std::printf("  saturated: %.1f MiB/s of entries; %s\n",
              saturated.appends_per_second() * double(size) / (1 << 20),
              describe_logstore_delta(before, after).c_str());
  print_judgement(paced.latency, disk->latency, size);
  const Status closed = runtime.run(writer.close());
  return report_failures(paced) && report_failures(saturated) && closed.ok();
}

double mib(double bytes) { return bytes / double(1 << 20); }

// One memory case: a writer whose segments roll at `segment_bytes` fills one to 75%, 0.2 s of
// saturated appends at a time, and the LogStores' RSS is read before and after. Before the entry
// cache, each LogStore held the whole open segment in memory, so the growth followed the
// segment size; now it is bounded by the cache and what is in flight.
bool run_memory_case(const cli::WpConfig& base, const std::string& cluster_dir,
                     uint64_t segment_bytes) {
  cli::WpConfig config = base;
  config.quorum.writer.segment_bytes_max = segment_bytes;
  auto runtime = cli::WpRuntime::open(config, cli::StoreAccess::create);
  if (!runtime.ok()) {
    std::fprintf(stderr, "quorum_bench: %s\n", runtime.error().describe().c_str());
    return false;
  }
  auto target = (*runtime)->run(open_log(**runtime, "memory-" + std::to_string(segment_bytes)));
  if (!target.ok()) {
    std::fprintf(stderr, "quorum_bench: %s\n", target.error().describe().c_str());
    return false;
  }
  const LogStoreTotals before = scrape_logstores(cluster_dir);
  const uint64_t goal_bytes = segment_bytes / 4 * 3;
  uint64_t written_bytes = 0;
  bool ok = true;
  while (ok && written_bytes < goal_bytes) {
    // Short stretches, so the last one overshoots the goal by little and the segment stays open.
    QuorumCaseResult chunk = (*runtime)->run(
        run_saturated_appends(**runtime, **target, memory_entry_bytes, memory_window, 0.2));
    ok = report_failures(chunk);
    written_bytes += chunk.acknowledged_count * memory_entry_bytes;
    std::fprintf(stderr, "quorum_bench: memory, %.0f MiB segment: %.1f of %.1f MiB written\n",
                 mib(double(segment_bytes)), mib(double(written_bytes)), mib(double(goal_bytes)));
  }
  const LogStoreTotals after = scrape_logstores(cluster_dir);
  std::printf("| %.0f MiB | %.1f MiB | %.1f | %.1f | %+.1f | %.1f | %.2f |\n",
              mib(double(segment_bytes)), mib(double(written_bytes)),
              mib(before.resident_bytes_max), mib(after.resident_bytes_max),
              mib(after.resident_bytes_max - before.resident_bytes_max), mib(after.cache_bytes_max),
              mib(after.unsynced_bytes_max));
  std::fflush(stdout);
  const Status closed = (*runtime)->run((*target)->close());
  return ok && closed.ok();
}

bool run_memory_cases(const cli::WpConfig& config, const Options& options,
                      const std::string& cluster_dir) {
  std::printf(
      "\nLogStore memory under a sustained load (64 KiB entries, %llu in flight) filling "
      "one open segment of each size to 75%%; RSS of the largest LogStore, MiB\n\n",
      static_cast<unsigned long long>(memory_window));
  std::printf(
      "| segment | written | RSS before | RSS after | growth | entry cache | "
      "unsynced |\n|---|---|---|---|---|---|---|\n");
  bool ok = true;
  for (uint64_t bytes : options.memory_segment_bytes) {
    ok = run_memory_case(config, cluster_dir, bytes) && ok;
  }
  return ok;
}

int run(const Options& options) {
  std::unique_ptr<OwnCluster> own;
  std::string cluster_dir = options.cluster_dir;
  if (cluster_dir.empty()) {
    own = OwnCluster::start(options.cache_bytes);
    if (!own) return 1;
    cluster_dir = own->dir();
  }
  cli::WpConfig config;
  if (Status loaded = cli::load_config_file(cluster_dir + "/cluster.json", config); !loaded.ok()) {
    std::fprintf(stderr, "quorum_bench: %s\n", loaded.error().describe().c_str());
    return 1;
  }
  auto runtime = cli::WpRuntime::open(config, cli::StoreAccess::create);
  if (!runtime.ok()) {
    std::fprintf(stderr, "quorum_bench: %s\n", runtime.error().describe().c_str());
    return 1;
  }
  std::printf("QuorumBuffer, 3 LogStores on loopback sharing this disk (%s); %.1f s per case\n\n",
              cluster_dir.c_str(), options.seconds);
  bool ok = true;
  if (!options.memory_only) {
    std::printf("| entry | case | appends/s (fsyncs/s) | p50 ms | p99 ms | p99.9 ms | max ms |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (uint64_t size : options.sizes) ok = run_size(**runtime, options, cluster_dir, size) && ok;
  }
  if (!options.memory_segment_bytes.empty()) {
    ok = run_memory_cases(config, options, cluster_dir) && ok;
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace wal::bench

int main(int argc, char** argv) {
  CLI::App app{"quorum_bench: QuorumBuffer appends over gRPC to 3 wp-logstore processes on "
               "loopback, paced and saturated, beside the disk's fdatasync latency with 3 "
               "concurrent jobs measured in the same run (bench/README.md)"};
  wal::bench::Options options;
  bool quick = false;
  app.add_option("--cluster", options.cluster_dir,
                 "a running cluster's folder (scripts/cluster.sh up DIR --logstores 3); "
                 "default: start one of 3 LogStores in /tmp and stop it at the end");
  app.add_option("--sizes", options.sizes, "entry sizes in bytes (default 1024 65536)");
  app.add_option("--seconds", options.seconds, "seconds per case (default 5)")
      ->check(CLI::PositiveNumber);
  app.add_option("--rate", options.rate_per_second,
                 "paced case: appends per second (500, at most 4 MiB/s of entries)")
      ->check(CLI::PositiveNumber);
  app.add_option("--window", options.window, "saturated case: appends in flight (64)")
      ->check(CLI::PositiveNumber);
  app.add_option("--memory-segments", options.memory_segment_bytes,
                 "memory cases: segment sizes in bytes (default 16 MiB and 64 MiB); 0 skips them");
  app.add_option("--cache-bytes", options.cache_bytes,
                 "the LogStores' entry cache when the bench starts the cluster (default 4 MiB, "
                 "below the segment sizes so the cases show what the cache bounds)");
  app.add_flag("--memory-only", options.memory_only, "run the memory cases only");
  app.add_flag("--quick", quick, "1 s per case, memory cases of 8 and 32 MiB (a smoke run)");
  CLI11_PARSE(app, argc, argv);
  if (quick) {
    options.seconds = 1.0;
    if (app.count("--memory-segments") == 0) {
      options.memory_segment_bytes = {8ull << 20, 32ull << 20};
    }
  }
  std::erase(options.memory_segment_bytes, 0u);
  return wal::bench::run(options);
}
