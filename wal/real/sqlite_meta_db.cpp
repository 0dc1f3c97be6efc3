// SqliteMetaDb: the connection, its configuration and schema, statements, transactions and the
// meta table. The MetaStore operations themselves are in sqlite_meta_ops.cpp.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "sqlite_meta_db.h"

namespace wal::sqlite_meta {

namespace {

constexpr int64_t schema_version = 1;

// Runs in one transaction when a database is created; harmless on an existing one.
constexpr const char* schema_sql = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv(key BLOB PRIMARY KEY, value BLOB NOT NULL,
  create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL, version INTEGER NOT NULL,
  lease INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_by_lease ON kv(lease);
CREATE TABLE IF NOT EXISTS history(key BLOB NOT NULL, revision INTEGER NOT NULL,
  seq INTEGER NOT NULL, type INTEGER NOT NULL, value BLOB, create_rev INTEGER NOT NULL,
  mod_rev INTEGER NOT NULL, version INTEGER NOT NULL, lease INTEGER NOT NULL,
  PRIMARY KEY(key, revision)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS history_by_revision ON history(revision, seq);
CREATE TABLE IF NOT EXISTS leases(id INTEGER PRIMARY KEY, ttl_seconds INTEGER NOT NULL);
INSERT OR IGNORE INTO meta(name, value) VALUES ('schema_version', 1), ('revision', 1),
  ('compacted_revision', 0), ('next_lease_id', 1);
COMMIT;
)sql";

// Per connection, also on a read-only one (the temp database is always writable): compact()'s
// statements are prepared at open and name it.
constexpr const char* temp_schema_sql =
    "CREATE TEMP TABLE IF NOT EXISTS compact_keep(key BLOB PRIMARY KEY, "
    "revision INTEGER NOT NULL)";

constexpr const char* kv_columns = "key, value, create_rev, mod_rev, version, lease";

std::string sql_text(Sql sql) {
  const std::string columns = kv_columns;
  switch (sql) {
    case Sql::begin_read: return "BEGIN DEFERRED";
    case Sql::begin_write: return "BEGIN IMMEDIATE";
    case Sql::commit: return "COMMIT";
    case Sql::rollback: return "ROLLBACK";
    case Sql::meta_all: return "SELECT name, value FROM meta";
    case Sql::meta_set: return "UPDATE meta SET value = ?2 WHERE name = ?1";
    case Sql::kv_get: return "SELECT " + columns + " FROM kv WHERE key = ?1";
    case Sql::kv_range:
      return "SELECT " + columns +
             " FROM kv WHERE key >= ?1 AND (?2 IS NULL OR key < ?2) ORDER BY key LIMIT ?3";
    case Sql::kv_put:
      return "INSERT OR REPLACE INTO kv(" + columns + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
    case Sql::kv_delete: return "DELETE FROM kv WHERE key = ?1";
    case Sql::kv_by_lease: return "SELECT " + columns + " FROM kv WHERE lease = ?1 ORDER BY key";
    case Sql::history_insert:
      return "INSERT INTO history(key, revision, seq, type, value, create_rev, mod_rev, "
             "version, lease) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
    case Sql::history_range_at:
      // Per key, the newest row at or below ?3, if it is a put (see the schema notes).
      return "SELECT " + columns +
             " FROM history AS h WHERE h.key >= ?1 AND (?2 IS NULL OR h.key < ?2) AND "
             "h.type = 0 AND h.revision = (SELECT MAX(h2.revision) FROM history AS h2 "
             "WHERE h2.key = h.key AND h2.revision <= ?3) ORDER BY h.key LIMIT ?4";
    case Sql::history_first_revision:
      return "SELECT MIN(revision) FROM history WHERE revision >= ?1 AND key >= ?2 AND "
             "(?3 IS NULL OR key < ?3)";
    case Sql::history_events_at:
      return "SELECT type, " + columns +
             " FROM history WHERE revision = ?1 AND key >= ?2 AND (?3 IS NULL OR key < ?3) "
             "ORDER BY seq";
    case Sql::lease_get: return "SELECT ttl_seconds FROM leases WHERE id = ?1";
    case Sql::lease_insert: return "INSERT INTO leases(id, ttl_seconds) VALUES (?1, ?2)";
    case Sql::lease_delete: return "DELETE FROM leases WHERE id = ?1";
    case Sql::lease_all: return "SELECT id, ttl_seconds FROM leases ORDER BY id";
    case Sql::compact_clear: return "DELETE FROM temp.compact_keep";
    case Sql::compact_fill:
      return "INSERT INTO temp.compact_keep(key, revision) SELECT key, MAX(revision) "
             "FROM history WHERE revision < ?1 GROUP BY key";
    case Sql::compact_delete:
      // Below ?1 keep only each key's newest row, and only if it is a put.
      return "DELETE FROM history WHERE revision < ?1 AND (type = 1 OR revision < "
             "(SELECT k.revision FROM temp.compact_keep AS k WHERE k.key = history.key))";
    case Sql::count_: break;
  }
  WAL_UNREACHABLE();
}

Status exec(sqlite3* db, const char* sql, std::string_view what) {
  WAL_ASSERT(db != nullptr);
  WAL_ASSERT(sql != nullptr);
  const int code = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) return sqlite_error(db, code, what);
  return {};
}

}  // namespace

Error sqlite_error(sqlite3* db, int code, std::string_view what, Outcome outcome) {
  WAL_ASSERT(code != SQLITE_OK);
  WAL_ASSERT(code != SQLITE_ROW && code != SQLITE_DONE);
  Errc errc = Errc::io_error;
  // A full disk shows as SQLITE_FULL only where SQLite writes pages; growing the WAL index
  // (-shm) or the WAL file reports SQLITE_IOERR_* instead. The OS error tells them apart.
  const int os_error = db == nullptr ? 0 : sqlite3_system_errno(db);
  switch (code & 0xff) {
    case SQLITE_FULL: errc = Errc::no_space; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: errc = Errc::corrupt; break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: errc = Errc::unavailable; break;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH: errc = Errc::permission_denied; break;
    default: errc = Errc::io_error; break;
  }
  if (errc == Errc::io_error && (os_error == ENOSPC || os_error == EDQUOT)) errc = Errc::no_space;
  std::string message = "sqlite: " + std::string(what) + ": " + sqlite3_errstr(code);
  if (db != nullptr && sqlite3_errcode(db) == code) {
    message += std::string(": ") + sqlite3_errmsg(db);
  }
  message += " (code " + std::to_string(code) + ")";
  return Error{errc, outcome, std::move(message)};
}

// ---- Query ----

Query::Query(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {
  WAL_ASSERT(db_ != nullptr);
  WAL_ASSERT(statement_ != nullptr);
}

Query::~Query() {
  // reset() repeats the last step's error, which the caller already got from step().
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

Query& Query::bind_blob(int index, std::string_view bytes) {
  // A null pointer would bind SQL NULL, not an empty blob.
  const int code = bytes.data() == nullptr
                       ? sqlite3_bind_zeroblob(statement_, index, 0)
                       : sqlite3_bind_blob64(statement_, index, bytes.data(), bytes.size(),
                                             SQLITE_TRANSIENT);
  WAL_ASSERT_EQ(code, SQLITE_OK);  // bad index or out of memory: a programming error
  return *this;
}

Query& Query::bind_text(int index, std::string_view text) {
  const int code = sqlite3_bind_text64(statement_, index, text.data(), text.size(),
                                       SQLITE_TRANSIENT, SQLITE_UTF8);
  WAL_ASSERT_EQ(code, SQLITE_OK);
  return *this;
}

Query& Query::bind_int(int index, int64_t number) {
  const int code = sqlite3_bind_int64(statement_, index, number);
  WAL_ASSERT_EQ(code, SQLITE_OK);
  return *this;
}

Query& Query::bind_null(int index) {
  const int code = sqlite3_bind_null(statement_, index);
  WAL_ASSERT_EQ(code, SQLITE_OK);
  return *this;
}

Result<bool> Query::step() {
  const int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  return sqlite_error(db_, code, sqlite3_sql(statement_));
}

Status Query::run() {
  Result<bool> row = step();
  if (!row.ok()) return std::move(row).error();
  WAL_ASSERT(!*row);  // callers only run statements that return nothing
  return {};
}

bool Query::column_is_null(int index) const {
  return sqlite3_column_type(statement_, index) == SQLITE_NULL;
}
int64_t Query::column_int(int index) const { return sqlite3_column_int64(statement_, index); }
std::string Query::column_blob(int index) const {
  const void* bytes = sqlite3_column_blob(statement_, index);
  const int size = sqlite3_column_bytes(statement_, index);
  if (bytes == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(bytes), static_cast<size_t>(size));
}

// ---- SqliteMetaDb: connection ----

namespace {

// A "file:" URI for `path` with `parameters` (SQLite needs a URI for mode=ro and immutable=1).
// '%', '?' and '#' would end or change the path part, so they are escaped.
std::string file_uri(const std::string& path, std::string_view parameters) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string uri = "file:";
  for (const char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      uri.push_back('%');
      uri.push_back(digits[static_cast<uint8_t>(c) >> 4]);
      uri.push_back(digits[static_cast<uint8_t>(c) & 0xF]);
    } else {
      uri.push_back(c);
    }
  }
  if (!parameters.empty()) {
    uri += "?";
    uri += parameters;
  }
  return uri;
}

Result<sqlite3*> open_handle(const std::string& path, const std::string& uri, int flags) {
  sqlite3* handle = nullptr;
  const int code = sqlite3_open_v2(uri.c_str(), &handle, flags | SQLITE_OPEN_URI, nullptr);
  if (code != SQLITE_OK) {
    Error error = sqlite_error(handle, code, "open " + path);
    sqlite3_close_v2(handle);  // a failed open still allocates a handle (or leaves it null)
    return error;
  }
  WAL_ASSERT(handle != nullptr);
  return handle;
}

bool directory_writable(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  return ::access(directory.c_str(), W_OK) == 0;
}

bool wal_file_holds_frames(const std::string& path) {
  struct stat info {};
  return ::stat((path + "-wal").c_str(), &info) == 0 && info.st_size > 0;
}

// A read-only copy of a data directory has no writable directory for the WAL index (-shm).
// Opening it immutable is then exact as long as no WAL file holds committed transactions that
// were not checkpointed into the database: a store closed cleanly leaves none.
Result<sqlite3*> open_read_only(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return make_error(errno == ENOENT ? Errc::not_found : Errc::io_error,
                      "sqlite: open " + path + ": " + std::strerror(errno));
  }
  const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
  if (directory_writable(path) || ::access((path + "-shm").c_str(), R_OK) == 0) {
    return open_handle(path, file_uri(path, "mode=ro"), flags);
  }
  if (wal_file_holds_frames(path)) {
    return make_error(Errc::permission_denied,
                      "sqlite: " + path + " is in a read-only directory and its -wal file holds "
                      "transactions not yet in the database: open it once where it is writable "
                      "(or copy the directory) so they are checkpointed");
  }
  return open_handle(path, file_uri(path, "mode=ro&immutable=1"), flags);
}

}  // namespace

