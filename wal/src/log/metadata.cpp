#include "wal/log/metadata.h"

#include <nlohmann/json.hpp>

#include "wal/format/block_format.h"

namespace wal {

using nlohmann::json;

namespace {

// Reads fields out of a parsed JSON object; the first problem is remembered and reported once.
class FieldReader {
 public:
  FieldReader(std::string_view key, std::string_view what, std::string_view value)
      : key_(key), what_(what) {
    object_ = json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (object_.is_discarded() || !object_.is_object()) fail("not a JSON object");
  }
  uint64_t u64(const char* name) {
    const json* field = find(name);
    if (field == nullptr) return 0;
    if (!field->is_number_unsigned()) {
      fail(std::string("field '") + name + "' is not an unsigned integer");
      return 0;
    }
    return field->get<uint64_t>();
  }
  int64_t i64(const char* name) {
    const json* field = find(name);
    if (field == nullptr) return 0;
    if (!field->is_number_integer()) {
      fail(std::string("field '") + name + "' is not an integer");
      return 0;
    }
    return field->get<int64_t>();
  }
  bool boolean(const char* name) {
    const json* field = find(name);
    if (field == nullptr) return false;
    if (!field->is_boolean()) {
      fail(std::string("field '") + name + "' is not a boolean");
      return false;
    }
    return field->get<bool>();
  }
  std::string text(const char* name) {
    const json* field = find(name);
    if (field == nullptr) return {};
    if (!field->is_string()) {
      fail(std::string("field '") + name + "' is not a string");
      return {};
    }
    return field->get<std::string>();
  }
  [[nodiscard]] bool has(const char* name) const {
    return error_.empty() && object_.is_object() && object_.contains(name);
  }
  std::vector<std::string> strings(const char* name) {
    const json* field = find(name);
    if (field == nullptr) return {};
    std::vector<std::string> out;
    if (!field->is_array()) {
      fail(std::string("field '") + name + "' is not an array");
      return {};
    }
    for (const json& item : *field) {
      if (!item.is_string()) {
        fail(std::string("field '") + name + "' holds a non-string");
        return {};
      }
      out.push_back(item.get<std::string>());
    }
    return out;
  }
  void fail(std::string problem) {
    if (error_.empty()) error_ = std::move(problem);
  }
  template <typename T>
  Result<T> finish(T value) {
    if (!error_.empty()) {
      return make_error(Errc::corrupt, std::string(what_) + " at '" + std::string(key_) +
                                           "' is malformed: " + error_);
    }
    return value;
  }

