#include "wal/log/segment_recovery.h"

#include "wal/format/block_codec.h"
#include "wal/log/fence_object.h"
#include "wal/log/producer_table.h"
#include "wal/log/retry.h"
#include "wal/log/segment_txn.h"

namespace wal {

namespace {

struct Probe {
  enum class Kind : uint8_t { absent, block, fence } kind = Kind::absent;
  BlockFrame frame;
  Epoch fence_epoch = 0;
};

Result<Probe> check_probe(const FaultPoints& faults, const LogKeys& keys, const std::string& key,
                          SegmentId segment_id, EntryId expected_first, ByteView body);

// One ranged GET of the first bytes of block `block_index`: a data block's verified header, a
// fence, or nothing. A block that is not the one expected here is corrupt, never skipped.
Task<Result<Probe>> probe_block(Env& env, const LogKeys& keys, SegmentId segment_id,
                                uint64_t block_index, EntryId expected_first, Backoff backoff) {
  const std::string key = keys.block_key(segment_id, block_index);
  co_return co_await retry_verified_read(env, backoff, [&]() -> Task<Result<Probe>> {
    Result<ObjectData> read =
        co_await env.object_store->get(key, ByteRange{0, block_format::header_size_bytes});
    if (!read.ok()) {
      if (read.error().code == Errc::not_found) co_return Probe{};
      co_return std::move(read).error();
    }
    co_return check_probe(env.faults, keys, key, segment_id, expected_first, read->body);
  });
}

// Classifies the first bytes of a block key (see probe_block).
Result<Probe> check_probe(const FaultPoints& faults, const LogKeys& keys, const std::string& key,
                          SegmentId segment_id, EntryId expected_first, ByteView body) {
  if (looks_like_fence(body)) {
    Result<Epoch> epoch = decode_fence(body);
    if (!epoch.ok()) {
      faults.reached(CoverageMark::fence_damaged_in_transit);  // retry_verified_read reads again
      return make_error(Errc::corrupt, key + ": " + epoch.error().message);
    }
    return Probe{Probe::Kind::fence, {}, *epoch};
  }
  Result<BlockFrame> frame = decode_block_frame(body);
  if (!frame.ok()) {
    return Error{frame.error().code, Outcome::definite, key + ": " + frame.error().message};
  }
  const BlockHeader& header = frame->header;
  if (header.log_id != keys.log_id || header.segment_id != segment_id ||
      header.first_entry_id != expected_first) {
    return make_error(Errc::corrupt,
                         key + ": misdirected block (log " + std::to_string(header.log_id) +
                             " segment " + std::to_string(header.segment_id) + " first entry " +
                             std::to_string(header.first_entry_id) + ", expected first entry " +
                             std::to_string(expected_first) + ")");
  }
  return Probe{Probe::Kind::block, *frame, 0};
}

// Reads a probed block with entry keys whole and records its keys, in id order. The block is
// checked against its probed header (ids and CRC), so it is exactly the block recovery keeps.
Task<Status> record_block_keys(Env& env, const LogKeys& keys, SegmentId segment_id,
                               uint64_t block_index, const BlockFrame& frame, Backoff backoff,
                               ProducerTable& producers) {
  WAL_ASSERT(frame.header.entry_keys);
  const std::string key = keys.block_key(segment_id, block_index);
  const BlockExpectation expected{keys.log_id, segment_id, frame.header.first_entry_id,
                                  frame.header.entry_count, frame.block_crc32c};
  Result<DecodedBlock> block = co_await retry_verified_read(
      env, backoff, [&]() -> Task<Result<DecodedBlock>> {
        Result<ObjectData> read = co_await env.object_store->get(key, std::nullopt);
        if (!read.ok()) co_return std::move(read).error();
        Result<DecodedBlock> decoded = decode_block(std::move(read->body), expected);
        if (!decoded.ok()) {
          co_return Error{decoded.error().code, Outcome::definite,
                          key + ": " + decoded.error().message};
        }
        co_return decoded;
      });
  if (!block.ok()) co_return std::move(block).error();
  for (uint32_t index = 0; index < block->entry_count(); ++index) {
    const std::optional<AppendKey> entry_key = block->entry_key(index);
    if (entry_key) producers.record(*entry_key, block->entry_id(index));
  }
  co_return Status{};
}

enum class FenceResult : uint8_t { placed, taken, retry };

// Puts our fence at `key`, create-only. An unknown outcome is settled by the caller's next probe
// (which will see our fence, the old writer's block, or nothing and put again).
Task<Result<FenceResult>> put_fence(Env& env, const std::string& key, Epoch epoch) {
  Result<ObjectInfo> put = co_await env.object_store->put(key, encode_fence(epoch),
                                                          PutCondition::create_only());
  if (put.ok()) co_return FenceResult::placed;
  const Error& error = put.error();
  if (error.code == Errc::already_exists) co_return FenceResult::taken;
  if (error.unknown() || is_retryable(error)) co_return FenceResult::retry;
  co_return error;
}

// The seal CAS, settled by reading (wal/log/segment_txn.h).
Task<Result<SealedSegment>> seal_segment(RecoveryContext& context, SegmentMeta sealed,
                                         int64_t segment_mod_revision) {
  SegmentTxn txn;
  txn.seal = std::move(sealed);
  txn.seal_mod_revision = segment_mod_revision;
  Result<SegmentTxnResult> done = co_await commit_segment_txn(
      SegmentTxnContext{context.env, context.keys,
                        {context.options.retry_backoff_min, context.options.retry_backoff_max},
                        context.epoch, context.epoch_mod_revision},
      std::move(txn));
  if (!done.ok()) co_return std::move(done).error();
  co_return SealedSegment{done->sealed->meta, done->sealed->mod_revision, {}};
}

}  // namespace

Task<Result<SegmentManifest>> read_manifest(Env& env, const LogKeys& keys, SegmentId segment_id,
                                            uint64_t block_count, Backoff backoff) {
  const std::string key = keys.manifest_key(segment_id, block_count);
  Result<SegmentManifest> manifest = co_await retry_verified_read(
      env, backoff, [&]() -> Task<Result<SegmentManifest>> {
        Result<ObjectData> read = co_await env.object_store->get(key, std::nullopt);
        if (!read.ok()) co_return std::move(read).error();
        Result<SegmentManifest> decoded =
            decode_segment_manifest(read->body, ManifestExpectation{keys.log_id, segment_id});
        if (!decoded.ok()) {
          co_return Error{decoded.error().code, Outcome::definite,
                          key + ": " + decoded.error().message};
        }
        co_return decoded;
      });
  if (!manifest.ok()) co_return std::move(manifest).error();
  if (manifest->blocks.size() != block_count) {
    co_return make_error(Errc::corrupt, key + ": lists " + std::to_string(manifest->blocks.size()) +
                                            " blocks, its name says " + std::to_string(block_count));
  }
  co_return manifest;
}

Task<Status> write_manifest(Env& env, const LogKeys& keys, const SegmentManifest& manifest,
                            Backoff backoff) {
  const std::string key = keys.manifest_key(manifest.segment_id, manifest.blocks.size());
  const Bytes encoded = encode_segment_manifest(manifest);
  for (uint32_t attempt = 0;; ++attempt) {
    Result<ObjectInfo> put =
        co_await env.object_store->put(key, encoded, PutCondition::create_only());
    if (put.ok()) co_return Status{};
    if (put.error().code == Errc::already_exists) {
      // Written before (our earlier attempt, or a checkpoint at the same block count): fine if
      // it describes the same blocks.
      Result<SegmentManifest> existing =
          co_await read_manifest(env, keys, manifest.segment_id, manifest.blocks.size(), backoff);
      if (!existing.ok()) co_return std::move(existing).error();
      if (existing->blocks == manifest.blocks &&
          existing->first_entry_id == manifest.first_entry_id) {
        co_return Status{};
      }
      co_return make_error(Errc::corrupt, key + " exists and describes other blocks");
    }
    if (!put.error().unknown() && !is_retryable(put.error())) co_return std::move(put).error();
    if (attempt + 1 >= limits::read_attempts_max) co_return std::move(put).error();
    co_await backoff_sleep(env, backoff, attempt);  // create-only: re-putting is safe
  }
}

Task<Result<SealedSegment>> recover_and_seal(RecoveryContext context, SegmentMeta segment,
                                             int64_t segment_mod_revision,
                                             std::vector<ManifestProducer> producers_at_start) {
  WAL_ASSERT(segment.state == SegmentState::open);
  WAL_ASSERT(segment.epoch < context.epoch);
  Env& env = context.env;
  const Backoff backoff{context.options.retry_backoff_min, context.options.retry_backoff_max};
  SegmentManifest manifest;
  manifest.log_id = context.keys.log_id;
  manifest.segment_id = segment.segment_id;
  manifest.first_entry_id = segment.first_entry_id;
  ProducerTable producers(context.options.producers_max);
  producers.load(producers_at_start);
  if (segment.checkpoint_block_count > 0) {
    env.faults.reached(CoverageMark::recovery_from_checkpoint);
    Result<SegmentManifest> checkpoint = co_await read_manifest(
        env, context.keys, segment.segment_id, segment.checkpoint_block_count, backoff);
    if (!checkpoint.ok()) co_return std::move(checkpoint).error();
    manifest.blocks = std::move(checkpoint->blocks);
    producers.load(checkpoint->producers);  // the whole table as of the checkpoint
  }
  EntryId end = segment.first_entry_id;
  for (const ManifestBlock& block : manifest.blocks) end += block.entry_count;
  uint64_t block_index = manifest.blocks.size();
  uint32_t retries = 0;
  while (true) {
    if (block_index >= limits::manifest_block_count_max) {
      co_return make_error(Errc::corrupt, "segment has more blocks than a manifest can hold");
    }
    Result<Probe> probe = co_await probe_block(env, context.keys, segment.segment_id,
                                               block_index, end, backoff);
    if (!probe.ok()) co_return std::move(probe).error();
    if (probe->kind == Probe::Kind::block) {
      if (probe->frame.header.entry_keys) {
        WAL_CO_TRY(co_await record_block_keys(env, context.keys, segment.segment_id, block_index,
                                              probe->frame, backoff, producers));
      }
      manifest.blocks.push_back(
          manifest_block_for(static_cast<uint32_t>(block_index), probe->frame));
      end += probe->frame.header.entry_count;
      ++block_index;
      continue;
    }
    if (probe->kind == Probe::Kind::fence) {
      if (probe->fence_epoch > context.epoch) {
        env.faults.reached(CoverageMark::recovery_fenced_by_newer);
        co_return make_error(Errc::fenced, "a writer with epoch " +
                                               std::to_string(probe->fence_epoch) +
                                               " fenced this segment first");
      }
      // Ours (an earlier attempt) or a recoverer's that died before sealing.
      env.faults.reached(CoverageMark::recovery_found_own_fence);
      break;
    }
    // Absent: the first missing block key.
    if (context.options.fencing == FencingMode::meta_confirm ||
        env.faults.bug(SimBug::skip_fence_on_open)) {
      break;
    }
    Result<FenceResult> fence = co_await put_fence(
        env, context.keys.block_key(segment.segment_id, block_index), context.epoch);
    if (!fence.ok()) co_return std::move(fence).error();
    if (*fence == FenceResult::placed) break;
    if (*fence == FenceResult::taken) env.faults.reached(CoverageMark::recovery_fence_race_lost);
    if (*fence == FenceResult::retry) co_await backoff_sleep(env, backoff, retries++);
    // taken or retry: probe the same key again.
  }
  manifest.entry_count = end - segment.first_entry_id;
  manifest.writer_epoch = context.epoch;
  manifest.updated_unix_ms = env.clock.unix_time_ms();
  manifest.sealed = true;
  manifest.producers = producers.snapshot();
  WAL_CO_TRY(co_await write_manifest(env, context.keys, manifest, backoff));

  SegmentMeta sealed = segment;
  sealed.state = SegmentState::sealed;
  sealed.end_entry_id = end;
  if (env.faults.bug(SimBug::seal_one_short) && end > segment.first_entry_id) {
    sealed.end_entry_id = end - 1;  // planted bug: loses the last acknowledged entry
  }
  sealed.block_count = manifest.blocks.size();
  sealed.size_bytes = 0;
  for (const ManifestBlock& block : manifest.blocks) sealed.size_bytes += block.size_bytes;
  sealed.sealed_unix_ms = env.clock.unix_time_ms();
  sealed.sealed_by_epoch = context.epoch;
  sealed.producer_table = !manifest.producers.empty();
  Result<SealedSegment> done = co_await seal_segment(context, sealed, segment_mod_revision);
  if (done.ok()) done->producers = std::move(manifest.producers);
  co_return done;
}

}  // namespace wal
