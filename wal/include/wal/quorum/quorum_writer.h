#pragma once
// QuorumWriter: the single writer of a QuorumBuffer log (docs/protocol.md). Each segment lives on
// an ensemble of 3 LogStore nodes; every entry is sent to all 3 and acknowledged once 2 hold it
// durably. LogStores upload sealed segments to object storage on their own.
//
// Guarantees:
//  - append() completes, in call order, with the entry's id once 2 of the segment's 3 LogStores
//    have it durable (and every earlier entry of the log is acknowledged). Ids are dense per log.
//  - Opening a writer takes a new epoch (a MetaStore CAS), fences the open segment on its
//    LogStores at that epoch and recovers it: the end is the MAXIMUM durable end over at least 2
//    "known" fence replies ("unknown" never counts as empty), every entry below that end is
//    re-replicated to at least 2 replicas, then the segment is sealed with a CAS. Every
//    acknowledged entry is inside the sealed range.
//  - The last-add-confirmed (acknowledged end) rides on every add and is sent on its own when the
//    writer goes idle, so readers of LogStores never see unacknowledged entries.
//  - A replica that fails (error, timeout, rejection) makes the writer seal the segment at its
//    acknowledged end and continue in a new segment on a new ensemble; unacknowledged entries are
//    re-sent there with the same ids. Nothing acknowledged is lost, nothing is duplicated.
//  - Segments also roll by entry count, bytes and age (segment_age_max after the segment was
//    started, if it holds an entry by then; an idle log rolls too, so its LogStores can upload
//    the segment and drop their journals).
//
// append() errors:
//   too_large  the entry exceeds limits::entry_size_bytes_max (definite; writer unaffected).
//   fenced     a newer writer took over. Outcome unknown for entries already sent to a LogStore
//              (the new writer's recovery may include them), definite for the others.
//   closed     close() was called or the writer failed; unknown for entries already sent.
//   unavailable fewer than 3 LogStores are registered for a new ensemble (after retrying).
// Threading: all calls on the Env's executor. Destroying the writer without close() abandons
// pending appends, as a crash would.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wal/async/completion.h"
#include "wal/async/notify.h"
#include "wal/async/scope.h"
#include "wal/env/env.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"
#include "wal/log/options.h"
#include "wal/log/retry.h"
#include "wal/quorum/protocol.h"

namespace wal::quorum {

struct QuorumWriterOptions {
  Duration rpc_timeout = std::chrono::seconds(2);
  uint64_t message_bytes_max = 1ull << 20;        // one add carries at most this much payload
  uint64_t buffered_bytes_max = 32ull << 20;      // back-pressure: unacknowledged bytes
  uint64_t segment_entries_max = 100'000;         // roll after this many entries
  uint64_t segment_bytes_max = 256ull << 20;      // or this many bytes
  // Or this old (as LogWriter's segment_age_max: a quiet log's entries leave the LogStores'
  // disks within this time, checkpoints aside).
  Duration segment_age_max = std::chrono::minutes(10);
  // Recorded in each new segment: LogStores upload its entries in blocks of at most this size.
  uint64_t upload_block_bytes_max = 8ull << 20;
  uint32_t fence_rounds_max = 40;                 // recovery gives up after this many rounds
  // Rolls in a row, with appends waiting, that acknowledged nothing (every new ensemble failed
  // too: LogStores that cannot read the segment's metadata, a writer cut off from them) before
  // the writer fails with `unavailable`. From the second such roll on, rolls back off.
  uint32_t fruitless_rolls_max = 32;
  Backoff backoff{};
};

struct QuorumWriterStats {
  uint64_t adds_sent = 0;
  uint64_t confirms_sent = 0;   // adds that carried only a new last-add-confirmed
  uint64_t replica_failures = 0;
  uint64_t segments_sealed = 0;
  uint64_t rolls_by_age = 0;
  uint64_t segments_recovered = 0;
  uint64_t entries_rereplicated = 0;
};

class QuorumWriter {
 public:
  static Task<Result<std::unique_ptr<QuorumWriter>>> open(Env& env, LogKeys keys,
                                                          QuorumWriterOptions options);
  ~QuorumWriter();
  QuorumWriter(const QuorumWriter&) = delete;
  QuorumWriter& operator=(const QuorumWriter&) = delete;

