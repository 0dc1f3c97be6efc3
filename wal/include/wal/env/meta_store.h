#pragma once
// MetaStore: the etcd v3 data model, for small metadata (never per-entry data).
//
// Model: a sorted map of keys to values with a store-wide revision counter. Every successful
// mutating txn/put/delete increments the revision by exactly one (one txn = one revision, even
// with many ops). Each key carries create_revision, mod_revision, version (number of puts since
// creation; deleting resets it) and the lease it is attached to.
// Consistency: linearizable. A read returns the state at one revision, never older than any
// write that completed before the read started.
//
// Errors common to every call:
//   timeout / unavailable on txn, put, delete, lease_grant, lease_revoke: OUTCOME UNKNOWN (the
//   txn may have been committed). Settle by reading: design every write as a txn with compares so
//   that a re-read tells whether it happened. On reads these errors are definite.
//   invalid_argument: empty key, too many ops (txn_ops_max), value over value_bytes_max, a txn
//   branch that writes one key twice (two puts, or a put inside a delete range: etcd refuses it).
// Threading: calls on the node's executor; results complete there.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "wal/async/task.h"
#include "wal/core/result.h"

namespace wal {

namespace limits {
inline constexpr size_t meta_txn_ops_max = 128;               // etcd --max-txn-ops default
inline constexpr size_t meta_value_bytes_max = 1'000'000;     // under etcd's 1.5 MiB request cap
inline constexpr int64_t meta_lease_ttl_seconds_min = 2;      // etcd rounds smaller TTLs up to 2
}  // namespace limits

using LeaseId = int64_t;  // 0 = no lease

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  LeaseId lease = 0;
};

// A key range as etcd defines it: [key, range_end). range_end empty: just `key`.
// prefix_end(p) gives the range_end that selects every key starting with p.
[[nodiscard]] std::string prefix_end(std::string_view prefix);

struct RangeRequest {
  std::string key;
  std::string range_end;
  int64_t limit = 0;     // 0 = no limit
  int64_t revision = 0;  // 0 = latest; older: state at that revision (compacted: Errc::compacted)
                         // above the current revision: Errc::out_of_range (etcd ErrFutureRev)
};

struct RangeResponse {
  std::vector<KeyValue> kvs;  // in key order
  bool more = false;          // true if `limit` cut the result
  int64_t revision = 0;       // the store's revision the read was served at
};

struct Compare {
  enum class Target : uint8_t { version, create_revision, mod_revision, value, lease };
  enum class Op : uint8_t { equal, not_equal, less, greater };
  std::string key;
  Target target = Target::version;
  Op op = Op::equal;
  int64_t number = 0;  // for version / create_revision / mod_revision / lease
  std::string value;   // for value (compared as bytes)

  // A missing key has version, create_revision, mod_revision and lease 0 and never equals a
  // value compare (etcd behaviour).
  static Compare version_is(std::string key, int64_t version);
  static Compare mod_revision_is(std::string key, int64_t revision);
  static Compare value_is(std::string key, std::string value);
  static Compare absent(std::string key) { return version_is(std::move(key), 0); }
};

struct PutOp {
  std::string key;
  std::string value;
  LeaseId lease = 0;
};
struct DeleteOp {
  std::string key;
  std::string range_end;  // empty: just `key`
};
using TxnOp = std::variant<PutOp, DeleteOp, RangeRequest>;

struct TxnRequest {
  std::vector<Compare> compares;   // all must hold
  std::vector<TxnOp> success;      // applied atomically if they do
  std::vector<TxnOp> failure;      // applied atomically otherwise
};

struct TxnOpResult {
  RangeResponse range;     // for a RangeRequest op
  int64_t deleted = 0;     // for a DeleteOp
};

struct TxnResponse {
  bool succeeded = false;             // the compares held
  int64_t revision = 0;               // store revision after the txn
  std::vector<TxnOpResult> results;   // one per executed op
};

struct WatchEvent {
  enum class Type : uint8_t { put, remove };
  Type type = Type::put;
  KeyValue kv;  // for remove: key and mod_revision (the deleting revision) only
};

// A stream of changes to a key range, in revision order, with no gaps and no duplicates, from
// a start revision on. next() yields the events of one revision at a time.
//   compacted: the start revision was compacted away (re-read, then watch from the read's
//              revision + 1). closed: the watch was cancelled (by the server or by close()).
//   unavailable: the connection was lost; events were not skipped: re-watch from the next
//              revision you have not seen.
class Watch {
 public:
  virtual ~Watch() = default;
  virtual Task<Result<std::vector<WatchEvent>>> next() = 0;
  virtual void close() = 0;
};

class MetaStore {
 public:
  virtual ~MetaStore() = default;

  virtual Task<Result<RangeResponse>> range(RangeRequest request) = 0;
  // Convenience over range(): the key, or std::nullopt (not an error) if it is absent.
  Task<Result<std::optional<KeyValue>>> get(std::string key);

  // Applies the success or failure branch atomically (one revision if anything was written).
  // Unknown outcome on timeout/unavailable: see the header comment.
  virtual Task<Result<TxnResponse>> txn(TxnRequest request) = 0;

  // Grants a lease that expires `ttl_seconds` (>= meta_lease_ttl_seconds_min) after the last
  // keep-alive; on expiry every key attached to it is deleted (one revision). Returns its id.
  virtual Task<Result<LeaseId>> lease_grant(int64_t ttl_seconds) = 0;
  // Renews the lease; returns the remaining TTL in seconds. not_found: expired or revoked.
  virtual Task<Result<int64_t>> lease_keep_alive(LeaseId lease) = 0;
  // Revokes the lease and deletes its keys. Revoking an unknown lease: not_found.
  virtual Task<Status> lease_revoke(LeaseId lease) = 0;

  // Watches [key, range_end) from `start_revision` (0: from the next revision).
  virtual Task<Result<std::unique_ptr<Watch>>> watch(std::string key, std::string range_end,
                                                     int64_t start_revision) = 0;

  // Forgets history below `revision`; `revision` itself stays readable (as in etcd). Later
  // range() at an older revision, and watches starting below it, fail with compacted.
  // compacted: at or below an earlier compaction. out_of_range: above the current revision.
  virtual Task<Status> compact(int64_t revision) = 0;
};

}  // namespace wal
