#include "wal/real/posix_disk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <filesystem>
#include <map>
#include <mutex>
#include <string_view>
#include <system_error>
#include <utility>

namespace wal {

namespace {

namespace fs = std::filesystem;

Error errno_error(int err, const std::string& what) {
  const std::string message = what + ": " + std::error_code(err, std::generic_category()).message();
  switch (err) {
    case ENOENT: return make_error(Errc::not_found, message);
    case ENOSPC:
    case EDQUOT: return make_error(Errc::no_space, message);
    case EACCES:
    case EPERM: return make_error(Errc::permission_denied, message);
    default: return make_error(Errc::io_error, message);
  }
}

// The directory part of a relative path: "a/b/c" -> "a/b", "c" -> "".
std::string parent_of(const std::string& relative) {
  const size_t slash = relative.rfind('/');
  return slash == std::string::npos ? std::string() : relative.substr(0, slash);
}

// One cached descriptor; closed when the cache and every call using it let go.
struct OpenFile {
  explicit OpenFile(int descriptor) : fd(descriptor) {}
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() { ::close(fd); }
  const int fd;
  std::atomic<bool> existence_synced{false};  // its directories were fsynced since opened
  uint64_t last_use_tick = 0;                 // guarded by State::mutex
};

using FileRef = std::shared_ptr<OpenFile>;

}  // namespace

struct PosixDisk::State {
  explicit State(std::string root_path) : root(std::move(root_path)) {}
  const std::string root;
  std::mutex mutex;  // guards open_files and use_tick
  std::map<std::string, FileRef> open_files;
  uint64_t use_tick = 0;
  std::mutex append_mutex;  // serialises appends: size, then write at that size

  [[nodiscard]] std::string full(const std::string& relative) const {
    return relative.empty() ? root : root + "/" + relative;
  }
};

namespace {

using State = PosixDisk::State;

Status make_parent_dirs(const State& state, const std::string& relative) {
  std::error_code error;
  fs::create_directories(state.full(parent_of(relative)), error);
  if (error) return errno_error(error.value(), "create directories for " + relative);
  return {};
}

Result<int> open_file(const State& state, const std::string& relative, bool create) {
  const std::string full = state.full(relative);
  const int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);
  int fd = ::open(full.c_str(), flags, 0644);
  if (fd < 0 && errno == ENOENT && create) {
    if (Status made = make_parent_dirs(state, relative); !made) return std::move(made).error();
    fd = ::open(full.c_str(), flags, 0644);
  }
  if (fd >= 0) return fd;
  const int err = errno;
  // A lookup that meets a directory or a file used as a directory found no such file.
  if (!create && (err == ENOTDIR || err == EISDIR)) {
    return make_error(Errc::not_found, "no file " + relative);
  }
  return errno_error(err, "open " + relative);
}

void evict_least_recently_used(State& state) {
  WAL_ASSERT(!state.open_files.empty());
  auto oldest = state.open_files.begin();
  for (auto it = state.open_files.begin(); it != state.open_files.end(); ++it) {
    if (it->second->last_use_tick < oldest->second->last_use_tick) oldest = it;
  }
  state.open_files.erase(oldest);
}

// The cached descriptor for `relative`, opening (and with `create`, creating) it if needed.
Result<FileRef> acquire(State& state, const std::string& relative, bool create) {
  std::lock_guard lock(state.mutex);
  const uint64_t tick = ++state.use_tick;
  if (const auto it = state.open_files.find(relative); it != state.open_files.end()) {
    it->second->last_use_tick = tick;
    return it->second;
  }
  Result<int> fd = open_file(state, relative, create);
  if (!fd) return std::move(fd).error();
  if (state.open_files.size() >= PosixDisk::open_file_count_max) {
    evict_least_recently_used(state);
  }
  auto file = std::make_shared<OpenFile>(*fd);
  file->last_use_tick = tick;
  state.open_files.emplace(relative, file);
  WAL_ASSERT(state.open_files.size() <= PosixDisk::open_file_count_max);
  return file;
}

Result<uint64_t> file_size(int fd, const std::string& relative) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) return errno_error(errno, "fstat " + relative);
  WAL_ASSERT(info.st_size >= 0);
  return static_cast<uint64_t>(info.st_size);
}

