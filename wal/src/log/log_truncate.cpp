// LogClient::truncate: moves the truncation point forward, never past the log's end.
#include <algorithm>
#include <limits>

#include "wal/format/block_codec.h"
#include "wal/log/log_client.h"
#include "wal/log/log_state.h"
#include "wal/log/retry.h"
#include "wal/log/segment_recovery.h"

namespace wal {

namespace {

// A probe past the published tail reads block headers of the open segment. The writer keeps at
// most unacknowledged_blocks_max (default 16) blocks past its acknowledged end and checkpoints
// every checkpoint_interval_blocks (32), so a few dozen headers reach the end; the bound only
// stops a damaged store from keeping the probe going.
constexpr uint64_t probe_blocks_max = 4096;

// The end the metadata alone proves for the last segment.
EntryId metadata_end(const LogState& state) {
  if (state.segments.empty()) return state.truncation.first_kept_entry_id;
  const SegmentMeta& last = state.segments.back().meta;
  if (last.state == SegmentState::sealed) return last.end_entry_id;
  EntryId end = std::max(last.first_entry_id, last.checkpoint_end_entry_id);
  if (state.tail && state.tail->segment_id == last.segment_id) {
    end = std::max(end, state.tail->end_entry_id);
  }
  return end;
}

}  // namespace

// How far truncation may go: the end of the entries stored, which is at or past every
// acknowledged entry. std::numeric_limits<EntryId>::max() when it cannot be known here.
Task<Result<EntryId>> LogClient::truncation_limit(const LogKeys& keys,
                                                  const RangeResponse& log_keys) {
  WAL_CO_ASSIGN(const LogState state, decode_log_state(keys, log_keys));
  const EntryId known_end = metadata_end(state);
  if (state.segments.empty() || state.segments.back().meta.state == SegmentState::sealed) {
    co_return known_end;
  }
  const SegmentMeta& open = state.segments.back().meta;
  if (open.quorum()) co_return std::numeric_limits<EntryId>::max();  // see the header
  co_return co_await stored_end(keys, open, known_end);
}

// The id after the last entry in the contiguous blocks of an open MemoryBuffer segment,
// starting from its checkpoint. Entries there are acknowledged or will be by the next writer's
// recovery (which keeps every contiguous stored block), so their ids are taken either way.
Task<Result<EntryId>> LogClient::stored_end(const LogKeys& keys, const SegmentMeta& open,
                                            EntryId known_end) {
  WAL_ASSERT(open.state == SegmentState::open);
  EntryId next = open.first_entry_id;
  uint64_t index = 0;
  if (open.checkpoint_block_count > 0) {
    Result<SegmentManifest> manifest =
        co_await read_manifest(env_, keys, open.segment_id, open.checkpoint_block_count, {});
    if (!manifest.ok()) co_return std::move(manifest).error();
    next = manifest->next_entry_id();
    index = manifest->blocks.size();
  }
  for (uint64_t probed = 0; probed < probe_blocks_max; ++probed, ++index) {
    const std::string key = keys.block_key(open.segment_id, index);
    Result<ObjectData> read = co_await retry_read(env_, {}, [&] {
      return env_.object_store->get(key, ByteRange{0, block_format::header_size_bytes});
    });
    if (!read.ok() && read.error().code == Errc::not_found) break;
    if (!read.ok()) co_return std::move(read).error();
    Result<BlockFrame> frame = decode_block_frame(read->body);
    // A fence object or a damaged header ends what a writer's recovery would keep as well.
    if (!frame.ok() || frame->header.first_entry_id != next) break;
    next += frame->header.entry_count;
  }
  co_return std::max(next, known_end);
}

Task<Status> LogClient::truncate(std::string name, EntryId first_kept_entry_id) {
  Result<LogInfo> info = co_await get_log(name);
  if (!info.ok()) co_return std::move(info).error();
  const LogKeys keys = keys_for(*info);
  MetaStore& meta = *env_.meta_store;
  const std::string log_prefix = keys.log_prefix();  // no temporary in a co_await expression
  std::optional<EntryId> limit;  // probed at most once: the end only grows
  // Each attempt starts by reading the point, so an attempt that landed is settled as success;
  // the read after the last attempt settles that one too. An attempt that may still land makes
  // any error reported afterwards unknown (docs/protocol.md, I14).
  MutationAttempts attempts;
  for (uint32_t attempt = 0;; ++attempt) {
    Result<RangeResponse> all = co_await read_prefix(env_, log_prefix);
    if (!all.ok()) co_return attempts.fail(all.error());
    Result<LogState> parsed = decode_log_state(keys, *all);
    if (!parsed.ok()) co_return attempts.fail(parsed.error());
    const LogState& state = *parsed;
    if (state.truncation.first_kept_entry_id >= first_kept_entry_id) co_return Status{};
    if (attempt >= limits::read_attempts_max) break;
    if (!limit && first_kept_entry_id > metadata_end(state)) {
      Result<EntryId> probed = co_await truncation_limit(keys, *all);
      if (!probed.ok()) co_return attempts.fail(probed.error());
      limit = *probed;
    }
    if (limit && first_kept_entry_id > *limit) {
      co_return attempts.fail(Errc::out_of_range,
                           "cannot truncate '" + name + "' below " +
                               std::to_string(first_kept_entry_id) + ": the log ends at " +
                               std::to_string(*limit) + " (the next entry gets id " +
                               std::to_string(*limit) + "), and entries appended later " +
                               "would vanish below the truncation point");
    }
    TxnRequest txn;
    txn.compares = {state.truncation_mod_revision == 0
                        ? Compare::absent(keys.truncation_key())
                        : Compare::mod_revision_is(keys.truncation_key(),
                                                   state.truncation_mod_revision)};
    txn.success = {
        PutOp{keys.truncation_key(), encode(TruncationRecord{first_kept_entry_id}), 0}};
    Result<TxnResponse> response = co_await meta.txn(std::move(txn));
    if (response.ok() && response->succeeded) co_return Status{};
    if (!response.ok()) {
      if (!response.error().unknown() && !is_retryable(response.error())) {
        co_return attempts.fail(response.error());
      }
      attempts.note_error();
    }
    // Lost a race or unknown outcome: the loop re-reads; "already at or past" ends it.
    co_await backoff_sleep(env_, {}, attempt);
  }
  co_return attempts.fail(Errc::unavailable, "could not truncate '" + name + "'");
}

}  // namespace wal
