// SqliteMetaStore: the loop side. Validation, lease deadlines and watch wake-ups live here;
// every read and write of the database runs on the pool (sqlite_meta_db.cpp, sqlite_meta_ops.cpp).
// Each pool job is a named local, never a temporary inside the co_await expression: GCC 12
// destroys a capturing lambda temporary there twice (a double free; see posix_disk.cpp too).
#include "wal/real/sqlite_meta_store.h"

#include <algorithm>
#include <utility>

#include "sqlite_meta_db.h"

namespace wal {

using sqlite_meta::OpenedState;
using sqlite_meta::SqliteMetaDb;
using sqlite_meta::WatchBatch;

class SqliteWatch final : public Watch {
 public:
  explicit SqliteWatch(std::shared_ptr<SqliteMetaStore::WatchState> state)
      : state_(std::move(state)) {}
  ~SqliteWatch() override {
    close();
    if (state_->store != nullptr) state_->store->watches_.erase(state_->watch_id);
  }
  SqliteWatch(const SqliteWatch&) = delete;
  SqliteWatch& operator=(const SqliteWatch&) = delete;

  Task<Result<std::vector<WatchEvent>>> next() override;
  void close() override {
    state_->closed = true;
    SqliteMetaStore::wake(*state_);
  }

 private:
  std::shared_ptr<SqliteMetaStore::WatchState> state_;
};

// Asks the database for the next revision with events only when a commit this process saw may
// hold some; otherwise sleeps until the next commit. The state is shared so that this frame
// survives the Watch object and the store.
Task<Result<std::vector<WatchEvent>>> SqliteWatch::next() {
  std::shared_ptr<SqliteMetaStore::WatchState> state = state_;
  while (true) {
    if (state->closed || state->store == nullptr) {
      co_return make_error(Errc::closed, "watch closed");
    }
    SqliteMetaStore& store = *state->store;
    if (state->next_revision > store.committed_revision_) {
      WAL_ASSERT(!state->wake);  // one next() at a time
      Completion<bool> wake(*state->executor);
      state->wake = wake;
      store.arm_poll_timer();  // another process may commit: nothing here would wake us
      const bool woken = co_await wake.wait();
      WAL_ASSERT(woken);
      continue;
    }
    const int64_t next_revision = state->next_revision;
    auto job = [db = store.db_.get(), interval = state->interval, next_revision] {
      return db->watch_batch(interval, next_revision);
    };
    Result<WatchBatch> batch = co_await store.pool_->run(std::move(job));
    if (state->closed || state->store == nullptr) {
      co_return make_error(Errc::closed, "watch closed");
    }
    if (!batch.ok()) co_return std::move(batch).error();
    WAL_ASSERT_EQ(state->next_revision, next_revision);
    if (!batch->events.empty()) {
      WAL_ASSERT(batch->revision >= next_revision);
      state->next_revision = batch->revision + 1;
      co_return std::move(batch->events);
    }
    state->next_revision = std::max(next_revision, batch->scanned_revision + 1);
  }
}

// ---- open and close ----

namespace {
struct Opened {
  std::shared_ptr<SqliteMetaDb> db;
  OpenedState state;
};
}  // namespace

Task<Result<std::unique_ptr<SqliteMetaStore>>> SqliteMetaStore::open(Executor& executor,
                                                                     Clock& clock,
                                                                     std::string path,
                                                                     SqliteMetaOptions options) {
  if (path.empty()) co_return make_error(Errc::invalid_argument, "sqlite meta store: no path");
  if (options.history_revisions_kept < 0 || options.history_compaction_step_revisions < 1 ||
      options.watch_poll_interval <= Duration::zero()) {
    co_return make_error(Errc::invalid_argument, "sqlite meta store: bad options");
  }
  auto pool = std::make_unique<BlockingPool>(executor, 1);
  sqlite_meta::OpenOptions db_options;
  db_options.read_only = options.read_only;
  db_options.create = options.create && !options.read_only;
  db_options.history_revisions_kept = options.read_only ? 0 : options.history_revisions_kept;
  db_options.history_compaction_step_revisions = options.history_compaction_step_revisions;
  auto job = [path, db_options]() -> Result<Opened> {
    WAL_SQL_ASSIGN(std::shared_ptr<SqliteMetaDb> db, SqliteMetaDb::open(path, db_options));
    WAL_SQL_ASSIGN(OpenedState state, db->load());
    return Opened{std::move(db), std::move(state)};
  };
  Result<Opened> opened = co_await pool->run(std::move(job));
  if (!opened.ok()) co_return std::move(opened).error();
  WAL_ASSERT(opened->db != nullptr);
  co_return std::unique_ptr<SqliteMetaStore>(new SqliteMetaStore(
      executor, clock, std::move(path), options, std::move(pool), opened->db, opened->state));
}

SqliteMetaStore::SqliteMetaStore(Executor& executor, Clock& clock, std::string path,
                                 SqliteMetaOptions options, std::unique_ptr<BlockingPool> pool,
                                 std::shared_ptr<SqliteMetaDb> db, const OpenedState& state)
    : executor_(executor),
      clock_(clock),
      path_(std::move(path)),
      options_(options),
      pool_(std::move(pool)),
      db_(std::move(db)),
      scope_(std::make_unique<Scope>(executor)),
      committed_revision_(state.revision) {
  WAL_ASSERT(pool_ != nullptr);
  WAL_ASSERT(committed_revision_ >= meta_rules::revision_initial);
  // A read-only store cannot delete a lease's keys: it leaves expiry to a writable one.
  if (options_.read_only) return;
  // Deadlines restart now: see the header.
  const TimePoint now = clock_.now();
  for (const auto& [lease, ttl_seconds] : state.leases) {
    Lease& entry = leases_[lease];
    entry.ttl_seconds = ttl_seconds;
    arm_lease_timer(lease, entry, now + std::chrono::seconds(ttl_seconds));
  }
}

SqliteMetaStore::~SqliteMetaStore() {
  for (auto& [lease, state] : leases_) clock_.cancel(state.timer);
  clock_.cancel(poll_timer_);
  scope_.reset();  // drops expiry tasks in flight; their queued statements still run below
  for (auto& [watch_id, state] : watches_) {
    state->store = nullptr;
    wake(*state);
  }
  pool_.reset();  // runs what is queued, then joins: nothing touches db_ after this
  db_.reset();
}

// ---- reads and writes ----

Task<Result<RangeResponse>> SqliteMetaStore::range(RangeRequest request) {
  WAL_CO_TRY(meta_rules::validate_range(request));
  auto job = [db = db_.get(), request = std::move(request)] { return db->range(request); };
  Result<RangeResponse> response = co_await pool_->run(std::move(job));
  // Another process may have committed: let waiting watches look.
  if (response.ok()) note_commit(response->revision);
  co_return response;
}

Task<Result<TxnResponse>> SqliteMetaStore::txn(TxnRequest request) {
  WAL_CO_TRY(meta_rules::validate_txn(request));
  auto job = [db = db_.get(), request = std::move(request)] { return db->txn(request); };
  Result<TxnResponse> response = co_await pool_->run(std::move(job));
  if (response.ok()) note_commit(response->revision);
  co_return response;
}

Task<Status> SqliteMetaStore::compact(int64_t revision) {
  auto job = [db = db_.get(), revision] { return db->compact(revision); };
  co_return co_await pool_->run(std::move(job));
}

void SqliteMetaStore::note_commit(int64_t revision) {
  WAL_ASSERT(revision >= meta_rules::revision_initial);
  // Pool results reach the loop in commit order, but a read may report a revision before the
  // write that made it is noted: keep the maximum.
  if (revision <= committed_revision_) return;
  committed_revision_ = revision;
  for (auto& [watch_id, state] : watches_) wake(*state);
}

bool SqliteMetaStore::a_watch_waits() const {
  for (const auto& [watch_id, state] : watches_) {
    if (state->wake) return true;
  }
  return false;
}

void SqliteMetaStore::arm_poll_timer() {
  if (poll_timer_ != 0 || poll_running_) return;
  poll_timer_ = clock_.call_at(clock_.now() + options_.watch_poll_interval, [this] {
    poll_timer_ = 0;
    if (a_watch_waits()) scope_->spawn(poll_revision());
  });
  WAL_ASSERT(poll_timer_ != 0);
}

// One read of the revision; a higher one than this process committed is another process's
// commit, and wakes the watches (which then read the history for their keys).
Task<void> SqliteMetaStore::poll_revision() {
  WAL_ASSERT(!poll_running_);
  poll_running_ = true;
  auto job = [db = db_.get()] { return db->current_revision(); };
  Result<int64_t> revision = co_await pool_->run(std::move(job));
  poll_running_ = false;
  // A failed poll (a locked or failing disk) is tried again at the next interval; the watch's
  // own read reports a persistent failure.
  if (revision.ok()) note_commit(*revision);
  if (a_watch_waits()) arm_poll_timer();
}

// ---- watches ----

Task<Result<std::unique_ptr<Watch>>> SqliteMetaStore::watch(std::string key,
                                                            std::string range_end,
                                                            int64_t start_revision) {
  WAL_CO_TRY(meta_rules::validate_watch(key, start_revision));
  auto job = [db = db_.get(), start_revision] { return db->watch_first_revision(start_revision); };
  Result<int64_t> first = co_await pool_->run(std::move(job));
  if (!first.ok()) co_return std::move(first).error();
  auto state = std::make_shared<WatchState>();
  state->store = this;
  state->executor = &executor_;
  state->watch_id = next_watch_id_++;
  state->interval = meta_rules::key_interval(key, range_end);
  state->next_revision = *first;
  WAL_ASSERT(state->next_revision >= 1);
  const bool inserted = watches_.emplace(state->watch_id, state).second;
  WAL_ASSERT(inserted);
  co_return std::unique_ptr<Watch>(std::make_unique<SqliteWatch>(std::move(state)));
}

void SqliteMetaStore::wake(WatchState& state) {
  if (!state.wake) return;
  Completion<bool> waiter = std::move(*state.wake);
  state.wake.reset();
  waiter.set(true);
}

// ---- leases ----

Task<Result<LeaseId>> SqliteMetaStore::lease_grant(int64_t ttl_seconds) {
  WAL_CO_ASSIGN(const int64_t ttl, meta_rules::lease_ttl_effective(ttl_seconds));
  auto job = [db = db_.get(), ttl] { return db->lease_grant(ttl); };
  Result<LeaseId> lease = co_await pool_->run(std::move(job));
  if (!lease.ok()) co_return lease;
  Lease& state = leases_[*lease];
  WAL_ASSERT_EQ(state.ttl_seconds, int64_t{0});  // ids are never reused
  state.ttl_seconds = ttl;
  arm_lease_timer(*lease, state, clock_.now() + std::chrono::seconds(ttl));
  co_return lease;
}

Task<Result<int64_t>> SqliteMetaStore::lease_keep_alive(LeaseId lease) {
  const auto it = leases_.find(lease);
  if (it == leases_.end() || it->second.expired || it->second.revoking) {
    co_return make_error(Errc::not_found, "keep-alive: no lease " + std::to_string(lease));
  }
  Lease& state = it->second;
  arm_lease_timer(lease, state, clock_.now() + std::chrono::seconds(state.ttl_seconds));
  co_return state.ttl_seconds;
}

Task<Status> SqliteMetaStore::lease_revoke(LeaseId lease) {
  auto it = leases_.find(lease);
  if (it == leases_.end() || it->second.expired || it->second.revoking) {
    co_return make_error(Errc::not_found, "revoke: no lease " + std::to_string(lease));
  }
  it->second.revoking = true;
  auto job = [db = db_.get(), lease] { return db->lease_revoke(lease); };
  Result<int64_t> revision = co_await pool_->run(std::move(job));
  it = leases_.find(lease);
  WAL_ASSERT(it != leases_.end());  // only a finished revoke removes a revoking lease
  if (!revision.ok() && revision.error().code != Errc::not_found) {
    it->second.revoking = false;  // definite or not, the lease stays until a revoke settles
    co_return std::move(revision).error();
  }
  forget_lease(lease);
  if (!revision.ok()) co_return std::move(revision).error();
  note_commit(*revision);
  co_return Status{};
}

void SqliteMetaStore::forget_lease(LeaseId lease) {
  const auto it = leases_.find(lease);
  WAL_ASSERT(it != leases_.end());
  clock_.cancel(it->second.timer);
  leases_.erase(it);
}

void SqliteMetaStore::arm_lease_timer(LeaseId lease, Lease& state, TimePoint when) {
  WAL_ASSERT(state.ttl_seconds >= limits::meta_lease_ttl_seconds_min);
  clock_.cancel(state.timer);
  if (!state.expired) state.deadline = when;
  state.timer = clock_.call_at(when, [this, lease] { on_lease_timer(lease); });
  WAL_ASSERT(state.timer != 0);
}

void SqliteMetaStore::on_lease_timer(LeaseId lease) {
  const auto it = leases_.find(lease);
  if (it == leases_.end()) return;
  Lease& state = it->second;
  state.timer = 0;
  if (state.revoking) {
    // An explicit revoke is on the pool; look again once it had time to settle.
    arm_lease_timer(lease, state, clock_.now() + lease_expiry_retry_delay);
    return;
  }
  if (!state.expired && clock_.now() < state.deadline) {
    arm_lease_timer(lease, state, state.deadline);  // cancelled timers never run; just in case
    return;
  }
  state.expired = true;
  state.revoking = true;
  scope_->spawn(expire_lease(lease));
}

Task<void> SqliteMetaStore::expire_lease(LeaseId lease) {
  auto job = [db = db_.get(), lease] { return db->lease_revoke(lease); };
  Result<int64_t> revision = co_await pool_->run(std::move(job));
  const auto it = leases_.find(lease);
  WAL_ASSERT(it != leases_.end());
  WAL_ASSERT(it->second.expired);
  if (revision.ok() || revision.error().code == Errc::not_found) {
    forget_lease(lease);
    if (revision.ok()) note_commit(*revision);
    co_return;
  }
  // The keys must still go: try again later. keep-alive keeps saying not_found meanwhile.
  it->second.revoking = false;
  arm_lease_timer(lease, it->second, clock_.now() + lease_expiry_retry_delay);
}

}  // namespace wal
