// MemMetaStore: construction, the async interface over the synchronous methods, leases and
// watches. Reads, txns and compaction are in mem_meta_txn.cpp.
#include "wal/mem/mem_meta_store.h"

#include <chrono>
#include <utility>

namespace wal {

namespace {

class MemWatch final : public Watch {
 public:
  explicit MemWatch(std::shared_ptr<MemMetaStore::WatchState> state) : state_(std::move(state)) {}
  ~MemWatch() override {
    close();
    if (state_->store != nullptr) state_->store->forget_watch(state_->watch_id);
  }
  MemWatch(const MemWatch&) = delete;
  MemWatch& operator=(const MemWatch&) = delete;

  Task<Result<std::vector<WatchEvent>>> next() override {
    // The state is shared so that this frame stays valid if the Watch object is destroyed
    // while next() waits.
    std::shared_ptr<MemMetaStore::WatchState> state = state_;
    while (true) {
      if (state->closed || state->store == nullptr) {
        co_return make_error(Errc::closed, "watch closed");
      }
      Result<std::optional<std::vector<WatchEvent>>> events =
          state->store->take_watch_events(*state);
      if (!events.ok()) co_return std::move(events).error();
      if (events->has_value()) co_return std::move(**events);
      WAL_ASSERT(!state->wake);  // one next() at a time
      Completion<bool> wake(state->store->executor());
      state->wake = wake;
      const bool woken = co_await wake.wait();
      WAL_ASSERT(woken);
    }
  }

  void close() override {
    state_->closed = true;
    if (!state_->wake) return;
    Completion<bool> wake = std::move(*state_->wake);
    state_->wake.reset();
    wake.set(true);
  }

