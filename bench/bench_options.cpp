#include "bench_options.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "wal/core/assert.h"
#include "wal/format/block_format.h"

namespace wal::bench {

namespace {

// --quick: long enough for every case to PUT a few blocks, short enough for a CI smoke test.
constexpr double quick_seconds = 0.25;
constexpr double quick_warmup_seconds = 0.1;
// Rounds beyond this only make a run long; the median of a handful is already stable.
constexpr uint64_t rounds_max = 99;
// Larger entries than the WAL accepts (limits::entry_size_bytes_max) would only fail.
constexpr uint64_t entry_bytes_max = 16ull << 20;
// Bounds the other numeric options (window, writer settings): far above any sensible value.
constexpr uint64_t number_max = 1ull << 40;

constexpr char help_text[] = R"(usage: memorybuffer_bench [options]

Measures, in one run and one directory, for each entry size:
  1. the raw ceiling: durable object writes (temp file, write, fsync, link, fsync of the
     directory, as LocalObjectStore does them) of the size of the blocks the WAL writes for that
     entry size, 4 at a time (WriterOptions::inflight_blocks_max), in MiB/s;
  2. the store alone: LocalObjectStore PUTs of the same blocks through the WAL's event loop and
     thread pool, as many in flight, with no writer (printed in the details: it separates the
     store's cost from the writer's);
  3. the MemoryBuffer WAL: a LogWriter with default options on LocalObjectStore +
     SqliteMetaStore, appends kept outstanding up to the writer's inflight_bytes_max: entries/s,
     payload MiB/s, p50/p99/p999 latency (call to acknowledgement);
and prints the ratio WAL/ceiling against the targets (>= 0.90 with 1 MiB entries, >= 0.60 with
1 KiB). Each size is measured --rounds times (ceiling, store alone, WAL, store alone, ceiling
each time, the sizes taken in turn); the table shows the round with the median ratio and lists
every round's ratio. Every one of those phases runs 0.5 s of warm-up that is not measured, then
--seconds that are. Exits 0 whether or not a target is met, 1 if the WAL or the file system fails.

options:
  --dir DIR           where to write (created; default: a fresh /tmp/memorybuffer-bench-XXXXXX,
                      removed at the end). Use a directory on the file system you care about.
  --seconds S         measured duration of each phase (default 2), after 0.5 s of warm-up
                      that is not measured
  --rounds N          measure each size N times, 1..99 (default 3); the verdict is on the
                      median round, because the disk's speed drifts from minute to minute
  --sizes A,B,...     entry sizes in bytes; a suffix K or M multiplies by 1024 or 1048576
                      (default 1024,65536,1048576)
  --quick             a smoke run: 0.1 s warm-up and 0.25 s measured per phase, one round
                      (numbers not meaningful)
  --window-extra N    appends outstanding beyond inflight_bytes_max / entry size (default 64)
  --writer NAME=VALUE change one WriterOptions field, for diagnosis (repeatable): one of
                      block_size_bytes_max, inflight_blocks_max, inflight_bytes_max,
                      checkpoint_interval_blocks, publish_tail (0 or 1),
                      tail_publish_interval_ms, segment_size_bytes_max. Sizes take K/M.
  --put-trace PREFIX  write each WAL block PUT of the median round as "started_ns finished_ns
                      bytes" (loop-thread view, from the start of the measurement) to
                      PREFIX-<entry size>.txt
  --help              this text
)";

// A decimal number with an optional K or M suffix (times 1024 or 1048576), in 1..value_max.
std::optional<uint64_t> parse_number(std::string_view text, uint64_t value_max) {
  uint64_t multiplier = 1;
  if (!text.empty() && (text.back() == 'K' || text.back() == 'k')) multiplier = 1024;
  if (!text.empty() && (text.back() == 'M' || text.back() == 'm')) multiplier = 1ull << 20;
  if (multiplier != 1) text.remove_suffix(1);
  if (text.empty() || text.size() > 12) return std::nullopt;
  uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  value *= multiplier;
  if (value == 0 || value > value_max) return std::nullopt;
  return value;
}

std::optional<std::vector<uint64_t>> parse_sizes(std::string_view text) {
  std::vector<uint64_t> sizes;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::optional<uint64_t> size = parse_number(text.substr(0, comma), entry_bytes_max);
    if (!size) return std::nullopt;
    sizes.push_back(*size);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  if (sizes.empty()) return std::nullopt;
  return sizes;
}

bool usage_error(const std::string& message) {
  std::fprintf(stderr, "memorybuffer_bench: %s (see --help)\n", message.c_str());
  return false;
}

// Applies --writer NAME=VALUE. false: a usage error, printed.
bool apply_writer_option(std::string_view assignment, WriterOptions& writer) {
  constexpr uint64_t not_a_number = UINT64_MAX;
  const size_t equals = assignment.find('=');
  const std::string_view name = assignment.substr(0, equals);
  const std::string_view text =
      equals == std::string_view::npos ? std::string_view{} : assignment.substr(equals + 1);
  const uint64_t value =
      text == "0" ? 0 : parse_number(text, number_max).value_or(not_a_number);
  if (name == "publish_tail" && value <= 1) {
    writer.publish_tail = value == 1;
  } else if (name == "checkpoint_interval_blocks" && value <= UINT32_MAX) {
    writer.checkpoint_interval_blocks = static_cast<uint32_t>(value);
  } else if (name == "block_size_bytes_max" && value >= 1024 &&
             value <= limits::block_size_bytes_max) {
    writer.block_size_bytes_max = value;
  } else if (name == "inflight_blocks_max" && value >= 1 && value <= 64) {
    writer.inflight_blocks_max = static_cast<uint32_t>(value);
  } else if (name == "inflight_bytes_max" && value >= 1 && value != not_a_number) {
    writer.inflight_bytes_max = value;
  } else if (name == "tail_publish_interval_ms" && value <= 3'600'000) {
    writer.tail_publish_interval_min = std::chrono::milliseconds(value);
  } else if (name == "segment_size_bytes_max" && value >= 1 && value != not_a_number) {
    writer.segment_size_bytes_max = value;
  } else {
    return usage_error("--writer: bad or unknown setting '" + std::string(assignment) + "'");
  }
  WAL_ASSERT_GT(writer.inflight_blocks_max, uint32_t{0});
  return true;
}

// Applies one option (and its value, if it takes one). false: a usage error, printed.
bool apply_option(std::string_view name, const char* value, BenchOptions& options, int& index) {
  const bool takes_value = name == "--dir" || name == "--seconds" || name == "--sizes" ||
                           name == "--window-extra" || name == "--writer" ||
                           name == "--put-trace" || name == "--rounds";
  if (takes_value && value == nullptr) return usage_error(std::string(name) + " needs a value");
  if (takes_value) ++index;
  if (name == "--dir") {
    options.dir = value;
    if (options.dir.empty()) return usage_error("--dir is empty");
  } else if (name == "--seconds") {
    char* end = nullptr;
    options.seconds = std::strtod(value, &end);
    if (*end != '\0' || !(options.seconds > 0 && options.seconds <= 3600)) {
      return usage_error("--seconds wants a number of seconds in (0, 3600]");
    }
  } else if (name == "--sizes") {
    std::optional<std::vector<uint64_t>> sizes = parse_sizes(value);
    if (!sizes) return usage_error("--sizes wants sizes in 1..16M, like 1024,64K,1M");
    options.sizes = *sizes;
  } else if (name == "--rounds") {
    std::optional<uint64_t> rounds = parse_number(value, rounds_max);
    if (!rounds) return usage_error("--rounds wants a count in 1..99");
    options.rounds = static_cast<uint32_t>(*rounds);
  } else if (name == "--window-extra") {
    std::optional<uint64_t> extra = parse_number(value, number_max);
    if (!extra) return usage_error("--window-extra wants a positive count");
    options.window_extra_count = *extra;
  } else if (name == "--writer") {
    if (!apply_writer_option(value, options.writer)) return false;
    options.writer_changed = true;
  } else if (name == "--put-trace") {
    options.put_trace_prefix = value;
    if (options.put_trace_prefix.empty()) return usage_error("--put-trace is empty");
  } else if (name == "--quick") {
    options.seconds = quick_seconds;
    options.warmup_seconds = quick_warmup_seconds;
    options.rounds = 1;
  } else if (name == "--help" || name == "-h") {
    options.help = true;
  } else {
    return usage_error("unknown option " + std::string(name));
  }
  return true;
}

}  // namespace

std::optional<BenchOptions> parse_bench_options(int argc, char** argv) {
  WAL_ASSERT_GE(argc, 1);
  BenchOptions options;
  for (int index = 1; index < argc; ++index) {
    const char* value = index + 1 < argc ? argv[index + 1] : nullptr;
    if (!apply_option(argv[index], value, options, index)) return std::nullopt;
  }
  if (options.help) {
    std::fputs(help_text, stdout);
    return options;
  }
  if (options.dir.empty()) {
    char pattern[] = "/tmp/memorybuffer-bench-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      std::fprintf(stderr, "memorybuffer_bench: mkdtemp: %s\n", std::strerror(errno));
      return std::nullopt;
    }
    options.dir = pattern;
    options.dir_is_temporary = true;
  }
  WAL_ASSERT(!options.dir.empty());
  return options;
}

}  // namespace wal::bench