Status write_all(int fd, uint64_t offset, ByteView bytes, const std::string& relative) {
  if (offset > static_cast<uint64_t>(INT64_MAX) - bytes.size()) {
    return make_error(Errc::invalid_argument, "offset past the largest file: " + relative);
  }
  size_t done_bytes = 0;
  while (done_bytes < bytes.size()) {
    const ssize_t written = ::pwrite(fd, bytes.data() + done_bytes, bytes.size() - done_bytes,
                                     static_cast<off_t>(offset + done_bytes));
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return errno_error(errno, "pwrite " + relative);
    if (written == 0) return make_error(Errc::io_error, "pwrite wrote nothing: " + relative);
    done_bytes += static_cast<size_t>(written);
  }
  WAL_ASSERT_EQ(done_bytes, bytes.size());
  return {};
}

Result<Bytes> read_range(int fd, uint64_t offset, uint64_t length, const std::string& relative) {
  Result<uint64_t> size = file_size(fd, relative);
  if (!size) return std::move(size).error();
  if (offset >= *size) return Bytes{};
  Bytes out(std::min(length, *size - offset));
  size_t done_bytes = 0;
  while (done_bytes < out.size()) {
    const ssize_t got = ::pread(fd, out.data() + done_bytes, out.size() - done_bytes,
                                static_cast<off_t>(offset + done_bytes));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return errno_error(errno, "pread " + relative);
    if (got == 0) break;  // cut short by a concurrent truncate: return what is there
    done_bytes += static_cast<size_t>(got);
  }
  out.resize(done_bytes);
  WAL_ASSERT(out.size() <= length);
  return out;
}

Status fsync_dir(const std::string& full) {
  const int fd = ::open(full.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_error(errno, "open directory " + full);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return errno_error(err, "fsync directory " + full);
  return {};
}

// fsyncs every directory from the parent of `relative` up to the root, deepest first, so each
// directory entry on the way (the file's and any directory created for it) is durable.
Status fsync_ancestors(const State& state, const std::string& relative) {
  std::string dir = parent_of(relative);
  while (true) {
    if (Status synced = fsync_dir(state.full(dir)); !synced) return synced;
    if (dir.empty()) return {};
    dir = parent_of(dir);
  }
}

}  // namespace

// ---- the operations, run on a pool thread ------------------------------------------------------

