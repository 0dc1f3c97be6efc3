#pragma once
// Disk: a node's local files, for LogStore journals and the local backends.
//
// Paths are relative names inside the disk's root, '/'-separated, without "..".
// Durability: write() and append() make bytes visible to reads at once, but only sync(path)
// makes them survive a crash: after a crash each unsynced byte range of a file may be kept,
// lost, or torn (partly kept), independently. sync(path) also makes the file's existence
// durable. rename(), remove() and create-by-write of a *synced* file are durable when they
// return (implementations sync the directory).
// Errors common to every call: io_error (the device failed), no_space, invalid_argument (bad
// path). A crash never changes synced bytes that were not overwritten or truncated since the
// sync (an unsynced overwrite or truncate of synced bytes may or may not survive).
// Threading: calls on the node's executor; results complete there.

#include <cstdint>
#include <string>
#include <vector>

#include "wal/async/task.h"
#include "wal/core/bytes.h"
#include "wal/core/result.h"

namespace wal {

// The path rules every Disk applies (invalid_argument otherwise, naming the path): relative,
// '/'-separated, no empty, "." or ".." component, no NUL. One definition (wal/src/env.cpp), so
// a path valid on one disk is valid on all of them.
[[nodiscard]] Status validate_disk_path(const std::string& path);

class Disk {
 public:
  virtual ~Disk() = default;

  // Writes `bytes` at `offset`, creating the file if needed and zero-filling any gap.
  virtual Task<Status> write(std::string path, uint64_t offset, Bytes bytes) = 0;
  // Appends `bytes` at the end of the file (creating it). Returns the offset they landed at.
  virtual Task<Result<uint64_t>> append(std::string path, Bytes bytes) = 0;
  // Makes every byte written so far, and the file's existence, durable. not_found if absent.
  virtual Task<Status> sync(std::string path) = 0;
  // Reads up to `length` bytes from `offset`; fewer at end of file (empty at or past the end).
  // not_found if the file is absent.
  virtual Task<Result<Bytes>> read(std::string path, uint64_t offset, uint64_t length) = 0;
  // File size in bytes. not_found if absent.
  virtual Task<Result<uint64_t>> size(std::string path) = 0;
  // Cuts the file to `length` bytes (must be <= size). Durable only after sync(path).
  virtual Task<Status> truncate(std::string path, uint64_t length) = 0;
  // Paths of the files whose name starts with `prefix`, sorted bytewise. invalid_argument if
  // `prefix` contains '/' and the part before its last '/' is not a valid path.
  virtual Task<Result<std::vector<std::string>>> list(std::string prefix) = 0;
  // Atomically replaces `to` with `from` (durable on return). not_found if `from` is absent.
  virtual Task<Status> rename(std::string from, std::string to) = 0;
  // Deletes the file (durable on return). Removing a missing file succeeds.
  virtual Task<Status> remove(std::string path) = 0;
};

}  // namespace wal
