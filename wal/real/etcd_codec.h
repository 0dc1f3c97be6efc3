#pragma once
// Conversions between the MetaStore types (wal/env/meta_store.h) and etcd's v3 messages.
// Requests are built from validated requests (wal/env/meta_rules.h). Replies come from another
// process, so they are checked, never asserted on: a reply that does not match its request
// (a txn answering with the wrong number or kind of results, an event of an unknown type) is
// Errc::protocol, outcome unknown for a txn that may have written.

#include <vector>

#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "wal/core/result.h"
#include "wal/env/meta_store.h"

namespace wal::etcd {

[[nodiscard]] etcdserverpb::RangeRequest encode_range(const RangeRequest& request);
[[nodiscard]] etcdserverpb::TxnRequest encode_txn(const TxnRequest& request);

[[nodiscard]] KeyValue decode_key_value(const mvccpb::KeyValue& kv);
[[nodiscard]] RangeResponse decode_range(const etcdserverpb::RangeResponse& response);
// `request` is what was sent: the reply must have one result per op of the branch it took.
[[nodiscard]] Result<TxnResponse> decode_txn(const TxnRequest& request,
                                             const etcdserverpb::TxnResponse& response);

// True when the txn may write (a put or a delete in either branch): its failures may then
// have an unknown outcome.
[[nodiscard]] bool txn_may_write(const TxnRequest& request);

// Splits the events of one WatchResponse into one group per revision, in order. Events with a
// revision below `revision_min` (already delivered) are dropped. protocol: an unknown event
// type, or revisions going backwards.
[[nodiscard]] Result<std::vector<std::vector<WatchEvent>>> decode_watch_events(
    const etcdserverpb::WatchResponse& response, int64_t revision_min);

}  // namespace wal::etcd
