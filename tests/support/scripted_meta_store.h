#pragma once
// ScriptedMetaStore: forwards every call to another MetaStore, except txns that write a scripted
// key: those meet the fate the test chose, in order, each ending in an unknown outcome (timeout)
// the way an etcd client sees a partition or a leader change:
//   apply_then_timeout  the txn is applied, its reply is lost;
//   lose_then_timeout   the request is lost: never applied;
//   hold_then_timeout   the request is delayed: it is applied (compares evaluated then) just
//                       before the next txn that writes the same key, i.e. after its client gave
//                       up and read the keys back. That is a txn landing late.
// `meanwhile`, when set, runs after a scripted txn was applied, lost or held and before its
// caller sees the timeout: what other processes do during the partition (a takeover, say).

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "wal/env/meta_store.h"

namespace wal::testing {

class ScriptedMetaStore final : public MetaStore {
 public:
  enum class Fate : uint8_t { apply_then_timeout, lose_then_timeout, hold_then_timeout };

  explicit ScriptedMetaStore(MetaStore& inner) : inner_(inner) {}

  // The fates of the next txns whose success branch writes `key`; later ones are forwarded.
  void script(const std::string& key, std::vector<Fate> fates) {
    for (Fate fate : fates) fates_[key].push_back(fate);
  }
  std::function<Task<void>()> meanwhile;
  uint64_t scripted_count = 0;  // txns that met a scripted fate
  uint64_t held_landed_count = 0;  // held txns that were applied late

  Task<Result<RangeResponse>> range(RangeRequest request) override {
    co_return co_await inner_.range(std::move(request));
  }
  Task<Result<TxnResponse>> txn(TxnRequest request) override {
    const std::optional<std::string> key = scripted_key(request);
    if (key) {
      auto held = held_.find(*key);
      if (held != held_.end()) {
        TxnRequest late = std::move(held->second);
        held_.erase(held);
        ++held_landed_count;
        (void)co_await inner_.txn(std::move(late));  // its client stopped listening long ago
      }
    }
    if (!key || fates_[*key].empty()) co_return co_await inner_.txn(std::move(request));
    const Fate fate = fates_[*key].front();
    fates_[*key].pop_front();
    ++scripted_count;
    switch (fate) {
      case Fate::apply_then_timeout: (void)co_await inner_.txn(std::move(request)); break;
      case Fate::lose_then_timeout: break;
      case Fate::hold_then_timeout: held_.emplace(*key, std::move(request)); break;
    }
    if (meanwhile) co_await meanwhile();
    co_return make_unknown(Errc::timeout, "etcd request timed out");
  }
  Task<Result<LeaseId>> lease_grant(int64_t ttl_seconds) override {
    co_return co_await inner_.lease_grant(ttl_seconds);
  }
  Task<Result<int64_t>> lease_keep_alive(LeaseId lease) override {
    co_return co_await inner_.lease_keep_alive(lease);
  }
  Task<Status> lease_revoke(LeaseId lease) override {
    co_return co_await inner_.lease_revoke(lease);
  }
  Task<Result<std::unique_ptr<Watch>>> watch(std::string key, std::string range_end,
                                             int64_t start_revision) override {
    co_return co_await inner_.watch(std::move(key), std::move(range_end), start_revision);
  }
  Task<Status> compact(int64_t revision) override { co_return co_await inner_.compact(revision); }

 private:
  // The scripted key the txn's success branch writes, if any (the first one found).
  std::optional<std::string> scripted_key(const TxnRequest& request) const {
    for (const TxnOp& op : request.success) {
      const auto* put = std::get_if<PutOp>(&op);
      if (put != nullptr && (fates_.contains(put->key) || held_.contains(put->key))) {
        return put->key;
      }
    }
    return std::nullopt;
  }

  MetaStore& inner_;
  std::map<std::string, std::deque<Fate>> fates_;
  std::map<std::string, TxnRequest> held_;
};

}  // namespace wal::testing
