// s3_bench: the MemoryBuffer WAL on a real S3 server (Ceph RGW) against that server's raw PUT
// ceiling, measured with the same client (S3ObjectStore), the same event loop, the same object
// sizes and the same number of PUTs in flight, in the same run. See README.md.
//
// Exit status: 0 when every case ran (a benchmark reports, it does not fail CI), 1 when the WAL,
// the store or the server failed, 2 on a usage error.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_options.h"
#include "block_shape.h"
#include "process_cpu.h"
#include "ratio_targets.h"
#include "store_put_case.h"
#include "wal_append_case.h"
#include "wal_runtime.h"

namespace wal::bench {
namespace {

constexpr char help_text[] = R"(usage: s3_bench [--rgw DIR] [--osd-store KIND] [options]

Measures, in one run, for each entry size, on a real S3 server (Ceph RGW):
  1. the raw PUT ceiling: S3ObjectStore PUTs (create-only) of the size of the blocks the WAL
     writes for that entry size, 4 in flight (WriterOptions::inflight_blocks_max), through the
     same event loop the WAL uses, with nothing of the WAL around them: MiB/s of bodies;
  2. the MemoryBuffer WAL: a LogWriter with default options on the same S3ObjectStore and a
     SqliteMetaStore, appends kept outstanding up to inflight_bytes_max: payload MiB/s;
  3. the ceiling again; the ratio is the WAL against the mean of both ceilings;
and prints the ratio against the targets (>= 0.90 with 1 MiB entries, >= 0.60 with 1 KiB), and
where the CPU went (this process, radosgw, the OSD) in each phase: on a small machine the
client, the gateway and the OSD share the cores.

  --rgw DIR           use the running cluster of `scripts/rgw.sh start DIR` (its bucket)
  --osd-store KIND    without --rgw: start a fresh cluster with this OSD store (default
                      bluestore: durable, a sparse file; memstore keeps objects in memory)
Options shared with memorybuffer_bench: --seconds S, --rounds N, --sizes A,B,..., --quick,
--window-extra N, --writer NAME=VALUE, --dir DIR (where the SQLite metadata goes).
)";

struct S3BenchOptions {
  std::string rgw_dir;   // a running cluster, or empty: start one
  std::string osd_store = "bluestore";
  BenchOptions common;
};

// Splits off the options of this binary and hands the rest to memorybuffer_bench's parser.
std::optional<S3BenchOptions> parse_options(int argc, char** argv) {
  S3BenchOptions options;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(help_text, stdout);
      options.common.help = true;
      return options;
    }
    if ((arg == "--rgw" || arg == "--osd-store") && i + 1 >= argc) {
      std::fprintf(stderr, "s3_bench: %s needs a value (s3_bench --help)\n", arg.c_str());
      return std::nullopt;
    }
    if (arg == "--rgw") {
      options.rgw_dir = argv[++i];
    } else if (arg == "--osd-store") {
      options.osd_store = argv[++i];
      if (options.osd_store != "bluestore" && options.osd_store != "memstore") {
        std::fprintf(stderr, "s3_bench: --osd-store must be bluestore or memstore\n");
        return std::nullopt;
      }
    } else {
      rest.push_back(argv[i]);
    }
  }
  std::optional<BenchOptions> common = parse_bench_options(static_cast<int>(rest.size()),
                                                           rest.data());
  if (!common) return std::nullopt;
  options.common = std::move(*common);
  return options;
}

// The cluster: its env file (scripts/rgw.sh) and the PIDs of its daemons.
struct Cluster {
  std::string dir;
  bool started_here = false;
  S3Options s3;
  std::map<std::string, pid_t> pids;  // "rgw.main", "osd.0", ...
};

std::string script_path() { return std::string(WAL_SOURCE_DIR) + "/scripts/rgw.sh"; }

bool load_cluster(Cluster& cluster) {
  std::ifstream env(cluster.dir + "/env");
  if (!env) {
    std::fprintf(stderr, "s3_bench: no %s/env (is the cluster started?)\n", cluster.dir.c_str());
    return false;
  }
  std::map<std::string, std::string> values;
  for (std::string line; std::getline(env, line);) {
    const size_t equals = line.find('=');
    if (equals != std::string::npos) values[line.substr(0, equals)] = line.substr(equals + 1);
  }
  cluster.s3.endpoint = values["S3_ENDPOINT"];
  cluster.s3.bucket = values["S3_BUCKET"];
  cluster.s3.region = values["S3_REGION"];
  cluster.s3.credentials = {values["AWS_ACCESS_KEY_ID"], values["AWS_SECRET_ACCESS_KEY"], ""};
  for (const char* name : {"rgw.main", "osd.0", "mon.a"}) {
    std::ifstream pid_file(cluster.dir + "/run/" + name + ".pid");
    pid_t pid = 0;
    if (pid_file >> pid) cluster.pids[name] = pid;
  }
  return true;
}