Result<std::shared_ptr<SqliteMetaDb>> SqliteMetaDb::open(const std::string& path,
                                                          const OpenOptions& options) {
  WAL_ASSERT(!path.empty());
  if (options.read_only) WAL_ASSERT(!options.create);
  Result<sqlite3*> handle = make_error(Errc::io_error, "not opened");
  if (options.read_only) {
    handle = open_read_only(path);
  } else {
    struct stat info {};
    if (!options.create && ::stat(path.c_str(), &info) != 0 && errno == ENOENT) {
      return make_error(Errc::not_found, "sqlite: no database at " + path);
    }
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                      (options.create ? SQLITE_OPEN_CREATE : 0);
    handle = open_handle(path, file_uri(path, ""), flags);
  }
  if (!handle.ok()) return std::move(handle).error();
  std::shared_ptr<SqliteMetaDb> db(new SqliteMetaDb(*handle, options));
  if (Status s = db->configure(); !s) return std::move(s).error();
  if (Status s = db->prepare_all(); !s) return std::move(s).error();
  WAL_ASSERT(db->statements_.back() != nullptr);
  return db;
}

SqliteMetaDb::~SqliteMetaDb() {
  for (sqlite3_stmt* statement : statements_) sqlite3_finalize(statement);
  // With every statement finalized this closes now; the last connection to close checkpoints
  // the WAL file into the database and removes it.
  const int code = sqlite3_close_v2(db_);
  WAL_ASSERT_EQ(code, SQLITE_OK);
}

