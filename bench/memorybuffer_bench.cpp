// memorybuffer_bench: MemoryBuffer WAL append throughput and latency against the raw ceiling of
// durable object writes on the same file system, in one run and one directory. See README.md.
//
// Exit status: 0 when every case ran (whether or not it met its target: a benchmark reports, it
// does not fail CI), 1 when the WAL or the file system returned an error, 2 on a usage error.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench_options.h"
#include "block_shape.h"
#include "ratio_targets.h"
#include "raw_ceiling.h"
#include "store_put_case.h"
#include "wal_append_case.h"
#include "wal_runtime.h"

namespace wal::bench {
namespace {

struct CaseReport {
  uint64_t entry_bytes = 0;
  BlockShape shape;
  RawCeilingResult ceiling_before;  // just before the WAL
  RawCeilingResult ceiling_after;   // just after
  RawCeilingResult ceiling;         // both
  StoreCaseResult store_before;     // the store alone, between ceiling and WAL
  StoreCaseResult store_after;
  StoreCaseResult store;            // both
  WalCaseResult wal;
};

double ratio_of(const CaseReport& report) {
  if (report.ceiling.mib_per_second <= 0) return 0;
  return report.wal.mib_per_second / report.ceiling.mib_per_second;
}

// The WAL against the store alone under it: what the writer costs, apart from the store.
double store_ratio_of(const CaseReport& report) {
  if (report.store.mib_per_second <= 0) return 0;
  return report.wal.mib_per_second / report.store.mib_per_second;
}

double percent(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0; }

// One entry size over all rounds, and which round has the median ratio.
struct SizeReport {
  std::vector<CaseReport> rounds;  // in the order run
  size_t median_index = 0;         // the round with the median ratio (the lower of two middles)
};

size_t median_round(const std::vector<CaseReport>& rounds) {
  std::vector<double> ratios;
  for (const CaseReport& round : rounds) ratios.push_back(ratio_of(round));
  return median_index(ratios);
}

// Every number in a row comes from one run (the median round), so they are consistent with
// each other; the last column lists each round's ratio in the order run.
void print_table(const std::vector<SizeReport>& sizes) {
  std::printf("\n%-9s %-9s %9s %9s %11s %6s %6s %9s %9s %9s  %-12s %s\n", "entry_B", "object_B",
              "ceil_MiB/s", "WAL_MiB/s", "WAL_entr/s", "ratio", "target", "p50_us", "p99_us",
              "p999_us", "verdict", "rounds");
  for (const SizeReport& size : sizes) {
    const CaseReport& report = size.rounds[size.median_index];
    const double ratio = ratio_of(report);
    const std::optional<double> target = target_ratio(report.entry_bytes);
    const char* verdict = !target ? "(no target)" : ratio >= *target ? "PASS" : "BELOW TARGET";
    const std::string target_text = target ? std::to_string(*target).substr(0, 4) : "-";
    std::string round_ratios;
    for (const CaseReport& round : size.rounds) {
      char text[16];
      std::snprintf(text, sizeof text, "%s%.2f", round_ratios.empty() ? "" : " ",
                    ratio_of(round));
      round_ratios += text;
    }
    std::printf("%-9llu %-9llu %10.1f %9.1f %11.0f %6.2f %6s %9llu %9llu %9llu  %-12s %s\n",
                static_cast<unsigned long long>(report.entry_bytes),
                static_cast<unsigned long long>(report.shape.object_file_bytes),
                report.ceiling.mib_per_second, report.wal.mib_per_second,
                report.wal.entries_per_second, ratio, target_text.c_str(),
                static_cast<unsigned long long>(report.wal.latency.p50_us),
                static_cast<unsigned long long>(report.wal.latency.p99_us),
                static_cast<unsigned long long>(report.wal.latency.p999_us), verdict,
                round_ratios.c_str());
  }
}

// --put-trace PREFIX: one line per block PUT of the WAL measurement ("started_ns finished_ns
// body_bytes", from the loop thread, since the measurement began) in PREFIX-<entry bytes>.txt,
// to see how full the PUT pipeline was. false: the file could not be written (printed).
bool write_put_trace(const std::string& prefix, const CaseReport& report) {
  const std::string path = prefix + "-" + std::to_string(report.entry_bytes) + ".txt";
  FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "memorybuffer_bench: cannot write %s\n", path.c_str());
    return false;
  }
  for (const PutSpan& span : report.wal.puts.block_put_spans) {
    std::fprintf(out, "%lld %lld %llu\n", static_cast<long long>(span.started_ns),
                 static_cast<long long>(span.finished_ns),
                 static_cast<unsigned long long>(span.body_bytes));
  }
  const bool written = std::fclose(out) == 0;
  WAL_MAYBE(written);
  return written;
}

