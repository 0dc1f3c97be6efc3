#pragma once
// LogClient: the entry point of the WAL API. Creates, lists and deletes logs, opens writers and
// readers, truncates, and collects garbage. Any number of clients (in any processes) may share
// one ObjectStore and MetaStore; they coordinate only through MetaStore transactions.
//
// Errors: invalid_argument (bad log name), already_exists (create of an existing log),
// not_found (no such log), and the stores' errors after read retries. An unknown MetaStore
// outcome is settled by reading before any of these returns. When it cannot be settled (the
// retries give up, or the settling read fails), the mutations (create_log, delete_log,
// truncate) report their error with Outcome::unknown: an earlier attempt may have happened, or
// may still happen. A definite error means nothing happened and nothing will. delete_log
// whose metadata was deleted but whose objects could not all be deleted is unknown too.

#include <memory>
#include <string>
#include <vector>

#include "wal/env/env.h"
#include "wal/log/keys.h"
#include "wal/log/log_reader.h"
#include "wal/log/log_writer.h"
#include "wal/log/options.h"

namespace wal {

struct ClientOptions {
  std::string meta_root = "/wal/";   // MetaStore key prefix; ends with '/'
  std::string object_root = "wal/";  // ObjectStore key prefix; ends with '/' or is empty
};

struct LogInfo {
  std::string name;
  LogMeta meta;
};

struct GcReport {
  uint64_t segments_deleted = 0;
  uint64_t objects_deleted = 0;
  uint64_t orphans_deleted = 0;  // objects no segment owns: past a sealed end, stale manifests
};

class LogClient {
 public:
  LogClient(Env& env, ClientOptions options = {});

  Task<Result<LogInfo>> create_log(std::string name);
  Task<Result<LogInfo>> get_log(std::string name);
  Task<Result<std::vector<LogInfo>>> list_logs();
  // Deletes the log's metadata, then its objects. A writer still open on it fails at its next
  // MetaStore compare; its in-flight blocks become orphans that the next deletion pass removes.
  Task<Status> delete_log(std::string name);

  Task<Result<std::unique_ptr<LogWriter>>> open_writer(std::string name,
                                                       WriterOptions options = {});
  Task<Result<std::unique_ptr<LogReader>>> open_reader(std::string name, ReadPosition position,
                                                       ReaderOptions options = {});

  // Marks every entry below `first_kept_entry_id` as gone. Readers stop returning them at once;
  // collect_garbage() deletes the storage of whole segments below the point. Never moves the
  // point backwards (a smaller id is a no-op). Works with no writer open.
  Task<Status> truncate(std::string name, EntryId first_kept_entry_id);

  // Deletes sealed segments wholly below the truncation point, and orphaned objects (blocks
  // past a sealed segment's end, stale checkpoints, objects of segments that no longer exist).
  // Needs no writer. Safe to run from several processes at once. Fence objects are kept, also
  // of deleted segments (24 bytes per writer takeover): a zombie writer's create-only PUT may
  // still be on its way to that key, and deleting the fence would let it land and be
  // acknowledged. An object at a fence position is deleted only when a verified read proves
  // it is a data block: a fence read damaged in transit is kept. `full` re-sweeps
  // sealed segments already swept (a zombie's late PUT can land after a sweep).
  Task<Result<GcReport>> collect_garbage(std::string name, bool full = false);

  [[nodiscard]] LogKeys keys_for(const LogInfo& info) const;
  [[nodiscard]] const ClientOptions& options() const { return options_; }

 private:
  Task<Result<uint64_t>> next_log_id();
  Task<Result<uint64_t>> sweep_sealed_segment(const LogKeys& keys, const SegmentMeta& segment);
  Task<Result<uint64_t>> delete_segment_objects_keeping_fence(const LogKeys& keys,
                                                              SegmentId segment_id);
  Task<Result<bool>> is_fence(const std::string& key);
  Task<Result<uint64_t>> delete_objects_with_prefix(const std::string& prefix,
                                                    const std::vector<std::string>& keep);
  Env& env_;
  ClientOptions options_;
};

[[nodiscard]] Status validate_log_name(std::string_view name);

}  // namespace wal
