#pragma once
// The disk's durable-append latency, the floor under every acknowledged quorum append: `threads`
// threads each append `write_bytes` to a file of their own in `dir` and fdatasync it, again and
// again for `seconds` (fio's sequential write + fdatasync=1 job, one job per thread). With
// threads = 3 it matches what one quorum append costs this machine when the 3 LogStores of its
// ensemble share this disk: three journal appends, each fsynced, at the same time.
//
// Errors: a failed open, write or fdatasync ends the measurement and is returned (io_error with
// the errno text); the files are removed either way.

#include <cstdint>
#include <string>
#include <vector>

#include "latency_summary.h"
#include "wal/core/result.h"

namespace wal::bench {

struct FsyncBaseline {
  LatencySummary latency;  // one sample per write + fdatasync
  std::vector<uint64_t> samples_us;  // the samples behind it
  double fsyncs_per_second = 0;
};

[[nodiscard]] Result<FsyncBaseline> measure_fdatasync(const std::string& dir, uint32_t threads,
                                                      uint64_t write_bytes, double seconds);

}  // namespace wal::bench
