// LocalObjectStore's blocking file operations: open, put, get, head, remove, temp cleanup.
// Layout, format and locking are described in local_object_fs.h.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "local_object_fs.h"

namespace wal::local_object {

namespace {

bool is_missing(int error_number) { return error_number == ENOENT || error_number == ENOTDIR; }

Status write_all(int fd, ByteView bytes, uint64_t offset) {
  while (!bytes.empty()) {
    const ssize_t written = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, "write temp object file");
    }
    WAL_ASSERT(written > 0);  // pwrite of a non-empty buffer to a regular file
    bytes = bytes.subspan(static_cast<size_t>(written));
    offset += static_cast<uint64_t>(written);
  }
  return {};
}

// Reads exactly `length` bytes; the file was measured first, so a short read means it is not the
// file its header describes.
Result<Bytes> read_exact(int fd, uint64_t offset, uint64_t length) {
  Bytes out(length);
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t got = ::pread(fd, out.data() + done, out.size() - done,
                                static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return errno_error(errno, "read object file");
    }
    if (got == 0) return make_error(Errc::corrupt, "object file shorter than its size");
    done += static_cast<size_t>(got);
  }
  WAL_ASSERT_EQ(done, length);
  return out;
}

Status fsync_fd(int fd, std::string_view what, Outcome outcome) {
  WAL_ASSERT(fd >= 0);
  while (::fsync(fd) != 0) {
    if (errno != EINTR) return errno_error(errno, what, outcome);
  }
  return {};
}

// An open object file with its validated header.
struct OpenObject {
  UniqueFd fd;
  uint64_t file_size_bytes = 0;
  Header header;
};

Result<OpenObject> open_object(int root_fd, const std::string& path) {
  OpenObject object;
  object.fd = UniqueFd(::openat(root_fd, path.c_str(), O_RDONLY | O_CLOEXEC));
  if (object.fd.get() < 0) {
    if (is_missing(errno)) return make_error(Errc::not_found, path);
    return errno_error(errno, "open object file");
  }
  struct stat status {};
  if (::fstat(object.fd.get(), &status) != 0) return errno_error(errno, "stat object file");
  object.file_size_bytes = static_cast<uint64_t>(status.st_size);
  if (object.file_size_bytes < header_bytes) {
    return make_error(Errc::corrupt, "object file shorter than its header: " + path);
  }
  Result<Bytes> header_bytes_read = read_exact(object.fd.get(), 0, header_bytes);
  if (!header_bytes_read) return std::move(header_bytes_read).error();
  Result<Header> header = decode_header(*header_bytes_read, object.file_size_bytes);
  if (!header) return std::move(header).error();
  object.header = *header;
  WAL_ASSERT_EQ(object.header.body_size_bytes + header_bytes, object.file_size_bytes);
  return object;
}

// mkdir -p, making each directory it creates durable in its parent.
Status make_root_directory(const std::string& root_dir) {
  for (size_t end = 1; end <= root_dir.size(); ++end) {
    if (end < root_dir.size() && root_dir[end] != '/') continue;
    const std::string path = root_dir.substr(0, end);
    if (::mkdir(path.c_str(), 0755) != 0) {
      if (errno == EEXIST) continue;
      return errno_error(errno, "create object store directory " + path);
    }
    const size_t slash = path.find_last_of('/');
    const std::string parent = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    UniqueFd parent_fd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (parent_fd.get() < 0) return errno_error(errno, "open " + parent);
    if (Status synced = fsync_fd(parent_fd.get(), "sync " + parent, Outcome::definite);
        !synced) {
      return synced;
    }
  }
  return {};
}

}  // namespace

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<std::vector<std::string>> read_directory_names(int root_fd, const std::string& path) {
  // A fresh open file description: a dup() of root_fd would share its read position with
  // every other reader of the root.
  const char* at = path.empty() ? "." : path.c_str();
  const int fd = ::openat(root_fd, at, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (is_missing(errno)) return make_error(Errc::not_found, path);
    return errno_error(errno, "open directory " + path);
  }
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    const int error_number = errno;
    ::close(fd);
    return errno_error(error_number, "read directory " + path);
  }
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  const int error_number = errno;
  ::closedir(dir);
  if (error_number != 0) return errno_error(error_number, "read directory " + path);
  return names;
}

struct ObjectDirectory::TempFile {
  std::string name;
  UniqueFd fd;  // holds flock(LOCK_EX) until the put is done
};

