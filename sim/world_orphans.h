#pragma once
// Objects of a log that no segment owns, read straight from the simulated stores' state: keys of
// segments that no longer exist, blocks past a sealed segment's end (except its fence object),
// and manifests other than a sealed segment's footer. The heal phase requires none after GC.
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

}  // namespace wal::sim
