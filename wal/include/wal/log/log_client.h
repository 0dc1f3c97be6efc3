#pragma once
// LogClient: the entry point of the WAL API. Creates, lists and deletes logs, opens writers and
// readers, truncates, and collects garbage. Any number of clients (in any processes) may share
// one ObjectStore and MetaStore; they coordinate only through MetaStore transactions.
//
// Errors: invalid_argument (bad log name, bad options), already_exists (create of an existing
// log), not_found (no such log), out_of_range (truncation beyond the end), corrupt (malformed
// metadata), and the stores' errors after read retries. An unknown MetaStore outcome is settled
// by reading before any of these returns. When it cannot be settled (the retries give up, or
// the settling read fails), the mutations (create_log, delete_log, truncate) report their error
// with Outcome::unknown: an earlier attempt may have happened, or may still happen. A definite
// error means nothing happened and nothing will. A delete_log whose metadata was deleted but
// whose objects could not all be deleted is unknown too (a repeated delete_log finishes it).

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
  // create_log() passes over log ids whose object prefix already holds objects: those belong to
  // a log the metadata forgot (it was restored from an older copy), and a new log must never
  // read them as its own. Costs one LIST per created log. Off in the simulator, which never
  // loses metadata (and whose schedules would all shift by the extra call).
  bool skip_log_ids_with_objects = false;
};

// A log whose metadata is deleted and whose objects are being (or still have to be) deleted.
struct PendingDeletion {
  std::string name;
  uint64_t log_id = 0;
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
  // `replicas`: where readers find QuorumBuffer segments not yet uploaded (their LogStores,
  // wal/quorum/replica_reads.h); null for a client of MemoryBuffer logs only, whose readers then
  // wait for uploads. Must outlive the client's readers.
  LogClient(Env& env, ClientOptions options = {}, SegmentReplicas* replicas = nullptr);

  Task<Result<LogInfo>> create_log(std::string name);
  Task<Result<LogInfo>> get_log(std::string name);
  Task<Result<std::vector<LogInfo>>> list_logs();
  // Deletes the log's metadata, leaving a deletion marker (<root>deleting/<log id:020>) in the
  // same transaction, then its objects, then the marker. Interrupted at any point, it is
  // finished by finish_deletions() or by delete_log() of the same name: a missing log with a
  // marker of that name is not not_found but a deletion to finish. A writer still open on it
  // fails at its next MetaStore compare; blocks it puts after the objects were deleted stay
  // behind as orphans under the log's id (nothing reads them: ids are never reused).
  Task<Status> delete_log(std::string name);
  // Finishes every interrupted deletion (or only those of logs named `name`): deletes the
  // objects, then the marker. Returns the deletions finished.
  Task<Result<std::vector<PendingDeletion>>> finish_deletions(
      std::optional<std::string> name = std::nullopt);

  Task<Result<std::unique_ptr<LogWriter>>> open_writer(std::string name,
                                                       WriterOptions options = {});
  Task<Result<std::unique_ptr<LogReader>>> open_reader(std::string name, ReadPosition position,
                                                       ReaderOptions options = {});

  // Marks every entry below `first_kept_entry_id` as gone. Readers stop returning them at once;
  // collect_garbage() deletes the storage of whole segments below the point. Never moves the
  // point backwards (a smaller id is a no-op). Works with no writer open.
  // out_of_range (definite) when the point is beyond the log's end: entries appended later
  // would get ids below it and vanish. The end is what the metadata proves (sealed segments,
  // the published tail, the last checkpoint); a point past that is checked against the blocks
  // stored in the open segment, so entries acknowledged but not yet published may be truncated
  // too. An open QuorumBuffer segment's end is known only to its LogStores: there the point is
  // not checked.
  Task<Status> truncate(std::string name, EntryId first_kept_entry_id);

  // Deletes sealed segments wholly below the truncation point, and orphaned objects (blocks
  // past a sealed segment's end, stale checkpoints, objects of segments that no longer exist).
  // Needs no writer. Safe to run from several processes at once and while an earlier pass is
  // still running, with no lock: an object a segment owns is deleted only once this pass has
  // seen the segment's metadata gone (docs/protocol.md, G1), whatever its own txns did. Fence
  // objects are kept, also of deleted segments (24 bytes per writer takeover): a zombie
  // writer's create-only PUT may still be on its way to that key, and deleting the fence would
  // let it land and be acknowledged. An object at a fence position is deleted only when a
  // verified read proves it is a data block: a fence read damaged in transit is kept. `full`
  // re-sweeps sealed segments already swept (a zombie's late PUT can land after a sweep).
  // Errors: not_found (no such log); the stores' errors after read retries; an unknown
  // MetaStore outcome of a segment's delete (the next pass settles it by reading); a key whose
  // delete failed (named in the message; never counted as deleted). A failed pass has deleted
  // nothing a later pass would keep; running it again finishes the work.
  Task<Result<GcReport>> collect_garbage(std::string name, bool full = false);

  [[nodiscard]] LogKeys keys_for(const LogInfo& info) const;
  [[nodiscard]] const ClientOptions& options() const { return options_; }

 private:
  Task<Result<uint64_t>> next_log_id();
  Task<Result<uint64_t>> sweep_if_unswept(const LogKeys& keys, const SegmentMeta& meta,
                                          int64_t mod_revision, bool full);
  Task<Result<uint64_t>> next_unused_log_id();
  Task<Result<EntryId>> truncation_limit(const LogKeys& keys, const RangeResponse& log_keys);
  Task<Result<EntryId>> stored_end(const LogKeys& keys, const SegmentMeta& open_segment,
                                   EntryId known_end);
  Task<Status> finish_deletion(const PendingDeletion& deletion);
  Env& env_;
  SegmentReplicas* replicas_;
  ClientOptions options_;
};

// 1 to limits::log_name_bytes_max of letters, digits, '-', '_' and '.', but not "." or "..":
// names become etcd keys, object-store paths and file names in tools, where those two mean
// something else.
[[nodiscard]] Status validate_log_name(std::string_view name);
[[nodiscard]] std::string deleting_prefix(std::string_view meta_root);

}  // namespace wal
