// MemMetaStore's data path: reads (latest and historical), txns and compaction.
#include <iterator>
#include <utility>

#include "wal/mem/mem_meta_store.h"

namespace wal {

namespace {

// Copies the keys of `source` (key order) into `response`, honouring `limit` (0: none).
template <typename Iterator>
void fill_range(Iterator first, Iterator last, const meta_rules::KeyInterval& interval,
                int64_t limit, RangeResponse& response) {
  WAL_ASSERT(limit >= 0);
  WAL_ASSERT(response.kvs.empty());
  for (Iterator it = first; it != last && interval.contains(it->first); ++it) {
    if (limit > 0 && static_cast<int64_t>(response.kvs.size()) == limit) {
      response.more = true;
      return;
    }
    response.kvs.push_back(it->second);
  }
}

}  // namespace

Result<RangeResponse> MemMetaStore::apply_range(const RangeRequest& request) const {
  if (Status s = meta_rules::validate_range(request); !s) return std::move(s).error();
  if (Status s = meta_rules::check_read_revision(request.revision, revision_, compacted_revision_);
      !s) {
    return std::move(s).error();
  }
  RangeResponse response = read(request);
  response.revision = revision_;
  return response;
}

// Serves a validated range. Inside a txn, kvs_ already holds the txn's own writes and
// history_ holds them under the pending revision, so both paths see a consistent state.
RangeResponse MemMetaStore::read(const RangeRequest& request) const {
  WAL_ASSERT(request.revision >= 0);
  WAL_ASSERT(request.revision == 0 || request.revision >= compacted_revision_);
  const meta_rules::KeyInterval interval = meta_rules::key_interval(request.key,
                                                                   request.range_end);
  RangeResponse response;
  if (request.revision == 0) {
    fill_range(kvs_.lower_bound(interval.begin), kvs_.end(), interval, request.limit, response);
  } else {
    const std::map<std::string, KeyValue> past = snapshot_at(interval, request.revision);
    fill_range(past.begin(), past.end(), interval, request.limit, response);
  }
  return response;
}

// The keys of `interval` as they were at `revision`: today's keys with every later change
// undone, newest first.
std::map<std::string, KeyValue> MemMetaStore::snapshot_at(const meta_rules::KeyInterval& interval,
                                                          int64_t revision) const {
  WAL_ASSERT(revision >= compacted_revision_);
  WAL_ASSERT(revision >= 1);
  std::map<std::string, KeyValue> past;
  for (auto it = kvs_.lower_bound(interval.begin); it != kvs_.end(); ++it) {
    if (!interval.contains(it->first)) break;
    past.emplace(it->first, it->second);
  }
  for (auto it = history_.rbegin(); it != history_.rend() && it->first > revision; ++it) {
    const std::vector<Change>& changes = it->second;
    for (auto change = changes.rbegin(); change != changes.rend(); ++change) {
      const std::string& key = change->event.kv.key;
      if (!interval.contains(key)) continue;
      if (change->previous) {
        past.insert_or_assign(key, *change->previous);
      } else {
        past.erase(key);
      }
    }
  }
  return past;
}

// Checks what can fail in the chosen branch before anything is written, so that a txn is
// applied whole or not at all.
Status MemMetaStore::check_txn_preconditions(const std::vector<TxnOp>& ops) const {
  for (const TxnOp& op : ops) {
    if (const auto* range = std::get_if<RangeRequest>(&op)) {
      Status s = meta_rules::check_read_revision(range->revision, revision_, compacted_revision_);
      if (!s) return s;
    } else if (const auto* put = std::get_if<PutOp>(&op)) {
      if (put->lease != 0 && !leases_.contains(put->lease)) {
        return make_error(Errc::not_found, "put " + put->key + ": no lease " +
                                               std::to_string(put->lease));
      }
    }
  }
  return {};
}

Result<TxnResponse> MemMetaStore::apply_txn(const TxnRequest& request) {
  if (Status s = meta_rules::validate_txn(request); !s) return std::move(s).error();
  bool succeeded = true;
  for (const Compare& compare : request.compares) {
    const auto it = kvs_.find(compare.key);
    succeeded = succeeded &&
                meta_rules::compare_holds(compare, it == kvs_.end() ? nullptr : &it->second);
  }
  const std::vector<TxnOp>& ops = succeeded ? request.success : request.failure;
  if (Status s = check_txn_preconditions(ops); !s) return std::move(s).error();

  const int64_t revision_before = revision_;
  const int64_t write_revision = revision_ + 1;
  std::vector<Change>& changes = history_[write_revision];
  WAL_ASSERT(changes.empty());
  TxnResponse response;
  response.succeeded = succeeded;
  for (const TxnOp& op : ops) {
    TxnOpResult& result = response.results.emplace_back();
    if (const auto* put = std::get_if<PutOp>(&op)) {
      apply_put(*put, write_revision, changes);
    } else if (const auto* del = std::get_if<DeleteOp>(&op)) {
      result.deleted = apply_delete(*del, write_revision, changes);
    } else {
      result.range = read(std::get<RangeRequest>(op));
    }
  }
  finish_write(write_revision);
  WAL_ASSERT(revision_ == revision_before || revision_ == revision_before + 1);
  response.revision = revision_;
  for (TxnOpResult& result : response.results) result.range.revision = revision_;
  return response;
}

void MemMetaStore::apply_put(const PutOp& put, int64_t write_revision,
                             std::vector<Change>& changes) {
  WAL_ASSERT(write_revision == revision_ + 1);
  WAL_ASSERT(put.lease == 0 || leases_.contains(put.lease));
  Change change;
  KeyValue kv;
  if (const auto it = kvs_.find(put.key); it != kvs_.end()) {
    change.previous = it->second;
    detach_from_lease(it->second);
    kv = it->second;
    kv.version += 1;
  } else {
    kv.key = put.key;
    kv.create_revision = write_revision;
    kv.version = 1;
  }
  kv.value = put.value;
  kv.mod_revision = write_revision;
  kv.lease = put.lease;
  if (put.lease != 0) leases_.at(put.lease).keys.insert(put.key);
  kvs_.insert_or_assign(put.key, kv);
  change.event = WatchEvent{WatchEvent::Type::put, std::move(kv)};
  changes.push_back(std::move(change));
}

int64_t MemMetaStore::apply_delete(const DeleteOp& del, int64_t write_revision,
                                   std::vector<Change>& changes) {
  const meta_rules::KeyInterval interval = meta_rules::key_interval(del.key, del.range_end);
  std::vector<std::string> doomed;
  for (auto it = kvs_.lower_bound(interval.begin); it != kvs_.end(); ++it) {
    if (!interval.contains(it->first)) break;
    doomed.push_back(it->first);
  }
  const size_t changes_before = changes.size();
  for (const std::string& key : doomed) remove_key(key, write_revision, changes);
  WAL_ASSERT_EQ(changes.size(), changes_before + doomed.size());
  return static_cast<int64_t>(doomed.size());
}

void MemMetaStore::remove_key(const std::string& key, int64_t write_revision,
                              std::vector<Change>& changes) {
  const auto it = kvs_.find(key);
  WAL_ASSERT(it != kvs_.end());
  WAL_ASSERT(write_revision == revision_ + 1);
  Change change;
  change.previous = it->second;
  detach_from_lease(it->second);
  change.event.type = WatchEvent::Type::remove;
  change.event.kv.key = key;
  change.event.kv.mod_revision = write_revision;
  kvs_.erase(it);
  changes.push_back(std::move(change));
}

void MemMetaStore::detach_from_lease(const KeyValue& kv) {
  if (kv.lease == 0) return;
  const auto it = leases_.find(kv.lease);
  // A key's lease always exists: revoking a lease deletes its keys in the same revision.
  WAL_ASSERT(it != leases_.end());
  const size_t erased = it->second.keys.erase(kv.key);
  WAL_ASSERT_EQ(erased, size_t{1});
}

void MemMetaStore::finish_write(int64_t write_revision) {
  WAL_ASSERT(write_revision == revision_ + 1);
  const auto it = history_.find(write_revision);
  WAL_ASSERT(it != history_.end());
  if (it->second.empty()) {
    history_.erase(it);  // etcd: a txn that writes nothing keeps the revision
    return;
  }
  revision_ = write_revision;
  for (auto& [watch_id, state] : watches_) {
    if (!state->wake) continue;
    Completion<bool> wake = std::move(*state->wake);
    state->wake.reset();
    wake.set(true);
  }
}

Status MemMetaStore::apply_compact(int64_t revision) {
  Status s = meta_rules::check_compact_revision(revision, revision_, compacted_revision_);
  if (!s) return s;
  // Changes at `revision` itself stay: a read at `revision` undoes only later ones, and a watch
  // may still start there.
  history_.erase(history_.begin(), history_.lower_bound(revision));
  compacted_revision_ = revision;
  WAL_ASSERT(history_.empty() || history_.begin()->first >= compacted_revision_);
  WAL_ASSERT(compacted_revision_ <= revision_);
  return {};
}

Result<std::optional<std::vector<WatchEvent>>> MemMetaStore::take_watch_events(
    WatchState& state) const {
  WAL_ASSERT(state.store == this);
  WAL_ASSERT(state.next_revision >= 1);
  if (state.next_revision < compacted_revision_) {
    return make_error(Errc::compacted, "watch: revision " + std::to_string(state.next_revision) +
                                           " was compacted");
  }
  for (auto it = history_.lower_bound(state.next_revision); it != history_.end(); ++it) {
    std::vector<WatchEvent> events;
    for (const Change& change : it->second) {
      if (state.interval.contains(change.event.kv.key)) events.push_back(change.event);
    }
    if (!events.empty()) {
      state.next_revision = it->first + 1;
      return std::optional<std::vector<WatchEvent>>(std::move(events));
    }
  }
  // Nothing up to the current revision; a start in the future stays where it is.
  state.next_revision = std::max(state.next_revision, revision_ + 1);
  return std::optional<std::vector<WatchEvent>>();
}

}  // namespace wal
