#include "wal/log/log_verify.h"

#include <algorithm>

#include <fmt/core.h>

#include "wal/format/block_codec.h"
#include "wal/format/segment_manifest.h"
#include "wal/log/fence_object.h"
#include "wal/log/retry.h"

namespace wal {

namespace {

// How far the probe of a segment without a usable manifest looks past a missing block for the
// next one. A writer has at most unacknowledged_blocks_max (16 by default) blocks in flight, so
// holes it leaves in storage are shorter; 64 also covers a few lost blocks in a row.
constexpr uint64_t probe_gap_blocks_max = 64;

std::string ids(EntryId first, EntryId end) {
  return end == first + 1 ? fmt::format("entry {}", first)
                          : fmt::format("entries {}..{}", first, end - 1);
}

// What reading one block gave.
struct BlockRead {
  enum class Kind : uint8_t { intact, missing, bad } kind = Kind::missing;
  EntryId first_entry_id = 0;  // intact only
  uint32_t entry_count = 0;    // intact only
  std::string why;             // missing / bad: for the report
};

struct Checker {
  Env& env;
  const LogKeys& keys;
  VerifyReport& report;

  void problem(std::string text) { report.problems.push_back(std::move(text)); }

  // Entries [first, end) cannot be read. Below the truncation point that is only a note.
  void lose(EntryId first, EntryId end, const std::string& why) {
    if (end <= first) return;
    const EntryId kept = report.truncation.first_kept_entry_id;
    report.lost.push_back(LostRange{first, end, why});
    if (end <= kept) {
      report.notes.push_back(ids(first, end) + " cannot be read (" + why +
                             "), but they are below the truncation point");
      return;
    }
    problem(ids(std::max(first, kept), end) + " cannot be read: " + why);
  }

  Task<BlockRead> read_block(SegmentId segment_id, uint64_t index,
                             const BlockExpectation& expected) {
    const std::string key = keys.block_key(segment_id, index);
    Result<ObjectData> read = co_await retry_verified_read(
        env, {}, [&] { return env.object_store->get(key, std::nullopt); });
    BlockRead result;
    if (!read.ok()) {
      const bool missing = read.error().code == Errc::not_found;
      result.kind = missing ? BlockRead::Kind::missing : BlockRead::Kind::bad;
      result.why = missing ? "block " + key + " is missing"
                           : "block " + key + " cannot be read: " + read.error().describe();
      co_return result;
    }
    if (looks_like_fence(read->body)) {
      result.why = "a fence object stands where block " + key + " should be";
      co_return result;  // missing, as far as data goes: a recovery fenced there
    }
    const uint64_t size = read->body.size();
    Result<DecodedBlock> block = decode_block(std::move(read->body), expected);
    if (!block.ok()) {
      result.kind = BlockRead::Kind::bad;
      result.why = "block " + key + " is damaged: " + block.error().describe();
      co_return result;
    }
    ++report.blocks_checked;
    report.entries_checked += block->entry_count();
    report.bytes_checked += size;
    result.kind = BlockRead::Kind::intact;
    result.first_entry_id = block->header().first_entry_id;
    result.entry_count = block->entry_count();
    co_return result;
  }

  Task<Result<SegmentManifest>> read_manifest_object(const SegmentMeta& meta,
                                                     uint64_t block_count) {
    const std::string key = keys.manifest_key(meta.segment_id, block_count);
    Result<ObjectData> read = co_await retry_verified_read(
        env, {}, [&] { return env.object_store->get(key, std::nullopt); });
    if (!read.ok()) co_return Error{read.error().code, Outcome::definite, key + ": " +
                                                                          read.error().describe()};
    Result<SegmentManifest> manifest =
        decode_segment_manifest(read->body, {keys.log_id, meta.segment_id});
    if (!manifest.ok()) co_return Error{Errc::corrupt, Outcome::definite,
                                        key + ": " + manifest.error().describe()};
    if (manifest->first_entry_id != meta.first_entry_id ||
        manifest->blocks.size() != block_count) {
      co_return make_error(Errc::corrupt, key + ": lists blocks of another segment");
    }
    co_return manifest;
  }

  // The blocks a manifest lists: each missing or damaged one loses exactly its entries.
  Task<void> check_listed(SegmentSummary& summary, const SegmentManifest& manifest) {
    for (uint32_t i = 0; i < manifest.blocks.size(); ++i) {
      const ManifestBlock& record = manifest.blocks[i];
      BlockRead read = co_await read_block(summary.meta.segment_id, i,
                                           block_expectation(manifest, i));
      if (read.kind == BlockRead::Kind::intact) {
        ++summary.blocks_read;
        summary.end_found = record.first_entry_id + record.entry_count;
      } else {
        lose(record.first_entry_id, record.first_entry_id + record.entry_count, read.why);
      }
    }
  }

