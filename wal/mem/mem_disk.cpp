#include "wal/mem/mem_disk.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

namespace wal {

namespace {

// Copies `bytes` to `offset`, zero-filling any gap. Empty writes change nothing, like pwrite.
void write_into(Bytes& target, uint64_t offset, ByteView bytes) {
  if (bytes.empty()) return;
  const uint64_t end = offset + bytes.size();
  if (target.size() < end) target.resize(end);
  std::memcpy(target.data() + offset, bytes.data(), bytes.size());
  WAL_ASSERT(target.size() >= end);
}

void flip_bit(Bytes& bytes, uint64_t bit_index) {
  WAL_ASSERT(bit_index / 8 < bytes.size());
  bytes[bit_index / 8] ^= std::byte{static_cast<uint8_t>(1u << (bit_index % 8))};
}

}  // namespace

MemDisk::MemDisk(uint64_t sector_size_bytes) : sector_size_bytes_(sector_size_bytes) {
  WAL_ASSERT(sector_size_bytes > 0);
  WAL_ASSERT((sector_size_bytes & (sector_size_bytes - 1)) == 0);
}

// ---- the asynchronous interface: each call completes at once ---------------------------------

Task<Status> MemDisk::write(std::string path, uint64_t offset, Bytes bytes) {
  co_return apply_write(path, offset, bytes);
}
Task<Result<uint64_t>> MemDisk::append(std::string path, Bytes bytes) {
  co_return apply_append(path, bytes);
}
Task<Status> MemDisk::sync(std::string path) { co_return apply_sync(path); }
Task<Result<Bytes>> MemDisk::read(std::string path, uint64_t offset, uint64_t length) {
  co_return apply_read(path, offset, length);
}
Task<Result<uint64_t>> MemDisk::size(std::string path) { co_return apply_size(path); }
Task<Status> MemDisk::truncate(std::string path, uint64_t length) {
  co_return apply_truncate(path, length);
}
Task<Result<std::vector<std::string>>> MemDisk::list(std::string prefix) {
  co_return apply_list(prefix);
}
Task<Status> MemDisk::rename(std::string from, std::string to) {
  co_return apply_rename(from, to);
}
Task<Status> MemDisk::remove(std::string path) { co_return apply_remove(path); }

// ---- synchronous operations -------------------------------------------------------------------

Status MemDisk::take_fault(bool allocates) {
  if (fault_count_ == 0) return {};
  // no_space models a full device: only calls that may allocate blocks can see it.
  if (fault_code_ == Errc::no_space && !allocates) return {};
  --fault_count_;
  return make_error(fault_code_, "injected fault");
}

Status MemDisk::write_unchecked(const std::string& path, uint64_t offset, ByteView bytes) {
  if (bytes.size() > file_size_bytes_max || offset > file_size_bytes_max - bytes.size()) {
    return make_error(Errc::no_space, "file would exceed the in-memory file size limit");
  }
  const auto it = files_.find(path);
  const uint64_t size_before = it == files_.end() ? 0 : it->second.visible.size();
  const uint64_t end = offset + bytes.size();
  const uint64_t growth_bytes = !bytes.empty() && end > size_before ? end - size_before : 0;
  if (growth_bytes > 0 && used_bytes() + growth_bytes > capacity_bytes_) {
    return make_error(Errc::no_space, "disk capacity exceeded");
  }
  File& file = files_[path];
  write_into(file.visible, offset, bytes);
  if (!bytes.empty()) {
    file.changes.push_back(Change{false, offset, Bytes(bytes.begin(), bytes.end())});
  }
  WAL_ASSERT_EQ(file.visible.size(), size_before + growth_bytes);
  return {};
}

Status MemDisk::apply_write(const std::string& path, uint64_t offset, ByteView bytes) {
  if (Status valid = validate_disk_path(path); !valid) return valid;
  if (Status fault = take_fault(true); !fault) return fault;
  return write_unchecked(path, offset, bytes);
}

Result<uint64_t> MemDisk::apply_append(const std::string& path, ByteView bytes) {
  if (Status valid = validate_disk_path(path); !valid) return std::move(valid).error();
  if (Status fault = take_fault(true); !fault) return std::move(fault).error();
  const auto it = files_.find(path);
  const uint64_t offset = it == files_.end() ? 0 : it->second.visible.size();
  if (Status written = write_unchecked(path, offset, bytes); !written) {
    return std::move(written).error();
  }
  WAL_ASSERT_EQ(files_.at(path).visible.size(), offset + bytes.size());
  return offset;
}

Status MemDisk::apply_sync(const std::string& path) {
  if (Status valid = validate_disk_path(path); !valid) return valid;
  if (Status fault = take_fault(true); !fault) return fault;
  const auto it = files_.find(path);
  if (it == files_.end()) return make_error(Errc::not_found, "sync: no file " + path);
  File& file = it->second;
  file.durable = file.visible;
  file.existence_durable = true;
  file.changes.clear();
  WAL_ASSERT(file.durable == file.visible);
  return {};
}

Result<Bytes> MemDisk::apply_read(const std::string& path, uint64_t offset, uint64_t length) {
  if (Status valid = validate_disk_path(path); !valid) return std::move(valid).error();
  if (Status fault = take_fault(false); !fault) return std::move(fault).error();
  const auto it = files_.find(path);
  if (it == files_.end()) return make_error(Errc::not_found, "read: no file " + path);
  const Bytes& visible = it->second.visible;
  if (offset >= visible.size()) return Bytes{};
  const uint64_t count = std::min<uint64_t>(length, visible.size() - offset);
  Bytes out(visible.begin() + static_cast<ptrdiff_t>(offset),
            visible.begin() + static_cast<ptrdiff_t>(offset + count));
  WAL_ASSERT(out.size() <= length);
  return out;
}

Result<uint64_t> MemDisk::apply_size(const std::string& path) {
  if (Status valid = validate_disk_path(path); !valid) return std::move(valid).error();
  if (Status fault = take_fault(false); !fault) return std::move(fault).error();
  const auto it = files_.find(path);
  if (it == files_.end()) return make_error(Errc::not_found, "size: no file " + path);
  return static_cast<uint64_t>(it->second.visible.size());
}

Status MemDisk::apply_truncate(const std::string& path, uint64_t length) {
  if (Status valid = validate_disk_path(path); !valid) return valid;
  if (Status fault = take_fault(false); !fault) return fault;
  const auto it = files_.find(path);
  if (it == files_.end()) return make_error(Errc::not_found, "truncate: no file " + path);
  File& file = it->second;
  if (length > file.visible.size()) {
    return make_error(Errc::invalid_argument, "truncate: length is past the end of " + path);
  }
  if (length == file.visible.size()) return {};
  file.visible.resize(length);
  file.changes.push_back(Change{true, length, {}});
  WAL_ASSERT_EQ(file.visible.size(), length);
  return {};
}

Result<std::vector<std::string>> MemDisk::apply_list(const std::string& prefix) {
  // Like PosixDisk, the directory part of the prefix (up to its last '/') must be a valid path.
  const size_t slash = prefix.rfind('/');
  if (slash != std::string::npos) {
    if (Status valid = validate_disk_path(prefix.substr(0, slash)); !valid) {
      return std::move(valid).error();
    }
  }
  if (Status fault = take_fault(false); !fault) return std::move(fault).error();
  std::vector<std::string> paths;
  for (auto it = files_.lower_bound(prefix);
       it != files_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    paths.push_back(it->first);
  }
  WAL_ASSERT(std::is_sorted(paths.begin(), paths.end()));
  return paths;
}

Status MemDisk::apply_rename(const std::string& from, const std::string& to) {
  if (Status valid = validate_disk_path(from); !valid) return valid;
  if (Status valid = validate_disk_path(to); !valid) return valid;
  if (Status fault = take_fault(false); !fault) return fault;
  const auto it = files_.find(from);
  if (it == files_.end()) return make_error(Errc::not_found, "rename: no file " + from);
  if (from == to) return {};
  // The whole record moves: durable bytes, pending changes and the existence flag.
  File moved = std::move(it->second);
  files_.erase(it);
  files_.insert_or_assign(to, std::move(moved));
  WAL_ASSERT(!files_.contains(from));
  WAL_ASSERT(files_.contains(to));
  return {};
}

Status MemDisk::apply_remove(const std::string& path) {
  if (Status valid = validate_disk_path(path); !valid) return valid;
  if (Status fault = take_fault(false); !fault) return fault;
  files_.erase(path);
  WAL_ASSERT(!files_.contains(path));
  return {};
}

// ---- crash, wipe and fault knobs ---------------------------------------------------------------

uint64_t MemDisk::torn_cut(uint64_t offset, uint64_t size_bytes, Random& random) const {
  WAL_ASSERT(size_bytes > 0);
  const uint64_t end = offset + size_bytes;
  // Candidate cuts: offset, each sector boundary strictly inside (offset, end), end.
  const uint64_t first_boundary = (offset / sector_size_bytes_ + 1) * sector_size_bytes_;
  const uint64_t inner_count =
      first_boundary >= end ? 0 : (end - 1 - first_boundary) / sector_size_bytes_ + 1;
  const uint64_t choice = random.below(inner_count + 2);
  if (choice == 0) return offset;
  if (choice == inner_count + 1) return end;
  const uint64_t cut = first_boundary + (choice - 1) * sector_size_bytes_;
  WAL_ASSERT(cut > offset);
  WAL_ASSERT(cut < end);
  return cut;
}

void MemDisk::replay(const Change& change, Bytes& state, Random& random,
                     MemDiskCrashSummary& summary) {
  if (change.is_truncate) {
    const bool applied = random.below(2) == 0;
    if (applied) state.resize(change.offset);  // zero-extends if lost writes left it shorter
    ++(applied ? summary.truncates_applied_count : summary.truncates_lost_count);
    return;
  }
  WAL_ASSERT(!change.bytes.empty());
  uint64_t kept_bytes = 0;
  switch (random.below(3)) {
    case 0: kept_bytes = change.bytes.size(); break;
    case 1: kept_bytes = 0; break;
    default:
      kept_bytes = torn_cut(change.offset, change.bytes.size(), random) - change.offset;
      break;
  }
  WAL_ASSERT(kept_bytes <= change.bytes.size());
  write_into(state, change.offset, ByteView(change.bytes).first(kept_bytes));
  if (kept_bytes == change.bytes.size()) {
    ++summary.writes_kept_count;
  } else if (kept_bytes == 0) {
    ++summary.writes_lost_count;
  } else {
    ++summary.writes_torn_count;
  }
}

MemDiskCrashSummary MemDisk::crash(Random& random) {
  MemDiskCrashSummary summary;
  for (auto it = files_.begin(); it != files_.end();) {
    File& file = it->second;
    if (!file.existence_durable && random.below(2) == 0) {
      it = files_.erase(it);
      ++summary.files_vanished_count;
      continue;
    }
    Bytes state = file.existence_durable ? std::move(file.durable) : Bytes{};
    for (const Change& change : file.changes) replay(change, state, random, summary);
    file.visible = state;
    file.durable = std::move(state);
    file.existence_durable = true;
    file.changes.clear();
    WAL_ASSERT(file.visible == file.durable);
    ++it;
  }
  return summary;
}

void MemDisk::wipe() {
  files_.clear();
  WAL_ASSERT_EQ(used_bytes(), uint64_t{0});
}

void MemDisk::fail_next(Errc code, uint64_t call_count) {
  WAL_ASSERT(code == Errc::io_error || code == Errc::no_space);
  fault_code_ = code;
  fault_count_ = call_count;
}

void MemDisk::set_capacity_bytes(uint64_t capacity_bytes) { capacity_bytes_ = capacity_bytes; }

void MemDisk::corrupt_bit(const std::string& path, uint64_t bit_index) {
  const auto it = files_.find(path);
  WAL_ASSERT(it != files_.end());
  File& file = it->second;
  WAL_ASSERT(bit_index / 8 < file.visible.size());
  flip_bit(file.visible, bit_index);
  if (bit_index / 8 < file.durable.size()) flip_bit(file.durable, bit_index);
  const uint64_t byte_index = bit_index / 8;
  for (Change& change : file.changes) {
    if (change.is_truncate) continue;
    if (byte_index < change.offset || byte_index >= change.offset + change.bytes.size()) continue;
    flip_bit(change.bytes, bit_index - change.offset * 8);
  }
}

// ---- inspection ---------------------------------------------------------------------------------

bool MemDisk::exists(const std::string& path) const { return files_.contains(path); }

std::optional<Bytes> MemDisk::contents(const std::string& path) const {
  const auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  return it->second.visible;
}

std::optional<Bytes> MemDisk::synced_contents(const std::string& path) const {
  const auto it = files_.find(path);
  if (it == files_.end() || !it->second.existence_durable) return std::nullopt;
  return it->second.durable;
}

uint64_t MemDisk::used_bytes() const {
  uint64_t total = 0;
  for (const auto& [path, file] : files_) total += file.visible.size();
  return total;
}

}  // namespace wal
