#pragma once
// MemDisk: an in-memory Disk that remembers what a crash would keep. Unit tests use it as a
// plain Disk; the simulator uses it as each node's disk, calling the synchronous apply_*
// methods itself so it can add latency and faults, and crash() when it kills the node.
//
// State per file: the visible bytes (what reads see), the durable bytes (as of the last sync),
// whether the file's existence is durable, and the changes made since the last sync, in order:
// each write/append as an extent (offset, bytes), each truncate as a new length.
//
// Crash model: crash(random) visits the files in path order and, for each one:
//   1. A file whose existence is not durable (created, or renamed from such a file, and not
//      synced since) vanishes with probability 1/2.
//   2. Otherwise it restarts from its durable bytes (empty if never synced) and the changes
//      since the last sync are replayed on them in the order they were made, each one
//      independently:
//        write of n bytes at offset o: kept whole, lost, or torn, 1/3 each. Torn keeps the
//          bytes [o, c), with the cut c drawn uniformly from o, o + n and every multiple of
//          sector_size_bytes() strictly between them (so torn may also end up whole or lost).
//          A kept part past the current end zero-fills the gap, as on a real file.
//        truncate to length L: applied (the file becomes exactly L bytes, zero-extended if
//          lost writes left it shorter) or not, 1/2 each.
//   3. The result becomes both the visible and the durable state; nothing is pending.
// So bytes that were synced and not overwritten or truncated since always survive exactly;
// unsynced appends can only add bytes (kept, zero gaps) after the synced prefix.
// rename() and remove() take effect on the durable state at once (the directory is synced):
// a removed file stays removed; a renamed file carries its durable bytes, pending changes and
// existence flag to the new name and replaces the old target, so renaming a never-synced file
// leaves a name that may vanish in a crash.
//
// Faults for the simulator (each failing call has no effect, so its outcome is definite):
//   fail_next(code, n)   the next n calls that can fail with `code` return it: io_error hits
//                        any call; no_space only write, append and sync (the calls that may
//                        allocate). A failed sync leaves the changes unsynced.
//   set_capacity_bytes   a write or append that would make the sum of visible file sizes
//                        exceed it returns no_space.
//   corrupt_bit          flips one bit silently, in the visible and durable copies (and in any
//                        pending write covering it, so a crash cannot undo the flip).
// Limits: a file may not grow past file_size_bytes_max (no_space), so a bogus offset cannot
// exhaust memory. Misdirected writes are not modelled.
// Deterministic: ordered containers only; all randomness comes from the Random passed in.
// Not thread-safe: one executor, like the node that owns it.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wal/env/disk.h"
#include "wal/env/random.h"

namespace wal {

// What one crash() did, for traces and tests.
struct MemDiskCrashSummary {
  uint64_t files_vanished_count = 0;
  uint64_t writes_kept_count = 0;
  uint64_t writes_lost_count = 0;
  uint64_t writes_torn_count = 0;  // a strict, non-empty prefix was kept
  uint64_t truncates_applied_count = 0;
  uint64_t truncates_lost_count = 0;
};

class MemDisk final : public Disk {
 public:
  // 1 GiB: far above any journal or test file, small enough that a bogus offset fails cleanly.
  static constexpr uint64_t file_size_bytes_max = uint64_t{1} << 30;

  // `sector_size_bytes` (a power of two) is the granularity at which crash() tears writes.
  explicit MemDisk(uint64_t sector_size_bytes = 512);

  // The Disk interface; each call completes at once through the matching apply_* below.
  Task<Status> write(std::string path, uint64_t offset, Bytes bytes) override;
  Task<Result<uint64_t>> append(std::string path, Bytes bytes) override;
  Task<Status> sync(std::string path) override;
  Task<Result<Bytes>> read(std::string path, uint64_t offset, uint64_t length) override;
  Task<Result<uint64_t>> size(std::string path) override;
  Task<Status> truncate(std::string path, uint64_t length) override;
  Task<Result<std::vector<std::string>>> list(std::string prefix) override;
  Task<Status> rename(std::string from, std::string to) override;
  Task<Status> remove(std::string path) override;

  // Synchronous forms with exactly the semantics and errors documented in wal/env/disk.h.
  // Paths and list prefixes are validated exactly as PosixDisk does (wal/real/posix_disk.h).
  Status apply_write(const std::string& path, uint64_t offset, ByteView bytes);
  Result<uint64_t> apply_append(const std::string& path, ByteView bytes);
  Status apply_sync(const std::string& path);
  Result<Bytes> apply_read(const std::string& path, uint64_t offset, uint64_t length);
  Result<uint64_t> apply_size(const std::string& path);
  Status apply_truncate(const std::string& path, uint64_t length);
  Result<std::vector<std::string>> apply_list(const std::string& prefix);
  Status apply_rename(const std::string& from, const std::string& to);
  Status apply_remove(const std::string& path);

  // Reverts every file to a post-crash state as described at the top of this header.
  MemDiskCrashSummary crash(Random& random);
  // Deletes every file (a replaced disk). Fault knobs and capacity are kept.
  void wipe();

  // Fault knobs (see the top of this header). `code` is io_error or no_space; a new call
  // replaces any failures still pending.
  void fail_next(Errc code, uint64_t call_count);
  void set_capacity_bytes(uint64_t capacity_bytes);
  // The file must exist and `bit_index` be below 8 * its visible size.
  void corrupt_bit(const std::string& path, uint64_t bit_index);

  // Inspection for tests and checkers; these never fail and consume no injected fault.
  [[nodiscard]] bool exists(const std::string& path) const;
  [[nodiscard]] std::optional<Bytes> contents(const std::string& path) const;
  // Durable bytes if the file's existence is durable, else nullopt.
  [[nodiscard]] std::optional<Bytes> synced_contents(const std::string& path) const;
  [[nodiscard]] uint64_t used_bytes() const;  // sum of visible file sizes
  [[nodiscard]] uint64_t sector_size_bytes() const { return sector_size_bytes_; }

 private:
  struct Change {  // one change since the last sync
    bool is_truncate = false;
    uint64_t offset = 0;  // write: where the bytes go; truncate: the new length
    Bytes bytes;          // write only
  };
  struct File {
    Bytes visible;
    Bytes durable;
    bool existence_durable = false;
    std::vector<Change> changes;
  };

  Status take_fault(bool allocates);
  Status write_unchecked(const std::string& path, uint64_t offset, ByteView bytes);
  void replay(const Change& change, Bytes& state, Random& random, MemDiskCrashSummary& summary);
  [[nodiscard]] uint64_t torn_cut(uint64_t offset, uint64_t size_bytes, Random& random) const;

  uint64_t sector_size_bytes_;
  uint64_t capacity_bytes_ = UINT64_MAX;
  Errc fault_code_ = Errc::io_error;
  uint64_t fault_count_ = 0;
  std::map<std::string, File> files_;
};

}  // namespace wal