namespace {

Status write_file(State& state, const std::string& path, uint64_t offset, const Bytes& bytes) {
  if (Status valid = validate_disk_path(path); !valid) return valid;
  Result<FileRef> file = acquire(state, path, true);
  if (!file) return std::move(file).error();
  return write_all((*file)->fd, offset, bytes, path);
}

Result<uint64_t> append_file(State& state, const std::string& path, const Bytes& bytes) {
  if (Status valid = validate_disk_path(path); !valid) return std::move(valid).error();
  std::lock_guard lock(state.append_mutex);
  Result<FileRef> file = acquire(state, path, true);
  if (!file) return std::move(file).error();
  const int fd = (*file)->fd;
  Result<uint64_t> offset = file_size(fd, path);
  if (!offset) return std::move(offset).error();
  if (Status written = write_all(fd, *offset, bytes, path); !written) {
    // Cut a partial append back off: the failure then has no effect, and the next append
    // lands where this one would have. Best effort: if this fails too, the device is failing.
    while (::ftruncate(fd, static_cast<off_t>(*offset)) != 0 && errno == EINTR) {
    }
    return std::move(written).error();
  }
  return *offset;
}

Status sync_file(State& state, const std::string& path) {
  if (Status valid = validate_disk_path(path); !valid) return valid;
  Result<FileRef> file = acquire(state, path, false);
  if (!file) return std::move(file).error();
  // fdatasync, not fsync: it flushes the data and the metadata a later read needs, which
  // includes the size an append grew or a truncate cut (Linux fdatasync(2), POSIX
  // _POSIX_SYNCHRONIZED_IO), and skips timestamps: one journal write less per sync. The
  // directory entry is neither's job: fsync_ancestors below makes it durable once per file.
  if (::fdatasync((*file)->fd) != 0) return errno_error(errno, "fdatasync " + path);
  // Once per opened file: make its directory entry (and the directories above) durable.
  if (!(*file)->existence_synced.load()) {
    if (Status synced = fsync_ancestors(state, path); !synced) return synced;
    (*file)->existence_synced.store(true);
  }
  return {};
}

Result<Bytes> read_file(State& state, const std::string& path, uint64_t offset,
                        uint64_t length) {
  if (Status valid = validate_disk_path(path); !valid) return std::move(valid).error();
  Result<FileRef> file = acquire(state, path, false);
  if (!file) return std::move(file).error();
  return read_range((*file)->fd, offset, length, path);
}

Result<uint64_t> size_file(const State& state, const std::string& path) {
  if (Status valid = validate_disk_path(path); !valid) return std::move(valid).error();
  struct stat info {};
  if (::stat(state.full(path).c_str(), &info) != 0) {
    const int err = errno;
    if (err == ENOTDIR) return make_error(Errc::not_found, "no file " + path);
    return errno_error(err, "stat " + path);
  }
  if (!S_ISREG(info.st_mode)) return make_error(Errc::not_found, "not a file: " + path);
  WAL_ASSERT(info.st_size >= 0);
  return static_cast<uint64_t>(info.st_size);
}

Status truncate_file(State& state, const std::string& path, uint64_t length) {
  if (Status valid = validate_disk_path(path); !valid) return valid;
  Result<FileRef> file = acquire(state, path, false);
  if (!file) return std::move(file).error();
  Result<uint64_t> size = file_size((*file)->fd, path);
  if (!size) return std::move(size).error();
  if (length > *size) {
    return make_error(Errc::invalid_argument, "truncate: length is past the end of " + path);
  }
  if (::ftruncate((*file)->fd, static_cast<off_t>(length)) != 0) {
    return errno_error(errno, "ftruncate " + path);
  }
  return {};
}

Result<std::vector<std::string>> list_files(const State& state, const std::string& prefix) {
  // Only the directory the prefix names can hold matches; walk just that subtree. Like
  // MemDisk, a prefix with a '/' must have a valid path before its last '/'.
  const std::string dir = parent_of(prefix);
  if (prefix.find('/') != std::string::npos) {
    if (Status valid = validate_disk_path(dir); !valid) return std::move(valid).error();
  }
  std::vector<std::string> paths;
  std::error_code error;
  const fs::path start(state.full(dir));
  if (!fs::is_directory(start, error)) {
    if (error && error.value() != ENOENT && error.value() != ENOTDIR) {
      return errno_error(error.value(), "list " + prefix);
    }
    return paths;  // nothing was ever written there
  }
  const fs::path root(state.root);
  fs::recursive_directory_iterator it(start, error);
  while (!error && it != fs::recursive_directory_iterator()) {
    std::error_code entry_error;  // an entry removed meanwhile is simply not listed
    if (it->is_regular_file(entry_error)) {
      std::string relative = it->path().lexically_relative(root).generic_string();
      if (relative.starts_with(prefix)) paths.push_back(std::move(relative));
    }
    it.increment(error);
  }
  if (error) return errno_error(error.value(), "list " + prefix);
  std::sort(paths.begin(), paths.end());
  return paths;
}

Status rename_file(State& state, const std::string& from, const std::string& to) {
  if (Status valid = validate_disk_path(from); !valid) return valid;
  if (Status valid = validate_disk_path(to); !valid) return valid;
  {
    // Held across rename(2) so no call re-caches either name in between.
    std::lock_guard lock(state.mutex);
    // A cached descriptor for `to` would point at the replaced file, one for `from` at a
    // name that no longer exists.
    state.open_files.erase(from);
    state.open_files.erase(to);
    int rc = ::rename(state.full(from).c_str(), state.full(to).c_str());
    if (rc != 0 && errno == ENOENT) {
      // Either `from` is missing or `to`'s directory is: tell them apart.
      struct stat info {};
      if (::stat(state.full(from).c_str(), &info) != 0) return errno_error(errno, "rename " + from);
      if (Status made = make_parent_dirs(state, to); !made) return made;
      rc = ::rename(state.full(from).c_str(), state.full(to).c_str());
    }
    if (rc != 0) return errno_error(errno, "rename " + from + " to " + to);
    WAL_ASSERT(!state.open_files.contains(from));
    WAL_ASSERT(!state.open_files.contains(to));
  }
  if (Status synced = fsync_ancestors(state, to); !synced) return synced;
  if (parent_of(from) != parent_of(to)) return fsync_dir(state.full(parent_of(from)));
  return {};
}

Status remove_file(State& state, const std::string& path) {
  if (Status valid = validate_disk_path(path); !valid) return valid;
  {
    std::lock_guard lock(state.mutex);
    state.open_files.erase(path);
    if (::unlink(state.full(path).c_str()) != 0) {
      const int err = errno;
      if (err == ENOENT || err == ENOTDIR) return {};  // already gone: success
      return errno_error(err, "unlink " + path);
    }
    WAL_ASSERT(!state.open_files.contains(path));
  }
  return fsync_dir(state.full(parent_of(path)));
}

std::string without_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

// ---- the Disk interface: each call is one job on the pool -------------------------------------

PosixDisk::PosixDisk(BlockingPool& pool, std::string root_path)
    : pool_(pool), state_(std::make_shared<State>(without_trailing_slashes(std::move(root_path)))) {
  WAL_ASSERT(!state_->root.empty());
}

PosixDisk::~PosixDisk() = default;

// Each job is a named local, never a temporary inside the co_await expression: GCC 12 destroys
// a capturing lambda temporary there twice (a double free, reproduced under ASan).
Task<Status> PosixDisk::write(std::string path, uint64_t offset, Bytes bytes) {
  auto job = [state = state_, path = std::move(path), offset, bytes = std::move(bytes)] {
    return write_file(*state, path, offset, bytes);
  };
  co_return co_await pool_.run(std::move(job));
}

Task<Result<uint64_t>> PosixDisk::append(std::string path, Bytes bytes) {
  auto job = [state = state_, path = std::move(path), bytes = std::move(bytes)] {
    return append_file(*state, path, bytes);
  };
  co_return co_await pool_.run(std::move(job));
}

Task<Status> PosixDisk::sync(std::string path) {
  auto job = [state = state_, path = std::move(path)] { return sync_file(*state, path); };
  co_return co_await pool_.run(std::move(job));
}

Task<Result<Bytes>> PosixDisk::read(std::string path, uint64_t offset, uint64_t length) {
  auto job = [state = state_, path = std::move(path), offset, length] {
    return read_file(*state, path, offset, length);
  };
  co_return co_await pool_.run(std::move(job));
}

Task<Result<uint64_t>> PosixDisk::size(std::string path) {
  auto job = [state = state_, path = std::move(path)] { return size_file(*state, path); };
  co_return co_await pool_.run(std::move(job));
}

Task<Status> PosixDisk::truncate(std::string path, uint64_t length) {
  auto job = [state = state_, path = std::move(path), length] {
    return truncate_file(*state, path, length);
  };
  co_return co_await pool_.run(std::move(job));
}

Task<Result<std::vector<std::string>>> PosixDisk::list(std::string prefix) {
  auto job = [state = state_, prefix = std::move(prefix)] { return list_files(*state, prefix); };
  co_return co_await pool_.run(std::move(job));
}

Task<Status> PosixDisk::rename(std::string from, std::string to) {
  auto job = [state = state_, from = std::move(from), to = std::move(to)] {
    return rename_file(*state, from, to);
  };
  co_return co_await pool_.run(std::move(job));
}

Task<Status> PosixDisk::remove(std::string path) {
  auto job = [state = state_, path = std::move(path)] { return remove_file(*state, path); };
  co_return co_await pool_.run(std::move(job));
}

const std::string& PosixDisk::root_path() const { return state_->root; }

size_t PosixDisk::open_file_count() const {
  std::lock_guard lock(state_->mutex);
  return state_->open_files.size();
}

}  // namespace wal