// CPU seconds of this process, radosgw and the OSD, and the wall time, over one phase.
struct CpuShare {
  double client = 0;
  double gateway = 0;
  double osd = 0;
  double wall = 0;
};

CpuShare cpu_now(const Cluster& cluster) {
  const auto pid = [&](const char* name) {
    const auto found = cluster.pids.find(name);
    return found == cluster.pids.end() ? pid_t{0} : found->second;
  };
  const double wall = std::chrono::duration<double>(
                          std::chrono::steady_clock::now().time_since_epoch()).count();
  return {cpu_seconds_of(getpid()), cpu_seconds_of(pid("rgw.main")), cpu_seconds_of(pid("osd.0")),
          wall};
}

CpuShare cpu_since(const Cluster& cluster, const CpuShare& before) {
  const CpuShare now = cpu_now(cluster);
  return {now.client - before.client, now.gateway - before.gateway, now.osd - before.osd,
          now.wall - before.wall};
}

struct CaseReport {
  uint64_t entry_bytes = 0;
  BlockShape shape;
  StoreCaseResult ceiling_before;
  StoreCaseResult ceiling_after;
  StoreCaseResult ceiling;  // both
  WalCaseResult wal;
  CpuShare ceiling_cpu;     // of the phase before the WAL
  CpuShare wal_cpu;
};

double ratio_of(const CaseReport& report) {
  return report.ceiling.mib_per_second > 0
             ? report.wal.mib_per_second / report.ceiling.mib_per_second
             : 0;
}

std::chrono::nanoseconds as_duration(double seconds) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(seconds));
}

bool run_ceiling(const BenchOptions& options, WalRuntime& runtime, const CaseReport& report,
                 uint32_t round, const char* when, StoreCaseResult& out) {
  std::fprintf(stderr, "case %llu B: PUT ceiling %s (%llu B objects, %u in flight)...\n",
               static_cast<unsigned long long>(report.entry_bytes), when,
               static_cast<unsigned long long>(report.shape.block_bytes),
               options.writer.inflight_blocks_max);
  StoreCaseConfig config;
  config.key_prefix = "s3-bench-ceiling/" + std::to_string(::getpid()) + "-" +
                      std::to_string(report.entry_bytes) + "-" + std::to_string(round) + "-" +
                      when;
  config.body_bytes = report.shape.block_bytes;
  config.object_overhead_bytes = 0;  // an S3 object is its body
  config.blocks_per_directory =
      std::max<uint64_t>(1, options.writer.segment_size_bytes_max / report.shape.block_bytes);
  config.puts_in_flight = options.writer.inflight_blocks_max;
  config.warmup = as_duration(options.warmup_seconds);
  config.duration = as_duration(options.seconds);
  Result<StoreCaseResult> ceiling = run_store_case(runtime, config);
  if (!ceiling.ok()) {
    std::fprintf(stderr, "s3_bench: PUT ceiling: %s\n", ceiling.error().describe().c_str());
    return false;
  }
  out = std::move(ceiling).value();
  return true;
}

bool run_case(const BenchOptions& options, const Cluster& cluster, WalRuntime& runtime,
              uint64_t entry_bytes, uint32_t round, CaseReport& report) {
  report.entry_bytes = entry_bytes;
  report.shape = saturated_block_shape(entry_bytes, options.writer.block_size_bytes_max);
  CpuShare start = cpu_now(cluster);
  if (!run_ceiling(options, runtime, report, round, "before", report.ceiling_before)) {
    return false;
  }
  report.ceiling_cpu = cpu_since(cluster, start);
  std::fprintf(stderr, "case %llu B: WAL appends...\n",
               static_cast<unsigned long long>(entry_bytes));
  WalCaseConfig config;
  config.log_name = "s3-bench-" + std::to_string(entry_bytes) + "-" +
                    std::to_string(::getpid()) + "-" + std::to_string(round);
  config.entry_bytes = entry_bytes;
  config.warmup = as_duration(options.warmup_seconds);
  config.duration = as_duration(options.seconds);
  config.writer = options.writer;
  config.window_extra_count = options.window_extra_count;
  start = cpu_now(cluster);
  Result<WalCaseResult> wal = run_wal_case(runtime, config);
  report.wal_cpu = cpu_since(cluster, start);
  if (!wal.ok()) {
    std::fprintf(stderr, "s3_bench: WAL: %s\n", wal.error().describe().c_str());
    return false;
  }
  report.wal = std::move(wal).value();
  if (!run_ceiling(options, runtime, report, round, "after", report.ceiling_after)) return false;
  report.ceiling = combine_store_phases(report.ceiling_before, report.ceiling_after);
  return true;
}

