// Journal records of a LogStore segment (logstore_journal.h): encoding and replay.
#include "logstore_journal.h"

#include <fmt/format.h>

#include "wal/format/crc32c.h"
#include "wal/log/keys.h"

namespace wal::quorum::journal {

namespace {

void append_record(Bytes& out, RecordType type, ByteView body) {
  WAL_ASSERT_LE(body.size(), record_body_bytes_max);
  const size_t start = out.size();
  put_u32(out, crc32c_mask(crc32c(body)));
  put_u8(out, static_cast<uint8_t>(type));
  put_u32(out, static_cast<uint32_t>(body.size()));
  const ByteView header = ByteView(out).subspan(start, header_crc_offset);
  put_u32(out, crc32c_mask(crc32c(header)));
  put_bytes(out, body);
  WAL_ASSERT_EQ(out.size() - start, record_header_size_bytes + body.size());
}

bool all_zero(ByteView bytes) {
  for (std::byte b : bytes) {
    if (b != std::byte{0}) return false;
  }
  return true;
}

std::optional<SegmentRef> decode_header_body(ByteView body) {
  ByteReader in(body);
  const uint32_t name_size = in.u32();
  if (!in.ok() || name_size > in.remaining()) return std::nullopt;
  SegmentRef segment;
  segment.log_name = to_string(in.bytes(name_size));
  segment.log_id = in.u64();
  segment.segment_id = in.u64();
  segment.first_entry_id = in.u64();
  segment.create_revision = static_cast<int64_t>(in.u64());
  if (!in.ok() || in.remaining() != 0) return std::nullopt;
  return segment;
}

// Applies one verified record to `state`; a problem string if the record is inconsistent.
std::optional<std::string> apply(JournalReplay& state, RecordType type, ByteView body,
                                 uint64_t record_offset) {
  if (!state.segment && type != RecordType::header) return "the first record is not a header";
  switch (type) {
    case RecordType::header: {
      std::optional<SegmentRef> segment = decode_header_body(body);
      if (!segment) return "malformed header record";
      if (state.segment && *state.segment != *segment) return "a second, different header";
      state.segment = std::move(segment);
      return std::nullopt;
    }
    case RecordType::fence: {
      if (body.size() != 8) return "malformed fence record";
      state.fence_epoch = std::max(state.fence_epoch, get_u64(body.data()));
      return std::nullopt;
    }
    case RecordType::entry: {
      if (body.size() < 8) return "malformed entry record";
      const EntryId id = get_u64(body.data());
      const EntryId end = state.segment->first_entry_id + state.entries.size();
      if (id < state.segment->first_entry_id) return "an entry below the segment's first";
      if (id > end) return fmt::format("entry {} follows entry {}", id, end - 1);
      if (id == end) {
        state.entries.push_back(
            EntryLocation{record_offset, static_cast<uint32_t>(body.size() - entry_id_size_bytes)});
      }
      return std::nullopt;  // id < end: a repeat of an entry already held
    }
    case RecordType::knowledge_lost: {
      if (body.size() != 1) return "malformed knowledge-lost record";
      state.knowledge_lost = true;
      return std::nullopt;
    }
    case RecordType::repaired: {
      if (body.size() != 8) return "malformed repaired record";
      const EntryId sealed_end = get_u64(body.data());
      const EntryId end = state.segment->first_entry_id + state.entries.size();
      // Written only after the entries it vouches for were synced.
      if (sealed_end > end) return fmt::format("repaired at {} but entries end at {}", sealed_end, end);
      state.knowledge_lost = false;
      state.sealed_end = sealed_end;
      return std::nullopt;
    }
  }
  return "unknown record type";
}

}  // namespace

std::string journal_path(uint64_t log_id, SegmentId segment_id) {
  return fmt::format("{}{}-{}{}", directory, pad20(log_id), pad20(segment_id), suffix);
}

std::optional<JournalName> parse_journal_path(std::string_view path,
                                              std::string_view with_suffix) {
  constexpr size_t digits = 20;
  if (!path.starts_with(directory)) return std::nullopt;
  path.remove_prefix(directory.size());
  if (path.size() != digits + 1 + digits + with_suffix.size()) return std::nullopt;
  if (path.substr(2 * digits + 1) != with_suffix || path[digits] != '-') return std::nullopt;
  auto number = [](std::string_view text) -> std::optional<uint64_t> {
    uint64_t value = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      const uint64_t digit = static_cast<uint64_t>(c - '0');
      if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
      value = value * 10 + digit;
    }
    return value;
  };
  std::optional<uint64_t> log_id = number(path.substr(0, digits));
  std::optional<uint64_t> segment_id = number(path.substr(digits + 1, digits));
  if (!log_id || !segment_id) return std::nullopt;
  return JournalName{*log_id, *segment_id};
}

