#pragma once
// SqliteMetaStore: the production MetaStore when no etcd is configured. The etcd v3 data model
// (wal/env/meta_store.h) in one SQLite database file, for a single-node deployment.
//
// Semantics: those of meta_store.h and wal/env/meta_rules.h, identical to MemMetaStore
// (the contract suite runs both): revisions from 1, one per txn that writes; history kept
// until compact() or, automatically, for the last history_revisions_kept revisions (etcd's
// revision auto-compaction); leases; watches from any revision not compacted.
// Several processes: any number of stores, in this process or others, may open one file at
// once (WAL journal mode, normal locking). Writes are serialised by SQLite; a write that waits
// longer than sqlite_meta::busy_timeout_ms for another process's lock fails with unavailable
// (definite). Watches are woken at once by this store's own commits and, for commits of other
// processes, by polling the revision every watch_poll_interval while a watch waits.
// Read-only: SqliteMetaOptions::read_only opens without writing anything (also a copy in a
// read-only directory); every write then fails with permission_denied.
// Durability: every write (a txn that changes something, lease grant and revoke, compact) is
// one SQLite transaction committed with synchronous=FULL in WAL journal mode, durable when the
// call returns ok. Revisions, history, the compaction point and leases survive close/reopen.
// Errors: invalid_argument / not_found / compacted / out_of_range as in wal/env/meta_rules.h; from
// SQLite (message included): no_space (SQLITE_FULL), corrupt (SQLITE_CORRUPT, SQLITE_NOTADB, or
// rows that break the schema), unavailable (another process held the write lock too long),
// permission_denied (read-only), io_error (the rest). Errors are definite except a failed
// COMMIT other than for a full disk, whose outcome is UNKNOWN (its WAL frames may have reached
// the disk): settle by reading, as for etcd.
// Leases: the TTL is persisted, the deadline is not: no monotonic clock survives a restart, so
// on open every lease's deadline restarts at now + TTL. etcd does the same on leader change;
// a lease is therefore guaranteed to live at least TTL after its last keep-alive, maybe longer.
// Keep-alive only moves the in-memory deadline (no disk write). Expiry is a Clock timer on the
// loop that then runs the deletion on the pool (one revision for all the lease's keys); once
// the deadline passed, keep-alive and revoke say not_found even while that deletion is queued,
// and a failed deletion is retried every lease_expiry_retry_delay. Leases are kept alive by the
// process that granted them: use them from one process per file (QuorumBuffer's LogStore
// registrations do). A read-only store never expires leases.
// Watches: served from the history table, one revision per next().
// Threading: every call on the loop (the executor passed to open); SQLite runs on the store's
// own one-thread BlockingPool, so statements run one at a time in call order, and results
// complete on the loop.
// Lifetimes: the store must outlive every call in flight. A Watch may outlive it (next() then
// returns closed). The destructor blocks: it waits for queued statements, joins the pool thread
// and closes the database (the last connection to close checkpoints the WAL into the main file).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "wal/async/completion.h"
#include "wal/async/scope.h"
#include "wal/env/clock.h"
#include "wal/env/meta_rules.h"
#include "wal/env/meta_store.h"
#include "wal/real/event_loop.h"

namespace wal {

namespace sqlite_meta {
class SqliteMetaDb;
struct OpenedState;
}  // namespace sqlite_meta

struct SqliteMetaOptions {
  // Open without writing: no file is created, nothing is changed (see the header comment).
  bool read_only = false;
  // Create the database file if it is missing (ignored when read_only).
  bool create = true;
  // Automatic history compaction keeps this many revisions (0: only explicit compact()). 10,000
  // revisions are minutes of history even for a busy writer: a watcher further behind than that
  // gets compacted and re-reads, as with etcd.
  int64_t history_revisions_kept = 10'000;
  // Compaction runs once this many revisions beyond history_revisions_kept have piled up, so
  // its cost (one DELETE over the old rows) is spread over that many writes.
  int64_t history_compaction_step_revisions = 1'000;
  // How often a waiting watch looks for commits of other processes. 50 ms: the same as the
  // writer's tail_publish_interval_min, so a reader in another process lags a busy writer by at
  // most about twice that; the poll is one read of one row.
  Duration watch_poll_interval = std::chrono::milliseconds(50);
};

class SqliteMetaStore final : public MetaStore {
 public:
  // A failing disk should not turn into a hot loop; a second is short next to any TTL (>= 2 s).
  static constexpr Duration lease_expiry_retry_delay = std::chrono::seconds(1);

