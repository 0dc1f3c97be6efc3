// etcd_requests_bench: how many etcd requests the MemoryBuffer writer sends per MiB appended,
// and whether that stays bounded as a log grows. See README.md.
//
// Each case appends a volume of entries of one size through a writer (objects in a local
// directory), from open_writer to close, twice: once with the MetaStore on SQLite, counting the
// MetaStore calls the WAL makes (the baseline, measured in the same run), once on etcd,
// counting the gRPC requests the etcd adapter sends (EtcdRequestCounts: retries, keep-alives
// and watch streams included). Reported per MiB appended, with two ratios:
//   etcd / baseline     requests the adapter adds over the WAL's own calls (1.00: none);
//   large / small       per-MiB requests at 4x the volume over the small volume (<= 1: the
//                       metadata cost per MiB does not grow with the log).
// Exit status: 0 when every case ran, 1 on a WAL or etcd error, 2 on a usage error.

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/etcd_process.h"
#include "wal/async/notify.h"
#include "wal/async/scope.h"
#include "wal_runtime.h"

namespace wal::bench {
namespace {

// Appends kept in flight: enough to fill the writer's default in-flight budget with 1 KiB
// entries' blocks without the driver being what limits throughput.
constexpr uint64_t lanes_max = 256;

struct Counts {
  uint64_t meta_calls = 0;     // SQLite baseline: MetaStore calls (txn + range)
  uint64_t etcd_requests = 0;  // etcd: gRPC requests and stream messages
  uint64_t txns = 0;
  uint64_t ranges = 0;
  double mib = 0;
  double seconds = 0;
};

struct Lanes {
  LogWriter& writer;
  uint64_t entry_bytes = 0;
  uint64_t entries_left = 0;
  std::optional<Error> error;
};

Task<void> lane(Lanes& lanes) {
  const Bytes payload(lanes.entry_bytes, std::byte{'x'});
  while (lanes.entries_left > 0 && !lanes.error) {
    --lanes.entries_left;
    Bytes copy = payload;
    Result<EntryId> id = co_await lanes.writer.append(std::move(copy));
    if (!id.ok() && !lanes.error) lanes.error = id.error();
  }
}

Task<Result<Counts>> append_case(WalRuntime& runtime, std::string log, uint64_t entry_bytes,
                                 uint64_t volume_bytes, EtcdMetaStore* etcd) {
  LogClient& client = runtime.client();
  WAL_CO_TRY(co_await client.create_log(log));
  runtime.meta().reset();
  const EtcdRequestCounts before = etcd ? etcd->request_counts() : EtcdRequestCounts{};
  const auto started = std::chrono::steady_clock::now();
  Result<std::unique_ptr<LogWriter>> writer = co_await client.open_writer(log);
  if (!writer.ok()) co_return std::move(writer).error();
  Lanes lanes{**writer, entry_bytes, volume_bytes / entry_bytes, std::nullopt};
  {
    Scope scope(runtime.loop());
    for (uint64_t index = 0; index < lanes_max; ++index) scope.spawn(lane(lanes));
    while (scope.running_count() > 0) {
      co_await sleep_for(runtime.loop(), std::chrono::milliseconds(1));
    }
  }
  if (lanes.error) co_return *lanes.error;
  WAL_CO_TRY(co_await (*writer)->close());
  Counts counts;
  counts.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  counts.mib = static_cast<double>(volume_bytes) / (1 << 20);
  counts.txns = runtime.meta().tally().txn_count;
  counts.ranges = runtime.meta().tally().range_count;
  counts.meta_calls = counts.txns + counts.ranges;
  if (etcd) {
    counts.etcd_requests = etcd->request_counts().requests_total() - before.requests_total();
  }
  WAL_CO_TRY(co_await client.delete_log(log));
  co_return counts;
}

Result<Counts> run_case(const std::string& dir, const MetaStoreConfig& meta, uint64_t entry_bytes,
                        uint64_t volume_bytes, const std::string& log) {
  Result<std::unique_ptr<WalRuntime>> runtime = WalRuntime::open(dir, meta);
  if (!runtime.ok()) return std::move(runtime).error();
  auto* etcd = dynamic_cast<EtcdMetaStore*>(&(*runtime)->meta_store());
  return (*runtime)->run(append_case(**runtime, log, entry_bytes, volume_bytes, etcd));
}

double per_mib(uint64_t count, const Counts& counts) {
  return counts.mib > 0 ? static_cast<double>(count) / counts.mib : 0;
}

int run(const std::vector<std::string>& endpoints, bool quick) {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("etcd-requests-bench-" + std::to_string(getpid()))).string();
  MetaStoreConfig sqlite;
  MetaStoreConfig etcd;
  etcd.type = MetaStoreConfig::Type::etcd;
  etcd.prefix = "/etcd-requests-bench-" + std::to_string(getpid()) + "/";
  etcd.etcd.endpoints = endpoints;
  const uint64_t small_bytes = quick ? (4ull << 20) : (64ull << 20);
  std::printf("etcd requests per MiB appended (MemoryBuffer writer, local objects; baseline: "
              "MetaStore calls of the same appends on SQLite)%s\n",
              quick ? " [quick: smoke only]" : "");
  std::printf("%-7s %-8s %12s %12s %9s %9s %10s %8s\n", "entry", "volume", "sqlite/MiB",
              "etcd/MiB", "txn/MiB", "range/MiB", "etcd/base", "MiB/s");
  int status = 0;
  for (uint64_t entry_bytes : {uint64_t{1024}, uint64_t{64 * 1024}}) {
    std::optional<double> small_per_mib;
    for (uint64_t volume_bytes : {small_bytes, 4 * small_bytes}) {
      const std::string log =
          "b" + std::to_string(entry_bytes) + "-" + std::to_string(volume_bytes);
      Result<Counts> base = run_case(dir + "/sqlite", sqlite, entry_bytes, volume_bytes, log);
      Result<Counts> real = run_case(dir + "/etcd", etcd, entry_bytes, volume_bytes, log);
      if (!base.ok() || !real.ok()) {
        std::fprintf(stderr, "etcd_requests_bench: %s\n",
                     (!base.ok() ? base.error() : real.error()).describe().c_str());
        status = 1;
        continue;
      }
      const double etcd_per_mib = per_mib(real->etcd_requests, *real);
      const double base_per_mib = per_mib(base->meta_calls, *base);
      std::printf("%-7s %-8s %12.2f %12.2f %9.2f %9.2f %10.2f %8.1f\n",
                  entry_bytes == 1024 ? "1 KiB" : "64 KiB",
                  (std::to_string(volume_bytes >> 20) + " MiB").c_str(), base_per_mib,
                  etcd_per_mib, per_mib(real->txns, *real), per_mib(real->ranges, *real),
                  base_per_mib > 0 ? etcd_per_mib / base_per_mib : 0, real->mib / real->seconds);
      if (!small_per_mib) {
        small_per_mib = etcd_per_mib;
      } else if (*small_per_mib > 0) {
        std::printf("        large / small: %.2f (etcd requests per MiB at 4x the volume)\n",
                    etcd_per_mib / *small_per_mib);
      }
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return status;
}

}  // namespace
}  // namespace wal::bench

int main(int argc, char** argv) {
  CLI::App app{"etcd_requests_bench: etcd requests per MiB appended by the MemoryBuffer writer, "
               "against the MetaStore calls of the same appends on SQLite (bench/README.md)"};
  std::string endpoints;
  bool quick = false;
  app.add_option("--endpoints", endpoints,
                 "etcd endpoints, comma-separated (default: start one with scripts/etcd.sh)");
  app.add_flag("--quick", quick, "4 and 16 MiB per case instead of 64 and 256 (a smoke run)");
  CLI11_PARSE(app, argc, argv);
  std::unique_ptr<wal::testing::EtcdProcess> own;
  std::vector<std::string> list = wal::testing::split_endpoints(endpoints);
  if (list.empty()) {
    own = std::make_unique<wal::testing::EtcdProcess>();
    list = own->endpoints();
  }
  return wal::bench::run(list, quick);
}
