// Reading the journals at start (logstore_journal.h has the format and the classification).
#include <fmt/format.h>

#include "logstore_node.h"

namespace wal::quorum {

Task<Status> LogStoreNode::replay_journals() {
  Disk& disk = *env_.disk;
  Result<std::vector<std::string>> paths = co_await disk.list(std::string(journal::directory));
  if (!paths.ok()) co_return std::move(paths).error();
  for (const std::string& path : *paths) {
    if (journal::parse_journal_path(path, journal::suffix)) {
      WAL_CO_TRY(co_await adopt_journal(path));
    } else if (auto name = journal::parse_journal_path(path, journal::damaged_suffix)) {
      lost_.insert(SegmentKey{name->log_id, name->segment_id});
    } else if (journal::parse_journal_path(path, journal::rewrite_suffix)) {
      WAL_CO_TRY(co_await disk.remove(path));  // a rewrite that never got renamed into place
    }
  }
  co_return Status{};
}

// Replays one journal: clean and torn journals are adopted as they are (a torn tail is cut off
// and the cut synced before anything is appended); a damaged one keeps its valid prefix under a
// knowledge-lost record, and is then replayed again (the rewrite moved the records the segment's
// index points at); one without a valid header cannot even say which segment it holds.
// The whole file is read at once here, at start only; afterwards the segment keeps an index of
// its records, not their payloads.
Task<Status> LogStoreNode::adopt_journal(const std::string& path, bool rewritten) {
  Disk& disk = *env_.disk;
  Result<uint64_t> size = co_await disk.size(path);
  if (!size.ok()) co_return std::move(size).error();
  Result<Bytes> bytes = co_await disk.read(path, 0, *size);
  if (!bytes.ok()) co_return std::move(bytes).error();
  const journal::JournalReplay replay = journal::replay_journal(*bytes);
  const std::optional<journal::JournalName> name = journal::parse_journal_path(path, journal::suffix);
  WAL_ASSERT(name.has_value());
  const bool header_matches = replay.segment && replay.segment->log_id == name->log_id &&
                              replay.segment->segment_id == name->segment_id;
  // A rewritten journal damaged again: the disk changed it under us; keep it for inspection.
  const bool damaged_again = rewritten && replay.end == journal::JournalEnd::damaged;
  if (!header_matches || damaged_again) {
    if (replay.end != journal::JournalEnd::damaged && !replay.segment) {
      co_return co_await disk.remove(path);  // torn before its header was whole: never synced
    }
    lost_.insert(SegmentKey{name->log_id, name->segment_id});
    co_return co_await disk.rename(path, path + ".damaged");
  }
  if (replay.end == journal::JournalEnd::damaged) {
    WAL_CO_TRY(co_await rewrite_damaged(path, replay, *bytes));
    co_return co_await adopt_journal(path, true);
  }
  if (replay.end == journal::JournalEnd::torn) {
    env_.faults.reached(CoverageMark::logstore_torn_tail);
    WAL_CO_TRY(co_await disk.truncate(path, replay.valid_size_bytes));
    WAL_CO_TRY(co_await disk.sync(path));
  }
  Result<uint64_t> kept_size = co_await disk.size(path);
  if (!kept_size.ok()) co_return std::move(kept_size).error();
  auto segment = std::make_shared<Segment>(env_, scope_, stats_, cache_, *replay.segment,
                                           replay.knowledge_lost);
  segment->restore(replay, *kept_size);
  segments_[segment->key()] = std::move(segment);
  co_return Status{};
}

// Writes the valid prefix, marked knowledge-lost, to a new file and renames it into place, so
// later appends follow valid records and the segment keeps answering unknown after restarts.
Task<Status> LogStoreNode::rewrite_damaged(const std::string& path,
                                           const journal::JournalReplay& replay, ByteView bytes) {
  WAL_ASSERT(replay.segment.has_value());
  Bytes records;
  journal::append_header_record(records, *replay.segment);
  journal::append_knowledge_lost_record(records, journal::KnowledgeLostReason::journal_damaged);
  if (replay.fence_epoch > 0) journal::append_fence_record(records, replay.fence_epoch);
  EntryId id = replay.segment->first_entry_id;
  for (const journal::EntryLocation& at : replay.entries) {
    const ByteView record =
        bytes.subspan(at.record_offset, journal::entry_record_size_bytes(at.payload_size_bytes));
    // Replay checked every record of the valid prefix, so this cannot fail.
    Result<ByteView> payload = journal::decode_entry_record(record, id, at.payload_size_bytes);
    WAL_ASSERT(payload.ok());
    journal::append_entry_record(records, id++, *payload);
  }
  const std::string temp = path.substr(0, path.size() - journal::suffix.size()) +
                           std::string(journal::rewrite_suffix);
  Disk& disk = *env_.disk;
  WAL_CO_TRY(co_await disk.remove(temp));
  WAL_CO_TRY(co_await disk.write(temp, 0, std::move(records)));
  WAL_CO_TRY(co_await disk.sync(temp));
  co_return co_await disk.rename(temp, path);
}

}  // namespace wal::quorum
