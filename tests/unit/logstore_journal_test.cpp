// LogStore journal replay: exact classification of clean files, torn tails (every cut of the
// last record) and damage (every single-bit flip anywhere), and the path names.
#include <gtest/gtest.h>

#include "wal/src/quorum/logstore_journal.h"

namespace wal::quorum::journal {
namespace {

const SegmentRef segment{"orders", 7, 3, 100, 42};

Bytes sample_journal(std::vector<size_t>* record_ends = nullptr) {
  Bytes out;
  auto mark = [&] {
    if (record_ends) record_ends->push_back(out.size());
  };
  append_header_record(out, segment);
  mark();
  append_entry_record(out, 100, to_bytes("first"));
  mark();
  append_fence_record(out, 9);
  mark();
  append_entry_record(out, 101, {});
  mark();
  append_entry_record(out, 100, to_bytes("first"));  // a repeat after a failed sync
  mark();
  append_entry_record(out, 102, to_bytes("third entry"));
  mark();
  return out;
}

// The payload of replayed entry `index`, read back through its location.
Bytes payload_at(ByteView bytes, const JournalReplay& replay, size_t index) {
  const EntryLocation at = replay.entries.at(index);
  const ByteView record =
      bytes.subspan(at.record_offset, entry_record_size_bytes(at.payload_size_bytes));
  Result<ByteView> payload =
      decode_entry_record(record, replay.segment->first_entry_id + index, at.payload_size_bytes);
  WAL_ASSERT(payload.ok());
  return Bytes(payload->begin(), payload->end());
}

TEST(logstore_journal, a_clean_journal_replays_every_record) {
  const Bytes bytes = sample_journal();
  const JournalReplay replay = replay_journal(bytes);
  EXPECT_EQ(replay.end, JournalEnd::clean);
  ASSERT_TRUE(replay.segment.has_value());
  EXPECT_EQ(*replay.segment, segment);
  EXPECT_EQ(replay.fence_epoch, 9u);
  EXPECT_FALSE(replay.knowledge_lost);
  ASSERT_EQ(replay.entries.size(), 3u);
  EXPECT_EQ(payload_at(bytes, replay, 0), to_bytes("first"));
  EXPECT_TRUE(payload_at(bytes, replay, 1).empty());
  EXPECT_EQ(payload_at(bytes, replay, 2), to_bytes("third entry"));
  EXPECT_EQ(replay.valid_size_bytes, bytes.size());
}

// Reading an entry back checks everything the index does not vouch for: a flipped bit anywhere
// in the record, or a location that points at another record, is corrupt, never a payload.
TEST(logstore_journal, an_entry_read_back_is_checked_bit_by_bit) {
  const Bytes bytes = sample_journal();
  const JournalReplay replay = replay_journal(bytes);
  const EntryLocation at = replay.entries.at(2);
  const uint64_t size = entry_record_size_bytes(at.payload_size_bytes);
  const ByteView record = ByteView(bytes).subspan(at.record_offset, size);
  ASSERT_TRUE(decode_entry_record(record, 102, at.payload_size_bytes).ok());
  EXPECT_EQ(decode_entry_record(record, 101, at.payload_size_bytes).error().code, Errc::corrupt);
  EXPECT_EQ(
      decode_entry_record(record.first(size - 1), 102, at.payload_size_bytes - 1).error().code,
      Errc::corrupt);
  const ByteView fence_record = ByteView(bytes).subspan(
      replay.entries.at(0).record_offset + entry_record_size_bytes(5), size);
  EXPECT_EQ(decode_entry_record(fence_record, 102, at.payload_size_bytes).error().code,
            Errc::corrupt);
  for (size_t bit = 0; bit < size * 8; ++bit) {
    Bytes flipped(record.begin(), record.end());
    flipped[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    EXPECT_FALSE(decode_entry_record(flipped, 102, at.payload_size_bytes).ok()) << "bit " << bit;
  }
}

TEST(logstore_journal, every_cut_inside_the_last_record_is_a_torn_tail) {
  std::vector<size_t> ends;
  const Bytes bytes = sample_journal(&ends);
  const size_t last_start = ends[ends.size() - 2];
  for (size_t cut = last_start + 1; cut < bytes.size(); ++cut) {
    const JournalReplay replay = replay_journal(ByteView(bytes).first(cut));
    EXPECT_EQ(replay.end, JournalEnd::torn) << "cut at " << cut;
    EXPECT_EQ(replay.valid_size_bytes, last_start);
    EXPECT_EQ(replay.entries.size(), 2u);
  }
  Bytes zero_tail = bytes;
  zero_tail.resize(bytes.size() + 700, std::byte{0});
  const JournalReplay zeros = replay_journal(zero_tail);
  EXPECT_EQ(zeros.end, JournalEnd::torn);
  EXPECT_EQ(zeros.valid_size_bytes, bytes.size());
}

// No single flipped bit, wherever it is, passes for a torn tail or a clean file: a length field
// that lies must never make replay cut acknowledged entries off silently.
TEST(logstore_journal, every_single_bit_flip_is_damage) {
  std::vector<size_t> ends;
  const Bytes bytes = sample_journal(&ends);
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    Bytes flipped = bytes;
    flipped[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
    const JournalReplay replay = replay_journal(flipped);
    ASSERT_EQ(replay.end, JournalEnd::damaged) << "bit " << bit;
    // The valid prefix ends at the start of the damaged record.
    size_t record_start = 0;
    for (size_t end : ends) {
      if (end <= bit / 8) record_start = end;
    }
    ASSERT_EQ(replay.valid_size_bytes, record_start) << "bit " << bit;
  }
}

TEST(logstore_journal, inconsistent_records_are_damage) {
  Bytes no_header;
  append_entry_record(no_header, 100, to_bytes("x"));
  EXPECT_EQ(replay_journal(no_header).end, JournalEnd::damaged);
  EXPECT_FALSE(replay_journal(no_header).segment.has_value());

  Bytes hole;
  append_header_record(hole, segment);
  append_entry_record(hole, 101, to_bytes("x"));  // 100 is missing
  EXPECT_EQ(replay_journal(hole).end, JournalEnd::damaged);

  Bytes two_headers;
  append_header_record(two_headers, segment);
  SegmentRef other = segment;
  other.first_entry_id = 5;
  append_header_record(two_headers, other);
  EXPECT_EQ(replay_journal(two_headers).end, JournalEnd::damaged);

  Bytes lost;
  append_header_record(lost, segment);
  append_knowledge_lost_record(lost, KnowledgeLostReason::journal_damaged);
  const JournalReplay replay = replay_journal(lost);
  EXPECT_EQ(replay.end, JournalEnd::clean);
  EXPECT_TRUE(replay.knowledge_lost);

  Bytes repaired_early;  // vouches for an entry the journal does not hold
  append_header_record(repaired_early, segment);
  append_knowledge_lost_record(repaired_early, KnowledgeLostReason::disk_initialised_after_segment);
  append_entry_record(repaired_early, 100, to_bytes("x"));
  append_repaired_record(repaired_early, 102);
  EXPECT_EQ(replay_journal(repaired_early).end, JournalEnd::damaged);
  EXPECT_TRUE(replay_journal(repaired_early).knowledge_lost);
}

// A repaired record ends limbo and records the sealed end; a later knowledge-lost record (damage
// found after the repair) starts it again.
TEST(logstore_journal, a_repaired_record_ends_limbo_until_knowledge_is_lost_again) {
  Bytes bytes;
  append_header_record(bytes, segment);
  append_knowledge_lost_record(bytes, KnowledgeLostReason::disk_initialised_after_segment);
  append_entry_record(bytes, 100, to_bytes("a"));
  append_entry_record(bytes, 101, to_bytes("b"));
  append_fence_record(bytes, 4);
  append_repaired_record(bytes, 102);
  JournalReplay replay = replay_journal(bytes);
  EXPECT_EQ(replay.end, JournalEnd::clean);
  EXPECT_FALSE(replay.knowledge_lost);
  EXPECT_EQ(replay.sealed_end, std::optional<EntryId>(102));
  EXPECT_EQ(replay.fence_epoch, 4u);
  append_knowledge_lost_record(bytes, KnowledgeLostReason::journal_damaged);
  replay = replay_journal(bytes);
  EXPECT_TRUE(replay.knowledge_lost);
}

TEST(logstore_journal, paths_name_log_and_segment_and_nothing_else_parses) {
  const std::string path = journal_path(7, 3);
  EXPECT_EQ(path, "q/00000000000000000007-00000000000000000003.journal");
  auto parsed = parse_journal_path(path, suffix);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->log_id, 7u);
  EXPECT_EQ(parsed->segment_id, 3u);
  EXPECT_FALSE(parse_journal_path(path + ".damaged", suffix).has_value());
  EXPECT_TRUE(parse_journal_path(path + ".damaged", damaged_suffix).has_value());
  EXPECT_FALSE(parse_journal_path("q/disk.json", suffix).has_value());
  EXPECT_FALSE(
      parse_journal_path("q/0000000000000000000x-00000000000000000003.journal", suffix));
  EXPECT_FALSE(
      parse_journal_path("q/99999999999999999999-00000000000000000003.journal", suffix));
}

}  // namespace
}  // namespace wal::quorum::journal
