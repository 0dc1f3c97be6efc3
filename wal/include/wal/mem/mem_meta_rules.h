#pragma once
// The etcd v3 rules every MetaStore implementation shares: request validation, key intervals,
// compare evaluation, revision checks and lease TTL bounds. Pure functions, no state, no I/O,
// so that MemMetaStore and SqliteMetaStore (and the simulator's etcd) cannot drift apart.
// Header-only on purpose: wal_real uses it without linking wal_mem.
//
// Errors chosen where wal/env/meta_store.h is silent (they mirror etcd's):
//   range() / a txn range at a revision above the current one: out_of_range (etcd ErrFutureRev);
//   below the compacted revision: compacted (etcd ErrCompacted). The compacted revision itself
//   stays readable, as in etcd.
//   compact() above the current revision: out_of_range; at or below an earlier compaction:
//   compacted.
//   A txn branch that puts one key twice, or puts a key that a delete of the same branch covers:
//   invalid_argument (etcd rejects it with "duplicate key given in txn request").

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>

#include "wal/core/assert.h"
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
[[nodiscard]] inline KeyInterval key_interval(const std::string& key,
                                              const std::string& range_end) {
  WAL_ASSERT(!key.empty());
  if (range_end.empty()) return KeyInterval{key, key + '\0'};  // the successor of `key`
  if (range_end == std::string_view("\0", 1)) return KeyInterval{key, std::nullopt};
  return KeyInterval{key, range_end};
}

[[nodiscard]] inline Status validate_key(const std::string& key, std::string_view what) {
  if (key.empty()) return make_error(Errc::invalid_argument, std::string(what) + ": empty key");
  return {};
}

[[nodiscard]] inline Status validate_range(const RangeRequest& request) {
  if (Status s = validate_key(request.key, "range"); !s) return s;
  if (request.limit < 0) return make_error(Errc::invalid_argument, "range: negative limit");
  if (request.revision < 0) return make_error(Errc::invalid_argument, "range: negative revision");
  return {};
}

[[nodiscard]] inline Status validate_put(const PutOp& put) {
  if (Status s = validate_key(put.key, "put"); !s) return s;
  if (put.value.size() > limits::meta_value_bytes_max) {
    return make_error(Errc::invalid_argument, "put: value of " +
                                                  std::to_string(put.value.size()) +
                                                  " bytes is over meta_value_bytes_max");
  }
  if (put.lease < 0) return make_error(Errc::invalid_argument, "put: negative lease id");
  return {};
}

// One branch: each op valid, and no key written twice (etcd's checkIntervals).
[[nodiscard]] inline Status validate_branch(const std::vector<TxnOp>& ops) {
  if (ops.size() > limits::meta_txn_ops_max) {
    return make_error(Errc::invalid_argument,
                      "txn: " + std::to_string(ops.size()) + " ops, over meta_txn_ops_max");
  }
  std::set<std::string> put_keys;
  for (const TxnOp& op : ops) {
    if (const auto* put = std::get_if<PutOp>(&op)) {
      if (Status s = validate_put(*put); !s) return s;
      if (!put_keys.insert(put->key).second) {
        return make_error(Errc::invalid_argument, "txn: key put twice: " + put->key);
      }
    } else if (const auto* range = std::get_if<RangeRequest>(&op)) {
      if (Status s = validate_range(*range); !s) return s;
    } else {
      if (Status s = validate_key(std::get<DeleteOp>(op).key, "delete"); !s) return s;
    }
  }
  for (const TxnOp& op : ops) {
    const auto* del = std::get_if<DeleteOp>(&op);
    if (del == nullptr) continue;
    const KeyInterval interval = key_interval(del->key, del->range_end);
    const auto first = put_keys.lower_bound(interval.begin);
    if (first != put_keys.end() && interval.contains(*first)) {
      return make_error(Errc::invalid_argument, "txn: key both put and deleted: " + *first);
    }
  }
  return {};
}

[[nodiscard]] inline Status validate_txn(const TxnRequest& request) {
  if (request.compares.size() > limits::meta_txn_ops_max) {
    return make_error(Errc::invalid_argument, "txn: too many compares");
  }
  for (const Compare& compare : request.compares) {
    if (Status s = validate_key(compare.key, "compare"); !s) return s;
  }
  if (Status s = validate_branch(request.success); !s) return s;
  return validate_branch(request.failure);
}

