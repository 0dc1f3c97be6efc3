#include "wal/log/log_state.h"

namespace wal {

Result<LogState> decode_log_state(const LogKeys& keys, const RangeResponse& all) {
  LogState state;
  const std::string segment_prefix = keys.segment_prefix();
  for (const KeyValue& kv : all.kvs) {
    if (kv.key == keys.epoch_key()) {
      Result<EpochRecord> epoch = decode_epoch(kv.key, kv.value);
      if (!epoch.ok()) return std::move(epoch).error();
      state.epoch = *epoch;
    } else if (kv.key == keys.truncation_key()) {
      Result<TruncationRecord> truncation = decode_truncation(kv.key, kv.value);
      if (!truncation.ok()) return std::move(truncation).error();
      state.truncation = *truncation;
      state.truncation_mod_revision = kv.mod_revision;
    } else if (kv.key == keys.tail_key()) {
      Result<TailRecord> tail = decode_tail(kv.key, kv.value);
      if (!tail.ok()) return std::move(tail).error();
      state.tail = *tail;
    } else if (parse_segment_key(segment_prefix, kv.key)) {
      Result<SegmentMeta> segment = decode_segment(kv.key, kv.value);
      if (!segment.ok()) return std::move(segment).error();
      segment->create_revision = kv.create_revision;
      state.segments.push_back(StoredSegment{*segment, kv.mod_revision});
    }
  }
  // A range returns keys in byte order, and segment keys are zero-padded ids.
  for (size_t i = 1; i < state.segments.size(); ++i) {
    WAL_ASSERT_LT(state.segments[i - 1].meta.segment_id, state.segments[i].meta.segment_id);
  }
  return state;
}

}  // namespace wal