void print_details(const CaseReport& report) {
  const WalCaseResult& wal = report.wal;
  const PutTally& puts = wal.puts;
  std::vector<uint64_t> put_latencies = puts.block_put_latencies_us;
  const LatencySummary put_latency = summarize_latencies(put_latencies);
  const double mean_block_bytes =
      puts.block_puts_count ? static_cast<double>(puts.block_put_bytes) / puts.block_puts_count
                            : 0;
  std::printf("  %llu B entries: ceiling %.1f MiB/s before, %.1f after; %llu objects, write "
              "p50 %.1f ms p99 %.1f ms\n",
              static_cast<unsigned long long>(report.entry_bytes),
              report.ceiling_before.mib_per_second, report.ceiling_after.mib_per_second,
              static_cast<unsigned long long>(report.ceiling.objects_count),
              report.ceiling.write_latency.p50_us / 1e3, report.ceiling.write_latency.p99_us / 1e3);
  std::printf("    store alone (LocalObjectStore through the loop and pool, no writer): %.1f MiB/s "
              "before, %.1f after, %.2f of the ceiling; PUT p50 %.1f ms p99 %.1f ms. WAL / store "
              "alone: %.2f\n",
              report.store_before.mib_per_second, report.store_after.mib_per_second,
              report.ceiling.mib_per_second > 0
                  ? report.store.mib_per_second / report.ceiling.mib_per_second
                  : 0,
              report.store.put_latency.p50_us / 1e3, report.store.put_latency.p99_us / 1e3,
              store_ratio_of(report));
  std::printf("    WAL: window %llu appends, %llu acknowledged in time; block PUTs %llu "
              "(%llu full, mean %.0f B, predicted %llu B); other PUTs %llu\n",
              static_cast<unsigned long long>(wal.window_count),
              static_cast<unsigned long long>(wal.entries_count),
              static_cast<unsigned long long>(puts.block_puts_count),
              static_cast<unsigned long long>(puts.full_block_puts_count), mean_block_bytes,
              static_cast<unsigned long long>(report.shape.block_bytes),
              static_cast<unsigned long long>(puts.other_puts_count));
  std::printf("    WAL: block PUT p50 %.1f ms p99 %.1f ms; mean PUTs in flight %.2f (max %u); "
              "MetaStore txns %llu (%.1f ms busy); segments sealed %llu; checkpoints %llu\n",
              put_latency.p50_us / 1e3, put_latency.p99_us / 1e3,
              std::chrono::duration<double>(puts.put_busy).count() / wal.seconds,
              puts.inflight_max, static_cast<unsigned long long>(wal.meta.txn_count),
              std::chrono::duration<double, std::milli>(wal.meta.txn_busy).count(),
              static_cast<unsigned long long>(wal.writer_stats.segments_sealed),
              static_cast<unsigned long long>(wal.writer_stats.checkpoints_written));
  std::printf("    WAL: loop thread on CPU %.0f%%, waiting for a CPU %.0f%%; process CPU %.0f%% "
              "(of one core) over %.2f s; latency max %.1f ms over %llu appends\n",
              percent(wal.loop_cpu_seconds, wal.seconds),
              percent(wal.loop_runqueue_wait_seconds, wal.seconds),
              percent(wal.process_cpu_seconds, wal.seconds), wal.seconds,
              wal.latency.max_us / 1e3, static_cast<unsigned long long>(wal.latency.sample_count));
  // Per unit of work, loop CPU is much less sensitive to other load on the machine than rates.
  if (wal.entries_count > 0) {
    std::printf("    WAL: loop thread CPU per entry %.2f us, per MiB of payload %.2f ms\n",
                wal.loop_cpu_seconds * 1e6 / static_cast<double>(wal.entries_count),
                wal.loop_cpu_seconds * 1e3 / (static_cast<double>(wal.payload_bytes) / (1 << 20)));
  }
}

// Every phase of a case (ceiling, store alone, WAL) has the same shape: `warmup_seconds` not
// measured, then `seconds` measured. Same shape, not just the same measured length: each phase
// keeps every object it writes until it ends, so the longer a phase runs, the more page cache it
// takes beyond what the phase before it freed, and on a VM that hands freed guest memory back to
// its host (virtio-balloon free page reporting) such memory costs a host page fault on first
// touch. Phases of different lengths therefore ran under different conditions (README.md, "Why
// every phase has the same shape").
std::chrono::nanoseconds warmup_of(const BenchOptions& options) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(options.warmup_seconds));
}