void print_table(const std::vector<std::vector<CaseReport>>& sizes,
                 const std::vector<size_t>& medians) {
  std::printf("\n%-9s %-9s %10s %9s %11s %6s %6s %9s %9s  %-12s %s\n", "entry_B", "object_B",
              "ceil_MiB/s", "WAL_MiB/s", "WAL_entr/s", "ratio", "target", "p50_us", "p99_us",
              "verdict", "rounds");
  for (size_t i = 0; i < sizes.size(); ++i) {
    const CaseReport& report = sizes[i][medians[i]];
    const double ratio = ratio_of(report);
    const std::optional<double> target = target_ratio(report.entry_bytes);
    const char* verdict = !target ? "(no target)" : ratio >= *target ? "PASS" : "BELOW TARGET";
    std::string rounds;
    for (const CaseReport& round : sizes[i]) {
      char text[16];
      std::snprintf(text, sizeof text, "%s%.2f", rounds.empty() ? "" : " ", ratio_of(round));
      rounds += text;
    }
    std::printf("%-9llu %-9llu %10.1f %9.1f %11.0f %6.2f %6s %9llu %9llu  %-12s %s\n",
                static_cast<unsigned long long>(report.entry_bytes),
                static_cast<unsigned long long>(report.shape.block_bytes),
                report.ceiling.mib_per_second, report.wal.mib_per_second,
                report.wal.entries_per_second, ratio,
                target ? std::to_string(*target).substr(0, 4).c_str() : "-",
                static_cast<unsigned long long>(report.wal.latency.p50_us),
                static_cast<unsigned long long>(report.wal.latency.p99_us), verdict,
                rounds.c_str());
  }
}

double percent_of_core(double cpu_seconds, double wall_seconds) {
  return wall_seconds > 0 ? 100.0 * cpu_seconds / wall_seconds : 0;
}

// The 1-minute load average, or -1 if /proc/loadavg cannot be read.
double load_average() {
  std::ifstream file("/proc/loadavg");
  double load = -1;
  if (!(file >> load)) return -1;
  return load;
}

// CPU seconds radosgw and the OSD spent per GiB the phase stored: whether the server worked
// harder per byte in one phase, or only got less CPU (a shared machine).
double server_cpu_per_gib(const CpuShare& cpu, uint64_t bytes) {
  return bytes > 0 ? (cpu.gateway + cpu.osd) / (static_cast<double>(bytes) / (1 << 30)) : 0;
}

void print_details(const CaseReport& report) {
  const PutTally& puts = report.wal.puts;
  std::vector<uint64_t> put_latencies = puts.block_put_latencies_us;
  const LatencySummary wal_put = summarize_latencies(put_latencies);
  const CpuShare& ceiling = report.ceiling_cpu;
  const CpuShare& wal = report.wal_cpu;
  std::printf("  %llu B entries: ceiling %.1f MiB/s before, %.1f after; PUT p50 %.1f ms p99 "
              "%.1f ms\n",
              static_cast<unsigned long long>(report.entry_bytes),
              report.ceiling_before.mib_per_second, report.ceiling_after.mib_per_second,
              report.ceiling.put_latency.p50_us / 1e3, report.ceiling.put_latency.p99_us / 1e3);
  std::printf("    WAL: %llu block PUTs (%llu full) p50 %.1f ms p99 %.1f ms, mean in flight "
              "%.2f, other PUTs %llu, MetaStore txns %llu; loop thread on CPU %.0f%%\n",
              static_cast<unsigned long long>(puts.block_puts_count),
              static_cast<unsigned long long>(puts.full_block_puts_count), wal_put.p50_us / 1e3,
              wal_put.p99_us / 1e3,
              std::chrono::duration<double>(puts.put_busy).count() / report.wal.seconds,
              static_cast<unsigned long long>(puts.other_puts_count),
              static_cast<unsigned long long>(report.wal.meta.txn_count),
              percent_of_core(report.wal.loop_cpu_seconds, report.wal.seconds));
  // Whole phases (warm-up, measured time and clean-up): shares of one core over the phase.
  std::printf("    CPU, %% of one core over the whole phase: ceiling: s3_bench %.0f%%, radosgw "
              "%.0f%%, OSD %.0f%%; WAL: s3_bench %.0f%%, radosgw %.0f%%, OSD %.0f%%\n",
              percent_of_core(ceiling.client, ceiling.wall),
              percent_of_core(ceiling.gateway, ceiling.wall),
              percent_of_core(ceiling.osd, ceiling.wall), percent_of_core(wal.client, wal.wall),
              percent_of_core(wal.gateway, wal.wall), percent_of_core(wal.osd, wal.wall));
  // CPU over the whole phase per GiB of the measured window: both phases have the same shape
  // (warm-up, measured time, clean-up), so the two figures compare, though neither is exact.
  const uint64_t ceiling_bytes = report.ceiling_before.file_bytes;
  const uint64_t wal_bytes = report.wal.payload_bytes;
  std::printf("    server CPU (radosgw + OSD) per GiB stored: ceiling %.1f s, WAL %.1f s\n",
              server_cpu_per_gib(ceiling, ceiling_bytes), server_cpu_per_gib(wal, wal_bytes));
}