Status SqliteMetaDb::configure() {
  sqlite3_extended_result_codes(db_, 1);
  // Normal locking: other processes (a `wp tail -f` beside a `wp append`) use the file too.
  // SQLite serialises their writes; a writer waits for another's lock up to the timeout.
  const int code = sqlite3_busy_timeout(db_, busy_timeout_ms);
  if (code != SQLITE_OK) return sqlite_error(db_, code, "busy_timeout");
  if (!options_.read_only) {
    if (Status s = configure_writable(); !s) return s;
  }  // read-only: nothing may be written to the database, not even the journal mode
  return exec(db_, temp_schema_sql, "create temp schema");
}

Status SqliteMetaDb::configure_writable() {
  {
    sqlite3_stmt* statement = nullptr;
    int code = sqlite3_prepare_v2(db_, "PRAGMA journal_mode = WAL", -1, &statement, nullptr);
    if (code != SQLITE_OK) return sqlite_error(db_, code, "journal_mode");
    std::string mode;
    code = sqlite3_step(statement);
    if (code == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(statement, 0);
      mode = text == nullptr ? "" : reinterpret_cast<const char*>(text);
    }
    sqlite3_finalize(statement);
    if (code != SQLITE_ROW) return sqlite_error(db_, code, "journal_mode");
    if (mode != "wal") return make_error(Errc::io_error, "sqlite: cannot use WAL mode: " + mode);
  }
  // FULL: every commit syncs the WAL file, so an acknowledged txn survives power loss.
  if (Status s = exec(db_, "PRAGMA synchronous = FULL", "synchronous"); !s) return s;
  if (Status s = exec(db_, schema_sql, "create schema"); !s) {
    if (sqlite3_get_autocommit(db_) == 0) {
      ignore_result(exec(db_, "ROLLBACK", "rollback schema"));  // the schema error is the news
    }
    return s;
  }
  return {};
}

