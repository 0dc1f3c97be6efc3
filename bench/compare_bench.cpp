// compare_bench: one system or ceiling under a workload file (workload_spec.h), OMB-style; every
// system of bench/run-all.sh runs through it, so they all see the same workload and are
// measured the same way (case_recorder.h). See bench/README.md, "Side by side".
// Exit status: 0 when every case ran (failed appends are reported, not fatal: a benchmark
// reports), 1 when a system or ceiling could not be run at all, 2 on a usage error.

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "compare_ceilings.h"
#include "compare_nats.h"
#include "compare_output.h"
#include "compare_wal.h"
#include "process_cpu.h"
#include "wp_runtime.h"

namespace wal::bench {
namespace {

constexpr char description[] = R"(Runs one system or ceiling under a workload and appends what it
measured to OUT/results.jsonl (latency CDFs in OUT/cdf/). bench/run-all.sh runs every system
available on this machine through it and writes the table and the plots.

Systems (each case: a fresh log or stream, appends per the workload, a tailing reader):
  memorybuffer | quorum  the WAL as the `wp` config of --config sets it up (local files, S3,
                         or QuorumBuffer with LogStores); --name labels it in the results
  nats                   NATS JetStream, a stream of --replicas copies on the --nats servers
Ceilings (per entry size, nothing of the WAL around them):
  fdatasync-loop         inflight_blocks_max threads: block-size writes + fdatasync, in --dir
  journal-group          3 journals' group appends + fdatasync (throughput), in --dir
  journal-single         3 journals' single-entry appends + fdatasync (latency), in --dir
  s3-put                 create-only PUTs of the WAL's block size to the S3 server of --config)";

struct Options {
  std::string system;
  std::string name;  // the label in the results; default: the system
  std::string workload_path;
  std::string config_path;
  std::string nats_urls;
  int replicas = 3;
  std::string dir;
  std::string out_dir;
  std::string server_pids;  // the system's server processes, for their CPU time per case
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

// CPU seconds of this process and of the servers, and the wall clock, at one instant.
CaseCpu cpu_now(const std::vector<pid_t>& servers) {
  CaseCpu now;
  now.client_seconds = cpu_seconds_of(::getpid());
  for (pid_t pid : servers) now.servers_seconds += cpu_seconds_of(pid);
  now.wall_seconds = std::chrono::duration<double>(Steady::now().time_since_epoch()).count();
  return now;
}

// Prints an error that ends the run; the exit status.
int failed(const std::string& what, const Error& error) {
  std::fprintf(stderr, "compare_bench: %s: %s\n", what.c_str(), error.describe().c_str());
  return 1;
}

// Prints one finished measurement; 0, or 1 when it could not be written to the results.
int reported(const std::string& line, const Status& written) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
  return written.ok() ? 0 : failed("results", written.error());
}

// Runs `one` for every workload point of a system and writes each result.
int run_points(const Options& options, const Workload& workload,
               const std::function<Result<CaseResult>(uint64_t, double)>& one) {
  std::vector<pid_t> servers;
  for (const std::string& pid : split(options.server_pids)) servers.push_back(std::stoi(pid));
  for (uint64_t entry_bytes : workload.entry_sizes_bytes) {
    for (double rate : workload.rates_per_second) {
      const CaseCpu before = cpu_now(servers);
      Result<CaseResult> result = one(entry_bytes, rate);
      const CaseCpu after = cpu_now(servers);
      if (!result.ok()) {
        return failed(options.name + " " + std::to_string(entry_bytes) + " B", result.error());
      }
      result->cpu.client_seconds = after.client_seconds - before.client_seconds;
      result->cpu.servers_seconds = after.servers_seconds - before.servers_seconds;
      result->cpu.wall_seconds = after.wall_seconds - before.wall_seconds;
      result->system = options.name;
      if (reported(describe_case(*result), write_case(options.out_dir, *result)) != 0) return 1;
    }
  }
  return 0;
}

int run_ceiling(const Options& options, const Workload& workload, const cli::WpConfig& config) {
  for (uint64_t entry_bytes : workload.entry_sizes_bytes) {
    Result<CeilingResult> result = make_error(Errc::invalid_argument, "unknown ceiling");
    if (options.system == "fdatasync-loop") {
      result = measure_fdatasync_loop(options.dir, workload, entry_bytes, config.writer);
    } else if (options.system == "journal-group" || options.system == "journal-single") {
      result =
          measure_journal(options.dir, workload, entry_bytes, options.system == "journal-group");
    } else {
      result =
          measure_s3_put(options.dir, workload, entry_bytes, config.writer, config.object_store.s3);
    }
    if (!result.ok()) return failed(options.system, result.error());
    if (options.name != options.system) result->system = options.name;
    if (reported(describe_ceiling(*result), write_ceiling(options.out_dir, *result)) != 0) {
      return 1;
    }
  }
  return 0;
}

int run(Options options) {
  Result<Workload> workload = load_workload(options.workload_path);
  if (!workload.ok()) {
    std::fprintf(stderr, "compare_bench: %s\n", workload.error().message.c_str());
    return 2;
  }
  if (options.name.empty()) options.name = options.system;
  std::error_code error;
  std::filesystem::create_directories(options.out_dir, error);
  cli::WpConfig config;
  if (!options.config_path.empty()) {
    if (Status s = cli::load_config_file(options.config_path, config); !s.ok()) {
      std::fprintf(stderr, "compare_bench: %s\n", s.error().describe().c_str());
      return 2;
    }
  }
  const std::string& system = options.system;
  if (system == "memorybuffer" || system == "quorum") {
    Result<std::unique_ptr<WalSystem>> wal = WalSystem::open(options.config_path);
    if (!wal.ok()) {
      std::fprintf(stderr, "compare_bench: %s\n", wal.error().describe().c_str());
      return 1;
    }
    return run_points(options, *workload, [&](uint64_t entry_bytes, double rate) {
      return (*wal)->run_case(*workload, entry_bytes, rate);
    });
  }
  if (system == "nats") {
    Result<std::unique_ptr<NatsSystem>> nats =
        NatsSystem::connect(split(options.nats_urls), options.replicas);
    if (!nats.ok()) {
      std::fprintf(stderr, "compare_bench: %s\n", nats.error().describe().c_str());
      return 1;
    }
    return run_points(options, *workload, [&](uint64_t entry_bytes, double rate) {
      return (*nats)->run_case(*workload, entry_bytes, rate);
    });
  }
  return run_ceiling(options, *workload, config);
}

}  // namespace
}  // namespace wal::bench

