#include "daemon_support.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace wal::cli {

namespace {

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR2);  // only to wake the waiting thread when it should stop
  return set;
}

}  // namespace

void log_line(const std::string& who, const std::string& message) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
  const std::string line = fmt::format("{}.{:03}Z {} {}\n", stamp, millis, who, message);
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

SignalWaiter::SignalWaiter(std::function<void(int)> on_signal) {
  const sigset_t set = handled_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([this, set, on_signal = std::move(on_signal)] {
    while (true) {
      int signal = 0;
      if (sigwait(&set, &signal) != 0) continue;
      if (stopping_.load()) return;
      if (signal != SIGUSR2) on_signal(signal);
    }
  });
}

SignalWaiter::~SignalWaiter() {
  stopping_.store(true);
  pthread_kill(thread_.native_handle(), SIGUSR2);
  thread_.join();
}

Result<std::unique_ptr<DirectoryLock>> DirectoryLock::acquire(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return make_error(errno == EACCES ? Errc::permission_denied : Errc::io_error,
                      "cannot create data directory '" + dir + "': " + std::strerror(errno));
  }
  const std::string path = dir + "/LOCK";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return make_error(errno == EACCES ? Errc::permission_denied : Errc::io_error,
                      "cannot open '" + path + "': " + std::strerror(errno));
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char owner[32] = {};
    (void)!::pread(fd, owner, sizeof(owner) - 1, 0);
    ::close(fd);
    return make_error(Errc::unavailable, "data directory '" + dir +
                                             "' is in use by another process (pid " +
                                             std::string(owner) + ")");
  }
  const std::string pid = std::to_string(::getpid());
  (void)!::ftruncate(fd, 0);
  (void)!::pwrite(fd, pid.data(), pid.size(), 0);
  return std::unique_ptr<DirectoryLock>(new DirectoryLock(fd));
}

DirectoryLock::~DirectoryLock() { ::close(fd_); }

Result<std::string> read_disk_owner(const std::string& data_dir) {
  const std::string path = data_dir + "/q/disk.json";
  std::ifstream in(path);
  if (!in) return std::string();
  const nlohmann::json marker = nlohmann::json::parse(in, nullptr, false);
  if (!marker.is_object()) {
    return make_error(Errc::corrupt, "'" + path + "' is not a JSON object: move it away only if "
                                     "this disk's journals are to be treated as lost");
  }
  if (!marker.contains("node") || !marker["node"].is_string()) return std::string();
  return marker["node"].get<std::string>();
}

uint64_t resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0;
  uint64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) return 0;
  return resident_pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

uint64_t free_disk_bytes(const std::string& path) {
  struct statvfs stats {};
  if (::statvfs(path.c_str(), &stats) != 0) return 0;
  return static_cast<uint64_t>(stats.f_bavail) * stats.f_frsize;
}

}  // namespace wal::cli