Status SqliteMetaDb::prepare_all() {
  for (size_t index = 0; index < statements_.size(); ++index) {
    WAL_ASSERT(statements_[index] == nullptr);
    const std::string sql = sql_text(static_cast<Sql>(index));
    const int code = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT,
                                        &statements_[index], nullptr);
    if (code != SQLITE_OK) return sqlite_error(db_, code, "prepare " + sql);
  }
  return {};
}

Query SqliteMetaDb::query(Sql sql) {
  WAL_ASSERT(sql != Sql::count_);
  return Query(db_, statements_[static_cast<size_t>(sql)]);
}

// ---- transactions ----

Status SqliteMetaDb::Transaction::begin(bool write) {
  WAL_ASSERT(!open_);
  WAL_ASSERT(sqlite3_get_autocommit(db_.db_) != 0);  // no transaction left open elsewhere
  write_ = write;
  if (Status s = db_.query(write ? Sql::begin_write : Sql::begin_read).run(); !s) return s;
  open_ = true;
  return {};
}

Status SqliteMetaDb::Transaction::commit() {
  WAL_ASSERT(open_);
  Status status = db_.query(Sql::commit).run();
  open_ = sqlite3_get_autocommit(db_.db_) == 0;  // still open if COMMIT failed with BUSY
  // SQLITE_FULL is definite (see the header); an I/O error, even one caused by a full disk
  // (a failed fsync), is not.
  const bool full = (sqlite3_extended_errcode(db_.db_) & 0xff) == SQLITE_FULL;
  if (!status.ok() && write_ && !full) {
    Error error = std::move(status).error();
    error.outcome = Outcome::unknown;  // the WAL frames may be on disk already
    return error;
  }
  return status;
}

