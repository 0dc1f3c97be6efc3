// Wire encoding of the LogStore protocol (wal/quorum/protocol.h). Each decoder reads its fields
// with a ByteReader and then checks three things once: no short read, no trailing bytes, and
// every enum and count within range.
#include "wal/quorum/protocol.h"

#include <fmt/format.h>

namespace wal::quorum {

namespace {

enum class Tag : uint8_t {
  add_request = 1,
  add_reply = 2,
  fence_request = 3,
  fence_reply = 4,
  read_request = 5,
  read_reply = 6,
};

void put_blob(Bytes& out, ByteView blob) {
  put_u32(out, static_cast<uint32_t>(blob.size()));
  put_bytes(out, blob);
}

void put_segment(Bytes& out, const SegmentRef& s) {
  put_blob(out, as_bytes(s.log_name));
  put_u64(out, s.log_id);
  put_u64(out, s.segment_id);
  put_u64(out, s.first_entry_id);
  put_u64(out, static_cast<uint64_t>(s.create_revision));
}

void put_payloads(Bytes& out, const std::vector<Bytes>& payloads) {
  put_u32(out, static_cast<uint32_t>(payloads.size()));
  for (const Bytes& p : payloads) put_blob(out, p);
}

Bytes start(Tag tag, size_t reserve = 64) {
  Bytes out;
  out.reserve(reserve);
  put_u8(out, static_cast<uint8_t>(tag));
  return out;
}

size_t payload_bytes(const std::vector<Bytes>& payloads) {
  size_t total = 0;
  for (const Bytes& p : payloads) total += 4 + p.size();
  return total;
}

// Reads one message; remembers the first problem so decoders check once.
class Decoder {
 public:
  Decoder(ByteView bytes, Tag tag, const char* what) : in_(bytes), what_(what) {
    if (bytes.size() > message_bytes_max) {
      fail("larger than the message limit");
    } else if (in_.u8() != static_cast<uint8_t>(tag)) {
      fail("wrong message tag");
    }
  }
  uint64_t u64() { return in_.u64(); }
  uint32_t u32() { return in_.u32(); }
  bool flag() {
    const uint8_t v = in_.u8();
    if (v > 1) fail("a flag is neither 0 nor 1");
    return v == 1;
  }
  uint8_t enumeration(uint8_t max) {
    const uint8_t v = in_.u8();
    if (v > max) fail("an enum value is out of range");
    return v;
  }
  Bytes blob() {
    const uint32_t size = in_.u32();
    if (size > in_.remaining()) {
      fail("a length runs past the end");
      return {};
    }
    ByteView view = in_.bytes(size);
    return Bytes(view.begin(), view.end());
  }
  SegmentRef segment() {
    SegmentRef s;
    s.log_name = to_string(blob());
    s.log_id = in_.u64();
    s.segment_id = in_.u64();
    s.first_entry_id = in_.u64();
    s.create_revision = static_cast<int64_t>(in_.u64());
    return s;
  }
  std::vector<Bytes> payloads() {
    const uint32_t count = in_.u32();
    std::vector<Bytes> out;
    // Each payload takes at least its 4-byte length: a count the bytes cannot hold is malformed.
    if (count > entries_per_message_max || uint64_t{count} * 4 > in_.remaining()) {
      fail("the entry count is impossible");
      return out;
    }
    out.reserve(count);
    for (uint32_t i = 0; i < count && problem_.empty(); ++i) out.push_back(blob());
    return out;
  }
  void fail(const char* problem) {
    if (problem_.empty()) problem_ = problem;
  }
  template <typename T>
  Result<T> finish(T value) {
    if (problem_.empty() && !in_.ok()) problem_ = "the message ends early";
    if (problem_.empty() && in_.remaining() != 0) problem_ = "trailing bytes after the message";
    if (!problem_.empty()) {
      return make_error(Errc::protocol, fmt::format("malformed {}: {}", what_, problem_));
    }
    return value;
  }