std::chrono::nanoseconds measured_of(const BenchOptions& options) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(options.seconds));
}

// One ceiling measurement (before or after the WAL). false: an error (printed).
bool run_ceiling_phase(const BenchOptions& options, const CaseReport& report, const char* when,
                       RawCeilingResult& out) {
  std::fprintf(stderr, "case %llu B: raw ceiling %s (%llu B objects, %u in flight)...\n",
               static_cast<unsigned long long>(report.entry_bytes), when,
               static_cast<unsigned long long>(report.shape.object_file_bytes),
               options.writer.inflight_blocks_max);
  Result<RawCeilingResult> ceiling = measure_raw_ceiling(
      {options.dir + "/raw", report.shape.object_file_bytes, options.writer.inflight_blocks_max,
       warmup_of(options), measured_of(options)});
  if (!ceiling.ok()) {
    std::fprintf(stderr, "memorybuffer_bench: raw ceiling: %s\n",
                 ceiling.error().describe().c_str());
    return false;
  }
  out = std::move(ceiling).value();
  return true;
}

// One store-alone measurement (before or after the WAL). false: an error (printed).
bool run_store_phase(const BenchOptions& options, WalRuntime& runtime, const CaseReport& report,
                     uint32_t round, const char* when, StoreCaseResult& out) {
  std::fprintf(stderr, "case %llu B: store alone %s...\n",
               static_cast<unsigned long long>(report.entry_bytes), when);
  StoreCaseConfig config;
  config.key_prefix = "bench-store/" + std::to_string(report.entry_bytes) + "-" +
                      std::to_string(round) + "-" + when;
  config.body_bytes = report.shape.block_bytes;
  config.blocks_per_directory =
      std::max<uint64_t>(1, options.writer.segment_size_bytes_max / report.shape.block_bytes);
  config.puts_in_flight = options.writer.inflight_blocks_max;
  config.warmup = warmup_of(options);
  config.duration = measured_of(options);
  Result<StoreCaseResult> store = run_store_case(runtime, config);
  if (!store.ok()) {
    std::fprintf(stderr, "memorybuffer_bench: store alone: %s\n",
                 store.error().describe().c_str());
    return false;
  }
  out = std::move(store).value();
  return true;
}

// Ceiling, store alone, WAL, store alone, ceiling for one entry size, each phase with the same
// warm-up and measured length. false: an error.
bool run_case(const BenchOptions& options, WalRuntime& runtime, uint64_t entry_bytes,
              uint32_t round, CaseReport& report) {
  report.entry_bytes = entry_bytes;
  report.shape = saturated_block_shape(entry_bytes, options.writer.block_size_bytes_max);
  if (!run_ceiling_phase(options, report, "before", report.ceiling_before)) return false;
  if (!run_store_phase(options, runtime, report, round, "before", report.store_before)) {
    return false;
  }
  std::fprintf(stderr, "case %llu B: WAL appends...\n",
               static_cast<unsigned long long>(entry_bytes));
  WalCaseConfig config;
  config.log_name = "memorybuffer-" + std::to_string(entry_bytes) + "-" +
                    std::to_string(::getpid()) + "-" + std::to_string(round);
  config.entry_bytes = entry_bytes;
  config.warmup = warmup_of(options);
  config.duration = measured_of(options);
  config.writer = options.writer;
  config.window_extra_count = options.window_extra_count;
  Result<WalCaseResult> wal = run_wal_case(runtime, config);
  if (!wal.ok()) {
    std::fprintf(stderr, "memorybuffer_bench: WAL: %s\n", wal.error().describe().c_str());
    return false;
  }
  report.wal = std::move(wal).value();
  if (!run_store_phase(options, runtime, report, round, "after", report.store_after)) {
    return false;
  }
  if (!run_ceiling_phase(options, report, "after", report.ceiling_after)) return false;
  report.ceiling = combine_ceilings(report.ceiling_before, report.ceiling_after);
  report.store = combine_store_phases(report.store_before, report.store_after);
  return true;
}

// The 1-minute load average, or -1 if /proc/loadavg cannot be read.
double load_average() {
  FILE* file = std::fopen("/proc/loadavg", "r");
  if (file == nullptr) return -1;
  double load = -1;
  if (std::fscanf(file, "%lf", &load) != 1) load = -1;
  std::fclose(file);
  return load;
}