class ObjectDirectory::CommitLock {
 public:
  explicit CommitLock(ObjectDirectory& directory)
      : directory_(directory), guard_(directory.commit_mutex_) {}
  CommitLock(const CommitLock&) = delete;
  CommitLock& operator=(const CommitLock&) = delete;
  ~CommitLock() {
    if (file_locked_) ::flock(directory_.lock_fd_.get(), LOCK_UN);
  }
  [[nodiscard]] Status lock_file() {
    WAL_ASSERT(!file_locked_);
    while (::flock(directory_.lock_fd_.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return errno_error(errno, "lock the object store");
    }
    file_locked_ = true;
    return {};
  }

 private:
  ObjectDirectory& directory_;
  std::lock_guard<std::mutex> guard_;
  bool file_locked_ = false;
};

ObjectDirectory::ObjectDirectory(UniqueFd root_fd, UniqueFd lock_fd, uint64_t temp_name_nonce)
    : root_fd_(std::move(root_fd)), lock_fd_(std::move(lock_fd)),
      temp_name_nonce_(temp_name_nonce) {
  WAL_ASSERT(root_fd_.get() >= 0);
}

ObjectDirectory::~ObjectDirectory() = default;

Result<std::shared_ptr<ObjectDirectory>> ObjectDirectory::open(const std::string& root_dir,
                                                               uint64_t temp_name_nonce) {
  if (root_dir.empty()) return make_error(Errc::invalid_argument, "empty object store directory");
  if (Status made = make_root_directory(root_dir); !made) return std::move(made).error();
  UniqueFd root_fd(::open(root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root_fd.get() < 0) return errno_error(errno, "open object store directory " + root_dir);
  UniqueFd lock_fd(::openat(root_fd.get(), lock_file_name, O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (lock_fd.get() < 0) return errno_error(errno, "open the object store lock file");
  std::shared_ptr<ObjectDirectory> directory(
      new ObjectDirectory(std::move(root_fd), std::move(lock_fd), temp_name_nonce));
  Result<size_t> removed = directory->remove_stray_temp_files();
  if (!removed) return std::move(removed).error();
  WAL_ASSERT(directory->root_fd_.get() >= 0);
  return directory;
}

Result<std::shared_ptr<ObjectDirectory>> ObjectDirectory::open_read_only(
    const std::string& root_dir) {
  if (root_dir.empty()) return make_error(Errc::invalid_argument, "empty object store directory");
  UniqueFd root_fd(::open(root_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root_fd.get() < 0) {
    if (errno == ENOENT) {
      return make_error(Errc::not_found, "no object store directory " + root_dir);
    }
    return errno_error(errno, "open object store directory " + root_dir);
  }
  // No lock file: put() and remove(), the only users of the commit lock, are never called.
  return std::shared_ptr<ObjectDirectory>(
      new ObjectDirectory(std::move(root_fd), UniqueFd(), /*temp_name_nonce=*/0));
}

Result<size_t> ObjectDirectory::remove_stray_temp_files() {
  Result<std::vector<std::string>> names = read_directory_names(root_fd_.get(), "");
  if (!names) return std::move(names).error();
  size_t removed_count = 0;
  for (const std::string& name : *names) {
    if (!is_temp_name(name)) continue;
    UniqueFd fd(::openat(root_fd_.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (fd.get() < 0) continue;  // its writer finished and removed it meanwhile
    // A live writer holds its temp file locked; only a dead writer's lock is free.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    if (::unlinkat(root_fd_.get(), name.c_str(), 0) == 0) ++removed_count;
  }
  WAL_ASSERT_LE(removed_count, names->size());
  return removed_count;
}

Result<UniqueFd> ObjectDirectory::create_locked_temp(std::string& name) {
  for (int attempt = 0; attempt < temp_create_attempts_max; ++attempt) {
    const uint64_t counter = temp_counter_.fetch_add(1);
    name = std::string(temp_name_prefix) + etag_of(temp_name_nonce_) + "-" +
           std::to_string(counter);
    const int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC;
    UniqueFd fd(::openat(root_fd_.get(), name.c_str(), flags, 0644));
    if (fd.get() < 0) {
      if (errno == EEXIST) continue;
      return errno_error(errno, "create temp object file");
    }
    // A store opening this directory may have taken the new file for a crashed writer's before
    // we locked it: then it is unlinked (or about to be), and we start again with a new name.
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;
    struct stat ours {};
    struct stat named {};
    if (::fstat(fd.get(), &ours) != 0) return errno_error(errno, "stat temp object file");
    if (::fstatat(root_fd_.get(), name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (ours.st_ino != named.st_ino || ours.st_dev != named.st_dev) continue;
    WAL_ASSERT(fd.get() >= 0);
    return fd;
  }
  return make_error(Errc::io_error, "could not create a temp object file");
}

Result<ObjectDirectory::TempFile> ObjectDirectory::write_temp(const Header& header,
                                                              const Bytes& body) {
  WAL_ASSERT_EQ(header.body_size_bytes, body.size());
  TempFile temp;
  Result<UniqueFd> fd = create_locked_temp(temp.name);
  if (!fd) return std::move(fd).error();
  temp.fd = std::move(*fd);
  Status written = write_all(temp.fd.get(), encode_header(header), 0);
  if (written) written = write_all(temp.fd.get(), body, header_bytes);
  if (written) written = fsync_fd(temp.fd.get(), "sync temp object file", Outcome::definite);
  if (!written) {
    ::unlinkat(root_fd_.get(), temp.name.c_str(), 0);
    return std::move(written).error();
  }
  WAL_ASSERT(!temp.name.empty());
  return temp;
}

Status ObjectDirectory::make_directories(std::string_view key, UniqueFd& parent_fd) {
  const std::vector<Entry> pieces = split_key(key);
  std::string path;  // from the root, the key of durable_directories_
  UniqueFd current;  // the directory made so far; none: the root
  for (size_t i = 0; i + 1 < pieces.size(); ++i) {
    const std::string name = entry_name(pieces[i]);
    path = path.empty() ? name : path + "/" + name;
    const int at = current.get() >= 0 ? current.get() : root_fd_.get();
    const bool created = ::mkdirat(at, name.c_str(), 0755) == 0;
    if (!created && errno != EEXIST) return errno_error(errno, "create directory " + path);
    if (created || !durable_directories_.contains(path)) {
      // Its entry must be durable before any object below it is acknowledged.
      if (Status synced = fsync_fd(at, "sync directory", Outcome::definite); !synced) {
        return synced;
      }
      durable_directories_.insert(path);
    }
    UniqueFd next(::openat(at, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (next.get() < 0) return errno_error(errno, "open directory " + path);
    current = std::move(next);
  }
  if (pieces.size() > 1) WAL_ASSERT(current.get() >= 0);
  WAL_ASSERT(parent_fd.get() < 0);
  parent_fd = std::move(current);
  return {};
}

Status ObjectDirectory::commit(std::string_view key, const TempFile& temp,
                               const PutCondition& condition, UniqueFd& parent_fd) {
  CommitLock lock(*this);
  if (Status locked = lock.lock_file(); !locked) return locked;
  // Directories are made under the lock: remove() deletes empty ones under it too.
  if (Status made = make_directories(key, parent_fd); !made) return made;
  const std::string path = object_path(key);
  const char* from = temp.name.c_str();
  switch (condition.kind) {
    case PutCondition::Kind::none:
      break;
    case PutCondition::Kind::if_none_match:
      // link() fails if the name exists, atomically, even against other processes.
      if (::linkat(root_fd_.get(), from, root_fd_.get(), path.c_str(), 0) == 0) return {};
      if (errno == EEXIST) return make_error(Errc::already_exists, std::string(key));
      return errno_error(errno, "link object file");
    case PutCondition::Kind::if_match: {
      Result<ObjectInfo> current = read_info(path, std::string(key));
      if (!current) return std::move(current).error();
      if (current->etag != condition.etag) {
        return make_error(Errc::condition_failed, "etag is " + current->etag);
      }
      break;
    }
  }
  WAL_ASSERT(condition.kind != PutCondition::Kind::if_none_match);
  if (::renameat(root_fd_.get(), from, root_fd_.get(), path.c_str()) != 0) {
    return errno_error(errno, "rename temp object file");
  }
  return {};
}

Result<ObjectInfo> ObjectDirectory::put(std::string_view key, const Bytes& body,
                                        const PutCondition& condition) {
  WAL_ASSERT(check_object_key(key).ok());
  WAL_ASSERT_LE(body.size(), limits::object_size_bytes_max);
  WAL_ASSERT(lock_fd_.get() >= 0);  // not opened read-only
  const Header header{body.size(), content_hash(body)};
  Result<TempFile> temp = write_temp(header, body);
  if (!temp) return std::move(temp).error();
  UniqueFd parent_fd;
  const Status committed = commit(key, *temp, condition, parent_fd);
  // After rename() the temp name is gone; after link() or a failure it is a name too many.
  // Failing to remove it is harmless: it is unlocked once temp->fd closes, and the next open
  // removes it.
  if (!committed || condition.kind == PutCondition::Kind::if_none_match) {
    ::unlinkat(root_fd_.get(), temp->name.c_str(), 0);
  }
  if (!committed) return committed.error();
  // The object is visible now. A failed sync leaves it visible but perhaps not durable: the
  // outcome is unknown, to be settled by reading it back.
  const int directory_fd = parent_fd.get() >= 0 ? parent_fd.get() : root_fd_.get();
  if (Status synced = fsync_fd(directory_fd, "sync directory", Outcome::unknown); !synced) {
    return std::move(synced).error();
  }
  return ObjectInfo{std::string(key), header.body_size_bytes, etag_of(header.content_hash)};
}

Result<ObjectInfo> ObjectDirectory::read_info(const std::string& path, std::string key) const {
  WAL_ASSERT(!key.empty());
  Result<OpenObject> object = open_object(root_fd_.get(), path);
  if (!object) return std::move(object).error();
  WAL_ASSERT(object->fd.get() >= 0);
  return ObjectInfo{std::move(key), object->header.body_size_bytes,
                    etag_of(object->header.content_hash)};
}

Result<ObjectInfo> ObjectDirectory::head(std::string_view key) {
  WAL_ASSERT(check_object_key(key).ok());
  return read_info(object_path(key), std::string(key));
}

Result<ObjectData> ObjectDirectory::get(std::string_view key, std::optional<ByteRange> range) {
  WAL_ASSERT(check_object_key(key).ok());
  if (range) WAL_ASSERT(range->length > 0);
  Result<OpenObject> object = open_object(root_fd_.get(), object_path(key));
  if (!object) return std::move(object).error();
  const uint64_t size = object->header.body_size_bytes;
  uint64_t begin = 0;
  uint64_t end = size;
  if (range) {
    if (range->offset >= size && !(size == 0 && range->offset == 0)) {
      return make_error(Errc::out_of_range, "range starts at or past the end of the object");
    }
    begin = range->offset;
    end = begin + std::min<uint64_t>(range->length, size - begin);  // cut short, like S3
  }
  Result<Bytes> body = read_exact(object->fd.get(), header_bytes + begin, end - begin);
  if (!body) return std::move(body).error();
  if (begin == 0 && end == size && content_hash(*body) != object->header.content_hash) {
    return make_error(Errc::corrupt, "object body does not match its hash: " + std::string(key));
  }
  WAL_ASSERT_EQ(body->size(), end - begin);
  return ObjectData{{std::string(key), size, etag_of(object->header.content_hash)},
                    std::move(*body)};
}

void ObjectDirectory::remove_empty_directories(std::string_view key) {
  const std::vector<std::string> paths = directory_paths(key);
  // Deepest first; stop at the first that is not empty. Not synced: an empty directory that
  // comes back after a crash is harmless.
  for (auto it = paths.rbegin(); it != paths.rend(); ++it) {
    if (::unlinkat(root_fd_.get(), it->c_str(), AT_REMOVEDIR) != 0) return;
    durable_directories_.erase(*it);  // a new one by that name must be synced again
  }
}

Status ObjectDirectory::remove(std::string_view key) {
  WAL_ASSERT(check_object_key(key).ok());
  WAL_ASSERT(lock_fd_.get() >= 0);  // not opened read-only
  const std::vector<std::string> directories = directory_paths(key);
  const std::string path = object_path(key);
  WAL_ASSERT(!path.empty());
  CommitLock lock(*this);
  if (Status locked = lock.lock_file(); !locked) return locked;
  UniqueFd parent_fd;
  if (!directories.empty()) {
    const char* parent = directories.back().c_str();
    parent_fd = UniqueFd(::openat(root_fd_.get(), parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (parent_fd.get() < 0) {
      if (is_missing(errno)) return {};  // no directory, no object: already deleted
      return errno_error(errno, "open directory");
    }
  }
  if (::unlinkat(root_fd_.get(), path.c_str(), 0) != 0) {
    if (is_missing(errno)) return {};  // deleting a missing key succeeds (S3)
    return errno_error(errno, "delete object file");
  }
  const int sync_fd = directories.empty() ? root_fd_.get() : parent_fd.get();
  if (Status synced = fsync_fd(sync_fd, "sync directory", Outcome::unknown); !synced) {
    return synced;
  }
  WAL_ASSERT(sync_fd >= 0);
  remove_empty_directories(key);
  return {};
}

}  // namespace wal::local_object
