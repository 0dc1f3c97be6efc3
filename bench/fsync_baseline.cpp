#include "fsync_baseline.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace wal::bench {

namespace {

using Steady = std::chrono::steady_clock;

struct ThreadResult {
  std::vector<uint64_t> samples_us;
  std::string error;  // empty: no error
};

// One fio-like job: append + fdatasync until `stop_at`.
ThreadResult run_job(const std::string& path, uint64_t write_bytes, Steady::time_point stop_at) {
  ThreadResult result;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    result.error = "open " + path + ": " + std::strerror(errno);
    return result;
  }
  const std::vector<char> buffer(write_bytes, 'x');
  uint64_t offset_bytes = 0;
  while (Steady::now() < stop_at) {
    const auto started = Steady::now();
    const ssize_t written = ::pwrite(fd, buffer.data(), buffer.size(),
                                     static_cast<off_t>(offset_bytes));
    if (written != static_cast<ssize_t>(buffer.size()) || ::fdatasync(fd) != 0) {
      result.error = "write + fdatasync " + path + ": " + std::strerror(errno);
      break;
    }
    offset_bytes += buffer.size();
    result.samples_us.push_back(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - started).count()));
  }
  ::close(fd);
  ::unlink(path.c_str());
  return result;
}

}  // namespace

Result<FsyncBaseline> measure_fdatasync(const std::string& dir, uint32_t threads,
                                        uint64_t write_bytes, double seconds) {
  const auto started = Steady::now();
  const auto stop_at = started + std::chrono::duration_cast<Steady::duration>(
                                     std::chrono::duration<double>(seconds));
  std::vector<ThreadResult> results(threads);
  std::vector<std::thread> workers;
  for (uint32_t i = 0; i < threads; ++i) {
    workers.emplace_back([&, i] {
      results[i] = run_job(dir + "/fsync-baseline-" + std::to_string(i), write_bytes, stop_at);
    });
  }
  for (std::thread& worker : workers) worker.join();
  const double elapsed_s = std::chrono::duration<double>(Steady::now() - started).count();
  std::vector<uint64_t> samples_us;
  for (ThreadResult& result : results) {
    if (!result.error.empty()) return make_error(Errc::io_error, result.error);
    samples_us.insert(samples_us.end(), result.samples_us.begin(), result.samples_us.end());
  }
  FsyncBaseline baseline;
  baseline.fsyncs_per_second = static_cast<double>(samples_us.size()) / elapsed_s;
  baseline.latency = summarize_latencies(samples_us);
  baseline.samples_us = std::move(samples_us);
  return baseline;
}

}  // namespace wal::bench
