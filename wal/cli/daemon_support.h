#pragma once
// Process plumbing for daemons (wp-logstore): log lines, signals, the data directory lock.
#include <atomic>
#include <csignal>
#include <functional>
#include <string>
#include <thread>

#include "wal/core/result.h"

namespace wal::cli {

// Writes "2026-12-07T16:20:01.123Z <who> <message>\n" to stderr in one write, so lines of
// concurrent threads never interleave.
void log_line(const std::string& who, const std::string& message);

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and in every thread created after
// (call it first in main), and hands them to `on_signal` on a thread of its own, which must be
// thread-safe (EventLoop::post is). Destruction stops that thread.
class SignalWaiter {
 public:
  explicit SignalWaiter(std::function<void(int signal)> on_signal);
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

 private:
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// Holds an exclusive flock() on <dir>/LOCK for the process's lifetime: a second daemon on the
// same data directory fails at start instead of writing the same journals. Creates `dir`.
// Errors: io_error / permission_denied naming the path; unavailable "... is in use by process N".
class DirectoryLock {
 public:
  static Result<std::unique_ptr<DirectoryLock>> acquire(const std::string& dir);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

// The node id the data directory's identity marker (q/disk.json) names, or "" when there is no
// marker yet (a new or wiped disk). Errors: a marker that cannot be read.
[[nodiscard]] Result<std::string> read_disk_owner(const std::string& data_dir);

// Resident memory of this process in bytes (/proc/self/statm), 0 if unknown.
[[nodiscard]] uint64_t resident_memory_bytes();
// Free bytes for unprivileged users on the file system of `path`, 0 if unknown.
[[nodiscard]] uint64_t free_disk_bytes(const std::string& path);

}  // namespace wal::cli
