// Object ownership in the simulated stores: the orphan inspection of the heal phase (which
// objects does no segment own?) and the delete guard (does a delete name an owned object?).
#include "sim/world_orphans.h"

#include <map>
#include <optional>

#include <fmt/core.h>

#include "wal/log/fence_object.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"

namespace wal::sim {

namespace {

// The log's keys: nullopt if there is no such log; `unreadable` if its record does not decode.
struct LogLookup {
  std::optional<LogKeys> keys;
  bool unreadable = false;
};

LogLookup lookup_log(MemMetaStore& meta, const std::string& meta_root,
                     const std::string& object_root, const std::string& log_name) {
  const std::string log_key = logs_prefix(meta_root) + log_name;
  RangeRequest log_request;
  log_request.key = log_key;
  Result<RangeResponse> log_kv = meta.apply_range(log_request);
  if (!log_kv.ok() || log_kv->kvs.empty()) return {};
  Result<LogMeta> log_meta = decode_log_meta(log_key, log_kv->kvs.front().value);
  if (!log_meta.ok()) return LogLookup{std::nullopt, true};
  return LogLookup{LogKeys{meta_root, object_root, log_name, log_meta->log_id}, false};
}

std::map<SegmentId, SegmentMeta> segments_by_id(MemMetaStore& meta, const std::string& meta_root,
                                                const std::string& log_name) {
  std::map<SegmentId, SegmentMeta> segments;
  for (SegmentMeta& segment : list_segments(meta, meta_root, log_name)) {
    segments.emplace(segment.segment_id, std::move(segment));
  }
  return segments;
}

// What an existing segment's metadata says about one object under its prefix. unsettled: the
// segment is open, or a quorum segment not uploaded yet; every block is its own, and which
// manifests are stale cannot be told yet.
enum class Claim : uint8_t { owned, orphaned, unsettled };

Claim claim_of(const SegmentMeta& segment, const ObjectKeyParts& parts, bool fence) {
  const bool in_storage = !segment.quorum() || segment.uploaded;
  if (segment.state != SegmentState::sealed || !in_storage) return Claim::unsettled;
  if (parts.kind == ObjectKeyParts::Kind::manifest) {
    return parts.number == segment.block_count ? Claim::owned : Claim::orphaned;
  }
  if (parts.number < segment.block_count) return Claim::owned;
  // The fence at a sealed segment's end stays: deleting it re-opens the key to a zombie.
  if (parts.number == segment.block_count && fence) return Claim::owned;
  return Claim::orphaned;
}

bool stored_fence(MemObjectStore& objects, const std::string& key) {
  auto object = objects.find(key);
  return object && looks_like_fence(object->body);
}

}  // namespace

std::vector<SegmentMeta> list_segments(MemMetaStore& meta, const std::string& meta_root,
                                       const std::string& log_name) {
  std::vector<SegmentMeta> segments;
  const std::optional<LogKeys> keys = lookup_log(meta, meta_root, "", log_name).keys;
  if (!keys) return segments;
  RangeRequest request;
  request.key = keys->segment_prefix();
  request.range_end = prefix_end(keys->segment_prefix());
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
  const LogLookup log = lookup_log(meta, meta_root, object_root, log_name);
  if (log.unreadable) return {"(log metadata unreadable)"};
  if (!log.keys) return orphans;
  const LogKeys& keys = *log.keys;
  const std::map<SegmentId, SegmentMeta> segments = segments_by_id(meta, meta_root, log_name);
  for (const std::string& key : objects.keys()) {
    const auto parts = parse_object_key(keys.log_object_prefix(), key);
    if (!parts) continue;
    const bool fence = parts->kind == ObjectKeyParts::Kind::block && stored_fence(objects, key);
    const auto segment = segments.find(parts->segment_id);
    if (segment == segments.end()) {
      // A segment that no longer (or never) existed: only its fence may stay.
      if (!fence) orphans.push_back(key);
      continue;
    }
    if (claim_of(segment->second, *parts, fence) == Claim::orphaned) orphans.push_back(key);
  }
  return orphans;
}

std::vector<OwnedObjects> find_owned(MemObjectStore& objects, MemMetaStore& meta,
                                     const std::string& meta_root,
                                     const std::string& object_root, const std::string& log_name,
                                     const std::vector<std::string>& keys) {
  std::map<SegmentId, OwnedObjects> owned;
  const std::optional<LogKeys> log_keys =
      lookup_log(meta, meta_root, object_root, log_name).keys;
  if (!log_keys) return {};
  std::optional<std::map<SegmentId, SegmentMeta>> segments;  // read once, when first needed
  for (const std::string& key : keys) {
    const auto parts = parse_object_key(log_keys->log_object_prefix(), key);
    if (!parts || !objects.find(key)) continue;  // not this log's, or nothing to lose
    if (!segments) segments = segments_by_id(meta, meta_root, log_name);
    const auto segment = segments->find(parts->segment_id);
    if (segment == segments->end()) continue;
    const SegmentMeta& meta_of = segment->second;
    const bool block = parts->kind == ObjectKeyParts::Kind::block;
    const Claim claim = claim_of(meta_of, *parts, block && stored_fence(objects, key));
    if (claim == Claim::orphaned || (claim == Claim::unsettled && !block)) continue;
    OwnedObjects& of_segment = owned[meta_of.segment_id];
    if (of_segment.keys.empty()) {
      of_segment.owner = fmt::format("segment {} ({}, {} blocks)", meta_of.segment_id,
                                     meta_of.state == SegmentState::sealed ? "sealed" : "open",
                                     meta_of.block_count);
    }
    of_segment.keys.push_back(key);
  }
  std::vector<OwnedObjects> out;
  for (auto& [segment_id, of_segment] : owned) out.push_back(std::move(of_segment));
  return out;
}

namespace {

// The value at the key `key_of` names among log `log_name`'s keys, read straight from the
// state (nullopt: no such log or key).
template <typename KeyOf>
std::optional<std::pair<std::string, std::string>> read_log_key(MemMetaStore& meta,
                                                                const std::string& meta_root,
                                                                const std::string& log_name,
                                                                KeyOf key_of) {
  const std::optional<LogKeys> keys = lookup_log(meta, meta_root, "", log_name).keys;
  if (!keys) return std::nullopt;
  RangeRequest request;
  request.key = key_of(*keys);
  Result<RangeResponse> kv = meta.apply_range(request);
  if (!kv.ok() || kv->kvs.empty()) return std::nullopt;
  return std::pair{request.key, kv->kvs.front().value};
}

}  // namespace

Epoch current_epoch(MemMetaStore& meta, const std::string& meta_root, const std::string& log_name) {
  const auto kv =
      read_log_key(meta, meta_root, log_name, [](const LogKeys& keys) { return keys.epoch_key(); });
  if (!kv) return 0;
  Result<EpochRecord> record = decode_epoch(kv->first, kv->second);
  return record.ok() ? record->epoch : 0;
}

EntryId truncation_point(MemMetaStore& meta, const std::string& meta_root,
                         const std::string& log_name) {
  const auto kv = read_log_key(meta, meta_root, log_name,
                               [](const LogKeys& keys) { return keys.truncation_key(); });
  if (!kv) return 0;
  Result<TruncationRecord> record = decode_truncation(kv->first, kv->second);
  return record.ok() ? record->first_kept_entry_id : 0;
}

}  // namespace wal::sim