int run(const S3BenchOptions& options) {
  Cluster cluster;
  cluster.dir = options.rgw_dir;
  if (cluster.dir.empty()) {
    cluster.dir = options.common.dir + "/rgw";
    cluster.started_here = true;
    const std::string command = "OSD_STORE=" + options.osd_store + " " + script_path() +
                                " start " + cluster.dir + " >&2";
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "s3_bench: could not start RGW (%s)\n", command.c_str());
      return 1;
    }
  }
  int status = 1;
  if (load_cluster(cluster)) {
    Result<std::unique_ptr<WalRuntime>> runtime =
        WalRuntime::open(options.common.dir + "/wal", {}, cluster.s3);
    if (!runtime.ok()) {
      std::fprintf(stderr, "s3_bench: %s\n", runtime.error().describe().c_str());
    } else {
      status = 0;
      const BenchOptions& common = options.common;
      std::printf("MemoryBuffer WAL on RGW (%s, OSD %s) vs its raw PUT ceiling through the same "
                  "client: %.2f s warm-up + %.2f s measured per phase, %u rounds, %u hardware "
                  "threads, load average %.2f at start\n",
                  cluster.s3.endpoint.c_str(),
                  cluster.started_here ? options.osd_store.c_str() : "as started",
                  common.warmup_seconds, common.seconds, common.rounds,
                  std::thread::hardware_concurrency(), load_average());
      std::vector<std::vector<CaseReport>> sizes(common.sizes.size());
      for (uint32_t round = 0; round < common.rounds && status == 0; ++round) {
        std::fprintf(stderr, "round %u of %u\n", round + 1, common.rounds);
        for (size_t i = 0; i < common.sizes.size() && status == 0; ++i) {
          CaseReport report;
          if (!run_case(common, cluster, **runtime, common.sizes[i], round, report)) status = 1;
          sizes[i].push_back(std::move(report));
        }
      }
      if (status == 0) {
        std::vector<size_t> medians;
        for (const std::vector<CaseReport>& rounds : sizes) {
          std::vector<double> ratios;
          for (const CaseReport& round : rounds) ratios.push_back(ratio_of(round));
          medians.push_back(median_index(ratios));
        }
        print_table(sizes, medians);
        std::printf("\ndetails of the median rounds (load average %.2f at end: the client, "
                    "radosgw and the OSD share this machine's cores with whatever else runs):\n",
                    load_average());
        for (size_t i = 0; i < sizes.size(); ++i) {
          print_details(sizes[i][medians[i]]);
        }
      }
    }
  }
  if (cluster.started_here) {
    const std::string command = script_path() + " stop " + cluster.dir + " > /dev/null";
    if (std::system(command.c_str()) != 0) std::fprintf(stderr, "s3_bench: stopping RGW failed\n");
  }
  return status;
}

}  // namespace
}  // namespace wal::bench

int main(int argc, char** argv) {
  using namespace wal::bench;
  std::optional<S3BenchOptions> options = parse_options(argc, argv);
  if (!options) return 2;
  if (options->common.help) return 0;
  const int status = run(*options);
  if (options->common.dir_is_temporary) {
    std::error_code ignored;
    std::filesystem::remove_all(options->common.dir, ignored);
  }
  return status;
}
