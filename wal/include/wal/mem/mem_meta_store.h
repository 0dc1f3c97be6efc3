#pragma once
// MemMetaStore: the etcd v3 data model (wal/env/meta_store.h) held in memory, deterministic.
// Unit tests use it directly; the simulator keeps it as the state behind its etcd.
//
// Two faces:
//  - The MetaStore interface. Every call takes effect and completes synchronously inside the
//    co_await (no executor turn, no suspension), except Watch::next() when no event is pending:
//    it then waits for the next commit. Never times out, never returns an unknown outcome.
//  - Synchronous methods (apply_*, open_watch, restart_lease_timers, expire_lease_now) that
//    change the state at once and return the result. The simulator's etcd calls these from its
//    own message handlers and adds delays, faults and unknown outcomes around them.
// Errors: as meta_store.h and wal/env/meta_rules.h describe (invalid_argument, not_found
// for an unknown lease, compacted, out_of_range for a future revision).
// Model: revisions start at 1 (as in etcd); a txn that writes nothing does not bump it.
// History: every revision's changes are kept until compact(), so range() at an old revision
// and watches from an old revision work. Memory grows with the writes until the owner compacts,
// exactly like etcd without auto-compaction.
// Leases: one Clock timer per lease; at its deadline the lease's keys are deleted in one
// revision. Keep-alive moves the deadline; restart_lease_timers() restarts every deadline
// (what a new etcd leader does, which is why lease expiry is only a lower bound).
// Watches: pull-based. next() returns the first revision at or after the watch's position with
// events in its range; when there is none it waits for a commit. A watch that falls behind a
// compact() gets compacted from next(). One next() at a time per watch.
// Threading: one executor, not thread-safe. Lifetimes: the store must outlive every call in
// flight; a Watch may outlive it (next() then returns closed). Destroying the store cancels
// its lease timers.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wal/async/completion.h"
#include "wal/async/executor.h"
#include "wal/env/clock.h"
#include "wal/env/meta_rules.h"
#include "wal/env/meta_store.h"

namespace wal {

class MemMetaStore final : public MetaStore {
 public:
  MemMetaStore(Executor& executor, Clock& clock);
  ~MemMetaStore() override;
  MemMetaStore(const MemMetaStore&) = delete;
  MemMetaStore& operator=(const MemMetaStore&) = delete;

  // ---- MetaStore (see meta_store.h); each completes synchronously ----
  Task<Result<RangeResponse>> range(RangeRequest request) override;
  Task<Result<TxnResponse>> txn(TxnRequest request) override;
  Task<Result<LeaseId>> lease_grant(int64_t ttl_seconds) override;
  Task<Result<int64_t>> lease_keep_alive(LeaseId lease) override;
  Task<Status> lease_revoke(LeaseId lease) override;
  Task<Result<std::unique_ptr<Watch>>> watch(std::string key, std::string range_end,
                                             int64_t start_revision) override;
  Task<Status> compact(int64_t revision) override;

  // ---- Synchronous state changes, for the simulator's etcd ----
  [[nodiscard]] Result<RangeResponse> apply_range(const RangeRequest& request) const;
  [[nodiscard]] Result<TxnResponse> apply_txn(const TxnRequest& request);
  // Ids are 1, 2, 3, ... in grant order (deterministic; etcd's are random).
  [[nodiscard]] Result<LeaseId> apply_lease_grant(int64_t ttl_seconds);
  [[nodiscard]] Result<int64_t> apply_lease_keep_alive(LeaseId lease);
  [[nodiscard]] Status apply_lease_revoke(LeaseId lease);
  [[nodiscard]] Status apply_compact(int64_t revision);
  [[nodiscard]] Result<std::unique_ptr<Watch>> open_watch(std::string key, std::string range_end,
                                                          int64_t start_revision);
  // Every lease's deadline becomes now + its TTL (etcd does this on leader change).
  void restart_lease_timers();
  // Expires `lease` now, as if its deadline had passed: its keys are deleted in one revision.
  // not_found: no such lease.
  [[nodiscard]] Status expire_lease_now(LeaseId lease);

  // ---- Inspection, for checkers ----
  [[nodiscard]] int64_t revision() const { return revision_; }
  [[nodiscard]] int64_t compacted_revision() const { return compacted_revision_; }
  [[nodiscard]] std::vector<LeaseId> lease_ids() const;

  // Internal: the state a MemWatch shares with the store.
  struct WatchState {
    MemMetaStore* store = nullptr;  // null once the store is destroyed
    uint64_t watch_id = 0;
    meta_rules::KeyInterval interval;
    int64_t next_revision = 0;  // the first revision not yet returned
    bool closed = false;
    std::optional<Completion<bool>> wake;  // set while next() waits for a commit
  };
  // Internal, for MemWatch: the next revision's events for `state`, nullopt if none yet.
  [[nodiscard]] Result<std::optional<std::vector<WatchEvent>>> take_watch_events(
      WatchState& state) const;
  void forget_watch(uint64_t watch_id) { watches_.erase(watch_id); }
  [[nodiscard]] Executor& executor() const { return executor_; }

 private:
  // One key's change in one revision, with what it replaced so that reads at older revisions
  // can undo it.
  struct Change {
    WatchEvent event;
    std::optional<KeyValue> previous;
  };
  struct Lease {
    int64_t ttl_seconds = 0;
    TimePoint deadline;
    TimerId timer = 0;
    std::set<std::string> keys;  // attached keys
  };

  [[nodiscard]] Status check_txn_preconditions(const std::vector<TxnOp>& ops) const;
  [[nodiscard]] RangeResponse read(const RangeRequest& request) const;
  [[nodiscard]] std::map<std::string, KeyValue> snapshot_at(const meta_rules::KeyInterval& range,
                                                            int64_t revision) const;
  void apply_put(const PutOp& put, int64_t write_revision, std::vector<Change>& changes);
  int64_t apply_delete(const DeleteOp& del, int64_t write_revision,
                       std::vector<Change>& changes);
  void remove_key(const std::string& key, int64_t write_revision, std::vector<Change>& changes);
  void detach_from_lease(const KeyValue& kv);
  // Ends a txn: keeps `write_revision` if it changed anything and wakes watchers.
  void finish_write(int64_t write_revision);
  void delete_lease(LeaseId lease);
  void arm_lease_timer(LeaseId lease, Lease& state);
  void on_lease_timer(LeaseId lease);

  Executor& executor_;
  Clock& clock_;
  int64_t revision_ = meta_rules::revision_initial;
  int64_t compacted_revision_ = 0;
  LeaseId next_lease_id_ = 1;
  uint64_t next_watch_id_ = 1;
  std::map<std::string, KeyValue> kvs_;
  std::map<int64_t, std::vector<Change>> history_;  // revision -> changes, in op order
  std::map<LeaseId, Lease> leases_;
  std::map<uint64_t, std::shared_ptr<WatchState>> watches_;
};

}  // namespace wal
