#pragma once
// Internals of LocalObjectStore (wal/include/wal/real/local_object_store.h): how keys map to
// files, the object file format, and the blocking file-system operations that the store runs on
// its BlockingPool. Private to wal/real/local_object_*.cpp.
//
// ---- Layout ----------------------------------------------------------------------------------
// A key is cut into pieces; each piece but the last is a directory, the last is the object file:
//   - up to and including the first '/', if that '/' is within the first 64 bytes: a "slash"
//     directory named <label without the '/'>.d
//   - otherwise, if more than 64 bytes remain: a "chunk" directory of exactly 64 bytes, <label>.c
//     (file names are capped at 255 bytes, so long runs without '/' are cut)
//   - otherwise the rest, the object file <label>.o (the label may be empty: key "a/" -> a.d/.o)
// Labels are escaped: [A-Za-z0-9_.-] stay, except a leading '.', and every other byte becomes
// %XX (upper-case hex), so names are at most 3 * 64 + 2 bytes and never start with '.' unless the
// label is empty. "wal/log-7/block-3" is stored as wal.d/log-7.d/block-3.o.
// Two sibling entries never hold interleaving key ranges (a directory label ends with '/' or is
// 64 bytes long, so no directory label is a proper prefix of another label), so walking each
// directory's entries sorted by (label, object first) yields keys in byte order: that is list().
// Names starting with '.' that are not exactly ".o", ".d" or ".c" are reserved: temp files
// ".tmp-*" and the lock file ".lock" live in the root directory and list() ignores them.
//
// ---- Object file format ------------------------------------------------------------------------
// A 32-byte header, then the body. All fields little-endian u64:
//   magic "walobj1\n" | body_size_bytes | content_hash (XXH64 of the body) | header_hash (XXH64
//   of the previous 24 bytes)
// The etag is the 16 lower-case hex digits of content_hash. A header that does not check out, or
// a file size other than 32 + body_size_bytes, is reported as corrupt; a whole-object get also
// checks the body against content_hash (a ranged get does not: it would have to read it all).
//
// ---- Writes ------------------------------------------------------------------------------------
// put writes header + body to a temp file in the root directory (held under flock(LOCK_EX) while
// alive, so a store opening the same directory can tell a live writer's temp from a crashed
// one's), fsyncs it, then "commits" under the store's commit lock (a std::mutex plus flock() on
// the root's ".lock" file, so separate store instances and processes exclude each other):
// creates the parent directories, checks the condition, then rename() (unconditional, If-Match)
// or link() (If-None-Match: link fails with EEXIST if the key exists). The object's directory is
// then fsynced, so the object is durable when put returns. Its ancestors must be durable too:
// a directory's entry is fsynced (in its parent, under the commit lock) when this instance
// creates it or first puts below it; the instance remembers which it has made durable. The one
// gap: another instance that rmdir()s and re-creates a directory this one remembers, and dies
// between its mkdir() and that fsync, leaves an entry only the kernel's writeback makes durable.
// remove unlinks and fsyncs the parent under the commit lock, then removes directories left empty.
// Readers take no lock: rename() and link() are atomic, so a reader sees a whole old or new file.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wal/env/object_store.h"

namespace wal::local_object {

inline constexpr size_t piece_label_bytes_max = 64;
inline constexpr size_t header_bytes = 32;
inline constexpr char temp_name_prefix[] = ".tmp-";
inline constexpr char lock_file_name[] = ".lock";
// A name collision or a racing cleaner makes a temp file unusable; retries have a bound.
inline constexpr int temp_create_attempts_max = 8;

// ---- layout (local_object_layout.cpp) ----
enum class EntryKind : uint8_t { object, slash_dir, chunk_dir };
struct Entry {
  std::string label;  // the key bytes this entry adds; a slash_dir's label ends with '/'
  EntryKind kind = EntryKind::object;
};
// The pieces of a valid key, outermost first; the last is the object.
[[nodiscard]] std::vector<Entry> split_key(std::string_view key);
[[nodiscard]] std::string entry_name(const Entry& entry);
// The entry a directory entry's name denotes, or nullopt for anything that is not in the layout
// (temp and lock files, names this layout would never produce).
[[nodiscard]] std::optional<Entry> parse_entry_name(std::string_view name);
// Paths relative to the root: of the object file, and of each of its ancestor directories
// (outermost first; empty for a key stored directly in the root).
[[nodiscard]] std::string object_path(std::string_view key);
[[nodiscard]] std::vector<std::string> directory_paths(std::string_view key);
[[nodiscard]] bool is_temp_name(std::string_view name);

// ---- format (local_object_format.cpp) ----
[[nodiscard]] uint64_t content_hash(ByteView bytes);  // XXH64, seed 0
[[nodiscard]] std::string etag_of(uint64_t hash);
struct Header {
  uint64_t body_size_bytes = 0;
  uint64_t content_hash = 0;
};
[[nodiscard]] Bytes encode_header(const Header& header);
// corrupt unless `bytes` is a well-formed header for a file of `file_size_bytes`.
[[nodiscard]] Result<Header> decode_header(ByteView bytes, uint64_t file_size_bytes);

// ---- errors (local_object_format.cpp) ----
// ENOSPC/EDQUOT -> no_space, EACCES/EPERM -> permission_denied, others -> io_error; with
// strerror text and what was being done.
[[nodiscard]] Error errno_error(int error_number, std::string_view what,
                                Outcome outcome = Outcome::definite);

// ---- file descriptors (local_object_files.cpp) ----
// Owns a file descriptor; closes it when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  void reset();

