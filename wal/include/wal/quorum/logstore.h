#pragma once
// LogStore: one QuorumBuffer storage node (docs/protocol.md). It keeps the entries of the
// segments whose ensemble it belongs to in per-segment journals on its Disk until they are in
// object storage, and serves the protocol of wal/quorum/protocol.h over the Network. Reads,
// repairs, checkpoints and uploads read the journals back through a bounded entry cache; in
// memory it keeps per entry only where its record is (and the payloads not yet synced).
//
// Guarantees (each one is an invariant in docs/protocol.md):
//  - An add is answered ok only after its entries are durable (journal fsync; concurrent adds to a
//    segment share one fsync: group commit).
//  - Entries are accepted only in id order with no holes: an add starting above the durable end
//    is answered `gap`.
//  - A fence persists the segment's fence epoch (fsync) before it is answered; afterwards adds
//    with a lower epoch are answered `fenced`, also after a restart.
//  - A fence is answered with Knowledge::unknown, never with a too-small durable end, when the
//    node may have lost entries of the segment: its disk was initialised (first start or a wipe)
//    after the segment was created, or the segment's journal is damaged before its end. Once
//    such a segment is sealed, the node copies it from its peers and knows it again (repair).
//  - Ordinary reads return only entries below the confirmed end (last-add-confirmed); a read by
//    the writer that fenced the segment returns everything durable.
//  - Sealed segments are uploaded to object storage under deterministic keys with create-only
//    PUTs, verified to hold exactly [first, end) of the sealed segment, then marked uploaded in
//    the MetaStore with a compare; the local journal is dropped only after that mark is seen.
//  - Open segments are checkpointed: their full blocks of confirmed (acknowledged) entries are
//    uploaded the same way and recorded as the segment's checkpoint while it is still open, so a
//    long-open segment's data reaches object storage without waiting for the seal.
//  - The node registers under <meta_root>logstores/<node id> with a lease, so writers can pick
//    live nodes for new ensembles. The value is JSON: {"node": id} plus "address" (where peers
//    and clients reach it) and "zone" when the options give them. deregister() revokes it.
//  - Every state change is reported to LogStoreOptions::observer, if set, as one LogStoreEvent
//    (a daemon logs one line each); the observer is called on the executor and must not call
//    back into the node.
//
// start() errors: the Disk's errors while replaying journals (corrupt journals are not errors:
// their segments answer unknown), and the MetaStore's while reading the revision for a new disk.
// Threading: everything on the Env's executor. Destroying the node is a crash: tasks stop where
// they are; the disk keeps what was synced.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "wal/async/task.h"
#include "wal/core/result.h"
#include "wal/env/env.h"
#include "wal/quorum/protocol.h"

