// MetaStore <-> etcd v3 message conversions (etcd_codec.h).
#include "etcd_codec.h"

#include <string>
#include <variant>

namespace wal::etcd {

namespace {

etcdserverpb::Compare::CompareResult encode_op(Compare::Op op) {
  switch (op) {
    case Compare::Op::equal: return etcdserverpb::Compare::EQUAL;
    case Compare::Op::not_equal: return etcdserverpb::Compare::NOT_EQUAL;
    case Compare::Op::less: return etcdserverpb::Compare::LESS;
    case Compare::Op::greater: return etcdserverpb::Compare::GREATER;
  }
  WAL_UNREACHABLE();
}

void encode_compare(const Compare& compare, etcdserverpb::Compare& out) {
  out.set_key(compare.key);
  out.set_result(encode_op(compare.op));
  switch (compare.target) {
    case Compare::Target::version:
      out.set_target(etcdserverpb::Compare::VERSION);
      out.set_version(compare.number);
      return;
    case Compare::Target::create_revision:
      out.set_target(etcdserverpb::Compare::CREATE);
      out.set_create_revision(compare.number);
      return;
    case Compare::Target::mod_revision:
      out.set_target(etcdserverpb::Compare::MOD);
      out.set_mod_revision(compare.number);
      return;
    case Compare::Target::value:
      out.set_target(etcdserverpb::Compare::VALUE);
      out.set_value(compare.value);
      return;
    case Compare::Target::lease:
      out.set_target(etcdserverpb::Compare::LEASE);
      out.set_lease(compare.number);
      return;
  }
  WAL_UNREACHABLE();
}

void encode_op(const TxnOp& op, etcdserverpb::RequestOp& out) {
  if (const auto* put = std::get_if<PutOp>(&op)) {
    etcdserverpb::PutRequest& request = *out.mutable_request_put();
    request.set_key(put->key);
    request.set_value(put->value);
    request.set_lease(put->lease);
  } else if (const auto* del = std::get_if<DeleteOp>(&op)) {
    etcdserverpb::DeleteRangeRequest& request = *out.mutable_request_delete_range();
    request.set_key(del->key);
    request.set_range_end(del->range_end);
  } else {
    *out.mutable_request_range() = encode_range(std::get<RangeRequest>(op));
  }
}

// One result of a txn: the reply's op must be of the kind the request's op was.
Result<TxnOpResult> decode_op_result(const TxnOp& op, const etcdserverpb::ResponseOp& reply,
                                     int64_t revision) {
  TxnOpResult result;
  if (std::holds_alternative<PutOp>(op)) {
    if (!reply.has_response_put()) return make_unknown(Errc::protocol, "txn: a put without reply");
  } else if (std::holds_alternative<DeleteOp>(op)) {
    if (!reply.has_response_delete_range()) {
      return make_unknown(Errc::protocol, "txn: a delete without reply");
    }
    result.deleted = reply.response_delete_range().deleted();
  } else {
    if (!reply.has_response_range()) {
      return make_unknown(Errc::protocol, "txn: a range without reply");
    }
    result.range = decode_range(reply.response_range());
    result.range.revision = revision;  // the state the txn saw, as on the other stores
  }
  return result;
}

}  // namespace

etcdserverpb::RangeRequest encode_range(const RangeRequest& request) {
  etcdserverpb::RangeRequest out;
  out.set_key(request.key);
  out.set_range_end(request.range_end);
  out.set_limit(request.limit);
  out.set_revision(request.revision);
  return out;
}

etcdserverpb::TxnRequest encode_txn(const TxnRequest& request) {
  etcdserverpb::TxnRequest out;
  for (const Compare& compare : request.compares) encode_compare(compare, *out.add_compare());
  for (const TxnOp& op : request.success) encode_op(op, *out.add_success());
  for (const TxnOp& op : request.failure) encode_op(op, *out.add_failure());
  return out;
}

KeyValue decode_key_value(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.version(),
                  kv.lease()};
}

RangeResponse decode_range(const etcdserverpb::RangeResponse& response) {
  RangeResponse out;
  out.kvs.reserve(static_cast<size_t>(response.kvs_size()));
  for (const mvccpb::KeyValue& kv : response.kvs()) out.kvs.push_back(decode_key_value(kv));
  out.more = response.more();
  out.revision = response.header().revision();
  return out;
}

bool txn_may_write(const TxnRequest& request) {
  auto writes = [](const std::vector<TxnOp>& ops) {
    for (const TxnOp& op : ops) {
      if (!std::holds_alternative<RangeRequest>(op)) return true;
    }
    return false;
  };
  return writes(request.success) || writes(request.failure);
}

Result<TxnResponse> decode_txn(const TxnRequest& request,
                               const etcdserverpb::TxnResponse& response) {
  TxnResponse out;
  out.succeeded = response.succeeded();
  out.revision = response.header().revision();
  const std::vector<TxnOp>& ops = out.succeeded ? request.success : request.failure;
  if (static_cast<size_t>(response.responses_size()) != ops.size()) {
    Error error = make_unknown(Errc::protocol,
                               "txn: " + std::to_string(response.responses_size()) +
                                   " results for " + std::to_string(ops.size()) + " ops");
    if (!txn_may_write(request)) error.outcome = Outcome::definite;
    return error;
  }
  for (size_t index = 0; index < ops.size(); ++index) {
    Result<TxnOpResult> result =
        decode_op_result(ops[index], response.responses(static_cast<int>(index)), out.revision);
    if (!result.ok()) return std::move(result).error();
    out.results.push_back(std::move(*result));
  }
  return out;
}

Result<std::vector<std::vector<WatchEvent>>> decode_watch_events(
    const etcdserverpb::WatchResponse& response, int64_t revision_min) {
  std::vector<std::vector<WatchEvent>> groups;
  int64_t previous_revision = 0;
  for (const mvccpb::Event& event : response.events()) {
    WatchEvent out;
    switch (event.type()) {
      case mvccpb::Event::PUT:
        out.type = WatchEvent::Type::put;
        out.kv = decode_key_value(event.kv());
        break;
      case mvccpb::Event::DELETE:
        out.type = WatchEvent::Type::remove;
        out.kv.key = event.kv().key();
        out.kv.mod_revision = event.kv().mod_revision();
        break;
      case mvccpb::Event_EventType_Event_EventType_INT_MIN_SENTINEL_DO_NOT_USE_:
      case mvccpb::Event_EventType_Event_EventType_INT_MAX_SENTINEL_DO_NOT_USE_:
      default:  // proto3 enums are open: the wire may carry any number

        return make_error(Errc::protocol, "watch: an event of unknown type " +
                                              std::to_string(event.type()));
    }
    const int64_t revision = out.kv.mod_revision;
    if (revision < previous_revision || revision < 1) {
      return make_error(Errc::protocol, "watch: events out of revision order");
    }
    previous_revision = revision;
    if (revision < revision_min) continue;  // already delivered before the stream was re-opened
    if (groups.empty() || groups.back().back().kv.mod_revision != revision) groups.emplace_back();
    groups.back().push_back(std::move(out));
  }
  return groups;
}

}  // namespace wal::etcd