  // Blocks from `index` on, without a manifest: a hole ends at the next block found. Stops at
  // `index_end` (sealed: its block count), or past `end` (open: the acknowledged end) at the
  // first missing block, or after probe_gap_blocks_max missing blocks in a row.
  struct Probed {
    EntryId next = 0;                     // after the last block probed (or the last hole)
    std::optional<EntryId> first_hole;    // where the first missing or damaged block begins
  };
  Task<Probed> probe(SegmentSummary& summary, uint64_t index, EntryId next,
                     std::optional<uint64_t> index_end, EntryId end) {
    const SegmentMeta& meta = summary.meta;
    std::optional<BlockRead> hole;  // the first missing or damaged block of the current hole
    std::optional<EntryId> first_hole;
    uint64_t missing_in_row = 0;
    for (;; ++index) {
      if (index_end && index >= *index_end) break;
      BlockExpectation expected;
      expected.log_id = keys.log_id;
      expected.segment_id = meta.segment_id;
      if (!hole) expected.first_entry_id = next;
      BlockRead read = co_await read_block(meta.segment_id, index, expected);
      if (read.kind != BlockRead::Kind::intact) {
        if (!index_end && !hole && next >= end) break;  // the normal end of an open segment
        if (!hole) hole = read;
        if (!first_hole) first_hole = next;
        if (++missing_in_row > probe_gap_blocks_max) break;
        continue;
      }
      if (hole) {
        if (read.first_entry_id < next) {
          problem(fmt::format("block {} of segment {} starts at id {}, inside ids already read",
                              index, meta.segment_id, read.first_entry_id));
          break;
        }
        lose(next, read.first_entry_id, hole->why);
        hole.reset();
      }
      missing_in_row = 0;
      ++summary.blocks_read;
      next = read.first_entry_id + read.entry_count;
      summary.end_found = next;
    }
    if (hole) {
      lose(next, std::max(next, end), hole->why);
      next = std::max(next, end);  // reported: the caller goes on from there
    }
    co_return Probed{next, first_hole};
  }

  Task<void> check_sealed(SegmentSummary& summary) {
    const SegmentMeta& meta = summary.meta;
    summary.end_found = meta.first_entry_id;
    if (meta.block_count == 0) co_return;
    Result<SegmentManifest> manifest = co_await read_manifest_object(meta, meta.block_count);
    if (manifest.ok()) {
      if (manifest->next_entry_id() != meta.end_entry_id) {
        problem(fmt::format("segment {}: its footer covers ids {}..{} but the segment metadata "
                            "says {}..{}", meta.segment_id, manifest->first_entry_id,
                            manifest->next_entry_id() - 1, meta.first_entry_id,
                            meta.end_entry_id - 1));
      }
      co_await check_listed(summary, *manifest);
      co_return;
    }
    // Without the footer, readers from the start still read block after block; one that starts
    // inside the segment needs the footer to find its block.
    problem(fmt::format("segment {} ({}): its footer manifest is unusable ({}): readers "
                        "reading from an earlier entry read through it, but a reader starting "
                        "inside it (read --from ID, tail) fails", meta.segment_id,
                        ids(meta.first_entry_id, meta.end_entry_id),
                        manifest.error().message));
    const EntryId next = (co_await probe(summary, 0, meta.first_entry_id, meta.block_count,
                                         meta.end_entry_id)).next;
    if (next < meta.end_entry_id) {
      lose(next, meta.end_entry_id, fmt::format("segment {}'s {} blocks end there",
                                                meta.segment_id, meta.block_count));
    } else if (next > meta.end_entry_id) {
      problem(fmt::format("segment {}: its blocks hold ids up to {}, past its sealed end {}",
                          meta.segment_id, next - 1, meta.end_entry_id));
    }
  }

