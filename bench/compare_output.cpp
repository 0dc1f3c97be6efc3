#include "compare_output.h"

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace wal::bench {

namespace {

using Json = nlohmann::json;

Json latency_json(const LatencyHistogram& histogram) {
  const LatencySummary s = histogram.summary();
  return Json{{"count", s.sample_count},
              {"p50_us", s.p50_us},
              {"p99_us", s.p99_us},
              {"p999_us", s.p999_us},
              {"max_us", s.max_us}};
}

Status append_line(const std::string& out_dir, const Json& line) {
  const std::string path = out_dir + "/results.jsonl";
  std::ofstream file(path, std::ios::app);
  file << line.dump() << "\n";
  if (!file) return make_error(Errc::io_error, "cannot append to " + path);
  return Status{};
}

Status write_cdf(const std::string& out_dir, const std::string& name,
                 const LatencyHistogram& histogram) {
  std::error_code ignored;
  std::filesystem::create_directories(out_dir + "/cdf", ignored);
  const std::string path = out_dir + "/cdf/" + name + ".dat";
  std::ofstream file(path, std::ios::trunc);
  for (const auto& [top_us, fraction] : histogram.cdf()) {
    file << fmt::format("{:.3f} {:.6f}\n", static_cast<double>(top_us) / 1000.0, fraction);
  }
  if (!file) return make_error(Errc::io_error, "cannot write " + path);
  return Status{};
}

std::string ms(uint64_t us) { return fmt::format("{:.2f}", static_cast<double>(us) / 1000.0); }

}  // namespace

Status write_case(const std::string& out_dir, const CaseResult& r) {
  const std::string stem = fmt::format("{}-{}-{}", r.system, r.entry_bytes,
                                       static_cast<uint64_t>(r.offered_rate_per_second));
  Json line{{"kind", "system"},
            {"system", r.system},
            {"entry_bytes", r.entry_bytes},
            {"rate_per_second", r.offered_rate_per_second},
            {"window", r.window},
            {"seconds", r.seconds},
            {"acknowledged", r.acknowledged_count},
            {"failed", r.failed_count},
            {"first_error", r.first_error},
            {"received", r.received_count},
            {"entries_per_second", r.entries_per_second()},
            {"mib_per_second", r.mib_per_second()},
            {"append", latency_json(r.append_latency)},
            {"e2e", latency_json(r.end_to_end_latency)},
            {"cdf_append", "cdf/" + stem + "-append.dat"},
            {"cdf_e2e", "cdf/" + stem + "-e2e.dat"},
            {"cpu",
             {{"client_seconds", r.cpu.client_seconds},
              {"servers_seconds", r.cpu.servers_seconds},
              {"wall_seconds", r.cpu.wall_seconds}}},
            {"reader",
             {{"blocks_read", r.reader_blocks_read},
              {"manifest_reads", r.reader_manifest_reads},
              {"metadata_reloads", r.reader_metadata_reloads}}},
            {"note", r.note}};
  if (Status s = write_cdf(out_dir, stem + "-append", r.append_latency); !s.ok()) return s;
  if (Status s = write_cdf(out_dir, stem + "-e2e", r.end_to_end_latency); !s.ok()) return s;
  return append_line(out_dir, line);
}

Status write_ceiling(const std::string& out_dir, const CeilingResult& r) {
  Json line{{"kind", "ceiling"},
            {"system", r.system},
            {"entry_bytes", r.entry_bytes},
            {"write_bytes", r.write_bytes},
            {"concurrency", r.concurrency},
            {"writes_per_second", r.writes_per_second},
            {"entries_per_second", r.entries_per_second},
            {"mib_per_second", r.mib_per_second},
            {"latency", latency_json(r.latency)}};
  return append_line(out_dir, line);
}

std::string describe_case(const CaseResult& r) {
  const LatencySummary a = r.append_latency.summary();
  const LatencySummary e = r.end_to_end_latency.summary();
  return fmt::format(
      "{} {} B {}: {:.0f} entries/s {:.1f} MiB/s, append p50 {} p99 {} ms, e2e p50 {} p99 {} ms"
      "{}{}",
      r.system, r.entry_bytes,
      r.offered_rate_per_second == 0 ? fmt::format("saturated ({} in flight)", r.window)
                                     : fmt::format("at {:.0f}/s", r.offered_rate_per_second),
      r.entries_per_second(), r.mib_per_second(), ms(a.p50_us), ms(a.p99_us), ms(e.p50_us),
      ms(e.p99_us),
      r.failed_count > 0 ? fmt::format(", {} FAILED: {}", r.failed_count, r.first_error) : "",
      r.note.empty() ? "" : " (" + r.note + ")");
}

std::string describe_ceiling(const CeilingResult& r) {
  const LatencySummary l = r.latency.summary();
  return fmt::format(
      "{} for {} B: {:.0f} writes/s of {} B ({} at once), {:.0f} entries/s "
      "{:.1f} MiB/s, write p50 {} p99 {} ms",
      r.system, r.entry_bytes, r.writes_per_second, r.write_bytes, r.concurrency,
      r.entries_per_second, r.mib_per_second, ms(l.p50_us), ms(l.p99_us));
}

}  // namespace wal::bench
