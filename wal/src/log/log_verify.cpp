#include "wal/log/log_verify.h"

#include "wal/format/block_codec.h"
#include "wal/format/segment_manifest.h"
#include "wal/log/fence_object.h"
#include "wal/log/retry.h"

namespace wal {

namespace {

struct Checker {
  Env& env;
  const LogKeys& keys;
  VerifyReport& report;

  void problem(std::string text) { report.problems.push_back(std::move(text)); }

  // Reads and checks block `index`; returns its entry count, or nullopt (absent, fence, bad).
  Task<std::optional<uint32_t>> check_block(SegmentId segment_id, uint64_t index,
                                            const BlockExpectation& expected, bool may_be_absent) {
    const std::string key = keys.block_key(segment_id, index);
    Result<ObjectData> read =
        co_await retry_read(env, {}, [&] { return env.object_store->get(key, std::nullopt); });
    if (!read.ok()) {
      if (!(may_be_absent && read.error().code == Errc::not_found)) {
        problem(key + ": cannot read: " + read.error().describe());
      }
      co_return std::nullopt;
    }
    if (looks_like_fence(read->body)) {
      if (!may_be_absent) problem(key + ": a fence object where a block should be");
      co_return std::nullopt;
    }
    const uint64_t size = read->body.size();
    Result<DecodedBlock> block = decode_block(std::move(read->body), expected);
    if (!block.ok()) {
      problem(key + ": " + block.error().describe());
      co_return std::nullopt;
    }
    ++report.blocks_checked;
    report.entries_checked += block->entry_count();
    report.bytes_checked += size;
    co_return block->entry_count();
  }

  Task<void> check_sealed(SegmentSummary& summary) {
    const SegmentMeta& meta = summary.meta;
    summary.end_found = meta.first_entry_id;
    if (meta.block_count == 0) co_return;
    const std::string key = keys.manifest_key(meta.segment_id, meta.block_count);
    Result<ObjectData> read =
        co_await retry_read(env, {}, [&] { return env.object_store->get(key, std::nullopt); });
    if (!read.ok()) {
      problem(key + ": cannot read the segment footer: " + read.error().describe());
      co_return;
    }
    Result<SegmentManifest> manifest =
        decode_segment_manifest(read->body, {keys.log_id, meta.segment_id});
    if (!manifest.ok()) {
      problem(key + ": " + manifest.error().describe());
      co_return;
    }
    if (manifest->first_entry_id != meta.first_entry_id ||
        manifest->next_entry_id() < meta.end_entry_id) {
      problem(key + ": footer covers ids " + std::to_string(manifest->first_entry_id) + ".." +
              std::to_string(manifest->next_entry_id()) + " but the segment metadata says " +
              std::to_string(meta.first_entry_id) + ".." + std::to_string(meta.end_entry_id));
    }
    for (uint32_t i = 0; i < manifest->blocks.size(); ++i) {
      auto count = co_await check_block(meta.segment_id, i, block_expectation(*manifest, i),
                                        /*may_be_absent=*/false);
      ++summary.blocks_read;
      if (count) summary.end_found = manifest->blocks[i].first_entry_id + *count;
    }
  }

  Task<void> check_open(SegmentSummary& summary) {
    const SegmentMeta& meta = summary.meta;
    EntryId next = meta.first_entry_id;
    for (uint64_t index = 0;; ++index) {
      BlockExpectation expected;
      expected.log_id = keys.log_id;
      expected.segment_id = meta.segment_id;
      expected.first_entry_id = next;
      auto count = co_await check_block(meta.segment_id, index, expected, /*may_be_absent=*/true);
      if (!count) break;
      ++summary.blocks_read;
      next += *count;
    }
    summary.end_found = next;
    if (report.tail && report.tail->segment_id == meta.segment_id &&
        report.tail->end_entry_id > next) {
      problem("segment " + std::to_string(meta.segment_id) + ": entries " +
              std::to_string(next) + ".." + std::to_string(report.tail->end_entry_id) +
              " are acknowledged but their blocks are missing");
    }
  }
};

}  // namespace

Task<Result<VerifyReport>> verify_log(Env& env, const LogKeys& keys) {
  RangeRequest request;
  request.key = keys.log_prefix();
  request.range_end = prefix_end(keys.log_prefix());
  Result<RangeResponse> all =
      co_await retry_read(env, {}, [&] { return env.meta_store->range(request); });
  if (!all.ok()) co_return std::move(all).error();
  VerifyReport report;
  Checker checker{env, keys, report};
  for (const KeyValue& kv : all->kvs) {
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
  std::optional<EntryId> expected_first;
  for (SegmentSummary& summary : report.segments) {
    const SegmentMeta& meta = summary.meta;
    if (expected_first && meta.first_entry_id != *expected_first) {
      checker.problem("segment " + std::to_string(meta.segment_id) + " starts at id " +
                      std::to_string(meta.first_entry_id) + " but the previous one ends at " +
                      std::to_string(*expected_first));
    }
    if (meta.state == SegmentState::sealed) {
      co_await checker.check_sealed(summary);
      if (summary.end_found < meta.end_entry_id) {
        checker.problem("segment " + std::to_string(meta.segment_id) + ": only ids up to " +
                        std::to_string(summary.end_found) + " are readable, the segment ends at " +
                        std::to_string(meta.end_entry_id));
      }
      expected_first = meta.end_entry_id;
    } else {
      co_await checker.check_open(summary);
      expected_first = summary.end_found;
    }
  }
  co_return report;
}

}  // namespace wal