  Task<Result<EntryId>> append(Bytes payload);
  // Waits for every accepted append, then seals the current segment. Later appends fail closed.
  Task<Status> close();

  [[nodiscard]] Epoch epoch() const { return epoch_; }
  [[nodiscard]] EntryId next_entry_id() const { return next_entry_id_; }
  [[nodiscard]] EntryId acknowledged_end() const { return acknowledged_end_; }
  [[nodiscard]] SegmentId segment_id() const { return segment_.segment_id; }
  [[nodiscard]] const std::vector<std::string>& ensemble() const { return segment_.ensemble; }
  [[nodiscard]] const QuorumWriterStats& stats() const { return stats_; }

 private:
  struct Pending {
    EntryId id = 0;
    Bytes payload;
    Completion<Result<EntryId>> done;
    bool sent = false;  // reached at least one LogStore request
  };
  struct Replica {
    std::string node;
    EntryId sent_end = 0;       // next id to send
    EntryId durable_end = 0;    // what the node last reported durable
    EntryId confirmed_sent = 0; // last-add-confirmed the node was told
    bool failed = false;
  };

  QuorumWriter(Env& env, LogKeys keys, QuorumWriterOptions options);

  // Lifecycle (quorum_writer_lifecycle.cpp).
  Task<Status> recover_and_open_segment();
  Task<Result<std::vector<std::string>>> choose_ensemble();
  Task<Status> create_segment(SegmentId segment_id, EntryId first_entry_id);
  Task<Status> seal_and_open_next(EntryId end, bool open_next);
  void start_segment(SegmentMeta meta, int64_t mod_revision);
  Task<void> roll_segment();
  Task<void> age_timer(uint64_t generation, TimePoint roll_at);

  // Append path (quorum_writer.cpp).
  Task<void> replica_sender(size_t replica, uint64_t generation);
  void on_reply(size_t replica, const AddReply& reply, EntryId sent_end);
  void on_replica_failed(size_t replica, const Error& error);
  void complete_acknowledged();
  void request_roll();
  void fail_writer(const Error& error);
  [[nodiscard]] EntryId quorum_end() const;
  [[nodiscard]] SegmentRef segment_ref() const;
  [[nodiscard]] bool stop_sending() const;

  Env& env_;
  LogKeys keys_;
  QuorumWriterOptions options_;
  Epoch epoch_ = 0;
  int64_t epoch_mod_revision_ = 0;
  SegmentMeta segment_;
  int64_t segment_mod_revision_ = 0;
  uint64_t generation_ = 0;       // bumped per segment: senders of an old segment stop
  std::vector<Replica> replicas_;
  size_t senders_running_ = 0;
  std::deque<Pending> pending_;   // not yet acknowledged, or not yet on every live replica
  uint64_t pending_bytes_ = 0;
  EntryId next_entry_id_ = 0;
  EntryId acknowledged_end_ = 0;
  uint64_t segment_bytes_ = 0;
  bool rolling_ = false;
  bool closing_ = false;
  uint32_t fruitless_rolls_ = 0;            // see QuorumWriterOptions::fruitless_rolls_max
  EntryId acknowledged_at_last_roll_ = 0;
  std::optional<Error> last_replica_error_;  // for the message when rolls give up
  std::set<std::string> failed_nodes_;  // avoided when choosing the next ensemble
  std::optional<Error> failure_;
  Notify changed_;
  QuorumWriterStats stats_;
  Scope scope_;  // last: destroyed first, so background tasks never outlive the members
};

}  // namespace wal::quorum