  Task<void> check_open(SegmentSummary& summary, EntryId acknowledged_end) {
    const SegmentMeta& meta = summary.meta;
    summary.end_found = meta.first_entry_id;
    uint64_t index = 0;
    EntryId next = meta.first_entry_id;
    if (meta.checkpoint_block_count > 0) {
      Result<SegmentManifest> checkpoint =
          co_await read_manifest_object(meta, meta.checkpoint_block_count);
      if (checkpoint.ok()) {
        co_await check_listed(summary, *checkpoint);
        index = checkpoint->blocks.size();
        next = checkpoint->next_entry_id();
      } else {
        problem(fmt::format("segment {}: its checkpoint manifest is unusable ({}): a reader "
                            "starting inside the segment and the next writer's recovery fail",
                            meta.segment_id, checkpoint.error().message));
      }
    }
    const Probed probed = co_await probe(summary, index, next, std::nullopt, acknowledged_end);
    if (probed.first_hole) {
      // Recovery seals the segment at its first missing block after the checkpoint
      // (segment_recovery.h): what lies beyond is dropped, intact or not.
      const EntryId sealed_end = *probed.first_hole;
      problem(fmt::format("segment {} is open: the next writer's recovery will seal it at its "
                          "first missing block, at id {}; {} would then be dropped from the log, "
                          "the intact ones too", meta.segment_id, sealed_end,
                          ids(sealed_end, std::max(probed.next, sealed_end + 1))));
    } else if (probed.next > acknowledged_end) {
      report.notes.push_back(fmt::format(
          "segment {}: {} are stored but not yet visible (past the published tail); the next "
          "writer's recovery keeps them", meta.segment_id, ids(acknowledged_end, probed.next)));
    }
  }
};

// Where readers may read up to in an open segment: the published tail if it is in this
// segment, else what a checkpoint proves (as LogReader::segment_visible_end).
EntryId open_segment_end(const SegmentMeta& meta, const std::optional<TailRecord>& tail) {
  EntryId end = std::max(meta.first_entry_id, meta.checkpoint_end_entry_id);
  if (tail && tail->segment_id == meta.segment_id) end = std::max(end, tail->end_entry_id);
  return end;
}

Status load(Checker& checker, const LogKeys& keys, const RangeResponse& all) {
  VerifyReport& report = checker.report;
  for (const KeyValue& kv : all.kvs) {
    if (kv.key == keys.truncation_key()) {
      auto decoded = decode_truncation(kv.key, kv.value);
      if (decoded.ok()) report.truncation = *decoded; else checker.problem(decoded.error().message);
    } else if (kv.key == keys.tail_key()) {
      auto decoded = decode_tail(kv.key, kv.value);
      if (decoded.ok()) report.tail = *decoded; else checker.problem(decoded.error().message);
    } else if (kv.key == keys.epoch_key()) {
      auto decoded = decode_epoch(kv.key, kv.value);
      if (decoded.ok()) report.epoch = *decoded; else checker.problem(decoded.error().message);
    } else if (parse_segment_key(keys.segment_prefix(), kv.key)) {
      auto decoded = decode_segment(kv.key, kv.value);
      if (decoded.ok()) {
        report.segments.push_back(SegmentSummary{*decoded, 0, 0});
      } else {
        checker.problem(decoded.error().message);
      }
    }
  }
  return {};
}

}  // namespace

Task<Result<VerifyReport>> verify_log(Env& env, const LogKeys& keys) {
  const std::string prefix = keys.log_prefix();  // no temporary in a co_await expression
  Result<RangeResponse> all = co_await read_prefix(env, prefix);
  if (!all.ok()) co_return std::move(all).error();
  VerifyReport report;
  Checker checker{env, keys, report};
  WAL_CO_TRY(load(checker, keys, *all));
  report.acknowledged_end = report.truncation.first_kept_entry_id;
  std::optional<EntryId> expected_first;
  for (SegmentSummary& summary : report.segments) {
    const SegmentMeta& meta = summary.meta;
    if (expected_first && meta.first_entry_id != *expected_first) {
      checker.problem(fmt::format("segment {} starts at id {} but the previous one ends at {}",
                                  meta.segment_id, meta.first_entry_id, *expected_first));
    }
    if (meta.quorum() && !meta.uploaded) {
      report.notes.push_back(fmt::format("segment {}: its entries are on its LogStores, not "
                                         "checked here", meta.segment_id));
      expected_first = meta.state == SegmentState::sealed ? meta.end_entry_id
                                                          : meta.first_entry_id;
      continue;
    }
    if (meta.state == SegmentState::sealed) {
      co_await checker.check_sealed(summary);
      expected_first = meta.end_entry_id;
      report.acknowledged_end = std::max(report.acknowledged_end, meta.end_entry_id);
    } else {
      const EntryId end = open_segment_end(meta, report.tail);
      co_await checker.check_open(summary, end);
      expected_first = std::max(summary.end_found, end);
      report.acknowledged_end = std::max(report.acknowledged_end, end);
    }
  }
  for (const LostRange& range : report.lost) {
    if (range.end <= report.truncation.first_kept_entry_id) continue;
    if (range.first >= report.acknowledged_end) continue;
    const EntryId stop = std::max(range.first, report.truncation.first_kept_entry_id);
    if (!report.readers_stop_at || stop < *report.readers_stop_at) report.readers_stop_at = stop;
  }
  co_return report;
}

}  // namespace wal
