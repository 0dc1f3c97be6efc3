// The etcd v3 rules shared by every MetaStore implementation (wal/env/meta_rules.h).
#include "wal/env/meta_rules.h"

#include <set>
#include <string>
#include <variant>

#include "wal/core/assert.h"

namespace wal::meta_rules {

KeyInterval key_interval(const std::string& key, const std::string& range_end) {
  WAL_ASSERT(!key.empty());
  if (range_end.empty()) return KeyInterval{key, key + '\0'};  // the successor of `key`
  if (range_end == std::string_view("\0", 1)) return KeyInterval{key, std::nullopt};
  return KeyInterval{key, range_end};
}

Status validate_key(const std::string& key, std::string_view what) {
  if (key.empty()) return make_error(Errc::invalid_argument, std::string(what) + ": empty key");
  return {};
}

Status validate_range(const RangeRequest& request) {
  if (Status s = validate_key(request.key, "range"); !s) return s;
  if (request.limit < 0) return make_error(Errc::invalid_argument, "range: negative limit");
  if (request.revision < 0) return make_error(Errc::invalid_argument, "range: negative revision");
  return {};
}

Status validate_put(const PutOp& put) {
  if (Status s = validate_key(put.key, "put"); !s) return s;
  if (put.value.size() > limits::meta_value_bytes_max) {
    return make_error(Errc::invalid_argument, "put: value of " + std::to_string(put.value.size()) +
                                                  " bytes is over meta_value_bytes_max");
  }
  if (put.lease < 0) return make_error(Errc::invalid_argument, "put: negative lease id");
  return {};
}

Status validate_branch(const std::vector<TxnOp>& ops) {
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

Status validate_txn(const TxnRequest& request) {
  if (request.compares.size() > limits::meta_txn_ops_max) {
    return make_error(Errc::invalid_argument, "txn: too many compares");
  }
  for (const Compare& compare : request.compares) {
    if (Status s = validate_key(compare.key, "compare"); !s) return s;
  }
  if (Status s = validate_branch(request.success); !s) return s;
  return validate_branch(request.failure);
}

Status validate_watch(const std::string& key, int64_t start_revision) {
  if (Status s = validate_key(key, "watch"); !s) return s;
  if (start_revision < 0) return make_error(Errc::invalid_argument, "watch: negative revision");
  return {};
}

namespace {

template <typename T>
bool compare_ordered(Compare::Op op, const T& actual, const T& expected) {
  switch (op) {
    case Compare::Op::equal: return actual == expected;
    case Compare::Op::not_equal: return actual != expected;
    case Compare::Op::less: return actual < expected;
    case Compare::Op::greater: return actual > expected;
  }
  WAL_UNREACHABLE();
}

}  // namespace

bool compare_holds(const Compare& compare, const KeyValue* kv) {
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

Status check_read_revision(int64_t revision, int64_t current, int64_t compacted) {
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

Status check_compact_revision(int64_t revision, int64_t current, int64_t compacted) {
  WAL_ASSERT(compacted <= current);
  if (revision < 1) return make_error(Errc::invalid_argument, "compact: revision below 1");
  if (revision > current) {
    return make_error(Errc::out_of_range,
                      "compact: revision " + std::to_string(revision) + " is in the future");
  }
  if (revision <= compacted) {
    return make_error(Errc::compacted,
                      "compact: revision " + std::to_string(revision) + " is already compacted");
  }
  return {};
}

Result<int64_t> watch_first_revision(int64_t start_revision, int64_t current, int64_t compacted) {
  WAL_ASSERT(start_revision >= 0);
  WAL_ASSERT(compacted <= current);
  if (start_revision == 0) return current + 1;
  if (start_revision < compacted) {
    return make_error(Errc::compacted,
                      "watch: start revision " + std::to_string(start_revision) + " is compacted");
  }
  return start_revision;
}

Result<int64_t> lease_ttl_effective(int64_t ttl_seconds) {
  if (ttl_seconds > lease_ttl_seconds_max) {
    return make_error(Errc::invalid_argument,
                      "lease: ttl " + std::to_string(ttl_seconds) + " s is over the maximum");
  }
  return ttl_seconds < limits::meta_lease_ttl_seconds_min ? limits::meta_lease_ttl_seconds_min
                                                          : ttl_seconds;
}

}  // namespace wal::meta_rules
