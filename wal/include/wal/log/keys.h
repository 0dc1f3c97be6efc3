#pragma once
// Where a log keeps things. Numbers are zero-padded to 20 digits so that byte order (S3 LIST and
// etcd ranges) equals numeric order.
//
// MetaStore (etcd), under `meta_root` (e.g. "/wal/"):
//   <root>store-id                         the store's identity (wal/log/store_identity.h)
//   <root>log-ids                          counter for new log ids
//   <root>deleting/<log id:020>            a deleted log whose objects may remain (its name)
//   <root>logs/<name>                      LogMeta: id, creation time
//   <root>logs/<name>/epoch                EpochRecord: the current writer's fencing token
//   <root>logs/<name>/tail                 TailRecord: last acknowledged entry (for readers)
//   <root>logs/<name>/trunc                TruncationRecord: first entry id still kept
//   <root>logs/<name>/seg/<segment:020>    SegmentMeta
// ObjectStore, under `object_root` (e.g. "wal/"):
//   <root>store-id                                    the store's identity, as in the MetaStore
//   <root><log id:020>/<segment:020>/b<block:020>     block (or a fence object)
//   <root><log id:020>/<segment:020>/m<blocks:020>    manifest covering blocks [0, blocks)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wal {

struct LogKeys {
  std::string meta_root;    // ends with '/'
  std::string object_root;  // ends with '/' or is empty
  std::string name;
  uint64_t log_id = 0;

  [[nodiscard]] std::string log_key() const;
  [[nodiscard]] std::string epoch_key() const;
  [[nodiscard]] std::string tail_key() const;
  [[nodiscard]] std::string truncation_key() const;
  [[nodiscard]] std::string segment_key(uint64_t segment_id) const;
  [[nodiscard]] std::string segment_prefix() const;  // all SegmentMeta keys
  [[nodiscard]] std::string log_prefix() const;      // everything of this log in the MetaStore

  [[nodiscard]] std::string segment_object_prefix(uint64_t segment_id) const;
  [[nodiscard]] std::string log_object_prefix() const;
  [[nodiscard]] std::string block_key(uint64_t segment_id, uint64_t block_index) const;
  [[nodiscard]] std::string manifest_key(uint64_t segment_id, uint64_t block_count) const;
};

[[nodiscard]] std::string pad20(uint64_t value);
[[nodiscard]] std::string logs_prefix(std::string_view meta_root);
[[nodiscard]] std::string log_id_counter_key(std::string_view meta_root);

// Parses the trailing "<segment:020>/b<block:020>" or ".../m<count:020>" of an object key.
struct ObjectKeyParts {
  uint64_t segment_id = 0;
  enum class Kind : uint8_t { block, manifest } kind = Kind::block;
  uint64_t number = 0;  // block index, or block count of a manifest
};
[[nodiscard]] std::optional<ObjectKeyParts> parse_object_key(std::string_view log_object_prefix,
                                                             std::string_view key);
[[nodiscard]] std::optional<uint64_t> parse_segment_key(std::string_view segment_prefix,
                                                        std::string_view key);

}  // namespace wal
