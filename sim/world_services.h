#pragma once
// The world's shared services (simulated S3 and etcd) as the world drives them: per-node client
// views, fault windows opened and closed by schedule events, heal, and the orphan inspection the
// liveness check needs. A thin layer over sim_object_store.h and sim_meta_store.h.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "faults/schedule.h"
#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/trace.h"
#include "wal/env/meta_store.h"
#include "wal/log/metadata.h"
#include "wal/env/object_store.h"

namespace wal::sim {

class WorldServices {
 public:
  WorldServices(Scheduler& scheduler, const RandomStreams& streams, Trace& trace);
  ~WorldServices();

  [[nodiscard]] std::unique_ptr<ObjectStore> object_client(uint32_t node, NodeRuntime& runtime);
  [[nodiscard]] std::unique_ptr<MetaStore> meta_client(uint32_t node, NodeRuntime& runtime);

  // S3 fault windows: begin returns a handle; overlapping windows combine (the strongest wins).
  uint64_t object_fault_begin(faults::EventKind kind, uint32_t magnitude);
  void object_fault_end(uint64_t window);

  void meta_partition(uint32_t node, bool partitioned);
  void meta_leader_change();
  // The meta_txn_lost fault (faults/schedule.h): the next txn of kind `target` from `node`,
  // sent before `until`, loses its reply (applied) or, with request_side, its request.
  void meta_txn_lost(uint32_t node, faults::MetaTxnTarget target, bool request_side,
                     TimePoint until);
  void meta_compact();
  void heal_all();
  // S3 requests sent and not yet answered (a zombie's PUT may still land).
  [[nodiscard]] size_t object_requests_in_flight() const;

  // Objects of log `log_name` that no segment owns (see LogClient::collect_garbage), read
  // straight from the simulated stores' state.
  [[nodiscard]] std::vector<std::string> orphaned_objects(const std::string& log_name);
  // From now on every delete a node sends (remove, remove_many) is checked against the stores'
  // state at that instant: naming an object that a segment of `log_name` owns while the
  // segment's metadata exists breaks GC's rule (docs/protocol.md, G1), whatever happens to the
  // request afterwards. owned_deletions() lists what was found (at most owned_deletions_max),
  // one line each: time, node, key and owner. Reads state only: no request, no trace event.
  void guard_deletes(std::string log_name);
  [[nodiscard]] const std::vector<std::string>& owned_deletions() const;
  // The log's truncation point as etcd holds it now (0 if none), read the same way.
  [[nodiscard]] EntryId truncation_point(const std::string& log_name);
  // The log's writer epoch as etcd holds it now (0 if none), read the same way.
  [[nodiscard]] Epoch current_epoch(const std::string& log_name);
  // The log's segments and etcd's current revision, read straight from the simulated state
  // (the world's own bookkeeping: no request, no trace event).
  [[nodiscard]] std::vector<SegmentMeta> segments(const std::string& log_name);
  [[nodiscard]] int64_t meta_revision();
  [[nodiscard]] uint64_t log_id(const std::string& log_name);  // 0 if there is no such log
  // Whether a block object of log `log_name` holds entry `id` now: a block of a segment whose
  // range may contain it, whose header covers `id`. The MemoryBuffer ack audit asks it at every
  // acknowledgement (an acknowledged entry is in the object store, where nothing is lost).
  // Reads state only: no request, no trace event.
  [[nodiscard]] bool block_holds_entry(const std::string& log_name, EntryId id);

 private:
  struct Impl;
  class DeleteGuard;
  static constexpr size_t owned_deletions_max = 20;  // enough to read, bounded output
  void apply_object_faults();
  void check_deletes(uint32_t node, const std::vector<std::string>& keys);
  struct Window {
    faults::EventKind kind;
    uint32_t magnitude;
  };
  std::unique_ptr<Impl> impl_;
  std::map<uint64_t, Window> windows_;
  Scheduler& scheduler_;
  std::string guarded_log_;  // empty: deletes are not checked
  std::vector<std::string> owned_deletions_;
  // block_holds_entry's memo, per (log id, segment id): the segment's first id and the id
  // ranges of its blocks 0, 1, ... read so far.
  struct SeenBlocks {
    EntryId first = 0;
    std::vector<std::pair<EntryId, EntryId>> ranges;
  };
  std::map<std::pair<uint64_t, uint64_t>, SeenBlocks> block_ranges_;
  std::map<std::string, uint64_t> log_ids_;  // block_holds_entry's memo of log ids by name
  uint64_t next_window_ = 1;
};

}  // namespace wal::sim
