#pragma once
// The etcd v3 rules every MetaStore implementation shares: request validation, key intervals,
// compare evaluation, revision checks and lease TTL bounds. Pure functions, no state, no I/O,
// so that MemMetaStore, SqliteMetaStore, EtcdMetaStore's request checks (and the simulator's
// etcd) cannot drift apart. They sit next to the MetaStore interface (meta_store.h) and are
// compiled into wal_core (wal/src/meta/meta_rules.cpp): every adapter links the one copy.
//
// Errors chosen where wal/env/meta_store.h is silent (they mirror etcd's):
//   range() / a txn range at a revision above the current one: out_of_range (etcd ErrFutureRev);
//   below the compacted revision: compacted (etcd ErrCompacted). The compacted revision itself
//   stays readable, as in etcd.
//   compact() above the current revision: out_of_range; at or below an earlier compaction:
//   compacted.
//   A txn branch that puts one key twice, or puts a key that a delete of the same branch covers:
//   invalid_argument (etcd rejects it with "duplicate key given in txn request").
// Every validate_* returns invalid_argument (definite) with a message naming the bad field.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wal/core/result.h"
#include "wal/env/meta_store.h"

namespace wal::meta_rules {

// etcd accepts TTLs up to 9e9 s; we stop lower so that a deadline in nanoseconds
// (now + ttl) can never overflow int64 (1e9 s = 1e18 ns, leaving ~290 years of clock).
inline constexpr int64_t lease_ttl_seconds_max = 1'000'000'000;
static_assert(limits::meta_lease_ttl_seconds_min > 0);
static_assert(limits::meta_lease_ttl_seconds_min < lease_ttl_seconds_max);
// The revision of a fresh store. etcd starts at 1 too, so 0 never names a real revision (it
// means "latest" in a RangeRequest and "next" in watch()).
inline constexpr int64_t revision_initial = 1;

// [begin, end) over keys ordered as unsigned bytes; end == nullopt means "to the last key".
struct KeyInterval {
  std::string begin;
  std::optional<std::string> end;

  [[nodiscard]] bool contains(std::string_view key) const {
    return key >= std::string_view(begin) && (!end || key < std::string_view(*end));
  }
};

// etcd's encoding: range_end empty selects just `key`; "\0" selects every key >= `key`.
// `key` must not be empty (callers validate first).
[[nodiscard]] KeyInterval key_interval(const std::string& key, const std::string& range_end);

[[nodiscard]] Status validate_key(const std::string& key, std::string_view what);
[[nodiscard]] Status validate_range(const RangeRequest& request);
[[nodiscard]] Status validate_put(const PutOp& put);
// One branch: each op valid, and no key written twice (etcd's checkIntervals).
[[nodiscard]] Status validate_branch(const std::vector<TxnOp>& ops);
[[nodiscard]] Status validate_txn(const TxnRequest& request);
[[nodiscard]] Status validate_watch(const std::string& key, int64_t start_revision);

// `kv` is nullptr when the key is absent: its numbers are then 0, and a value compare is false
// whatever its op (etcd: a missing value cannot be told apart from an empty one, so it fails).
[[nodiscard]] bool compare_holds(const Compare& compare, const KeyValue* kv);

// A read at `revision` (0: latest) on a store at `current` whose history below `compacted`
// is gone.
[[nodiscard]] Status check_read_revision(int64_t revision, int64_t current, int64_t compacted);
[[nodiscard]] Status check_compact_revision(int64_t revision, int64_t current, int64_t compacted);
// Where a watch starting at `start_revision` (0: the next revision) begins.
[[nodiscard]] Result<int64_t> watch_first_revision(int64_t start_revision, int64_t current,
                                                   int64_t compacted);
// etcd rounds short TTLs up to its minimum and refuses absurdly long ones.
[[nodiscard]] Result<int64_t> lease_ttl_effective(int64_t ttl_seconds);

}  // namespace wal::meta_rules
