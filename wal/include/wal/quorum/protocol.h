#pragma once
// The LogStore RPC protocol of QuorumBuffer (docs/protocol.md): what a writer, a recovering
// writer, a reader and a LogStore node say to each other over the Network interface.
//
// Every message is a small binary record: a one-byte message tag, then fixed-width little-endian
// integers and length-prefixed byte strings. decode_*() accepts exactly one well-formed message
// of its kind and returns Errc::protocol for anything else (wrong tag, short or trailing bytes,
// a length past the end, more entries than the limits allow), never a crash or a default.
// Transports checksum messages; the protocol does not repeat that.
//
// Replies carry the node's answer as data (AddStatus, Knowledge); RPC errors (timeout with an
// unknown outcome, unavailable, protocol) are the transport's.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wal/core/bytes.h"
#include "wal/core/result.h"
#include "wal/env/clock.h"
#include "wal/log/options.h"

namespace wal::quorum {

inline constexpr std::string_view method_add = "logstore.add";
inline constexpr std::string_view method_fence = "logstore.fence";
inline constexpr std::string_view method_read = "logstore.read";

// Bounds a decoder enforces, so a malformed length can never make a node allocate gigabytes.
inline constexpr uint64_t entries_per_message_max = 65'536;
inline constexpr uint64_t message_bytes_max = 64ull << 20;

// Names one segment of one log on a LogStore node.
struct SegmentRef {
  std::string log_name;           // the segment metadata lives under this log's name
  uint64_t log_id = 0;            // object keys use the id
  SegmentId segment_id = 0;
  EntryId first_entry_id = 0;
  // etcd create_revision of the segment's metadata: a node whose disk was initialised after it
  // may have held (and lost) the segment's entries, so it answers fence with Knowledge::unknown.
  int64_t create_revision = 0;

  friend bool operator==(const SegmentRef&, const SegmentRef&) = default;
};

// The writer sends entries [first_entry_id, first_entry_id + payloads.size()) of a segment. The
// node accepts them only if first_entry_id <= its durable end (no holes; entries it already holds
// are skipped, so a duplicated or retried message is harmless) and `epoch` is not below the
// segment's fence epoch. A recovering writer re-replicates with `recovery` set, at exactly the
// fence epoch it set. The reply comes once the entries are durable (journal fsync).
struct AddRequest {
  SegmentRef segment;
  Epoch epoch = 0;
  bool recovery = false;
  EntryId first_entry_id = 0;
  EntryId confirmed_end = 0;  // last-add-confirmed: entries below are acknowledged (piggyback)
  std::vector<Bytes> payloads;
};

enum class AddStatus : uint8_t {
  ok,      // every entry below durable_end is durable on this node
  fenced,  // a newer epoch fenced the segment (fence_epoch says which): definite
  gap,     // first_entry_id is above durable_end: the node needs earlier entries first
  sealed,  // the node knows the segment was sealed below these entries
};

struct AddReply {
  AddStatus status = AddStatus::ok;
  EntryId durable_end = 0;  // the node's durable end after this request
  Epoch fence_epoch = 0;    // the segment's fence epoch on this node
};

// Fences the segment at `epoch` (persisted before the reply: later adds with a lower epoch are
// rejected, even after a restart) and reports what the node holds.
struct FenceRequest {
  SegmentRef segment;
  Epoch epoch = 0;
};

enum class Knowledge : uint8_t {
  known,    // durable_end is exact: every entry this node ever acknowledged is below it
  unknown,  // the node may have lost entries (disk wiped or damaged): NOT the same as absent
};

struct FenceReply {
  Knowledge knowledge = Knowledge::known;
  bool fenced = false;        // false: a newer epoch already fenced it (fence_epoch > epoch)
  Epoch fence_epoch = 0;
  EntryId durable_end = 0;    // meaningful when known
  EntryId confirmed_end = 0;  // the highest last-add-confirmed the node has seen
};

// Reads entries from `from`. Ordinary readers get entries below the node's confirmed end only;
// a recovering writer that fenced the segment at `recovery_epoch` reads up to the durable end.
// With wait_ms > 0 the node holds the request until at least one entry is readable or the wait
// expires (long poll), then replies (possibly with no entries).
struct ReadRequest {
  SegmentRef segment;
  EntryId from = 0;
  uint64_t bytes_max = 0;
  Epoch recovery_epoch = 0;  // 0: an ordinary read, bounded by the confirmed end
  uint32_t wait_ms = 0;
};

struct ReadReply {
  Knowledge knowledge = Knowledge::known;
  EntryId durable_end = 0;
  EntryId confirmed_end = 0;
  EntryId first_entry_id = 0;  // id of payloads[0]
  std::vector<Bytes> payloads;
};

[[nodiscard]] Bytes encode(const AddRequest& message);
[[nodiscard]] Bytes encode(const AddReply& message);
[[nodiscard]] Bytes encode(const FenceRequest& message);
[[nodiscard]] Bytes encode(const FenceReply& message);
[[nodiscard]] Bytes encode(const ReadRequest& message);
[[nodiscard]] Bytes encode(const ReadReply& message);

[[nodiscard]] Result<AddRequest> decode_add_request(ByteView bytes);
[[nodiscard]] Result<AddReply> decode_add_reply(ByteView bytes);
[[nodiscard]] Result<FenceRequest> decode_fence_request(ByteView bytes);
[[nodiscard]] Result<FenceReply> decode_fence_reply(ByteView bytes);
[[nodiscard]] Result<ReadRequest> decode_read_request(ByteView bytes);
[[nodiscard]] Result<ReadReply> decode_read_reply(ByteView bytes);

[[nodiscard]] std::string describe(const SegmentRef& segment);

}  // namespace wal::quorum
