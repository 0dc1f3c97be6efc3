#pragma once
// The LogStore implementation (wal/quorum/logstore.h). One object, its methods split by job:
//   logstore.cpp               start-up, disk identity, request dispatch
//   logstore_replay.cpp        reading the journals at start
//   logstore_handlers.cpp      add, fence and read
//   logstore_uploader.cpp      sealed segments to object storage, journals dropped
//   logstore_checkpoint.cpp    the full blocks of open segments to object storage
//   logstore_blocks.cpp        the objects' form, identical on every node
//   logstore_repair.cpp        a node in limbo for a sealed segment copies it from its peers
//   logstore_registration.cpp  the leased registration key, deregistration
//   logstore_events.cpp        state-change events for the observer, gauges
//   logstore_cache.cpp         the entry cache: payloads of durable entries under a budget
// Exposed to tests (tests/unit/logstore_*_test.cpp) for inspection only.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "wal/async/scope.h"
#include "wal/env/env.h"
#include "wal/log/metadata.h"
#include "wal/quorum/logstore.h"
#include "wal/quorum/protocol.h"

#include "logstore_segment.h"

namespace wal::quorum {

// The disk identity marker: the MetaStore revision at which this disk was (re)initialised.
inline constexpr std::string_view disk_marker_path = "q/disk.json";
inline constexpr std::string_view disk_marker_temp_path = "q/disk.json.tmp";

class LogStoreNode final : public LogStore {
 public:
  LogStoreNode(Env& env, LogStoreOptions options);
  ~LogStoreNode() override;
  LogStoreNode(const LogStoreNode&) = delete;
  LogStoreNode& operator=(const LogStoreNode&) = delete;

  [[nodiscard]] const LogStoreStats& stats() const override { return stats_; }
  [[nodiscard]] LogStoreGauges gauges() const override;
  Task<Status> deregister() override;

  // ---- inspection for tests ----
  [[nodiscard]] int64_t init_revision() const { return init_revision_; }
  [[nodiscard]] const Segment* find_segment(uint64_t log_id, SegmentId segment_id) const;
  // The segments of log `log_id` this node holds (a journal, or state in memory), in id order.
  [[nodiscard]] std::vector<SegmentId> held_segments(uint64_t log_id) const;
  [[nodiscard]] size_t segment_count() const { return segments_.size(); }
  // Problems the uploader met that need a human (an existing block with other bytes).
  [[nodiscard]] const std::vector<std::string>& upload_problems() const { return problems_; }
  [[nodiscard]] LeaseId registration_lease() const { return lease_; }

  // ---- start-up (logstore.cpp, logstore_replay.cpp) ----
  Task<Status> load_disk_identity();
  Task<Status> replay_journals();
  void serve();
  void start_background();
  void announce_start();  // the `started` event

  // ---- request handling (logstore_handlers.cpp) ----
  Task<Result<Bytes>> handle(RpcRequest request);
  Task<Result<Bytes>> handle_add(ByteView body);
  Task<Result<Bytes>> handle_fence(ByteView body);
  Task<Result<Bytes>> handle_read(ByteView body);

 private:
  // Shared with the RPC handler installed on the Network: the handler outlives the node (it sits
  // in the endpoint), so it reaches the node only through this, and finds null after a crash.
  struct Link {
    LogStoreNode* node = nullptr;
  };
  static Task<Result<Bytes>> serve_request(std::shared_ptr<Link> link, RpcRequest request);
  static Task<void> run_request(LogStoreNode& node, RpcRequest request,
                                Completion<Result<Bytes>> reply);

  // The segment named by `ref`, created (without a journal) when absent. Error: the node holds a
  // segment with that id whose identity differs (invalid_argument), or dropped it (nullptr).
  Result<std::shared_ptr<Segment>> segment_for(const SegmentRef& ref);
  [[nodiscard]] bool knowledge_lost_without_journal(const SegmentRef& ref) const;
  // Whether the segment's metadata still says open. Asked before the first add creates a journal:
  // a journal dropped after the upload (and forgotten in a restart) must not come back for a
  // zombie writer's add, or its fence would be gone with it.
  Task<Result<bool>> segment_is_open(const SegmentRef& ref);
  // `rewritten`: the journal was just rewritten from a damaged one's valid prefix.
  Task<Status> adopt_journal(const std::string& path, bool rewritten = false);
  Task<Status> rewrite_damaged(const std::string& path, const journal::JournalReplay& replay,
                               ByteView bytes);
  // Checks an add against the segment's state (dropped, fence, limbo, seal, gap, and the entries
  // it repeats). nullopt: the entries past those held may be appended now, with no wait since
  // the last check. Otherwise the reply to send. An error: reading held entries back failed, or
  // a repeated entry differs (corrupt).
  Task<Result<std::optional<Bytes>>> admit_add(Segment& segment, const AddRequest& request);
  // Whether the held entries among [first, end) are the request's payloads (a retried add).
  // Reads them back, so it waits: the caller checks the segment's state again afterwards.
  Task<Result<bool>> held_entries_match(Segment& segment, const AddRequest& request, EntryId from,
                                        EntryId end);

  // ---- uploader (logstore_uploader.cpp) ----
  static Task<void> upload_loop(LogStoreNode& node);
  Task<void> scan_segment(std::shared_ptr<Segment> segment);
  Task<Status> upload(Segment& segment, const SegmentMeta& meta, int64_t mod_revision);
  Task<Status> checkpoint(Segment& segment, const SegmentMeta& meta, int64_t mod_revision);
  // Deletes the checkpoint manifests this node wrote that the uploaded segment does not use.
  Task<Status> remove_stale_checkpoint_manifests(const Segment& segment, const SegmentMeta& meta);
  // logstore_repair.cpp: copies a sealed segment this node is in limbo for from its peers.
  Task<void> repair(std::shared_ptr<Segment> segment, const SegmentMeta& meta);
  // The block size limit of the segment's uploads: its record's, else this node's option.
  [[nodiscard]] uint64_t upload_block_bytes_max(const SegmentMeta& meta) const;
  Task<void> drop_journal(std::shared_ptr<Segment> segment);
  Task<void> discard_if_segment_gone(const SegmentRef& ref);

  // ---- registration (logstore_registration.cpp) ----
  static Task<void> registration_loop(LogStoreNode& node);
  Task<Status> register_once();
  [[nodiscard]] std::string registration_value() const;

  // ---- events (logstore_events.cpp) ----
  void emit(LogStoreEventKind kind, const Segment* segment, uint64_t value = 0,
            std::string detail = {});
  void note_problem(std::string problem);  // problems_ and an upload_problem event

  Env& env_;
  LogStoreOptions options_;
  LogStoreStats stats_;
  int64_t init_revision_ = 0;
  bool disk_initialised_now_ = false;  // no marker was found at start
  EntryCache cache_;                   // before segments_: they refer to it
  std::map<SegmentKey, std::shared_ptr<Segment>> segments_;
  std::set<SegmentKey> dropped_;  // journals dropped after upload, since start
  std::set<SegmentKey> lost_;     // journals whose header record is damaged
  std::vector<std::string> problems_;
  LeaseId lease_ = 0;
  bool registered_ = false;
  bool deregistered_ = false;  // deregister() was called: the loop stops renewing
  std::shared_ptr<Link> link_ = std::make_shared<Link>();
  Scope scope_;  // last: destroyed first, so no task outlives the state above
};

}  // namespace wal::quorum