void append_header_record(Bytes& out, const SegmentRef& segment) {
  Bytes body;
  put_u32(body, static_cast<uint32_t>(segment.log_name.size()));
  put_bytes(body, as_bytes(segment.log_name));
  put_u64(body, segment.log_id);
  put_u64(body, segment.segment_id);
  put_u64(body, segment.first_entry_id);
  put_u64(body, static_cast<uint64_t>(segment.create_revision));
  append_record(out, RecordType::header, body);
}

void append_fence_record(Bytes& out, Epoch epoch) {
  Bytes body;
  put_u64(body, epoch);
  append_record(out, RecordType::fence, body);
}

void append_entry_record(Bytes& out, EntryId id, ByteView payload) {
  Bytes body;
  body.reserve(8 + payload.size());
  put_u64(body, id);
  put_bytes(body, payload);
  append_record(out, RecordType::entry, body);
}

Result<ByteView> decode_entry_record(ByteView record, EntryId id, uint32_t payload_size_bytes) {
  const uint64_t body_size = entry_id_size_bytes + payload_size_bytes;
  auto damaged = [&](std::string_view why) -> Error {
    return make_error(Errc::corrupt, fmt::format("journal entry {}: {}", id, why));
  };
  if (record.size() != record_header_size_bytes + body_size) return damaged("cut short");
  const uint32_t header_crc = crc32c_unmask(get_u32(record.data() + header_crc_offset));
  if (crc32c(record.first(header_crc_offset)) != header_crc) {
    return damaged("record header fails its checksum");
  }
  if (static_cast<RecordType>(record[type_offset]) != RecordType::entry ||
      get_u32(record.data() + length_offset) != body_size) {
    return damaged("not the entry record the index points at");
  }
  const ByteView body = record.subspan(record_header_size_bytes);
  if (crc32c(body) != crc32c_unmask(get_u32(record.data() + body_crc_offset))) {
    return damaged("record body fails its checksum");
  }
  if (get_u64(body.data()) != id) return damaged("record holds another id");
  return body.subspan(entry_id_size_bytes);
}

void append_knowledge_lost_record(Bytes& out, KnowledgeLostReason reason) {
  Bytes body;
  put_u8(body, static_cast<uint8_t>(reason));
  append_record(out, RecordType::knowledge_lost, body);
}

void append_repaired_record(Bytes& out, EntryId sealed_end) {
  Bytes body;
  put_u64(body, sealed_end);
  append_record(out, RecordType::repaired, body);
}

JournalReplay replay_journal(ByteView bytes) {
  JournalReplay state;
  uint64_t offset = 0;
  auto stop = [&](JournalEnd end, std::string problem) {
    state.end = end;
    state.problem = fmt::format("at byte {}: {}", offset, problem);
    state.valid_size_bytes = offset;
  };
  while (offset < bytes.size()) {
    const ByteView rest = bytes.subspan(offset);
    if (all_zero(rest)) {
      stop(JournalEnd::torn, "only zero bytes follow");
      return state;
    }
    if (rest.size() < record_header_size_bytes) {
      stop(JournalEnd::torn, "a record header cut short");
      return state;
    }
    const uint32_t header_crc = crc32c_unmask(get_u32(rest.data() + header_crc_offset));
    if (crc32c(rest.first(header_crc_offset)) != header_crc) {
      stop(JournalEnd::damaged, "a record header fails its checksum");
      return state;
    }
    const uint32_t body_size = get_u32(rest.data() + length_offset);
    const uint8_t type = static_cast<uint8_t>(rest[type_offset]);
    if (body_size > record_body_bytes_max || type < 1 ||
        type > static_cast<uint8_t>(RecordType::repaired)) {
      stop(JournalEnd::damaged, "a record header with an impossible type or length");
      return state;
    }
    if (rest.size() - record_header_size_bytes < body_size) {
      stop(JournalEnd::torn, "the last record is cut short");
      return state;
    }
    const ByteView body = rest.subspan(record_header_size_bytes, body_size);
    if (crc32c(body) != crc32c_unmask(get_u32(rest.data() + body_crc_offset))) {
      stop(JournalEnd::damaged, "a record body fails its checksum");
      return state;
    }
    if (auto problem = apply(state, static_cast<RecordType>(type), body, offset)) {
      stop(JournalEnd::damaged, *problem);
      return state;
    }
    offset += record_header_size_bytes + body_size;
  }
  state.valid_size_bytes = offset;
  return state;
}

}  // namespace wal::quorum::journal