SqliteMetaDb::Transaction::~Transaction() {
  if (!open_ || sqlite3_get_autocommit(db_.db_) != 0) return;
  // Rolling back after an error: the first error is what the caller reports; a failing
  // rollback leaves nothing committed either (SQLite undoes it on the next open).
  ignore_result(db_.query(Sql::rollback).run());
}

// ---- meta ----

Result<SqliteMetaDb::Meta> SqliteMetaDb::read_meta() {
  WAL_ASSERT(sqlite3_get_autocommit(db_) == 0);  // inside a transaction
  Meta meta;
  int64_t version = 0;
  Query rows = query(Sql::meta_all);
  while (true) {
    Result<bool> row = rows.step();
    if (!row.ok()) return std::move(row).error();
    if (!*row) break;
    const std::string name = rows.column_blob(0);
    const int64_t value = rows.column_int(1);
    if (name == "schema_version") version = value;
    if (name == "revision") meta.revision = value;
    if (name == "compacted_revision") meta.compacted_revision = value;
    if (name == "next_lease_id") meta.next_lease_id = value;
  }
  if (version != schema_version) {
    return make_error(Errc::corrupt, "sqlite meta store: schema_version " +
                                         std::to_string(version) + ", expected 1");
  }
  if (meta.revision < meta_rules::revision_initial || meta.compacted_revision < 0 ||
      meta.compacted_revision > meta.revision || meta.next_lease_id < 1) {
    return make_error(Errc::corrupt, "sqlite meta store: inconsistent meta table (revision " +
                                         std::to_string(meta.revision) + ", compacted " +
                                         std::to_string(meta.compacted_revision) + ")");
  }
  return meta;
}

Status SqliteMetaDb::write_meta(std::string_view name, int64_t value) {
  WAL_ASSERT(sqlite3_get_autocommit(db_) == 0);
  WAL_ASSERT(value >= 0);
  Query update = query(Sql::meta_set);
  if (Status s = update.bind_text(1, name).bind_int(2, value).run(); !s) return s;
  if (sqlite3_changes(db_) != 1) {
    return make_error(Errc::corrupt, "sqlite meta store: meta row missing: " + std::string(name));
  }
  return {};
}

Result<OpenedState> SqliteMetaDb::load() {
  Transaction transaction(*this);
  if (Status s = transaction.begin(false); !s) return std::move(s).error();
  Result<Meta> meta = read_meta();
  if (!meta.ok()) return std::move(meta).error();
  OpenedState state;
  state.revision = meta->revision;
  state.compacted_revision = meta->compacted_revision;
  {
    Query rows = query(Sql::lease_all);
    while (true) {
      Result<bool> row = rows.step();
      if (!row.ok()) return std::move(row).error();
      if (!*row) break;
      const LeaseId lease = rows.column_int(0);
      const int64_t ttl_seconds = rows.column_int(1);
      if (lease < 1 || lease >= meta->next_lease_id ||
          ttl_seconds < limits::meta_lease_ttl_seconds_min ||
          ttl_seconds > meta_rules::lease_ttl_seconds_max) {
        return make_error(Errc::corrupt, "sqlite meta store: bad lease row " +
                                             std::to_string(lease));
      }
      state.leases.emplace_back(lease, ttl_seconds);
    }
  }
  if (Status s = transaction.commit(); !s) return std::move(s).error();
  WAL_ASSERT(state.revision >= meta_rules::revision_initial);
  return state;
}

}  // namespace wal::sqlite_meta
