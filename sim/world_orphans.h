#pragma once
// Which objects of a log a segment owns, read straight from the simulated stores' state. Orphans
// are the objects none owns: keys of segments that no longer exist, blocks past a sealed
// segment's end (except its fence object), and manifests other than a sealed segment's footer;
// the heal phase requires none after GC. Owned objects are the rest, and no delete may ever
// name one while its segment's metadata exists (checked as every delete is sent).
#include <string>
#include <vector>

#include "wal/mem/mem_meta_store.h"
#include "wal/mem/mem_object_store.h"

#include "wal/log/metadata.h"

namespace wal::sim {

// The segments of log `log_name` as the MetaStore holds them now (create_revision filled in);
// empty if the log does not exist.
[[nodiscard]] std::vector<SegmentMeta> list_segments(MemMetaStore& meta,
                                                     const std::string& meta_root,
                                                     const std::string& log_name);

[[nodiscard]] std::vector<std::string> find_orphans(MemObjectStore& objects, MemMetaStore& meta,
                                                    const std::string& meta_root,
                                                    const std::string& object_root,
                                                    const std::string& log_name);

// Of `keys` (object keys about to be deleted), those present that a segment whose metadata
// exists now owns, by segment: blocks below a sealed segment's block_count, its footer
// manifest, the fence at its end, and every block of a segment still open or not yet uploaded.
// GC must never delete one (docs/protocol.md, G1). Keys of another log, of no segment, or of
// nothing stored are not owned.
struct OwnedObjects {
  std::string owner;              // "segment 26 (sealed, 13 blocks)"
  std::vector<std::string> keys;  // in the order given
};
[[nodiscard]] std::vector<OwnedObjects> find_owned(MemObjectStore& objects, MemMetaStore& meta,
                                                   const std::string& meta_root,
                                                   const std::string& object_root,
                                                   const std::string& log_name,
                                                   const std::vector<std::string>& keys);

// The log's writer epoch as the MetaStore holds it now (0 if none).
[[nodiscard]] Epoch current_epoch(MemMetaStore& meta, const std::string& meta_root,
                                  const std::string& log_name);

// The log's truncation point as the MetaStore holds it now (0 if none).
[[nodiscard]] EntryId truncation_point(MemMetaStore& meta, const std::string& meta_root,
                                       const std::string& log_name);

}  // namespace wal::sim