[[nodiscard]] inline Status validate_watch(const std::string& key, int64_t start_revision) {
  if (Status s = validate_key(key, "watch"); !s) return s;
  if (start_revision < 0) return make_error(Errc::invalid_argument, "watch: negative revision");
  return {};
}

template <typename T>
[[nodiscard]] bool compare_ordered(Compare::Op op, const T& actual, const T& expected) {
  switch (op) {
    case Compare::Op::equal: return actual == expected;
    case Compare::Op::not_equal: return actual != expected;
    case Compare::Op::less: return actual < expected;
    case Compare::Op::greater: return actual > expected;
  }
  WAL_UNREACHABLE();
}

// `kv` is nullptr when the key is absent: its numbers are then 0, and a value compare is false
// whatever its op (etcd: a missing value cannot be told apart from an empty one, so it fails).
[[nodiscard]] inline bool compare_holds(const Compare& compare, const KeyValue* kv) {
  WAL_ASSERT(!compare.key.empty());
  if (kv != nullptr) WAL_ASSERT(kv->key == compare.key);
  int64_t actual = 0;
  switch (compare.target) {
    case Compare::Target::value:
      if (kv == nullptr) return false;
      return compare_ordered<std::string_view>(compare.op, kv->value, compare.value);
    case Compare::Target::version: actual = kv ? kv->version : 0; break;
    case Compare::Target::create_revision: actual = kv ? kv->create_revision : 0; break;
    case Compare::Target::mod_revision: actual = kv ? kv->mod_revision : 0; break;
    case Compare::Target::lease: actual = kv ? kv->lease : 0; break;
  }
  return compare_ordered<int64_t>(compare.op, actual, compare.number);
}

// A read at `revision` (0: latest) on a store at `current` whose history below `compacted`
// is gone.
[[nodiscard]] inline Status check_read_revision(int64_t revision, int64_t current,
                                                int64_t compacted) {
  WAL_ASSERT(revision >= 0);
  WAL_ASSERT(compacted <= current);
  if (revision > current) {
    return make_error(Errc::out_of_range, "revision " + std::to_string(revision) +
                                              " is in the future (current " +
                                              std::to_string(current) + ")");
  }
  if (revision != 0 && revision < compacted) {
    return make_error(Errc::compacted, "revision " + std::to_string(revision) +
                                           " is compacted (compacted at " +
                                           std::to_string(compacted) + ")");
  }
  return {};
}

[[nodiscard]] inline Status check_compact_revision(int64_t revision, int64_t current,
                                                   int64_t compacted) {
  WAL_ASSERT(compacted <= current);
  if (revision < 1) return make_error(Errc::invalid_argument, "compact: revision below 1");
  if (revision > current) {
    return make_error(Errc::out_of_range, "compact: revision " + std::to_string(revision) +
                                              " is in the future");
  }
  if (revision <= compacted) {
    return make_error(Errc::compacted, "compact: revision " + std::to_string(revision) +
                                           " is already compacted");
  }
  return {};
}

// Where a watch starting at `start_revision` (0: the next revision) begins.
[[nodiscard]] inline Result<int64_t> watch_first_revision(int64_t start_revision,
                                                          int64_t current, int64_t compacted) {
  WAL_ASSERT(start_revision >= 0);
  WAL_ASSERT(compacted <= current);
  if (start_revision == 0) return current + 1;
  if (start_revision < compacted) {
    return make_error(Errc::compacted, "watch: start revision " +
                                           std::to_string(start_revision) + " is compacted");
  }
  return start_revision;
}

// etcd rounds short TTLs up to its minimum and refuses absurdly long ones.
[[nodiscard]] inline Result<int64_t> lease_ttl_effective(int64_t ttl_seconds) {
  if (ttl_seconds > lease_ttl_seconds_max) {
    return make_error(Errc::invalid_argument, "lease: ttl " + std::to_string(ttl_seconds) +
                                                  " s is over the maximum");
  }
  return ttl_seconds < limits::meta_lease_ttl_seconds_min ? limits::meta_lease_ttl_seconds_min
                                                          : ttl_seconds;
}

}  // namespace wal::meta_rules
