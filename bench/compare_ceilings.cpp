#include "compare_ceilings.h"

#include <unistd.h>

#include <algorithm>

#include "block_shape.h"
#include "fsync_baseline.h"
#include "store_put_case.h"
#include "wal/core/assert.h"
#include "wal/quorum/quorum_writer.h"
#include "wal_runtime.h"

namespace wal::bench {

namespace {

// The journal's writers are the 3 LogStores of one ensemble, on this one disk.
constexpr uint32_t ensemble_journals_count = 3;

LatencyHistogram histogram_of(const std::vector<uint64_t>& samples_us) {
  LatencyHistogram histogram;
  for (uint64_t sample : samples_us) histogram.record(sample);
  return histogram;
}

// What one ceiling measured: `writes_per_second` writes of `write_bytes`, `concurrency` at
// once, each carrying `entries_per_write` entries of `entry_bytes`.
struct Measured {
  uint64_t write_bytes = 0;
  uint32_t concurrency = 0;
  double writes_per_second = 0;
  double entries_per_write = 0;
  const std::vector<uint64_t>* latencies_us = nullptr;
};

CeilingResult ceiling(std::string system, uint64_t entry_bytes, const Measured& measured) {
  WAL_ASSERT_GT(measured.entries_per_write, 0.0);
  WAL_ASSERT(measured.latencies_us != nullptr);
  CeilingResult result;
  result.system = std::move(system);
  result.entry_bytes = entry_bytes;
  result.write_bytes = measured.write_bytes;
  result.concurrency = measured.concurrency;
  result.writes_per_second = measured.writes_per_second;
  result.latency = histogram_of(*measured.latencies_us);
  result.entries_per_second = result.writes_per_second * measured.entries_per_write;
  result.mib_per_second =
      result.entries_per_second * static_cast<double>(result.entry_bytes) / (1 << 20);
  return result;
}

std::chrono::nanoseconds as_duration(double seconds) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(seconds));
}

}  // namespace

Result<CeilingResult> measure_fdatasync_loop(const std::string& dir, const Workload& workload,
                                             uint64_t entry_bytes, const WriterOptions& writer) {
  const BlockShape shape = saturated_block_shape(entry_bytes, writer.block_size_bytes_max);
  Result<FsyncBaseline> measured =
      measure_fdatasync(dir, writer.inflight_blocks_max, shape.object_file_bytes,
                        workload.warmup_seconds + workload.duration_seconds);
  if (!measured.ok()) return std::move(measured).error();
  return ceiling("fdatasync-loop", entry_bytes,
                 {shape.object_file_bytes, writer.inflight_blocks_max, measured->fsyncs_per_second,
                  static_cast<double>(shape.entries_per_block), &measured->samples_us});
}

Result<CeilingResult> measure_journal(const std::string& dir, const Workload& workload,
                                      uint64_t entry_bytes, bool grouped) {
  const uint64_t record_bytes = entry_bytes + journal_entry_overhead_bytes;
  // One add carries at most message_bytes_max of payload (the quorum writer's default), and
  // the writer has at most the saturation window in flight: a group is what one add can hold.
  const uint64_t add_bytes_max = quorum::QuorumWriterOptions{}.message_bytes_max;
  const uint64_t group_count = grouped
                                   ? std::clamp<uint64_t>(add_bytes_max / entry_bytes, 1,
                                                          workload.saturation_window(entry_bytes))
                                   : 1;
  Result<FsyncBaseline> measured =
      measure_fdatasync(dir, ensemble_journals_count, group_count * record_bytes,
                        workload.warmup_seconds + workload.duration_seconds);
  if (!measured.ok()) return std::move(measured).error();
  // Every entry is written by all 3 journals: the ensemble stores writes/3 groups per second.
  return ceiling(
      grouped ? "journal-group" : "journal-single", entry_bytes,
      {group_count * record_bytes, ensemble_journals_count, measured->fsyncs_per_second,
       static_cast<double>(group_count) / ensemble_journals_count, &measured->samples_us});
}

Result<CeilingResult> measure_s3_put(const std::string& dir, const Workload& workload,
                                     uint64_t entry_bytes, const WriterOptions& writer,
                                     const S3Options& s3) {
  Result<std::unique_ptr<WalRuntime>> runtime = WalRuntime::open(dir, {}, s3);
  if (!runtime.ok()) return std::move(runtime).error();
  const BlockShape shape = saturated_block_shape(entry_bytes, writer.block_size_bytes_max);
  StoreCaseConfig config;
  config.key_prefix =
      "compare-s3-put/" + std::to_string(::getpid()) + "-" + std::to_string(entry_bytes) + "/";
  config.body_bytes = shape.block_bytes;
  config.object_overhead_bytes = 0;  // an S3 object is its body
  config.blocks_per_directory =
      std::max<uint64_t>(1, writer.segment_size_bytes_max / shape.block_bytes);
  config.puts_in_flight = writer.inflight_blocks_max;
  config.warmup = as_duration(workload.warmup_seconds);
  config.duration = as_duration(workload.duration_seconds);
  Result<StoreCaseResult> measured = run_store_case(**runtime, config);
  if (!measured.ok()) return std::move(measured).error();
  return ceiling("s3-put", entry_bytes,
                 {shape.block_bytes, writer.inflight_blocks_max,
                  static_cast<double>(measured->puts_count) / measured->seconds,
                  static_cast<double>(shape.entries_per_block), &measured->put_latencies_us});
}

}  // namespace wal::bench
