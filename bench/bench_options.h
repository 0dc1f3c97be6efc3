#pragma once
// Command-line options of memorybuffer_bench.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wal/log/options.h"

namespace wal::bench {

struct BenchOptions {
  std::string dir;                // where both measurements write
  bool dir_is_temporary = false;  // made by us under /tmp: removed at the end
  double seconds = 2.0;           // per measurement (ceiling and WAL each), per round
  // Each entry size is measured this many times (round-robin over the sizes, so a slow spell of
  // the disk does not land on one size); the table reports the round with the median ratio.
  uint32_t rounds = 3;
  double warmup_seconds = 0.5;    // WAL appends before its measurement starts
  std::vector<uint64_t> sizes = {1024, 65536, 1048576};  // entry sizes, bytes
  uint64_t window_extra_count = 64;  // appends beyond inflight_bytes_max / entry size
  // The defaults unless changed with --writer NAME=VALUE (for diagnosis; the targets
  // are about the defaults). The ceiling follows block_size_bytes_max and inflight_blocks_max.
  WriterOptions writer;
  bool writer_changed = false;
  std::string put_trace_prefix;  // --put-trace: where to write the PUT timelines, if anywhere
  bool help = false;
};

// Parses argv. nullopt: a usage error (printed to stderr). With --help, prints the help and sets
// `help`. Without --dir, creates a fresh directory /tmp/memorybuffer-bench-XXXXXX.
[[nodiscard]] std::optional<BenchOptions> parse_bench_options(int argc, char** argv);

}  // namespace wal::bench
