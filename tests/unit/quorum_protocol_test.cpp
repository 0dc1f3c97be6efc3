// The LogStore wire protocol: every message round-trips; every truncation, every extra byte,
// every other decoder and random garbage give Errc::protocol (or, for garbage that happens to be
// well-formed, a message that re-encodes to exactly those bytes), never a crash.
#include <gtest/gtest.h>

#include <functional>

#include "wal/env/random.h"
#include "wal/quorum/protocol.h"

namespace wal::quorum {
namespace {

const SegmentRef segment{"orders", 7, 3, 100, 42};

AddRequest sample_add() {
  return AddRequest{segment, 5, true, 101, 100, {to_bytes("a"), {}, to_bytes("ccc")}};
}
ReadReply sample_read_reply() {
  return ReadReply{Knowledge::unknown, 110, 105, 101, {to_bytes("x"), to_bytes("yy")}};
}

// One decoder per message kind, returning the re-encoded message on success.
using Decoder = std::function<Result<Bytes>(ByteView)>;
template <typename T>
Decoder decoder_of(Result<T> (*decode)(ByteView)) {
  return [decode](ByteView bytes) -> Result<Bytes> {
    Result<T> message = decode(bytes);
    if (!message.ok()) return std::move(message).error();
    return encode(*message);
  };
}
struct Kind {
  const char* name;
  Bytes sample;
  Decoder decode;
};
std::vector<Kind> kinds() {
  return {
      {"add request", encode(sample_add()), decoder_of(decode_add_request)},
      {"add reply", encode(AddReply{AddStatus::gap, 17, 4}), decoder_of(decode_add_reply)},
      {"fence request", encode(FenceRequest{segment, 9}), decoder_of(decode_fence_request)},
      {"fence reply", encode(FenceReply{Knowledge::known, true, 9, 120, 118}),
       decoder_of(decode_fence_reply)},
      {"read request", encode(ReadRequest{segment, 101, 4096, 9, 250}),
       decoder_of(decode_read_request)},
      {"read reply", encode(sample_read_reply()), decoder_of(decode_read_reply)},
  };
}

TEST(quorum_protocol, every_message_round_trips) {
  auto add = decode_add_request(encode(sample_add()));
  ASSERT_TRUE(add.ok());
  EXPECT_EQ(add->segment, segment);
  EXPECT_EQ(add->epoch, 5u);
  EXPECT_TRUE(add->recovery);
  EXPECT_EQ(add->first_entry_id, 101u);
  EXPECT_EQ(add->confirmed_end, 100u);
  EXPECT_EQ(add->payloads, sample_add().payloads);

  auto add_reply = decode_add_reply(encode(AddReply{AddStatus::sealed, 17, 4}));
  ASSERT_TRUE(add_reply.ok());
  EXPECT_EQ(add_reply->status, AddStatus::sealed);
  EXPECT_EQ(add_reply->durable_end, 17u);
  EXPECT_EQ(add_reply->fence_epoch, 4u);

  auto fence = decode_fence_request(encode(FenceRequest{segment, 9}));
  ASSERT_TRUE(fence.ok());
  EXPECT_EQ(fence->segment, segment);
  EXPECT_EQ(fence->epoch, 9u);

  auto fence_reply = decode_fence_reply(encode(FenceReply{Knowledge::unknown, false, 9, 120, 118}));
  ASSERT_TRUE(fence_reply.ok());
  EXPECT_EQ(fence_reply->knowledge, Knowledge::unknown);
  EXPECT_FALSE(fence_reply->fenced);
  EXPECT_EQ(fence_reply->fence_epoch, 9u);
  EXPECT_EQ(fence_reply->durable_end, 120u);
  EXPECT_EQ(fence_reply->confirmed_end, 118u);

  auto read = decode_read_request(encode(ReadRequest{segment, 101, 4096, 9, 250}));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->segment, segment);
  EXPECT_EQ(read->from, 101u);
  EXPECT_EQ(read->bytes_max, 4096u);
  EXPECT_EQ(read->recovery_epoch, 9u);
  EXPECT_EQ(read->wait_ms, 250u);

  auto read_reply = decode_read_reply(encode(sample_read_reply()));
  ASSERT_TRUE(read_reply.ok());
  EXPECT_EQ(read_reply->knowledge, Knowledge::unknown);
  EXPECT_EQ(read_reply->durable_end, 110u);
  EXPECT_EQ(read_reply->confirmed_end, 105u);
  EXPECT_EQ(read_reply->first_entry_id, 101u);
  EXPECT_EQ(read_reply->payloads, sample_read_reply().payloads);

