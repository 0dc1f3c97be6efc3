// SqliteMetaDb: the MetaStore operations, each one SQLite transaction on the pool thread.
#include <sqlite3.h>

#include <string>
#include <variant>

#include "sqlite_meta_db.h"

namespace wal::sqlite_meta {

namespace {

constexpr int64_t history_type_put = 0;
constexpr int64_t history_type_remove = 1;

// Reads the six kv columns starting at `first`. Rows come from disk: check, never assert.
Result<KeyValue> kv_from_row(const Query& row, int first) {
  KeyValue kv;
  kv.key = row.column_blob(first);
  kv.value = row.column_blob(first + 1);
  kv.create_revision = row.column_int(first + 2);
  kv.mod_revision = row.column_int(first + 3);
  kv.version = row.column_int(first + 4);
  kv.lease = row.column_int(first + 5);
  if (kv.key.empty() || kv.create_revision < 1 || kv.mod_revision < kv.create_revision ||
      kv.version < 1 || kv.lease < 0) {
    return make_error(Errc::corrupt, "sqlite meta store: bad key row for '" + kv.key + "'");
  }
  return kv;
}

void bind_interval(Query& query, int first, const meta_rules::KeyInterval& interval) {
  query.bind_blob(first, interval.begin);
  if (interval.end) {
    query.bind_blob(first + 1, *interval.end);
  } else {
    query.bind_null(first + 1);
  }
}

Status insert_history(Query& insert, const KeyValue& kv, int64_t type, int64_t revision,
                      int64_t seq) {
  WAL_ASSERT(type == history_type_put || type == history_type_remove);
  WAL_ASSERT(kv.mod_revision == revision);
  insert.bind_blob(1, kv.key).bind_int(2, revision).bind_int(3, seq).bind_int(4, type);
  if (type == history_type_put) {
    insert.bind_blob(5, kv.value);
  } else {
    insert.bind_null(5);
  }
  insert.bind_int(6, kv.create_revision).bind_int(7, kv.mod_revision);
  return insert.bind_int(8, kv.version).bind_int(9, kv.lease).run();
}

}  // namespace

// ---- reads ----

Result<std::optional<KeyValue>> SqliteMetaDb::get_kv(const std::string& key) {
  WAL_ASSERT(!key.empty());
  Query row = query(Sql::kv_get);
  row.bind_blob(1, key);
  WAL_SQL_ASSIGN(const bool found, row.step());
  if (!found) return std::optional<KeyValue>();
  WAL_SQL_ASSIGN(KeyValue kv, kv_from_row(row, 0));
  if (kv.key != key) return make_error(Errc::corrupt, "sqlite meta store: kv index mismatch");
  return std::optional<KeyValue>(std::move(kv));
}

// The query returns at most limit + 1 rows (all when limit is 0); one more than `limit` means
// the range was cut.
Result<std::vector<KeyValue>> SqliteMetaDb::select_kvs(Query& rows, int64_t limit, bool& more) {
  WAL_ASSERT(limit >= 0);
  std::vector<KeyValue> kvs;
  more = false;
  while (true) {
    WAL_SQL_ASSIGN(const bool found, rows.step());
    if (!found) break;
    if (limit > 0 && static_cast<int64_t>(kvs.size()) == limit) {
      more = true;
      break;
    }
    WAL_SQL_ASSIGN(KeyValue kv, kv_from_row(rows, 0));
    if (!kvs.empty() && kvs.back().key >= kv.key) {
      return make_error(Errc::corrupt, "sqlite meta store: keys out of order");
    }
    kvs.push_back(std::move(kv));
  }
  if (limit > 0) WAL_ASSERT(static_cast<int64_t>(kvs.size()) <= limit);
  return kvs;
}

// A validated range inside an open transaction. The kv table is the latest state (with the
// txn's own writes); history serves older revisions, which the txn's writes never touch.
Result<RangeResponse> SqliteMetaDb::read_range(const RangeRequest& request,
                                               int64_t revision_current, bool writes_pending) {
  WAL_ASSERT(request.revision >= 0);
  WAL_ASSERT(request.revision <= revision_current);
  const meta_rules::KeyInterval interval = meta_rules::key_interval(request.key,
                                                                   request.range_end);
  const bool latest =
      request.revision == 0 || (request.revision == revision_current && !writes_pending);
  const int64_t limit_sql = request.limit == 0 ? -1 : request.limit + 1;  // -1: no limit
  Query rows = query(latest ? Sql::kv_range : Sql::history_range_at);
  bind_interval(rows, 1, interval);
  if (latest) {
    rows.bind_int(3, limit_sql);
  } else {
    rows.bind_int(3, request.revision).bind_int(4, limit_sql);
  }
  RangeResponse response;
  WAL_SQL_ASSIGN(response.kvs, select_kvs(rows, request.limit, response.more));
  return response;
}

Result<RangeResponse> SqliteMetaDb::range(const RangeRequest& request) {
  Transaction transaction(*this);
  WAL_SQL_TRY(transaction.begin(false));
  WAL_SQL_ASSIGN(const Meta meta, read_meta());
  WAL_SQL_TRY(meta_rules::check_read_revision(request.revision, meta.revision,
                                              meta.compacted_revision));
  WAL_SQL_ASSIGN(RangeResponse response, read_range(request, meta.revision, false));
  response.revision = meta.revision;
  WAL_SQL_TRY(transaction.commit());
  return response;
}

// ---- txn ----

Result<bool> SqliteMetaDb::evaluate_compares(const std::vector<Compare>& compares) {
  bool holds = true;
  for (const Compare& compare : compares) {
    WAL_SQL_ASSIGN(const std::optional<KeyValue> kv, get_kv(compare.key));
    holds = holds && meta_rules::compare_holds(compare, kv ? &*kv : nullptr);
  }
  return holds;
}

// What can fail in the chosen branch is checked before anything is written.
Status SqliteMetaDb::check_preconditions(const std::vector<TxnOp>& ops, const Meta& meta) {
  for (const TxnOp& op : ops) {
    if (const auto* range = std::get_if<RangeRequest>(&op)) {
      WAL_SQL_TRY(meta_rules::check_read_revision(range->revision, meta.revision,
                                                  meta.compacted_revision));
    } else if (const auto* put = std::get_if<PutOp>(&op); put != nullptr && put->lease != 0) {
      Query lease = query(Sql::lease_get);
      lease.bind_int(1, put->lease);
      WAL_SQL_ASSIGN(const bool found, lease.step());
      if (!found) {
        return make_error(Errc::not_found, "put " + put->key + ": no lease " +
                                               std::to_string(put->lease));
      }
    }
  }
  return {};
}

Status SqliteMetaDb::apply_ops(const std::vector<TxnOp>& ops, const Meta& meta,
                               TxnResponse& response, int64_t& seq) {
  WAL_ASSERT(seq == 0);
  WAL_ASSERT(response.results.empty());
  const int64_t write_revision = meta.revision + 1;
  for (const TxnOp& op : ops) {
    TxnOpResult& result = response.results.emplace_back();
    if (const auto* put = std::get_if<PutOp>(&op)) {
      WAL_SQL_TRY(apply_put(*put, write_revision, seq));
    } else if (const auto* del = std::get_if<DeleteOp>(&op)) {
      WAL_SQL_ASSIGN(result.deleted, apply_delete(*del, write_revision, seq));
    } else {
      WAL_SQL_ASSIGN(result.range,
                     read_range(std::get<RangeRequest>(op), meta.revision, seq > 0));
    }
  }
  return {};
}

Status SqliteMetaDb::apply_put(const PutOp& put, int64_t write_revision, int64_t& seq) {
  WAL_ASSERT(!put.key.empty());
  WAL_ASSERT(write_revision > 1);
  WAL_SQL_ASSIGN(const std::optional<KeyValue> previous, get_kv(put.key));
  KeyValue kv;
  kv.key = put.key;
  kv.value = put.value;
  kv.create_revision = previous ? previous->create_revision : write_revision;
  kv.mod_revision = write_revision;
  kv.version = previous ? previous->version + 1 : 1;
  kv.lease = put.lease;
  {
    Query upsert = query(Sql::kv_put);
    upsert.bind_blob(1, kv.key).bind_blob(2, kv.value).bind_int(3, kv.create_revision);
    WAL_SQL_TRY(upsert.bind_int(4, kv.mod_revision).bind_int(5, kv.version)
                    .bind_int(6, kv.lease).run());
  }
  Query insert = query(Sql::history_insert);
  WAL_SQL_TRY(insert_history(insert, kv, history_type_put, write_revision, seq));
  ++seq;
  return {};
}

Result<int64_t> SqliteMetaDb::apply_delete(const DeleteOp& del, int64_t write_revision,
                                           int64_t& seq) {
  const int64_t seq_before = seq;
  std::vector<KeyValue> doomed;
  {
    // Read them all before deleting: no table changes under an open SELECT.
    Query rows = query(Sql::kv_range);
    bind_interval(rows, 1, meta_rules::key_interval(del.key, del.range_end));
    rows.bind_int(3, -1);
    bool more = false;
    WAL_SQL_ASSIGN(doomed, select_kvs(rows, 0, more));
    WAL_ASSERT(!more);
  }
  for (const KeyValue& kv : doomed) WAL_SQL_TRY(remove_kv(kv, write_revision, seq));
  WAL_ASSERT_EQ(seq, seq_before + static_cast<int64_t>(doomed.size()));
  return static_cast<int64_t>(doomed.size());
}

Status SqliteMetaDb::remove_kv(const KeyValue& kv, int64_t write_revision, int64_t& seq) {
  WAL_ASSERT(!kv.key.empty());
  WAL_ASSERT(kv.mod_revision < write_revision);
  {
    Query remove = query(Sql::kv_delete);
    WAL_SQL_TRY(remove.bind_blob(1, kv.key).run());
  }
  KeyValue tombstone;
  tombstone.key = kv.key;
  tombstone.mod_revision = write_revision;
  Query insert = query(Sql::history_insert);
  WAL_SQL_TRY(insert_history(insert, tombstone, history_type_remove, write_revision, seq));
  ++seq;
  return {};
}

Result<TxnResponse> SqliteMetaDb::txn(const TxnRequest& request) {
  Transaction transaction(*this);
  WAL_SQL_TRY(transaction.begin(true));
  WAL_SQL_ASSIGN(const Meta meta, read_meta());
  TxnResponse response;
  WAL_SQL_ASSIGN(response.succeeded, evaluate_compares(request.compares));
  const std::vector<TxnOp>& ops = response.succeeded ? request.success : request.failure;
  WAL_SQL_TRY(check_preconditions(ops, meta));
  int64_t seq = 0;
  WAL_SQL_TRY(apply_ops(ops, meta, response, seq));
  response.revision = meta.revision;
  if (seq > 0) {
    response.revision = meta.revision + 1;
    WAL_SQL_TRY(write_meta("revision", response.revision));
    WAL_SQL_TRY(transaction.commit());
    maybe_compact_history(response.revision, meta.compacted_revision);
  }
  // Nothing written: the Transaction rolls back its reads, and the revision stays (etcd).
  for (TxnOpResult& result : response.results) result.range.revision = response.revision;
  WAL_ASSERT_EQ(response.results.size(), ops.size());
  return response;
}

// ---- leases ----

Result<LeaseId> SqliteMetaDb::lease_grant(int64_t ttl_seconds) {
  WAL_ASSERT(ttl_seconds >= limits::meta_lease_ttl_seconds_min);
  WAL_ASSERT(ttl_seconds <= meta_rules::lease_ttl_seconds_max);
  Transaction transaction(*this);
  WAL_SQL_TRY(transaction.begin(true));
  WAL_SQL_ASSIGN(const Meta meta, read_meta());
  const LeaseId lease = meta.next_lease_id;
  {
    Query insert = query(Sql::lease_insert);
    WAL_SQL_TRY(insert.bind_int(1, lease).bind_int(2, ttl_seconds).run());
  }
  WAL_SQL_TRY(write_meta("next_lease_id", lease + 1));
  WAL_SQL_TRY(transaction.commit());
  return lease;
}

Result<int64_t> SqliteMetaDb::lease_revoke(LeaseId lease) {
  WAL_ASSERT(lease > 0);
  Transaction transaction(*this);
  WAL_SQL_TRY(transaction.begin(true));
  WAL_SQL_ASSIGN(const Meta meta, read_meta());
  std::vector<KeyValue> attached;
  {
    Query find = query(Sql::lease_get);
    WAL_SQL_ASSIGN(const bool found, find.bind_int(1, lease).step());
    if (!found) return make_error(Errc::not_found, "revoke: no lease " + std::to_string(lease));
    Query rows = query(Sql::kv_by_lease);
    rows.bind_int(1, lease);
    bool more = false;
    WAL_SQL_ASSIGN(attached, select_kvs(rows, 0, more));
  }
  int64_t seq = 0;
  for (const KeyValue& kv : attached) WAL_SQL_TRY(remove_kv(kv, meta.revision + 1, seq));
  {
    Query remove = query(Sql::lease_delete);
    WAL_SQL_TRY(remove.bind_int(1, lease).run());
  }
  const int64_t revision = seq > 0 ? meta.revision + 1 : meta.revision;
  if (seq > 0) WAL_SQL_TRY(write_meta("revision", revision));
  WAL_SQL_TRY(transaction.commit());
  return revision;
}

// ---- compaction ----

Status SqliteMetaDb::compact(int64_t revision) {
  Transaction transaction(*this);
  WAL_SQL_TRY(transaction.begin(true));
  WAL_SQL_ASSIGN(const Meta meta, read_meta());
  WAL_SQL_TRY(meta_rules::check_compact_revision(revision, meta.revision,
                                                 meta.compacted_revision));
  WAL_SQL_TRY(query(Sql::compact_clear).run());
  {
    Query fill = query(Sql::compact_fill);
    WAL_SQL_TRY(fill.bind_int(1, revision).run());
  }
  {
    Query remove = query(Sql::compact_delete);
    WAL_SQL_TRY(remove.bind_int(1, revision).run());
  }
  WAL_SQL_TRY(query(Sql::compact_clear).run());
  WAL_SQL_TRY(write_meta("compacted_revision", revision));
  return transaction.commit();
}

// Without this the history table grows by every change for ever (a busy writer publishes its
// tail up to 20 times a second). Like etcd's revision-based auto-compaction: keep the last
// history_revisions_kept revisions, compacting in steps so the cost is amortised. Another
// connection may have compacted further meanwhile: compact() then says compacted, which is fine.
void SqliteMetaDb::maybe_compact_history(int64_t revision, int64_t compacted_revision) {
  WAL_ASSERT(revision > compacted_revision);
  WAL_ASSERT(sqlite3_get_autocommit(db_) != 0);  // after the write's commit
  const int64_t kept = options_.history_revisions_kept;
  if (kept <= 0) return;
  if (revision - compacted_revision < kept + options_.history_compaction_step_revisions) return;
  ignore_result(compact(revision - kept));
}

Result<int64_t> SqliteMetaDb::current_revision() {
  Transaction transaction(*this);
  WAL_SQL_TRY(transaction.begin(false));
  WAL_SQL_ASSIGN(const Meta meta, read_meta());
  WAL_SQL_TRY(transaction.commit());
  WAL_ASSERT(meta.revision >= meta_rules::revision_initial);
  return meta.revision;
}

// ---- watches ----

Result<int64_t> SqliteMetaDb::watch_first_revision(int64_t start_revision) {
  Transaction transaction(*this);
  WAL_SQL_TRY(transaction.begin(false));
  WAL_SQL_ASSIGN(const Meta meta, read_meta());
  WAL_SQL_ASSIGN(const int64_t first, meta_rules::watch_first_revision(
                                          start_revision, meta.revision,
                                          meta.compacted_revision));
  WAL_SQL_TRY(transaction.commit());
  return first;
}

Result<WatchBatch> SqliteMetaDb::watch_batch(const meta_rules::KeyInterval& interval,
                                             int64_t next_revision) {
  WAL_ASSERT(next_revision >= 1);
  Transaction transaction(*this);
  WAL_SQL_TRY(transaction.begin(false));
  WAL_SQL_ASSIGN(const Meta meta, read_meta());
  if (next_revision < meta.compacted_revision) {
    return make_error(Errc::compacted, "watch: revision " + std::to_string(next_revision) +
                                           " was compacted");
  }
  WatchBatch batch;
  batch.scanned_revision = meta.revision;
  int64_t first = 0;
  {
    Query rows = query(Sql::history_first_revision);
    rows.bind_int(1, next_revision);
    bind_interval(rows, 2, interval);
    WAL_SQL_ASSIGN(const bool found, rows.step());
    if (found && !rows.column_is_null(0)) first = rows.column_int(0);
  }
  if (first != 0) {
    if (first < next_revision || first > meta.revision) {
      return make_error(Errc::corrupt, "sqlite meta store: history beyond the revision");
    }
    batch.revision = first;
    WAL_SQL_ASSIGN(batch.events, events_at(interval, first));
  }
  WAL_SQL_TRY(transaction.commit());
  return batch;
}

Result<std::vector<WatchEvent>> SqliteMetaDb::events_at(const meta_rules::KeyInterval& interval,
                                                        int64_t revision) {
  WAL_ASSERT(revision >= 1);
  std::vector<WatchEvent> events;
  Query rows = query(Sql::history_events_at);
  rows.bind_int(1, revision);
  bind_interval(rows, 2, interval);
  while (true) {
    WAL_SQL_ASSIGN(const bool found, rows.step());
    if (!found) break;
    WatchEvent event;
    const int64_t type = rows.column_int(0);
    if (type == history_type_put) {
      WAL_SQL_ASSIGN(event.kv, kv_from_row(rows, 1));
    } else if (type == history_type_remove) {
      event.type = WatchEvent::Type::remove;
      event.kv.key = rows.column_blob(1);
      event.kv.mod_revision = rows.column_int(4);
    } else {
      return make_error(Errc::corrupt, "sqlite meta store: bad history type");
    }
    if (event.kv.mod_revision != revision) {
      return make_error(Errc::corrupt, "sqlite meta store: history row revision mismatch");
    }
    events.push_back(std::move(event));
  }
  if (events.empty()) {  // the caller found this revision in the same transaction
    return make_error(Errc::corrupt, "sqlite meta store: history index mismatch");
  }
  return events;
}

}  // namespace wal::sqlite_meta