int main(int argc, char** argv) {
  wal::bench::Options options;
  CLI::App app{wal::bench::description, "compare_bench"};
  app.add_option("system", options.system, "what to measure (see above)")
      ->required()
      ->check(CLI::IsMember({"memorybuffer", "quorum", "nats", "fdatasync-loop", "journal-group",
                             "journal-single", "s3-put"}));
  app.add_option("--workload", options.workload_path, "workload file (bench/workloads/*.json)")
      ->required();
  app.add_option("--out", options.out_dir, "results directory")->required();
  app.add_option("--name", options.name, "the system's label in the results");
  app.add_option("--config", options.config_path,
                 "wp config file (memorybuffer, quorum, s3-put; writer options for "
                 "fdatasync-loop)");
  app.add_option("--nats", options.nats_urls, "nats: comma-separated nats://host:port URLs");
  app.add_option("--replicas", options.replicas, "nats: stream replicas")->check(CLI::Range(1, 5));
  app.add_option("--dir", options.dir, "ceilings: where to write (and remove) their files");
  app.add_option("--server-pids", options.server_pids,
                 "comma-separated PIDs of the system's servers: their CPU time per case is "
                 "reported beside this process's")
      ->check([](const std::string& text) {
        for (char c : text) {
          if (c != ',' && (c < '0' || c > '9')) return std::string("PIDs are numbers");
        }
        return std::string();
      });
  CLI11_PARSE(app, argc, argv);
  const std::string& s = options.system;
  if ((s == "memorybuffer" || s == "quorum" || s == "s3-put") && options.config_path.empty()) {
    std::fprintf(stderr, "compare_bench: %s needs --config\n", s.c_str());
    return 2;
  }
  if (s == "nats" && options.nats_urls.empty()) {
    std::fprintf(stderr, "compare_bench: nats needs --nats\n");
    return 2;
  }
  if ((s == "fdatasync-loop" || s.starts_with("journal") || s == "s3-put") && options.dir.empty()) {
    std::fprintf(stderr, "compare_bench: %s needs --dir\n", s.c_str());
    return 2;
  }
  return wal::bench::run(std::move(options));
}