 private:
  std::shared_ptr<MemMetaStore::WatchState> state_;
};

}  // namespace

MemMetaStore::MemMetaStore(Executor& executor, Clock& clock)
    : executor_(executor), clock_(clock) {}

MemMetaStore::~MemMetaStore() {
  for (auto& [lease, state] : leases_) clock_.cancel(state.timer);
  for (auto& [watch_id, state] : watches_) {
    state->store = nullptr;
    if (!state->wake) continue;
    Completion<bool> wake = std::move(*state->wake);
    state->wake.reset();
    wake.set(true);  // the waiting next() sees the store gone and returns closed
  }
}

// ---- the async interface: each call runs the synchronous method inside the co_await ----

Task<Result<RangeResponse>> MemMetaStore::range(RangeRequest request) {
  co_return apply_range(request);
}
Task<Result<TxnResponse>> MemMetaStore::txn(TxnRequest request) { co_return apply_txn(request); }
Task<Result<LeaseId>> MemMetaStore::lease_grant(int64_t ttl_seconds) {
  co_return apply_lease_grant(ttl_seconds);
}
Task<Result<int64_t>> MemMetaStore::lease_keep_alive(LeaseId lease) {
  co_return apply_lease_keep_alive(lease);
}
Task<Status> MemMetaStore::lease_revoke(LeaseId lease) { co_return apply_lease_revoke(lease); }
Task<Result<std::unique_ptr<Watch>>> MemMetaStore::watch(std::string key, std::string range_end,
                                                         int64_t start_revision) {
  co_return open_watch(std::move(key), std::move(range_end), start_revision);
}
Task<Status> MemMetaStore::compact(int64_t revision) { co_return apply_compact(revision); }

// ---- watches ----

Result<std::unique_ptr<Watch>> MemMetaStore::open_watch(std::string key, std::string range_end,
                                                        int64_t start_revision) {
  if (Status s = meta_rules::validate_watch(key, start_revision); !s) {
    return std::move(s).error();
  }
  Result<int64_t> first =
      meta_rules::watch_first_revision(start_revision, revision_, compacted_revision_);
  if (!first.ok()) return std::move(first).error();
  auto state = std::make_shared<WatchState>();
  state->store = this;
  state->watch_id = next_watch_id_++;
  state->interval = meta_rules::key_interval(key, range_end);
  state->next_revision = *first;
  WAL_ASSERT(state->next_revision >= 1);
  const bool inserted = watches_.emplace(state->watch_id, state).second;
  WAL_ASSERT(inserted);
  return std::unique_ptr<Watch>(std::make_unique<MemWatch>(std::move(state)));
}

// ---- leases ----

Result<LeaseId> MemMetaStore::apply_lease_grant(int64_t ttl_seconds) {
  Result<int64_t> ttl = meta_rules::lease_ttl_effective(ttl_seconds);
  if (!ttl.ok()) return std::move(ttl).error();
  const LeaseId lease = next_lease_id_++;
  Lease& state = leases_[lease];
  WAL_ASSERT(state.keys.empty());
  state.ttl_seconds = *ttl;
  arm_lease_timer(lease, state);
  WAL_ASSERT(state.ttl_seconds >= limits::meta_lease_ttl_seconds_min);
  return lease;
}

Result<int64_t> MemMetaStore::apply_lease_keep_alive(LeaseId lease) {
  const auto it = leases_.find(lease);
  if (it == leases_.end()) {
    return make_error(Errc::not_found, "keep-alive: no lease " + std::to_string(lease));
  }
  arm_lease_timer(lease, it->second);
  WAL_ASSERT(it->second.deadline > clock_.now());
  return it->second.ttl_seconds;
}

Status MemMetaStore::apply_lease_revoke(LeaseId lease) {
  if (!leases_.contains(lease)) {
    return make_error(Errc::not_found, "revoke: no lease " + std::to_string(lease));
  }
  delete_lease(lease);
  WAL_ASSERT(!leases_.contains(lease));
  return {};
}

Status MemMetaStore::expire_lease_now(LeaseId lease) {
  if (!leases_.contains(lease)) {
    return make_error(Errc::not_found, "expire: no lease " + std::to_string(lease));
  }
  delete_lease(lease);
  return {};
}

void MemMetaStore::restart_lease_timers() {
  for (auto& [lease, state] : leases_) arm_lease_timer(lease, state);
}

std::vector<LeaseId> MemMetaStore::lease_ids() const {
  std::vector<LeaseId> ids;
  for (const auto& [lease, state] : leases_) ids.push_back(lease);
  return ids;
}

// Deletes the lease and, in one revision, its keys (none: no new revision).
void MemMetaStore::delete_lease(LeaseId lease) {
  const auto it = leases_.find(lease);
  WAL_ASSERT(it != leases_.end());
  clock_.cancel(it->second.timer);
  const std::set<std::string> keys = it->second.keys;  // remove_key() edits the original
  const int64_t write_revision = revision_ + 1;
  std::vector<Change>& changes = history_[write_revision];
  WAL_ASSERT(changes.empty());
  for (const std::string& key : keys) remove_key(key, write_revision, changes);
  WAL_ASSERT(it->second.keys.empty());
  leases_.erase(it);
  finish_write(write_revision);
}

void MemMetaStore::arm_lease_timer(LeaseId lease, Lease& state) {
  WAL_ASSERT(state.ttl_seconds >= limits::meta_lease_ttl_seconds_min);
  clock_.cancel(state.timer);
  state.deadline = clock_.now() + std::chrono::seconds(state.ttl_seconds);
  state.timer = clock_.call_at(state.deadline, [this, lease] { on_lease_timer(lease); });
  WAL_ASSERT(state.timer != 0);
}

void MemMetaStore::on_lease_timer(LeaseId lease) {
  const auto it = leases_.find(lease);
  // Cancelled timers never run, so the lease exists and its deadline has come; checked anyway
  // because a stale timer deleting live keys would be a silent disaster.
  if (it == leases_.end() || clock_.now() < it->second.deadline) return;
  it->second.timer = 0;
  delete_lease(lease);
}

}  // namespace wal
