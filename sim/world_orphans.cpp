// The orphan inspection of the heal phase: which objects of a log does no segment own?
#include "sim/world_orphans.h"

#include "wal/log/fence_object.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"

namespace wal::sim {

std::vector<SegmentMeta> list_segments(MemMetaStore& meta, const std::string& meta_root,
                                       const std::string& log_name) {
  std::vector<SegmentMeta> segments;
  const std::string log_key = logs_prefix(meta_root) + log_name;
  RangeRequest log_request;
  log_request.key = log_key;
  Result<RangeResponse> log_kv = meta.apply_range(log_request);
  if (!log_kv.ok() || log_kv->kvs.empty()) return segments;
  Result<LogMeta> log_meta = decode_log_meta(log_key, log_kv->kvs.front().value);
  if (!log_meta.ok()) return segments;
  const LogKeys keys{meta_root, "", log_name, log_meta->log_id};
  RangeRequest request;
  request.key = keys.segment_prefix();
  request.range_end = prefix_end(keys.segment_prefix());
  Result<RangeResponse> kvs = meta.apply_range(request);
  if (!kvs.ok()) return segments;
  for (const KeyValue& kv : kvs->kvs) {
    Result<SegmentMeta> segment = decode_segment(kv.key, kv.value);
    if (!segment.ok()) continue;
    segment->create_revision = kv.create_revision;
    segments.push_back(*segment);
  }
  return segments;
}

std::vector<std::string> find_orphans(MemObjectStore& objects, MemMetaStore& meta,
                                      const std::string& meta_root,
                                      const std::string& object_root,
                                      const std::string& log_name) {
  std::vector<std::string> orphans;
  const std::string log_key = logs_prefix(meta_root) + log_name;
  RangeRequest log_request;
  log_request.key = log_key;
  Result<RangeResponse> log_kv = meta.apply_range(log_request);
  if (!log_kv.ok() || log_kv->kvs.empty()) return orphans;
  Result<LogMeta> log_meta = decode_log_meta(log_key, log_kv->kvs.front().value);
  if (!log_meta.ok()) return {"(log metadata unreadable)"};
  const LogKeys keys{meta_root, object_root, log_name, log_meta->log_id};
  std::map<SegmentId, SegmentMeta> segments;
  for (SegmentMeta& segment : list_segments(meta, meta_root, log_name)) {
    segments.emplace(segment.segment_id, std::move(segment));
  }
  for (const std::string& key : objects.keys()) {
    const auto parts = parse_object_key(keys.log_object_prefix(), key);
    if (!parts) continue;
    const auto segment = segments.find(parts->segment_id);
    if (segment == segments.end()) {
      // A segment that no longer (or never) existed: only its fence may stay.
      auto object = objects.find(key);
      if (parts->kind == ObjectKeyParts::Kind::block && object && looks_like_fence(object->body)) {
        continue;
      }
      orphans.push_back(key);
      continue;
    }
    const SegmentMeta& meta_of = segment->second;
    if (meta_of.state != SegmentState::sealed) continue;  // open: cannot tell yet
    if (parts->kind == ObjectKeyParts::Kind::manifest) {
      if (parts->number != meta_of.block_count) orphans.push_back(key);
      continue;
    }
    if (parts->number < meta_of.block_count) continue;
    if (parts->number == meta_of.block_count) {
      auto object = objects.find(key);
      if (object && looks_like_fence(object->body)) continue;  // the fence stays
    }
    orphans.push_back(key);
  }
  return orphans;
}

}  // namespace wal::sim
