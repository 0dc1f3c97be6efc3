#pragma once
// Internals of SqliteMetaStore (wal/include/wal/real/sqlite_meta_store.h): the blocking half.
// Private to wal/real/sqlite_*.cpp.
//
// SqliteMetaDb owns one SQLite connection and runs every statement. It must be used by one
// thread at a time: the store's one-thread BlockingPool. Each public method is one SQLite
// transaction; a write method's changes are durable (synchronous=FULL) when it returns ok.
// Several connections, in this process or others, may use one database file at once (WAL
// journal mode, normal locking): SQLite serialises their write transactions, and a connection
// waits up to busy_timeout_ms for another's write lock before it reports unavailable.
//
// ---- Schema (schema_version 1) ---------------------------------------------------------------
//   meta(name TEXT PRIMARY KEY, value INTEGER)
//       schema_version, revision (current store revision), compacted_revision (0: never),
//       next_lease_id.
//   kv(key BLOB PRIMARY KEY, value, create_rev, mod_rev, version, lease)   the current keys.
//   history(key BLOB, revision, seq, type, value, create_rev, mod_rev, version, lease,
//           PRIMARY KEY(key, revision))
//       every change: type 0 = put (the new KeyValue), 1 = remove (mod_rev = deleting
//       revision, other fields 0). seq orders the changes of one revision (op order). A key
//       changes at most once per revision because a txn branch may write a key only once
//       (meta_rules::validate_branch), which is what makes (key, revision) a primary key.
//       compact(C) deletes every row below C except, per key, its newest row below C when that
//       row is a put: that row is the key's value at C unless a row at C or later replaces it.
//       So the state at any R >= C is "per key, the newest row <= R, if it is a put".
//       Automatic compaction (OpenOptions::history_revisions_kept) keeps the table bounded.
//   leases(id INTEGER PRIMARY KEY, ttl_seconds)
//       lease deadlines are not stored: there is no clock that survives a restart, so every
//       deadline restarts from the moment the store opens (see the store's header).
//
// ---- Errors -----------------------------------------------------------------------------------
// SQLITE_FULL -> no_space; SQLITE_CORRUPT / SQLITE_NOTADB -> corrupt; SQLITE_BUSY / LOCKED
// (another connection holds the write lock past busy_timeout_ms) -> unavailable; SQLITE_PERM /
// READONLY / AUTH -> permission_denied; everything else -> io_error. Messages carry SQLite's
// text. Errors are definite, except a failed COMMIT of a write, which is unknown: the WAL frames
// may have reached the disk. A COMMIT that fails with SQLITE_FULL is definite: a write() of its
// frames failed, so its commit frame is not complete on disk, and SQLite rolled it back. Rows
// that break the schema's invariants are reported as corrupt.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wal/core/result.h"
#include "wal/env/meta_rules.h"
#include "wal/env/meta_store.h"

struct sqlite3;
struct sqlite3_stmt;

// Early return of a failed Status or Result in the (non-coroutine) pool-thread code.
#define WAL_SQL_TRY(expr)                                                   \
  do {                                                                      \
    auto wal_sql_result_ = (expr);                                          \
    if (!wal_sql_result_.ok()) return std::move(wal_sql_result_).error();   \
  } while (false)
#define WAL_SQL_ASSIGN(lhs, expr) WAL_SQL_ASSIGN_IMPL_(WAL_CONCAT_(wal_sql_, __LINE__), lhs, expr)
#define WAL_SQL_ASSIGN_IMPL_(tmp, lhs, expr)        \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).error();     \
  lhs = std::move(tmp).value()

namespace wal::sqlite_meta {

[[nodiscard]] Error sqlite_error(sqlite3* db, int code, std::string_view what,
                                 Outcome outcome = Outcome::definite);

// One use of a prepared statement: bind, step, read columns. Resets the statement (and clears
// its bindings) when destroyed, so a half-read SELECT never holds a transaction open.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* statement);
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind_blob(int index, std::string_view bytes);
  Query& bind_text(int index, std::string_view text);
  Query& bind_int(int index, int64_t number);
  Query& bind_null(int index);
  // ok(true): a row is ready; ok(false): done.
  [[nodiscard]] Result<bool> step();
  // Steps to the end; the statement must return no rows.
  [[nodiscard]] Status run();

  [[nodiscard]] bool column_is_null(int index) const;
  [[nodiscard]] int64_t column_int(int index) const;
  [[nodiscard]] std::string column_blob(int index) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
};

// The prepared statements, by job. Their SQL is in sqlite_meta_db.cpp.
enum class Sql : uint8_t {
  begin_read,
  begin_write,
  commit,
  rollback,
  meta_all,
  meta_set,
  kv_get,
  kv_range,
  kv_put,
  kv_delete,
  kv_by_lease,
  history_insert,
  history_range_at,
  history_first_revision,
  history_events_at,
  lease_get,
  lease_insert,
  lease_delete,
  lease_all,
  compact_clear,
  compact_fill,
  compact_delete,
  count_,
};

struct OpenedState {
  int64_t revision = 0;
  int64_t compacted_revision = 0;
  std::vector<std::pair<LeaseId, int64_t>> leases;  // id, ttl_seconds; by id
};

struct WatchBatch {
  int64_t revision = 0;               // the revision of `events`; 0 if there are none
  std::vector<WatchEvent> events;     // one revision's events in the interval, op order
  int64_t scanned_revision = 0;       // when `events` is empty: nothing up to here matched
};

