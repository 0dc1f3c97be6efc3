#pragma once
// Store identity: ties an ObjectStore and a MetaStore together, so that objects are never served
// on the word of metadata that did not write them.
//
// Why: object keys name a log by its integer id (wal/log/keys.h), and ids come from a counter in
// the MetaStore. If the metadata is lost (a deleted meta.sqlite, a wiped etcd) or restored from
// an older copy, the counter starts again and a new log gets the id of an old one: its readers
// would then return the old log's entries as if they were its own, and verify would call them
// intact. A random store id, written once to both stores, makes that situation visible:
//   <object_root>store-id   object, create-only   "wpstore1 <32 hex digits>\n"
//   <meta_root>store-id     key, create-only       the same text
// check_store_identity() compares them before anything is read or written:
//   both present and equal       ok.
//   both present, different      corrupt: the two stores belong to different deployments.
//   object only                  corrupt: the metadata was lost or replaced, unless neither
//                                store holds anything else (an initialisation interrupted
//                                between its two writes, which is then completed).
//   key only                     corrupt: the objects were lost or this is another object
//                                store, unless the metadata holds no log yet (then completed).
//   neither                      a fresh store, or one from before store ids existed: if the
//                                object store holds data but the metadata knows no log, that
//                                is metadata loss (corrupt); otherwise both ids are written
//                                (with IdentityAccess::read_only nothing is written and ok
//                                is returned without an id).
// The corrupt messages name the recovery path (docs/cli.md, "Recovery").
// Unknown outcomes: each write is create-only and is settled by reading it back; two processes
// initialising at once agree on whichever object landed first.
//
// A second, cheaper guard covers metadata restored from an older copy (same store id, but a
// log-id counter that went back): LogClient::create_log, with
// ClientOptions::skip_log_ids_with_objects, never hands out an id whose object prefix is in use.

#include <optional>
#include <string>

#include "wal/env/env.h"
#include "wal/log/log_client.h"

namespace wal {

enum class IdentityAccess : uint8_t { read_only, read_write };

[[nodiscard]] std::string store_id_object_key(const ClientOptions& options);
[[nodiscard]] std::string store_id_meta_key(const ClientOptions& options);

// The store's id ("wpstore1 <hex>"), or std::nullopt for a store without one opened read-only.
// Errors: corrupt (see above: the stores do not belong together, or an id is malformed), and
// the stores' errors after read retries.
Task<Result<std::optional<std::string>>> check_store_identity(Env& env,
                                                              const ClientOptions& options,
                                                              IdentityAccess access);

}  // namespace wal