// KiB of free memory this guest has reported to its hypervisor so far (virtio-balloon free page
// reporting), or -1 if the kernel does not report free pages. Memory reported is unmapped on the
// host, so the next page cache or heap that lands on it pays a host page fault on first touch.
long long reported_free_kib() {
  FILE* file = std::fopen("/sys/module/page_reporting/parameters/reported_kib", "r");
  if (file == nullptr) return -1;
  long long kib = -1;
  if (std::fscanf(file, "%lld", &kib) != 1) kib = -1;
  std::fclose(file);
  return kib;
}

void print_header(const BenchOptions& options) {
  const WriterOptions& writer = options.writer;
  std::printf("MemoryBuffer WAL vs raw durable-write ceiling: dir %s, %.2f s warm-up + %.2f s "
              "measured per phase, %u rounds, %u hardware threads, load average %.2f at "
              "start\n%s WriterOptions: "
              "block_size_bytes_max %llu, inflight_blocks_max %u, inflight_bytes_max %llu, "
              "checkpoint_interval_blocks %u, publish_tail %d, tail_publish_interval_min %lld "
              "ms; window extra %llu\n",
              options.dir.c_str(), options.warmup_seconds, options.seconds, options.rounds,
              std::thread::hardware_concurrency(),
              load_average(),
              options.writer_changed ? "CHANGED (diagnosis, not the issue's setup)" : "default",
              static_cast<unsigned long long>(writer.block_size_bytes_max),
              writer.inflight_blocks_max,
              static_cast<unsigned long long>(writer.inflight_bytes_max),
              writer.checkpoint_interval_blocks, writer.publish_tail ? 1 : 0,
              static_cast<long long>(writer.tail_publish_interval_min.count()),
              static_cast<unsigned long long>(options.window_extra_count));
}

int run(const BenchOptions& options) {
  Result<std::unique_ptr<WalRuntime>> runtime = WalRuntime::open(options.dir + "/wal");
  if (!runtime.ok()) {
    std::fprintf(stderr, "memorybuffer_bench: %s\n", runtime.error().describe().c_str());
    return 1;
  }
  print_header(options);
  const long long reported_kib_at_start = reported_free_kib();
  std::vector<SizeReport> sizes(options.sizes.size());
  // Round-robin over the sizes: a slow spell of the disk then hits one round of several sizes,
  // not every round of one size.
  for (uint32_t round = 0; round < options.rounds; ++round) {
    std::fprintf(stderr, "round %u of %u\n", round + 1, options.rounds);
    for (size_t i = 0; i < options.sizes.size(); ++i) {
      CaseReport report;
      if (!run_case(options, **runtime, options.sizes[i], round, report)) return 1;
      sizes[i].rounds.push_back(std::move(report));
    }
  }
  for (SizeReport& size : sizes) {
    WAL_ASSERT_EQ(size.rounds.size(), options.rounds);
    size.median_index = median_round(size.rounds);
  }
  print_table(sizes);
  std::printf("\ndetails of the median rounds (load average %.2f at end; the WAL's loop thread "
              "needs a CPU, the ceiling mostly waits for the disk, so other load lowers the "
              "ratio):\n",
              load_average());
  for (const SizeReport& size : sizes) {
    const CaseReport& report = size.rounds[size.median_index];
    print_details(report);
    std::printf("    by round, in the order run: store alone / ceiling");
    for (const CaseReport& round : size.rounds) {
      std::printf(" %.2f", round.ceiling.mib_per_second > 0
                               ? round.store.mib_per_second / round.ceiling.mib_per_second
                               : 0);
    }
    std::printf("; WAL / store alone");
    for (const CaseReport& round : size.rounds) std::printf(" %.2f", store_ratio_of(round));
    std::printf("\n");
    if (!options.put_trace_prefix.empty() && !write_put_trace(options.put_trace_prefix, report)) {
      return 1;
    }
  }
  const long long reported_kib_at_end = reported_free_kib();
  if (reported_kib_at_start >= 0 && reported_kib_at_end >= reported_kib_at_start) {
    std::printf("  this machine reports freed memory to its hypervisor (free page reporting): "
                "%.1f GiB during the run; memory touched again after that costs a host page "
                "fault, so phases that take more fresh page cache run slower (bench/README.md)\n",
                static_cast<double>(reported_kib_at_end - reported_kib_at_start) / (1 << 20));
  }
  return 0;
}

}  // namespace
}  // namespace wal::bench

int main(int argc, char** argv) {
  using namespace wal::bench;
  std::optional<BenchOptions> options = parse_bench_options(argc, argv);
  if (!options) return 2;
  if (options->help) return 0;
  const int status = run(*options);
  if (options->dir_is_temporary) {
    std::error_code ignored;
    std::filesystem::remove_all(options->dir, ignored);
  }
  return status;
}