 private:
  ByteReader in_;
  const char* what_;
  std::string problem_;
};

}  // namespace

Bytes encode(const AddRequest& m) {
  Bytes out = start(Tag::add_request, 96 + payload_bytes(m.payloads));
  put_segment(out, m.segment);
  put_u64(out, m.epoch);
  put_u8(out, m.recovery ? 1 : 0);
  put_u64(out, m.first_entry_id);
  put_u64(out, m.confirmed_end);
  put_payloads(out, m.payloads);
  return out;
}

Result<AddRequest> decode_add_request(ByteView bytes) {
  Decoder in(bytes, Tag::add_request, "add request");
  AddRequest m;
  m.segment = in.segment();
  m.epoch = in.u64();
  m.recovery = in.flag();
  m.first_entry_id = in.u64();
  m.confirmed_end = in.u64();
  m.payloads = in.payloads();
  if (m.first_entry_id + m.payloads.size() < m.first_entry_id) in.fail("entry ids overflow");
  return in.finish(std::move(m));
}

Bytes encode(const AddReply& m) {
  Bytes out = start(Tag::add_reply);
  put_u8(out, static_cast<uint8_t>(m.status));
  put_u64(out, m.durable_end);
  put_u64(out, m.fence_epoch);
  return out;
}

Result<AddReply> decode_add_reply(ByteView bytes) {
  Decoder in(bytes, Tag::add_reply, "add reply");
  AddReply m;
  m.status = static_cast<AddStatus>(in.enumeration(static_cast<uint8_t>(AddStatus::sealed)));
  m.durable_end = in.u64();
  m.fence_epoch = in.u64();
  return in.finish(m);
}

Bytes encode(const FenceRequest& m) {
  Bytes out = start(Tag::fence_request);
  put_segment(out, m.segment);
  put_u64(out, m.epoch);
  return out;
}

Result<FenceRequest> decode_fence_request(ByteView bytes) {
  Decoder in(bytes, Tag::fence_request, "fence request");
  FenceRequest m;
  m.segment = in.segment();
  m.epoch = in.u64();
  if (m.epoch == 0) in.fail("fence epoch 0");
  return in.finish(std::move(m));
}

Bytes encode(const FenceReply& m) {
  Bytes out = start(Tag::fence_reply);
  put_u8(out, static_cast<uint8_t>(m.knowledge));
  put_u8(out, m.fenced ? 1 : 0);
  put_u64(out, m.fence_epoch);
  put_u64(out, m.durable_end);
  put_u64(out, m.confirmed_end);
  return out;
}

Result<FenceReply> decode_fence_reply(ByteView bytes) {
  Decoder in(bytes, Tag::fence_reply, "fence reply");
  FenceReply m;
  m.knowledge = static_cast<Knowledge>(in.enumeration(static_cast<uint8_t>(Knowledge::unknown)));
  m.fenced = in.flag();
  m.fence_epoch = in.u64();
  m.durable_end = in.u64();
  m.confirmed_end = in.u64();
  return in.finish(m);
}

Bytes encode(const ReadRequest& m) {
  Bytes out = start(Tag::read_request);
  put_segment(out, m.segment);
  put_u64(out, m.from);
  put_u64(out, m.bytes_max);
  put_u64(out, m.recovery_epoch);
  put_u32(out, m.wait_ms);
  return out;
}

Result<ReadRequest> decode_read_request(ByteView bytes) {
  Decoder in(bytes, Tag::read_request, "read request");
  ReadRequest m;
  m.segment = in.segment();
  m.from = in.u64();
  m.bytes_max = in.u64();
  m.recovery_epoch = in.u64();
  m.wait_ms = in.u32();
  return in.finish(std::move(m));
}

Bytes encode(const ReadReply& m) {
  Bytes out = start(Tag::read_reply, 48 + payload_bytes(m.payloads));
  put_u8(out, static_cast<uint8_t>(m.knowledge));
  put_u64(out, m.durable_end);
  put_u64(out, m.confirmed_end);
  put_u64(out, m.first_entry_id);
  put_payloads(out, m.payloads);
  return out;
}

Result<ReadReply> decode_read_reply(ByteView bytes) {
  Decoder in(bytes, Tag::read_reply, "read reply");
  ReadReply m;
  m.knowledge = static_cast<Knowledge>(in.enumeration(static_cast<uint8_t>(Knowledge::unknown)));
  m.durable_end = in.u64();
  m.confirmed_end = in.u64();
  m.first_entry_id = in.u64();
  m.payloads = in.payloads();
  return in.finish(std::move(m));
}

std::string describe(const SegmentRef& s) {
  return fmt::format("log '{}' (id {}) segment {}", s.log_name, s.log_id, s.segment_id);
}

}  // namespace wal::quorum