 private:
  int fd_ = -1;
};

// Names in the directory at `path` relative to `root_fd` ("" is the root itself), without "."
// and "..". not_found if the directory does not exist.
[[nodiscard]] Result<std::vector<std::string>> read_directory_names(int root_fd,
                                                                    const std::string& path);

// ---- blocking operations (local_object_files.cpp, local_object_list.cpp) ----
// One opened root directory. Every method blocks; thread-safe. Arguments were validated by the
// caller (keys pass check_object_key, bodies are within limits, max_keys in range).
class ObjectDirectory {
 public:
  // Creates `root_dir` (and missing parents) if needed and removes stray temp files.
  [[nodiscard]] static Result<std::shared_ptr<ObjectDirectory>> open(const std::string& root_dir,
                                                                     uint64_t temp_name_nonce);
  // Opens an existing `root_dir` for reading only: creates, locks and deletes nothing, so it
  // works on a read-only file system. put() and remove() must not be called. not_found: no
  // such directory.
  [[nodiscard]] static Result<std::shared_ptr<ObjectDirectory>> open_read_only(
      const std::string& root_dir);
  ~ObjectDirectory();
  ObjectDirectory(const ObjectDirectory&) = delete;
  ObjectDirectory& operator=(const ObjectDirectory&) = delete;

  [[nodiscard]] Result<ObjectInfo> put(std::string_view key, const Bytes& body,
                                       const PutCondition& condition);
  [[nodiscard]] Result<ObjectData> get(std::string_view key, std::optional<ByteRange> range);
  [[nodiscard]] Result<ObjectInfo> head(std::string_view key);
  [[nodiscard]] Result<ListPage> list(std::string_view prefix, std::string_view start_after,
                                      size_t max_keys);
  [[nodiscard]] Status remove(std::string_view key);
  // Deletes temp files whose writer is gone (no flock held on them). Returns how many.
  [[nodiscard]] Result<size_t> remove_stray_temp_files();

 private:
  ObjectDirectory(UniqueFd root_fd, UniqueFd lock_fd, uint64_t temp_name_nonce);
  struct TempFile;
  class CommitLock;
  struct ListWalk;
  [[nodiscard]] Result<TempFile> write_temp(const Header& header, const Bytes& body);
  [[nodiscard]] Result<UniqueFd> create_locked_temp(std::string& name);
  // Under the commit lock. `parent_fd` receives the object's directory (none: the root).
  [[nodiscard]] Status commit(std::string_view key, const TempFile& temp,
                              const PutCondition& condition, UniqueFd& parent_fd);
  [[nodiscard]] Status make_directories(std::string_view key, UniqueFd& parent_fd);
  // The info of the object file at `path` (relative to the root). not_found if it is absent.
  [[nodiscard]] Result<ObjectInfo> read_info(const std::string& path, std::string key) const;
  void remove_empty_directories(std::string_view key);  // under the commit lock
  // Appends the keys below directory `path` (whose keys all start with `key_base`) to the walk.
  // true: the page is full and a further key exists, so the walk stops.
  [[nodiscard]] Result<bool> walk_directory(const std::string& path, const std::string& key_base,
                                            ListWalk& walk) const;

  const UniqueFd root_fd_;
  // ".lock": flock()ed during commits, against other instances. -1 when opened read-only.
  const UniqueFd lock_fd_;
  const uint64_t temp_name_nonce_;
  std::mutex commit_mutex_;  // against this instance's other pool threads (flock is per file)
  // Directories (paths from the root) whose entry this instance has made durable, so a put syncs
  // only its object's directory, not every ancestor. Guarded by commit_mutex_.
  std::set<std::string> durable_directories_;
  std::atomic<uint64_t> temp_counter_{0};
};

}  // namespace wal::local_object
