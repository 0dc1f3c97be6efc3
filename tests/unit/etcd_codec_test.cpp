// The etcd adapter's pure parts, without an etcd: how gRPC failures are classified
// (wal/real/etcd_errors.h) and how etcd's messages are decoded (wal/real/etcd_codec.h).
#include <gtest/gtest.h>

#include "wal/real/etcd_codec.h"
#include "wal/real/etcd_errors.h"

namespace wal::etcd {
namespace {

Verdict verdict_of(grpc::StatusCode code, const std::string& text, Effect effect) {
  return classify(grpc::Status(code, text), effect, "127.0.0.1:2379", "txn");
}

TEST(etcd_errors, a_write_whose_reply_was_lost_is_unknown_and_never_retried) {
  for (const auto& [code, text] :
       {std::pair{grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"},
        std::pair{grpc::StatusCode::UNAVAILABLE, "Socket closed"},
        std::pair{grpc::StatusCode::UNAVAILABLE, "etcdserver: request timed out"},
        std::pair{grpc::StatusCode::UNAVAILABLE, "etcdserver: leader changed"},
        std::pair{grpc::StatusCode::CANCELLED, "Cancelled"},
        std::pair{grpc::StatusCode::UNKNOWN, "Stream removed"}}) {
    const Verdict write = verdict_of(code, text, Effect::write);
    EXPECT_TRUE(write.error.unknown()) << text;
    EXPECT_FALSE(write.retry) << text;
    EXPECT_TRUE(write.failover) << text;
    const Verdict read = verdict_of(code, text, Effect::read);
    EXPECT_FALSE(read.error.unknown()) << text;
    EXPECT_TRUE(read.retry) << text;
  }
}

TEST(etcd_errors, a_write_that_never_reached_a_leader_is_definite_and_retried) {
  for (const char* text :
       {"failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed to "
        "connect to remote host: Connection refused",
        "etcdserver: no leader", "etcdserver: too many requests"}) {
    const Verdict verdict = verdict_of(grpc::StatusCode::UNAVAILABLE, text, Effect::write);
    EXPECT_EQ(verdict.error.code, Errc::unavailable) << text;
    EXPECT_FALSE(verdict.error.unknown()) << text;
    EXPECT_TRUE(verdict.retry) << text;
  }
}

TEST(etcd_errors, etcd_refusals_map_to_definite_codes) {
  auto code_of = [](grpc::StatusCode code, const char* text) {
    const Verdict verdict = verdict_of(code, text, Effect::write);
    EXPECT_FALSE(verdict.error.unknown()) << text;
    EXPECT_FALSE(verdict.retry) << text;
    return verdict.error.code;
  };
  using C = grpc::StatusCode;
  EXPECT_EQ(code_of(C::OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted"),
            Errc::compacted);
  EXPECT_EQ(code_of(C::OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"),
            Errc::out_of_range);
  EXPECT_EQ(code_of(C::NOT_FOUND, "etcdserver: requested lease not found"), Errc::not_found);
  EXPECT_EQ(code_of(C::INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request"),
            Errc::invalid_argument);
  EXPECT_EQ(code_of(C::INVALID_ARGUMENT, "etcdserver: authentication failed, invalid user ID "
                                         "or password"),
            Errc::permission_denied);
  EXPECT_EQ(code_of(C::PERMISSION_DENIED, "etcdserver: permission denied"),
            Errc::permission_denied);
  EXPECT_EQ(code_of(C::UNIMPLEMENTED, "unknown service etcdserverpb.KV"), Errc::protocol);
}

TEST(etcd_errors, a_stale_token_asks_for_a_new_one_and_nothing_else) {
  const Verdict verdict = verdict_of(grpc::StatusCode::UNAUTHENTICATED,
                                     "etcdserver: invalid auth token", Effect::write);
  EXPECT_TRUE(verdict.reauthenticate);
  EXPECT_FALSE(verdict.retry);
  EXPECT_FALSE(verdict.error.unknown());
  EXPECT_FALSE(verdict_of(grpc::StatusCode::INVALID_ARGUMENT, "etcdserver: authentication failed",
                          Effect::write)
                   .reauthenticate);
}

TEST(etcd_errors, messages_are_one_line_and_name_the_endpoint) {
  const Verdict verdict =
      verdict_of(grpc::StatusCode::UNAVAILABLE, "first line\nsecond line", Effect::read);
  EXPECT_EQ(verdict.error.message, "etcd txn at 127.0.0.1:2379: first line second line");
}

mvccpb::Event event(mvccpb::Event::EventType type, const std::string& key, int64_t revision) {
  mvccpb::Event out;
  out.set_type(type);
  out.mutable_kv()->set_key(key);
  out.mutable_kv()->set_mod_revision(revision);
  if (type == mvccpb::Event::PUT) out.mutable_kv()->set_value("v" + key);
  return out;
}

TEST(etcd_codec, a_batched_watch_response_splits_into_one_group_per_revision) {
  etcdserverpb::WatchResponse response;
  *response.add_events() = event(mvccpb::Event::PUT, "a", 7);
  *response.add_events() = event(mvccpb::Event::PUT, "b", 8);
  *response.add_events() = event(mvccpb::Event::DELETE, "c", 8);
  *response.add_events() = event(mvccpb::Event::PUT, "d", 10);
  Result<std::vector<std::vector<WatchEvent>>> groups = decode_watch_events(response, 0);
  ASSERT_TRUE(groups.ok()) << groups.error().describe();
  ASSERT_EQ(groups->size(), 3u);
  EXPECT_EQ((*groups)[0].size(), 1u);
  ASSERT_EQ((*groups)[1].size(), 2u);
  EXPECT_EQ((*groups)[1][1].type, WatchEvent::Type::remove);
  EXPECT_EQ((*groups)[1][1].kv.key, "c");
  EXPECT_EQ((*groups)[1][1].kv.value, "");
  EXPECT_EQ((*groups)[2][0].kv.value, "vd");
  // After a resume from revision 8, revision 7 was delivered already.
  groups = decode_watch_events(response, 8);
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0][0].kv.mod_revision, 8);
}

TEST(etcd_codec, watch_events_out_of_order_or_of_unknown_type_are_protocol_errors) {
  etcdserverpb::WatchResponse backwards;
  *backwards.add_events() = event(mvccpb::Event::PUT, "a", 9);
  *backwards.add_events() = event(mvccpb::Event::PUT, "b", 8);
  EXPECT_EQ(decode_watch_events(backwards, 0).error().code, Errc::protocol);
  etcdserverpb::WatchResponse unknown;
  *unknown.add_events() = event(mvccpb::Event::PUT, "a", 9);
  unknown.mutable_events(0)->set_type(static_cast<mvccpb::Event::EventType>(7));
  EXPECT_EQ(decode_watch_events(unknown, 0).error().code, Errc::protocol);
}

TEST(etcd_codec, a_txn_reply_that_does_not_match_its_request_is_a_protocol_error) {
  TxnRequest request;
  request.success.push_back(PutOp{"k", "v", 0});
  request.success.push_back(RangeRequest{"k", {}, 0, 0});
  etcdserverpb::TxnResponse reply;
  reply.set_succeeded(true);
  reply.mutable_header()->set_revision(5);
  reply.add_responses()->mutable_response_put();
  Result<TxnResponse> short_reply = decode_txn(request, reply);
  ASSERT_FALSE(short_reply.ok());
  EXPECT_EQ(short_reply.error().code, Errc::protocol);
  EXPECT_TRUE(short_reply.error().unknown());  // the put may have happened
  reply.add_responses()->mutable_response_delete_range();  // a delete where a range was
  EXPECT_EQ(decode_txn(request, reply).error().code, Errc::protocol);
  reply.mutable_responses(1)->mutable_response_range()->add_kvs()->set_key("k");
  Result<TxnResponse> decoded = decode_txn(request, reply);
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->results[1].range.kvs.at(0).key, "k");
  EXPECT_EQ(decoded->results[1].range.revision, 5);
}

TEST(etcd_codec, compares_keep_their_target_and_operand) {
  TxnRequest request;
  request.compares = {Compare::mod_revision_is("m", 4), Compare::value_is("v", "x"),
                      Compare{"l", Compare::Target::lease, Compare::Op::not_equal, 9, {}},
                      Compare{"c", Compare::Target::create_revision, Compare::Op::less, 3, {}}};
  const etcdserverpb::TxnRequest encoded = encode_txn(request);
  ASSERT_EQ(encoded.compare_size(), 4);
  EXPECT_EQ(encoded.compare(0).target(), etcdserverpb::Compare::MOD);
  EXPECT_EQ(encoded.compare(0).mod_revision(), 4);
  EXPECT_EQ(encoded.compare(1).target(), etcdserverpb::Compare::VALUE);
  EXPECT_EQ(encoded.compare(1).value(), "x");
  EXPECT_EQ(encoded.compare(2).target(), etcdserverpb::Compare::LEASE);
  EXPECT_EQ(encoded.compare(2).result(), etcdserverpb::Compare::NOT_EQUAL);
  EXPECT_EQ(encoded.compare(2).lease(), 9);
  EXPECT_EQ(encoded.compare(3).result(), etcdserverpb::Compare::LESS);
  EXPECT_EQ(encoded.compare(3).create_revision(), 3);
}

}  // namespace
}  // namespace wal::etcd
