#pragma once
// PosixDisk: the production Disk, plain files under one root directory.
//
//  - Paths are relative to the root ('/'-separated; empty, absolute, "." and ".." components
//    are invalid_argument). Parent directories are created as needed, the root included.
//  - write = pwrite, append = write at the current size (appends on one disk are serialised so
//    each returns the offset it landed at; a failed append is cut back off), read = pread.
//  - sync = fsync(file), plus, the first time for each opened file, fsync of every directory
//    from its parent up to the root, so the file's existence (and any directory created for
//    it) is durable too. rename = rename(2) + fsync of the directories involved; remove =
//    unlink(2) + fsync of the parent (a missing file is success).
//  - list walks the directory named by the prefix up to its last '/', recursively, and returns
//    the regular files whose relative path starts with the prefix, sorted bytewise. A prefix
//    with a '/' must have a valid path before its last '/' (else invalid_argument).
//  - errno: ENOENT -> not_found, ENOSPC/EDQUOT -> no_space, EACCES/EPERM -> permission_denied,
//    anything else -> io_error with the system's message. Every error is definite except that
//    a failed write/sync may have left some bytes on the device (the caller must re-sync or
//    rewrite before relying on them, as with any unsynced data).
//  - Open descriptors are cached per path (at most open_file_count_max, least recently used
//    closed first) because journals append and fsync in a hot loop; rename and remove drop
//    the affected entries, so a cached descriptor never outlives its name.
// Threading: every call runs its system calls on `pool` and completes on the pool's loop.
// Calls may overlap; overlapping calls on the same path complete in an unspecified order.
// The pool must outlive the PosixDisk; calls still queued when the PosixDisk is destroyed run
// safely (they share its state) and their results are dropped with their awaiting frames.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "wal/env/disk.h"
#include "wal/real/event_loop.h"

namespace wal {

class PosixDisk final : public Disk {
 public:
  // A node opens a few journals and segment files at a time; 64 leaves most of the default
  // RLIMIT_NOFILE (1024) to sockets and SQLite while every hot file keeps its descriptor.
  static constexpr size_t open_file_count_max = 64;

  // Files live under `root_path`, which need not exist yet.
  PosixDisk(BlockingPool& pool, std::string root_path);
  ~PosixDisk() override;
  PosixDisk(const PosixDisk&) = delete;
  PosixDisk& operator=(const PosixDisk&) = delete;

  Task<Status> write(std::string path, uint64_t offset, Bytes bytes) override;
  Task<Result<uint64_t>> append(std::string path, Bytes bytes) override;
  Task<Status> sync(std::string path) override;
  Task<Result<Bytes>> read(std::string path, uint64_t offset, uint64_t length) override;
  Task<Result<uint64_t>> size(std::string path) override;
  Task<Status> truncate(std::string path, uint64_t length) override;
  Task<Result<std::vector<std::string>>> list(std::string prefix) override;
  Task<Status> rename(std::string from, std::string to) override;
  Task<Status> remove(std::string path) override;

  [[nodiscard]] const std::string& root_path() const;
  // Descriptors currently cached (for tests of the cache bound).
  [[nodiscard]] size_t open_file_count() const;

  struct State;  // shared with queued pool jobs; defined in the .cpp

 private:
  BlockingPool& pool_;
  std::shared_ptr<State> state_;
};

}  // namespace wal