namespace wal::quorum {

// A change of the node's state, for logs (describe()) and metrics.
enum class LogStoreEventKind : uint8_t {
  started,             // journals replayed, serving; value: segments held; detail: disk identity
  registered,          // a registration was put under a new lease; value: the lease
  registration_lost,   // the lease expired (the node was cut off from the MetaStore)
  deregistered,        // deregister() revoked the registration
  segment_opened,      // the node holds a new segment; value: 1 if it is in limbo for it
  segment_fenced,      // a fence raised the segment's epoch; value: the epoch
  segment_sealed,      // the uploader saw the seal; value: the sealed end
  checkpoint_recorded, // value: checkpointed end (entries below are in object storage)
  segment_uploaded,    // value: the sealed end
  segment_repaired,    // a segment in limbo is known again; value: entries copied
  journal_dropped,     // the segment is uploaded or gone, its journal removed
  upload_problem,      // something needs a human (detail)
};

struct LogStoreEvent {
  LogStoreEventKind kind = LogStoreEventKind::started;
  std::optional<SegmentRef> segment;
  uint64_t value = 0;
  std::string detail;
};

// One line for a log: "segment orders/3#5 [100..) fenced at epoch 4".
[[nodiscard]] std::string describe(const LogStoreEvent& event);
[[nodiscard]] std::string_view event_kind_name(LogStoreEventKind kind);

struct LogStoreOptions {
  std::string meta_root = "/wal/";   // where logs and registrations live in the MetaStore
  std::string object_root = "wal/";  // where uploaded blocks go
  Duration registration_ttl = std::chrono::seconds(10);
  Duration upload_scan_interval = std::chrono::milliseconds(500);
  // Uploaded block objects are at most this big, for segments whose record does not say (each
  // QuorumWriter records its choice in the segments it creates).
  uint64_t upload_block_bytes_max = 8ull << 20;
  bool upload_open_segments = true;  // checkpoint full blocks of open segments
  uint64_t read_reply_bytes_max = 4ull << 20;
  // Payloads of durable entries kept in memory for reads (least recently used out). Everything
  // else is read back from the journals, so the node's memory does not grow with segment sizes:
  // 64 MiB holds the last 16 full read replies, the tail that tailing readers ask for. 0: off.
  uint64_t entry_cache_bytes_max = 64ull << 20;
  Duration repair_read_timeout = std::chrono::seconds(2);  // one read from a peer during repair
  std::string advertise_address;  // registered for peers and clients; empty: not registered
  std::string zone;               // registered for operators; empty: not registered
  std::function<void(const LogStoreEvent&)> observer;  // optional
};

struct LogStoreStats {
  uint64_t adds = 0;
  uint64_t entries_stored = 0;
  uint64_t fsyncs = 0;
  uint64_t fences = 0;
  uint64_t reads = 0;
  uint64_t segments_uploaded = 0;
  uint64_t checkpoints = 0;  // open segments' checkpoints recorded
  uint64_t segments_repaired = 0;  // sealed segments this node knows again after limbo
  uint64_t entries_repaired = 0;   // entries copied from peers during repairs
  uint64_t journals_dropped = 0;
  uint64_t requests_rejected = 0;  // malformed, stale epoch, gap
  uint64_t registrations = 0;      // registrations put (the first, and after each lost lease)
  uint64_t entry_cache_hits = 0;   // durable entries found in the entry cache
  uint64_t entry_cache_misses = 0;    // durable entries not found there (then read from disk)
  uint64_t journal_reads = 0;         // disk reads of journal entries (one per run of misses)
  uint64_t journal_write_errors = 0;  // batches whose append or sync failed (a full disk, EIO)
};

// What the node holds now (computed on demand, for metrics and for draining).
struct LogStoreGauges {
  uint64_t segments_held = 0;            // with a journal or state in memory
  uint64_t segments_open = 0;            // not seen sealed yet
  uint64_t segments_pending_upload = 0;  // seen sealed, not uploaded yet
  uint64_t segments_in_limbo = 0;        // answering unknown (may have lost entries)
  uint64_t entries_in_memory = 0;        // entries accepted, not yet synced (kept until then)
  uint64_t entry_bytes_in_memory = 0;    // their payload bytes
  uint64_t entry_cache_entries = 0;      // durable entries in the entry cache
  uint64_t entry_cache_bytes = 0;        // their payload bytes (at most entry_cache_bytes_max)
  bool registered = false;               // a registration was put and not lost or revoked
};

class LogStore {
 public:
  // Replays the journals on env.disk, serves env.network, registers in env.meta_store and starts
  // the uploader. env needs executor, clock, random, disk, network, meta_store and object_store.
  static Task<Result<std::unique_ptr<LogStore>>> start(Env& env, LogStoreOptions options);
  virtual ~LogStore() = default;
  [[nodiscard]] virtual const LogStoreStats& stats() const = 0;
  [[nodiscard]] virtual LogStoreGauges gauges() const = 0;
  // Stops renewing the registration and revokes its lease, so writers stop choosing this node
  // for new ensembles; the node goes on serving the segments it holds. ok: revoked (or the lease
  // had expired already). An error: the MetaStore's (outcome unknown for a timeout: the lease
  // then expires within registration_ttl anyway). Calling it again revokes nothing new.
  virtual Task<Status> deregister() = 0;
};

// The MetaStore prefix under which live LogStores register (value: JSON with the node id).
[[nodiscard]] std::string logstore_registry_prefix(std::string_view meta_root);

}  // namespace wal::quorum