 private:
  const json* find(const char* name) {
    if (!error_.empty()) return nullptr;
    const auto it = object_.find(name);
    if (it == object_.end()) {
      fail(std::string("missing field '") + name + "'");
      return nullptr;
    }
    return &*it;
  }
  std::string_view key_;
  std::string_view what_;
  json object_;
  std::string error_;
};

}  // namespace

std::string_view segment_state_name(SegmentState state) {
  switch (state) {
    case SegmentState::open: return "open";
    case SegmentState::sealed: return "sealed";
  }
  WAL_UNREACHABLE();
}

std::string encode(const LogMeta& meta) {
  return json{{"log_id", meta.log_id}, {"created_unix_ms", meta.created_unix_ms}}.dump();
}
std::string encode(const EpochRecord& record) {
  return json{{"epoch", record.epoch},
              {"writer_instance", record.writer_instance},
              {"opened_unix_ms", record.opened_unix_ms}}
      .dump();
}
std::string encode(const TailRecord& record) {
  return json{{"epoch", record.epoch},
              {"segment_id", record.segment_id},
              {"end_entry_id", record.end_entry_id}}
      .dump();
}
std::string encode(const TruncationRecord& record) {
  return json{{"first_kept_entry_id", record.first_kept_entry_id}}.dump();
}
std::string encode(const SegmentMeta& meta) {
  json out{{"segment_id", meta.segment_id},
              {"state", segment_state_name(meta.state)},
              {"epoch", meta.epoch},
              {"first_entry_id", meta.first_entry_id},
              {"created_unix_ms", meta.created_unix_ms},
              {"checkpoint_block_count", meta.checkpoint_block_count},
              {"checkpoint_end_entry_id", meta.checkpoint_end_entry_id},
              {"end_entry_id", meta.end_entry_id},
              {"block_count", meta.block_count},
              {"size_bytes", meta.size_bytes},
              {"sealed_unix_ms", meta.sealed_unix_ms},
              {"sealed_by_epoch", meta.sealed_by_epoch},
              {"orphans_collected", meta.orphans_collected}};
  // Only when set, so values of logs without keyed appends stay as they were.
  if (meta.producer_table) out["producer_table"] = true;
  // Quorum fields only when present, so MemoryBuffer values stay as they were.
  if (meta.quorum()) {
    out["ensemble"] = meta.ensemble;
    out["uploaded"] = meta.uploaded;
    if (meta.upload_block_bytes != 0) out["upload_block_bytes"] = meta.upload_block_bytes;
  }
  return out.dump();
}

Result<LogMeta> decode_log_meta(std::string_view key, std::string_view value) {
  FieldReader in(key, "log metadata", value);
  LogMeta meta;
  meta.log_id = in.u64("log_id");
  meta.created_unix_ms = in.i64("created_unix_ms");
  return in.finish(meta);
}

Result<EpochRecord> decode_epoch(std::string_view key, std::string_view value) {
  FieldReader in(key, "epoch record", value);
  EpochRecord record;
  record.epoch = in.u64("epoch");
  record.writer_instance = in.u64("writer_instance");
  record.opened_unix_ms = in.i64("opened_unix_ms");
  return in.finish(record);
}

Result<TailRecord> decode_tail(std::string_view key, std::string_view value) {
  FieldReader in(key, "tail record", value);
  TailRecord record;
  record.epoch = in.u64("epoch");
  record.segment_id = in.u64("segment_id");
  record.end_entry_id = in.u64("end_entry_id");
  return in.finish(record);
}

Result<TruncationRecord> decode_truncation(std::string_view key, std::string_view value) {
  FieldReader in(key, "truncation record", value);
  TruncationRecord record;
  record.first_kept_entry_id = in.u64("first_kept_entry_id");
  return in.finish(record);
}

Result<SegmentMeta> decode_segment(std::string_view key, std::string_view value) {
  FieldReader in(key, "segment metadata", value);
  SegmentMeta meta;
  meta.segment_id = in.u64("segment_id");
  const std::string state = in.text("state");
  if (state == "open") {
    meta.state = SegmentState::open;
  } else if (state == "sealed") {
    meta.state = SegmentState::sealed;
  } else {
    in.fail("unknown state '" + state + "'");
  }
  meta.epoch = in.u64("epoch");
  meta.first_entry_id = in.u64("first_entry_id");
  meta.created_unix_ms = in.i64("created_unix_ms");
  meta.checkpoint_block_count = in.u64("checkpoint_block_count");
  meta.checkpoint_end_entry_id = in.u64("checkpoint_end_entry_id");
  meta.end_entry_id = in.u64("end_entry_id");
  meta.block_count = in.u64("block_count");
  meta.size_bytes = in.u64("size_bytes");
  meta.sealed_unix_ms = in.i64("sealed_unix_ms");
  meta.sealed_by_epoch = in.u64("sealed_by_epoch");
  meta.orphans_collected = in.boolean("orphans_collected");
  // Absent in values written without a producer table (and before the field existed).
  if (in.has("producer_table")) meta.producer_table = in.boolean("producer_table");
  if (in.has("ensemble")) {
    meta.ensemble = in.strings("ensemble");
    meta.uploaded = in.boolean("uploaded");
    if (meta.ensemble.empty()) in.fail("empty ensemble");
    if (meta.uploaded && meta.state != SegmentState::sealed) in.fail("uploaded but not sealed");
    if (in.has("upload_block_bytes")) {
      meta.upload_block_bytes = in.u64("upload_block_bytes");
      if (meta.upload_block_bytes < block_format::header_size_bytes + 1) {
        in.fail("upload_block_bytes too small for a block");
      }
    }
  }
  if (meta.state == SegmentState::sealed && meta.end_entry_id < meta.first_entry_id) {
    in.fail("end_entry_id below first_entry_id");
  }
  if (meta.checkpoint_end_entry_id < meta.first_entry_id) {
    in.fail("checkpoint_end_entry_id below first_entry_id");
  }
  return in.finish(meta);
}

}  // namespace wal