// How long a statement waits for another connection's write lock. Write transactions here take
// milliseconds, so 5 s only runs out when another process holds the lock and is stuck (or the
// disk is); then the caller gets unavailable instead of waiting for ever.
inline constexpr int busy_timeout_ms = 5000;

struct OpenOptions {
  // Open without writing anything: no schema creation, no journal mode change. A database in a
  // directory we cannot write (a read-only copy) is opened immutable, if no WAL file holds
  // transactions that were not checkpointed (a cleanly closed store never leaves one).
  bool read_only = false;
  // Create the file if it is missing (never in read_only mode).
  bool create = true;
  // After each write, if the history holds more than this many revisions plus
  // history_compaction_step_revisions, compact it down to this many. 0: never automatically.
  int64_t history_revisions_kept = 0;
  int64_t history_compaction_step_revisions = 1000;
};

class SqliteMetaDb {
 public:
  // Opens (or with options.create creates) the database at `path`, sets the pragmas, creates
  // the schema if absent, prepares the statements. corrupt: not a database of ours;
  // not_found: no file and !create; permission_denied / io_error: cannot open it.
  [[nodiscard]] static Result<std::shared_ptr<SqliteMetaDb>> open(const std::string& path,
                                                                  const OpenOptions& options);
  ~SqliteMetaDb();
  SqliteMetaDb(const SqliteMetaDb&) = delete;
  SqliteMetaDb& operator=(const SqliteMetaDb&) = delete;

  // What the loop side needs at open: revisions and the persisted leases (validated).
  [[nodiscard]] Result<OpenedState> load();
  // These assume a request that passed meta_rules validation (the loop side checks first).
  [[nodiscard]] Result<RangeResponse> range(const RangeRequest& request);
  [[nodiscard]] Result<TxnResponse> txn(const TxnRequest& request);
  [[nodiscard]] Result<LeaseId> lease_grant(int64_t ttl_seconds);
  // Deletes the lease and its keys (one revision if it had keys); returns the store revision
  // after. not_found: no such lease.
  [[nodiscard]] Result<int64_t> lease_revoke(LeaseId lease);
  [[nodiscard]] Status compact(int64_t revision);
  // The store's current revision (for watches woken by other processes' commits).
  [[nodiscard]] Result<int64_t> current_revision();
  // Where a watch from `start_revision` (0: next) begins; compacted if it is gone.
  [[nodiscard]] Result<int64_t> watch_first_revision(int64_t start_revision);
  // The first revision >= `next_revision` with changes in `interval`.
  [[nodiscard]] Result<WatchBatch> watch_batch(const meta_rules::KeyInterval& interval,
                                               int64_t next_revision);

 private:
  struct Meta {
    int64_t revision = 0;
    int64_t compacted_revision = 0;
    int64_t next_lease_id = 0;
  };
  // A transaction that rolls back unless committed.
  class Transaction {
   public:
    explicit Transaction(SqliteMetaDb& db) : db_(db) {}
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    [[nodiscard]] Status begin(bool write);
    // A failed commit of a write transaction has an unknown outcome.
    [[nodiscard]] Status commit();

   private:
    SqliteMetaDb& db_;
    bool open_ = false;
    bool write_ = false;
  };

  SqliteMetaDb(sqlite3* db, const OpenOptions& options) : db_(db), options_(options) {}
  [[nodiscard]] Status configure();
  [[nodiscard]] Status configure_writable();
  // Compacts the history after a write that moved the revision to `revision`, if it is due.
  // Best effort: a failure leaves the history longer, which is harmless.
  void maybe_compact_history(int64_t revision, int64_t compacted_revision);
  [[nodiscard]] Status prepare_all();
  [[nodiscard]] Query query(Sql sql);
  [[nodiscard]] Result<Meta> read_meta();
  [[nodiscard]] Status write_meta(std::string_view name, int64_t value);
  [[nodiscard]] Result<std::optional<KeyValue>> get_kv(const std::string& key);
  [[nodiscard]] Result<std::vector<KeyValue>> select_kvs(Query& query, int64_t limit,
                                                         bool& more);
  [[nodiscard]] Result<RangeResponse> read_range(const RangeRequest& request,
                                                 int64_t revision_current, bool writes_pending);
  [[nodiscard]] Result<bool> evaluate_compares(const std::vector<Compare>& compares);
  [[nodiscard]] Status check_preconditions(const std::vector<TxnOp>& ops, const Meta& meta);
  [[nodiscard]] Status apply_ops(const std::vector<TxnOp>& ops, const Meta& meta,
                                 TxnResponse& response, int64_t& seq);
  [[nodiscard]] Status apply_put(const PutOp& put, int64_t write_revision, int64_t& seq);
  [[nodiscard]] Result<int64_t> apply_delete(const DeleteOp& del, int64_t write_revision,
                                             int64_t& seq);
  [[nodiscard]] Status remove_kv(const KeyValue& kv, int64_t write_revision, int64_t& seq);
  [[nodiscard]] Result<std::vector<WatchEvent>> events_at(const meta_rules::KeyInterval& interval,
                                                          int64_t revision);

  sqlite3* db_;
  OpenOptions options_;
  std::array<sqlite3_stmt*, static_cast<size_t>(Sql::count_)> statements_{};
};

}  // namespace wal::sqlite_meta
