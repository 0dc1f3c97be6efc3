// Non-virtual helpers of the env interfaces.
#include <string_view>

#include "wal/env/disk.h"
#include "wal/env/fault_points.h"
#include "wal/env/meta_store.h"

namespace wal {

Status validate_disk_path(const std::string& path) {
  if (path.empty()) return make_error(Errc::invalid_argument, "empty path");
  if (path.find('\0') != std::string::npos) {
    return make_error(Errc::invalid_argument, "NUL in path");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view component(path.data() + start, end - start);
    if (component.empty() || component == "." || component == "..") {
      return make_error(Errc::invalid_argument, "bad path: '" + path + "'");
    }
    start = end + 1;
  }
  return {};
}

std::string prefix_end(std::string_view prefix) {
  // The smallest key greater than every key with this prefix: bump the last byte that is not
  // 0xff and drop what follows. An all-0xff (or empty) prefix has no end: "\0" means "to the end"
  // in etcd.
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Compare Compare::version_is(std::string key, int64_t version) {
  return Compare{std::move(key), Target::version, Op::equal, version, {}};
}
Compare Compare::mod_revision_is(std::string key, int64_t revision) {
  return Compare{std::move(key), Target::mod_revision, Op::equal, revision, {}};
}
Compare Compare::value_is(std::string key, std::string value) {
  return Compare{std::move(key), Target::value, Op::equal, 0, std::move(value)};
}

Task<Result<std::optional<KeyValue>>> MetaStore::get(std::string key) {
  RangeRequest request;
  request.key = std::move(key);
  Result<RangeResponse> response = co_await range(std::move(request));
  if (!response.ok()) co_return std::move(response).error();
  if (response->kvs.empty()) co_return std::optional<KeyValue>{};
  co_return std::optional<KeyValue>(std::move(response->kvs.front()));
}

std::string_view sim_bug_name(SimBug bug) {
  switch (bug) {
    case SimBug::none: return "none";
    case SimBug::ack_before_put: return "ack_before_put";
    case SimBug::retry_blindly_after_unknown: return "retry_blindly_after_unknown";
    case SimBug::unknown_as_success: return "unknown_as_success";
    case SimBug::skip_fence_on_open: return "skip_fence_on_open";
    case SimBug::seal_one_short: return "seal_one_short";
    case SimBug::quorum_min_of_fence_replies: return "quorum_min_of_fence_replies";
    case SimBug::quorum_seal_from_lagging: return "quorum_seal_from_lagging";
    case SimBug::quorum_ack_before_fsync: return "quorum_ack_before_fsync";
    case SimBug::quorum_ack_on_one: return "quorum_ack_on_one";
    case SimBug::quorum_fence_in_memory_only: return "quorum_fence_in_memory_only";
    case SimBug::quorum_recovery_without_fence: return "quorum_recovery_without_fence";
    case SimBug::quorum_unknown_as_absent: return "quorum_unknown_as_absent";
    case SimBug::quorum_stale_epoch_accepted: return "quorum_stale_epoch_accepted";
    case SimBug::reader_skips_checksum: return "reader_skips_checksum";
    case SimBug::truncate_needed_segment: return "truncate_needed_segment";
    case SimBug::fence_by_lease_only: return "fence_by_lease_only";
    case SimBug::append_key_ignored: return "append_key_ignored";
    case SimBug::gc_sweeps_undeleted_segment: return "gc_sweeps_undeleted_segment";
    case SimBug::seal_unknown_as_failure: return "seal_unknown_as_failure";
    case SimBug::count_: return "count_";
  }
  WAL_UNREACHABLE();
}

}  // namespace wal