  for (const Kind& kind : kinds()) {
    auto again = kind.decode(kind.sample);
    ASSERT_TRUE(again.ok()) << kind.name;
    EXPECT_EQ(*again, kind.sample) << kind.name;
  }
}

TEST(quorum_protocol, every_truncation_and_every_extra_byte_is_a_protocol_error) {
  for (const Kind& kind : kinds()) {
    for (size_t size = 0; size < kind.sample.size(); ++size) {
      auto decoded = kind.decode(ByteView(kind.sample).first(size));
      ASSERT_FALSE(decoded.ok()) << kind.name << " cut to " << size;
      EXPECT_EQ(decoded.error().code, Errc::protocol);
    }
    Bytes longer = kind.sample;
    longer.push_back(std::byte{0});
    auto decoded = kind.decode(longer);
    ASSERT_FALSE(decoded.ok()) << kind.name;
    EXPECT_EQ(decoded.error().code, Errc::protocol);
  }
}

TEST(quorum_protocol, a_message_of_another_kind_is_a_protocol_error) {
  const std::vector<Kind> all = kinds();
  for (const Kind& decoder : all) {
    for (const Kind& message : all) {
      if (decoder.name == message.name) continue;
      auto decoded = decoder.decode(message.sample);
      ASSERT_FALSE(decoded.ok()) << decoder.name << " accepted a " << message.name;
      EXPECT_EQ(decoded.error().code, Errc::protocol);
    }
  }
}

TEST(quorum_protocol, out_of_range_fields_and_impossible_counts_are_protocol_errors) {
  auto expect_protocol = [](const Result<Bytes>& decoded, const char* what) {
    ASSERT_FALSE(decoded.ok()) << what;
    EXPECT_EQ(decoded.error().code, Errc::protocol) << what;
  };
  const std::vector<Kind> all = kinds();
  Bytes bad_status = all[1].sample;
  bad_status[1] = std::byte{4};  // AddStatus has four values
  expect_protocol(all[1].decode(bad_status), "add status");
  Bytes bad_flag = all[3].sample;
  bad_flag[2] = std::byte{2};  // fenced is a flag
  expect_protocol(all[3].decode(bad_flag), "fenced flag");
  expect_protocol(all[2].decode(encode(FenceRequest{segment, 0})), "fence epoch 0");
  // An entry count the remaining bytes cannot hold, and one above the limit.
  AddRequest empty = sample_add();
  empty.payloads.clear();
  Bytes counted = encode(empty);
  const size_t count_at = counted.size() - 4;
  counted[count_at] = std::byte{0xff};
  expect_protocol(all[0].decode(counted), "count past the end");
  Bytes huge = encode(empty);
  huge[count_at + 3] = std::byte{0x7f};
  huge.resize(huge.size() + 8, std::byte{0});
  expect_protocol(all[0].decode(huge), "count over the limit");
  // A blob length running past the end.
  Bytes long_name = all[4].sample;
  long_name[1] = std::byte{0xff};
  expect_protocol(all[4].decode(long_name), "name length");
  // Ids that overflow.
  AddRequest overflow = sample_add();
  overflow.first_entry_id = UINT64_MAX - 1;
  expect_protocol(all[0].decode(encode(overflow)), "entry id overflow");
}

// Random bytes, and samples with random bytes overwritten: a protocol error, or a well-formed
// message that encodes back to exactly the input (decoders accept one canonical form).
TEST(quorum_protocol, garbage_is_rejected_or_canonical) {
  Xoshiro256 random(20261122);
  const std::vector<Kind> all = kinds();
  for (int round = 0; round < 20000; ++round) {
    const Kind& kind = all[random.below(all.size())];
    Bytes garbage;
    if (random.below(2) == 0) {
      garbage.resize(random.below(96));
      for (std::byte& b : garbage) b = static_cast<std::byte>(random.below(256));
      if (!garbage.empty() && random.below(2) == 0) garbage[0] = kind.sample[0];
    } else {
      garbage = kind.sample;
      const uint64_t changes = 1 + random.below(4);
      for (uint64_t i = 0; i < changes; ++i) {
        garbage[random.below(garbage.size())] = static_cast<std::byte>(random.below(256));
      }
    }
    auto decoded = kind.decode(garbage);
    if (decoded.ok()) {
      ASSERT_EQ(*decoded, garbage) << kind.name << " round " << round;
    } else {
      ASSERT_EQ(decoded.error().code, Errc::protocol) << kind.name << " round " << round;
    }
  }
}

}  // namespace
}  // namespace wal::quorum
