#include "raw_ceiling.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "wal/core/assert.h"
#include "wal/core/bytes.h"
#include "wal/env/random.h"

namespace wal::bench {

namespace {

using SteadyClock = std::chrono::steady_clock;

// Where the objects go, relative to the root: one level down, like a segment's blocks.
constexpr char object_dir_name[] = "objects.d";

Error os_error(const std::string& what) {
  return make_error(Errc::io_error, what + ": " + std::strerror(errno));
}

// Closes a file descriptor on every path out of a function.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

Status fsync_retrying(int fd, const std::string& what) {
  WAL_ASSERT(fd >= 0);
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return os_error(what);
  }
  return {};
}

// What the writer threads share. The body is read-only once the threads start.
struct SharedRun {
  int root_fd = -1;
  Bytes body;
  SteadyClock::time_point measure_start;  // end of the warm-up
  SteadyClock::time_point deadline;
  std::mutex commit_mutex;  // the store's commit lock: link() calls are serialised
  std::atomic<uint64_t> next_index{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::optional<Error> first_error;  // guarded by error_mutex
};

struct WriterTally {
  uint64_t objects_count = 0;
  std::vector<uint64_t> latencies_us;
};

Status write_all(int fd, ByteView bytes) {
  uint64_t offset = 0;
  while (offset < bytes.size()) {
    const ssize_t written = ::pwrite(fd, bytes.data() + offset, bytes.size() - offset,
                                     static_cast<off_t>(offset));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return os_error("write temp file");
    offset += static_cast<uint64_t>(written);
  }
  WAL_ASSERT_EQ(offset, bytes.size());
  return {};
}

// One durable object, the way LocalObjectStore::put makes it (see raw_ceiling.h).
Status write_durably(SharedRun& run, uint64_t index) {
  const std::string temp_name = ".tmp-raw-" + std::to_string(index);
  const std::string object_path =
      std::string(object_dir_name) + "/b" + std::to_string(index) + ".o";
  const int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC;
  FdGuard temp(::openat(run.root_fd, temp_name.c_str(), flags, 0644));
  if (temp.get() < 0) return os_error("create " + temp_name);
  if (Status written = write_all(temp.get(), run.body); !written) return written;
  if (Status synced = fsync_retrying(temp.get(), "fsync temp file"); !synced) return synced;
  {
    std::lock_guard<std::mutex> commit(run.commit_mutex);
    if (::linkat(run.root_fd, temp_name.c_str(), run.root_fd, object_path.c_str(), 0) != 0) {
      return os_error("link " + object_path);
    }
  }
  if (::unlinkat(run.root_fd, temp_name.c_str(), 0) != 0) return os_error("unlink temp file");
  FdGuard parent(::openat(run.root_fd, object_dir_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (parent.get() < 0) return os_error("open object directory");
  return fsync_retrying(parent.get(), "fsync object directory");
}

void writer_loop(SharedRun& run, WriterTally& tally) {
  WAL_ASSERT(run.root_fd >= 0);
  WAL_ASSERT(!run.body.empty());
  while (!run.failed.load() && SteadyClock::now() < run.deadline) {
    const uint64_t index = run.next_index.fetch_add(1);
    const SteadyClock::time_point started = SteadyClock::now();
    Status written = write_durably(run, index);
    const SteadyClock::time_point finished = SteadyClock::now();
    if (!written) {
      std::lock_guard<std::mutex> lock(run.error_mutex);
      if (!run.first_error) run.first_error = written.error();
      run.failed.store(true);
      return;
    }
    // Counted: writes that finish within the measured span, as the WAL side counts the
    // acknowledgements within its window. One still going at the deadline is not counted.
    if (finished < run.measure_start || finished > run.deadline) continue;
    ++tally.objects_count;
    tally.latencies_us.push_back(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(finished - started).count()));
  }
}

Bytes random_bytes(uint64_t size_bytes) {
  Xoshiro256 random(size_bytes);
  Bytes bytes(size_bytes);
  for (std::byte& b : bytes) b = static_cast<std::byte>(random.next_u64());
  WAL_ASSERT_EQ(bytes.size(), size_bytes);
  return bytes;
}

}  // namespace

Result<RawCeilingResult> measure_raw_ceiling(const RawCeilingConfig& config) {
  WAL_ASSERT_GT(config.object_file_bytes, uint64_t{0});
  WAL_ASSERT_GT(config.writers_count, uint32_t{0});
  std::error_code ignored;
  std::filesystem::remove_all(config.dir, ignored);  // a fresh directory each case
  if (!std::filesystem::create_directories(config.dir + "/" + object_dir_name, ignored)) {
    return make_error(Errc::io_error, "cannot create " + config.dir + ": " + ignored.message());
  }
  SharedRun run;
  FdGuard root(::open(config.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return os_error("open " + config.dir);
  run.root_fd = root.get();
  run.body = random_bytes(config.object_file_bytes);
  // The store makes an object's directory durable once, at its first put; so does this.
  if (Status synced = fsync_retrying(root.get(), "fsync root"); !synced) return synced.error();
  std::vector<WriterTally> tallies(config.writers_count);
  std::vector<std::thread> threads;
  run.measure_start = SteadyClock::now() + config.warmup;
  run.deadline = run.measure_start + config.duration;
  for (WriterTally& tally : tallies) {
    threads.emplace_back([&run, &tally] { writer_loop(run, tally); });
  }
  for (std::thread& thread : threads) thread.join();
  std::filesystem::remove_all(config.dir, ignored);
  if (run.first_error) return *run.first_error;
  RawCeilingResult result;
  std::vector<uint64_t> latencies_us;
  for (WriterTally& tally : tallies) {
    result.objects_count += tally.objects_count;
    latencies_us.insert(latencies_us.end(), tally.latencies_us.begin(), tally.latencies_us.end());
  }
  result.bytes = result.objects_count * config.object_file_bytes;
  result.seconds = std::chrono::duration<double>(config.duration).count();
  result.mib_per_second = static_cast<double>(result.bytes) / (1 << 20) / result.seconds;
  result.write_latency = summarize_latencies(latencies_us);
  result.write_latencies_us = std::move(latencies_us);
  WAL_ASSERT_EQ(result.write_latency.sample_count, result.objects_count);
  return result;
}

RawCeilingResult combine_ceilings(const RawCeilingResult& first,
                                  const RawCeilingResult& second) {
  WAL_ASSERT_GT(first.seconds, 0.0);
  WAL_ASSERT_GT(second.seconds, 0.0);
  RawCeilingResult both;
  both.objects_count = first.objects_count + second.objects_count;
  both.bytes = first.bytes + second.bytes;
  both.seconds = first.seconds + second.seconds;
  both.mib_per_second = static_cast<double>(both.bytes) / (1 << 20) / both.seconds;
  both.write_latencies_us = first.write_latencies_us;
  both.write_latencies_us.insert(both.write_latencies_us.end(),
                                 second.write_latencies_us.begin(),
                                 second.write_latencies_us.end());
  std::vector<uint64_t> samples = both.write_latencies_us;
  both.write_latency = summarize_latencies(samples);
  WAL_ASSERT_EQ(both.write_latency.sample_count, both.objects_count);
  return both;
}

}  // namespace wal::bench
