#pragma once
// The LogStore journal: one file per segment on the node's Disk, holding what the node promised
// to keep durable for that segment (its identity, fence epochs, entries). Pure encoding and
// replay; no I/O here (logstore_segment.h writes journals, logstore_replay.cpp reads them).
//
// File: q/<log id:020>-<segment id:020>.journal, a sequence of records:
//   offset 0   u32  body CRC32C (masked)
//          4   u8   record type (RecordType)
//          5   u32  body length in bytes
//          9   u32  header CRC32C (masked) of bytes [0, 9)
//         13        body
// The header CRC lets replay tell a torn tail (a record whose intact header says it runs past
// the end of the file) from damage (a complete header or record whose CRC does not hold): a
// flipped bit in a length field must never be mistaken for a torn tail, because truncating there
// would silently drop acknowledged entries.
//
// Bodies (little-endian):
//   header          u32 name length, name, u64 log id, u64 segment id, u64 first entry id,
//                   i64 create_revision. Always the first record; repeats must be identical.
//   fence           u64 epoch. The segment's fence epoch is the largest one in the file.
//   entry           u64 entry id, then the payload (the rest of the body). Ids follow each
//                   other; an id below the running end repeats an entry (a retried append after
//                   a failed sync) and is skipped; an id above it is damage.
//   knowledge_lost  u8 reason (KnowledgeLostReason). From here on the segment answers
//                   Knowledge::unknown: this node may once have held entries it no longer has.
//   repaired        u64 sealed end. The segment is sealed at that end and the entries before
//                   this record hold all of it (copied from peers, logstore_repair.cpp): the
//                   node knows the segment again, and takes no add past the sealed end.
//
// Why replay can classify exactly: the node keeps at most one append in flight per journal and
// syncs it before the next (logstore_segment.h), so after a crash only a suffix of the file,
// written by one append, can be incomplete: records, then at most one record cut short. Any
// other inconsistency (or an all-zero tail, which some file systems leave) is treated as below.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wal/core/bytes.h"
#include "wal/core/result.h"
#include "wal/quorum/protocol.h"

namespace wal::quorum::journal {

inline constexpr std::string_view directory = "q/";
inline constexpr std::string_view suffix = ".journal";
// A rewrite in progress (logstore_replay.cpp); a leftover one is deleted at start.
inline constexpr std::string_view rewrite_suffix = ".journal.rewrite";
// A journal whose header record is damaged: kept for inspection, its segment answers unknown.
inline constexpr std::string_view damaged_suffix = ".journal.damaged";

enum class RecordType : uint8_t {
  header = 1,
  fence = 2,
  entry = 3,
  knowledge_lost = 4,
  repaired = 5,
};
enum class KnowledgeLostReason : uint8_t {
  disk_initialised_after_segment = 1,  // wiped or new disk, segment created before that
  journal_damaged = 2,                 // replay found damage and kept only the valid prefix
};

inline constexpr size_t body_crc_offset = 0;
inline constexpr size_t type_offset = 4;
inline constexpr size_t length_offset = 5;
inline constexpr size_t header_crc_offset = 9;
inline constexpr size_t record_header_size_bytes = 13;
static_assert(header_crc_offset + 4 == record_header_size_bytes);
// An entry record holds one payload of one add message, which is at most message_bytes_max.
inline constexpr uint64_t record_body_bytes_max = message_bytes_max + 8;
inline constexpr size_t entry_id_size_bytes = 8;  // an entry record's body starts with its id
static_assert(record_body_bytes_max <= UINT32_MAX);

// Where an entry record sits in its journal: what a LogStore keeps in memory per entry instead
// of the payload (it reads the payload back with decode_entry_record).
struct EntryLocation {
  uint64_t record_offset = 0;  // the record's first byte in the file
  uint32_t payload_size_bytes = 0;
};
[[nodiscard]] constexpr uint64_t entry_record_size_bytes(uint32_t payload_size_bytes) {
  return record_header_size_bytes + entry_id_size_bytes + payload_size_bytes;
}

[[nodiscard]] std::string journal_path(uint64_t log_id, SegmentId segment_id);
struct JournalName {
  uint64_t log_id = 0;
  SegmentId segment_id = 0;
};
// Parses "q/<log id:020>-<segment id:020><suffix>"; nullopt for any other name.
[[nodiscard]] std::optional<JournalName> parse_journal_path(std::string_view path,
                                                            std::string_view with_suffix);

void append_header_record(Bytes& out, const SegmentRef& segment);
void append_fence_record(Bytes& out, Epoch epoch);
void append_entry_record(Bytes& out, EntryId id, ByteView payload);
// The payload of the entry record at the start of `record` (entry_record_size_bytes long), read
// back from a journal. ok: a view into `record`. corrupt: a checksum fails, or the type, length
// or id differ from what the node recorded when it wrote or replayed the record (the disk
// changed synced bytes). Never asserts on the bytes.
[[nodiscard]] Result<ByteView> decode_entry_record(ByteView record, EntryId id,
                                                   uint32_t payload_size_bytes);
void append_knowledge_lost_record(Bytes& out, KnowledgeLostReason reason);
void append_repaired_record(Bytes& out, EntryId sealed_end);

enum class JournalEnd : uint8_t {
  clean,    // the file ends exactly after a valid record
  torn,     // the file ends inside one record (or in zero bytes): a crash; truncate there
  damaged,  // a record that cannot be a crash artefact: bytes from valid_size_bytes on are lost
};

// What replaying a journal found: the state of the valid prefix and why it stopped.
struct JournalReplay {
  std::optional<SegmentRef> segment;  // nullopt: no valid header record
  Epoch fence_epoch = 0;
  bool knowledge_lost = false;
  std::optional<EntryId> sealed_end;  // from a repaired record
  std::vector<EntryLocation> entries;  // ids segment->first_entry_id + index
  JournalEnd end = JournalEnd::clean;
  uint64_t valid_size_bytes = 0;  // the valid prefix of the file
  std::string problem;            // for torn and damaged
};

// Replays a whole journal file. Never fails and never asserts on the bytes.
[[nodiscard]] JournalReplay replay_journal(ByteView bytes);

}  // namespace wal::quorum::journal