  // Opens the database at `path`, creating it (not its directory) if absent and
  // options.create. Completes on `executor`, which must also be `clock`'s loop. corrupt: the
  // file is not a database of ours; not_found: no file (and not options.create); unavailable:
  // another process held the write lock while the schema was set up; io_error /
  // permission_denied / no_space.
  static Task<Result<std::unique_ptr<SqliteMetaStore>>> open(Executor& executor, Clock& clock,
                                                             std::string path,
                                                             SqliteMetaOptions options = {});
  ~SqliteMetaStore() override;
  SqliteMetaStore(const SqliteMetaStore&) = delete;
  SqliteMetaStore& operator=(const SqliteMetaStore&) = delete;

  Task<Result<RangeResponse>> range(RangeRequest request) override;
  Task<Result<TxnResponse>> txn(TxnRequest request) override;
  Task<Result<LeaseId>> lease_grant(int64_t ttl_seconds) override;
  Task<Result<int64_t>> lease_keep_alive(LeaseId lease) override;
  Task<Status> lease_revoke(LeaseId lease) override;
  Task<Result<std::unique_ptr<Watch>>> watch(std::string key, std::string range_end,
                                             int64_t start_revision) override;
  Task<Status> compact(int64_t revision) override;

  // The newest revision this process has seen committed.
  [[nodiscard]] int64_t revision() const { return committed_revision_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  friend class SqliteWatch;
  struct Lease {
    int64_t ttl_seconds = 0;
    TimePoint deadline;
    TimerId timer = 0;
    bool expired = false;   // the deadline passed; its deletion is queued or being retried
    bool revoking = false;  // a deletion is on the pool
  };
  struct WatchState {
    SqliteMetaStore* store = nullptr;  // null once the store is destroyed
    Executor* executor = nullptr;
    uint64_t watch_id = 0;
    meta_rules::KeyInterval interval;
    int64_t next_revision = 0;  // the first revision not yet returned
    bool closed = false;
    std::optional<Completion<bool>> wake;  // set while next() waits for a commit
  };

  SqliteMetaStore(Executor& executor, Clock& clock, std::string path, SqliteMetaOptions options,
                  std::unique_ptr<BlockingPool> pool, std::shared_ptr<sqlite_meta::SqliteMetaDb> db,
                  const sqlite_meta::OpenedState& state);
  void note_commit(int64_t revision);
  // While a watch waits, polls the revision for other processes' commits.
  void arm_poll_timer();
  Task<void> poll_revision();
  [[nodiscard]] bool a_watch_waits() const;
  void arm_lease_timer(LeaseId lease, Lease& state, TimePoint when);
  void on_lease_timer(LeaseId lease);
  Task<void> expire_lease(LeaseId lease);
  void forget_lease(LeaseId lease);
  static void wake(WatchState& state);

  Executor& executor_;
  Clock& clock_;
  std::string path_;
  SqliteMetaOptions options_;
  std::unique_ptr<BlockingPool> pool_;  // one thread: the only one that touches db_
  std::shared_ptr<sqlite_meta::SqliteMetaDb> db_;
  std::unique_ptr<Scope> scope_;  // lease expiry tasks
  int64_t committed_revision_ = 0;
  uint64_t next_watch_id_ = 1;
  std::map<LeaseId, Lease> leases_;
  std::map<uint64_t, std::shared_ptr<WatchState>> watches_;
  TimerId poll_timer_ = 0;
  bool poll_running_ = false;
};

}  // namespace wal
