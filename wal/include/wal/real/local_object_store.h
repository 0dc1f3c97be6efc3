#pragma once
// LocalObjectStore: the ObjectStore on a local file system, one file per object under a root
// directory. For single-machine deployments and tests against real files.
//
// Semantics are the interface's (S3's), with these specifics:
//  - put is durable when it returns ok: the body is fsynced in a temp file, committed with
//    rename() (unconditional, If-Match) or link() (If-None-Match), and every directory from the
//    root down to the object's parent is fsynced. A crash mid-put leaves only a temp file that
//    list() ignores and the next open() deletes. remove is durable when it returns ok.
//  - Conditional puts and removes are atomic against each other across threads, across store
//    instances and across processes on the same directory (a mutex plus flock() on a lock file
//    in the root), as long as the file system honours flock() (local file systems do; NFS may not).
//  - Etags are the 16 hex digits of XXH64 of the body (content-derived, like S3's MD5).
//  - A whole-object get verifies the body against that hash; a mismatch, or a damaged object
//    header, is Errc::corrupt (definite). Ranged gets are not verified.
//  - Errors: ENOSPC -> no_space, EACCES/EPERM -> permission_denied, any other failed call ->
//    io_error with the strerror text. A put or remove that fails after its commit (a failed
//    directory fsync) reports the error with outcome unknown: the change is visible but may not
//    be durable. Never timeout or unavailable.
//  - list() reads every entry of each directory it walks, and one 32-byte header per object it
//    returns; keep prefixes '/'-separated so a walk stays within the relevant directories.
// Layout and file format: wal/real/local_object_fs.h.
//
// Threading: calls are made on the loop thread that `pool` completes on; every file-system call
// runs on `pool`. The pool must outlive every call in flight; the store itself may be destroyed
// with calls in flight (their jobs keep the directory open until they finish).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wal/env/object_store.h"
#include "wal/real/event_loop.h"

namespace wal {

namespace local_object {
class ObjectDirectory;
}  // namespace local_object

class LocalObjectStore final : public ObjectStore {
 public:
  // Opens the store in `root_dir`, creating it (and missing parents) if needed, and deletes temp
  // files left by writers that died mid-put. Several stores may be open on one directory, in one
  // process or several. invalid_argument: empty root_dir; io_error/permission_denied/no_space:
  // the directory or its lock file could not be created or opened.
  [[nodiscard]] static Task<Result<std::unique_ptr<LocalObjectStore>>> open(BlockingPool& pool,
                                                                          std::string root_dir);
  // Opens an existing store for reading only (also on a read-only file system): creates,
  // locks and deletes nothing. put, put_shared, remove and remove_many then fail with
  // permission_denied (definite). not_found: no such directory.
  [[nodiscard]] static Task<Result<std::unique_ptr<LocalObjectStore>>> open_read_only(
      BlockingPool& pool, std::string root_dir);
  ~LocalObjectStore() override;
  LocalObjectStore(const LocalObjectStore&) = delete;
  LocalObjectStore& operator=(const LocalObjectStore&) = delete;

  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override;
  Task<Result<ObjectInfo>> put_shared(std::string key, SharedBytes body,
                                      PutCondition condition) override;
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override;
  Task<Result<ObjectInfo>> head(std::string key) override;
  Task<Result<ListPage>> list(std::string prefix, std::string continuation_token,
                              size_t max_keys) override;
  Task<Status> remove(std::string key) override;
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override;

  [[nodiscard]] const std::string& root_dir() const { return root_dir_; }

 private:
  LocalObjectStore(BlockingPool& pool, std::string root_dir,
                   std::shared_ptr<local_object::ObjectDirectory> directory, bool read_only);
  [[nodiscard]] Status check_writable() const;

  BlockingPool& pool_;
  const std::string root_dir_;
  const bool read_only_;
  // Shared with the pool jobs in flight, so destroying the store mid-call is safe.
  std::shared_ptr<local_object::ObjectDirectory> directory_;
};

}  // namespace wal
