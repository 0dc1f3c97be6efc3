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
};

// A cluster of 3 LogStores started by scripts/cluster.sh. Objects go to a local directory: an
// RGW would take CPU from the 2 cores the appends run on, and uploads are off the append path.
class OwnCluster {
 public:
  static std::unique_ptr<OwnCluster> start() {
    char pattern[] = "/tmp/quorum-bench-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) return nullptr;
    auto cluster = std::unique_ptr<OwnCluster>(new OwnCluster(pattern));
    const std::string command = "BUILD_DIR=" + std::string(WAL_BINARY_DIR) + " " + script() +
                                " up " + cluster->dir_ + " --objects local --logstores 3 > " +
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

// A fresh log per size, so each starts on a new segment.
Task<Result<std::unique_ptr<cli::AppendTarget>>> open_log(cli::WpRuntime& runtime,
                                                          uint64_t size) {
  const std::string name = "bench-" + std::to_string(size) + "-" + std::to_string(::getpid());
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
  auto target = runtime.run(open_log(runtime, size));
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

int run(const Options& options) {
  std::unique_ptr<OwnCluster> own;
  std::string cluster_dir = options.cluster_dir;
  if (cluster_dir.empty()) {
    own = OwnCluster::start();
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
  std::printf("| entry | case | appends/s (fsyncs/s) | p50 ms | p99 ms | p99.9 ms | max ms |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  bool ok = true;
  for (uint64_t size : options.sizes) ok = run_size(**runtime, options, cluster_dir, size) && ok;
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
  app.add_flag("--quick", quick, "1 s per case (a smoke run)");
  CLI11_PARSE(app, argc, argv);
  if (quick) options.seconds = 1.0;
  return wal::bench::run(options);
}
