// One simulation run: the world, its nodes and their processes, the schedule, heal and checks.
#include "sim/world.h"

#include <limits>
#include <map>
#include <memory>
#include <set>

#include <fmt/core.h>
#include <fmt/format.h>

#include "sim/ack_audit.h"
#include "sim/checkers.h"
#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/sim_writer.h"
#include "sim/world_services.h"
#include "wal/async/sleep.h"
#include "wal/log/fence_object.h"
#include "wal/log/log_client.h"
#include "wal/quorum/logstore.h"
#include "wal/quorum/quorum_writer.h"
#include "wal/quorum/replica_reads.h"
#include "wal/src/quorum/logstore_node.h"  // the heal check looks inside LogStores

namespace wal::sim {

namespace {

using namespace std::chrono_literals;
using faults::Event;
using faults::EventKind;

constexpr const char* log_name = "sim";

int64_t ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

// The run's FaultPoints: its planted bugs, and the counter of the coverage marks reached.
class BugSwitches final : public FaultPoints {
 public:
  BugSwitches(const std::vector<SimBug>& bugs, MarkCounter& marks)
      : bugs_(bugs.begin(), bugs.end()), marks_(marks) {}
  [[nodiscard]] bool bug(SimBug bug) const override { return bugs_.count(bug) > 0; }
  void reached(CoverageMark mark) const override { marks_.reached(mark); }

 private:
  std::set<SimBug> bugs_;
  MarkCounter& marks_;
};

struct Node {
  uint32_t index = 0;
  std::unique_ptr<NodeRuntime> runtime;
  std::unique_ptr<TracedRandom> random;
  std::unique_ptr<ObjectStore> objects;
  std::unique_ptr<MetaStore> meta;
  std::unique_ptr<SimDisk> disk;         // LogStore nodes (quorum mode)
  std::unique_ptr<Network> network;      // every node in quorum mode
  std::unique_ptr<Env> env;
  std::unique_ptr<SegmentReplicas> replicas;  // its readers' LogStores (quorum mode)
  std::unique_ptr<LogClient> client;
  // The process's memory; gone on a crash.
  std::unique_ptr<SimWriter> writer;
  uint64_t writer_index = 0;
  std::vector<std::unique_ptr<SimWriter>> retired_writers;  // fenced or replaced: zombies
  std::unique_ptr<quorum::LogStore> logstore;               // LogStore nodes, while up
  int64_t wiped_at_revision = -1;                           // etcd revision of its last wipe
  std::vector<size_t> live_appends;                         // history indexes still pending
  bool wants_writer = false;                                // reopen after a restart
  bool reader_running = false;
  EntryId read_position = 0;
  uint64_t read_sessions = 0;
  uint32_t partitions = 0;
};

// Keyed mode: a writer node's producer state, kept by the client across its restarts (as a
// producer with a durable outbox would).
struct ProducerState {
  struct Retry {
    size_t record_index = 0;
    AppendKey key;
    Bytes payload;
    std::optional<AppendAttempt> resend;  // while a re-send is in flight: who sent it, when
  };
  uint64_t last_sequence = 0;
  std::map<size_t, Retry> outstanding;  // keyed appends in flight, by history index
  std::vector<Retry> retries;           // appends whose outcome is unknown, to send again
};

class World {
 public:
  explicit World(const SimConfig& config);
  SimResult run();

 private:
  TimePoint now() const { return scheduler_.now(); }
  void note(uint32_t node, std::string text) {
    result_.node_log.push_back(NodeLogLine{now(), node, std::move(text)});
  }
  Node& node(uint32_t index) {
    WAL_ASSERT(index >= 1 && index <= nodes_.size());
    return *nodes_[index - 1];
  }
  bool is_writer(uint32_t index) const { return index >= 1 && index <= shape_.writer_nodes; }
  bool is_reader(uint32_t index) const {
    return index > shape_.writer_nodes && index <= shape_.writer_nodes + shape_.reader_nodes;
  }

  void build_node(uint32_t index);
  void schedule_events();
  void apply(const Event& event);
  void crash(uint32_t index, Duration restart_after);
  // QuorumBuffer faults (LogStore disks, the network between nodes); no-ops in memory mode.
  void apply_quorum_fault(const Event& event);
  void start_truncate(const Event& event);
  void restart(uint32_t index);
  void start_open_writer(Node& n);
  Task<Result<std::unique_ptr<SimWriter>>> open_any_writer(Node& n);
  void start_logstore(Node& n);
  [[nodiscard]] bool wipe_keeps_fault_model(uint32_t index);
  void apply_network_faults();
  void start_appends(Node& n, const Event& event);
  void start_reader(Node& n);
  void start_gc(uint32_t index, bool full);
  Task<void> open_writer_task(Node& n);
  // A record that ended unknown, sent again with the same key by a node's next writer.
  struct RetryBy {
    uint64_t writer_index = 0;  // the writer that re-sends it
    EntryId first_new_id = 0;   // that writer's next id at open: ids from here are its own
  };
  Task<void> append_task(Node& n, SimWriter& writer, size_t record_index, Bytes payload,
                         std::optional<AppendKey> key, std::optional<RetryBy> retry);
  void start_retries(Node& n);
  Task<void> reader_task(Node& n);
  Bytes make_payload(const Event& event, uint32_t index_in_event, const Node& n);
  [[nodiscard]] uint64_t quorum_upload_block_bytes() const;
  EntryId highest_acknowledged() const;

  // Heal phase steps; each returns false on a liveness failure (already recorded).
  bool heal_everything();
  bool run_until_done(const std::function<bool()>& done, TimePoint deadline, const char* what);
  bool wait_appends_resolved(TimePoint deadline);
  bool final_writer(TimePoint deadline);
  bool final_gc(TimePoint deadline);
  bool uploads_done(TimePoint deadline);
  bool final_read(TimePoint deadline);
  bool readers_caught_up(TimePoint deadline);
  bool no_orphans(TimePoint deadline);
  void liveness_failure(std::string name, std::string detail);
  // Records a writer open's first fenced answer with etcd's epoch at this instant (FencedRecord).
  void note_fenced(const Node& n, uint64_t writer_index, Epoch epoch, const Error& error);
  void audit_memory_ack(const Node& n, EntryId id);

  const SimConfig& config_;
  faults::WorldShape shape_;
  Trace trace_;
  Scheduler scheduler_;
  RandomStreams streams_;
  std::map<uint32_t, ProducerState> producers_;  // keyed mode, by writer node index
  MarkCounter marks_;
  BugSwitches bugs_;
  WriterOptions writer_options_;
  WorldServices services_;
  std::unique_ptr<SimNetwork> network_;  // quorum mode; outlives the nodes' endpoints
  std::map<uint64_t, Event> network_faults_;  // active net_partition / net_chaos windows
  uint64_t next_network_fault_ = 1;
  std::vector<std::unique_ptr<Node>> nodes_;
  SimResult result_;
  History& history_ = result_.history;
  uint64_t writer_count_ = 0;
  std::set<uint64_t> fenced_writers_;  // writer indexes with a FencedRecord
  AckAudit ack_audit_;
  std::vector<std::string> memory_ack_findings_;  // audit_memory_ack (at most findings_max)
  TimePoint start_{};
  bool healing_ = false;
  bool final_read_ran_ = false;
  uint32_t gc_passes_running_ = 0;  // on any node; a crash ends its passes (their frames die)
};

World::World(const SimConfig& config)
    : config_(config),
      shape_(config.shape),
      trace_(Trace::Options{config.record_digests, limits::trace_records_max_default,
                            config.jsonl}),
      scheduler_(trace_),
      streams_(config.seed),
      bugs_(config.bugs, marks_),
      writer_options_(sim_writer_options(config.fencing)),
      services_(scheduler_, streams_, trace_) {
  if (config_.quorum) {
    WAL_ASSERT_GT(shape_.logstore_nodes, uint32_t{2});
    network_ = std::make_unique<SimNetwork>(scheduler_, streams_, trace_);
    network_->observe_replies(
        [this](NodeIndex server, const RpcRequest& request, const Result<Bytes>& reply) {
          const Node& n = node(server);
          ack_audit_.on_reply(server, now(), n.disk ? &n.disk->state() : nullptr, request, reply);
        });
  }
  for (uint32_t index = 1; index <= shape_.node_count(); ++index) build_node(index);
}

void World::build_node(uint32_t index) {
  auto n = std::make_unique<Node>();
  n->index = index;
  n->runtime = std::make_unique<NodeRuntime>(scheduler_, index);
  n->random = std::make_unique<TracedRandom>(streams_.stream("node.random", index), trace_, index,
                                             Site("node.random"));
  n->objects = services_.object_client(index, *n->runtime);
  n->meta = services_.meta_client(index, *n->runtime);
  if (network_) n->network = network_->endpoint(index, fmt::format("n{}", index), *n->runtime);
  if (shape_.is_logstore(index)) n->disk = std::make_unique<SimDisk>(*n->runtime, streams_, trace_);
  n->env = std::make_unique<Env>(Env{*n->runtime, *n->runtime, *n->random, bugs_, n->objects.get(),
                                     n->meta.get(), n->disk.get(), n->network.get()});
  n->replicas = quorum::replica_reads_for(*n->env);
  n->client = std::make_unique<LogClient>(*n->env, ClientOptions{}, n->replicas.get());
  nodes_.push_back(std::move(n));
  if (shape_.is_logstore(index)) start_logstore(*nodes_.back());
}

// The LogStore process of a node: replays its journals, serves, registers, uploads.
void World::start_logstore(Node& n) {
  n.runtime->spawn([](World& world, Node& nd) -> Task<void> {
    quorum::LogStoreOptions options;
    Result<std::unique_ptr<quorum::LogStore>> started =
        co_await quorum::LogStore::start(*nd.env, options);
    if (!started.ok()) {
      // A supervisor restarts the process after a pause, as systemd would.
      world.note(nd.index, "LogStore failed to start: " + started.error().describe());
      co_await sleep_for(*nd.runtime, std::chrono::seconds(1));
      world.start_logstore(nd);
      co_return;
    }
    nd.logstore = std::move(started).value();
    // A fresh disk answers "unknown" for every segment created before it started, even ones it
    // never held; the revision now is at or above the one it recorded.
    if (nd.wiped_at_revision == std::numeric_limits<int64_t>::max()) {
      nd.wiped_at_revision = world.services_.meta_revision();
    }
    world.note(nd.index, "LogStore up");
  }(*this, n));
}

Task<Result<std::unique_ptr<SimWriter>>> World::open_any_writer(Node& n) {
  if (!config_.quorum) {
    Result<std::unique_ptr<LogWriter>> opened =
        co_await n.client->open_writer(std::string(log_name), writer_options_);
    if (!opened.ok()) co_return std::move(opened).error();
    co_return std::make_unique<SimWriter>(std::move(opened).value());
  }
  Result<LogInfo> info = co_await n.client->get_log(std::string(log_name));
  if (!info.ok()) co_return std::move(info).error();
  quorum::QuorumWriterOptions options;
  // Small segments exercise rolls and uploads; larger ones stay open long enough for the
  // LogStores to checkpoint them. Drawn once per run.
  Xoshiro256 shape = streams_.stream("quorum.segment_entries");
  options.segment_entries_max = shape.below(4) != 0 ? 200 : 1500;
  options.upload_block_bytes_max = quorum_upload_block_bytes();
  Result<std::unique_ptr<quorum::QuorumWriter>> opened =
      co_await quorum::QuorumWriter::open(*n.env, n.client->keys_for(*info), options);
  if (!opened.ok()) co_return std::move(opened).error();
  co_return std::make_unique<SimWriter>(std::move(opened).value());
}

// The block size of a run's quorum uploads, drawn once per run: small blocks make open segments
// checkpoint after some 10-100 entries (sim payloads are 30-430 bytes); the default never does.
uint64_t World::quorum_upload_block_bytes() const {
  static constexpr uint64_t choices[] = {4096, 16384, uint64_t{8} << 20};
  Xoshiro256 random = streams_.stream("quorum.upload_block_bytes");
  return choices[random.below(std::size(choices))];
}

Bytes World::make_payload(const Event& event, uint32_t index_in_event, const Node& n) {
  Xoshiro256 random(event_seed(config_.seed, (uint64_t{event.id} << 20) + index_in_event));
  std::string payload = fmt::format("n{}.w{}.e{}.{}|", n.index, n.writer_index, event.id,
                                    index_in_event);
  const uint64_t filler = 8 + random.below(400);
  for (uint64_t i = 0; i < filler; ++i) payload.push_back(static_cast<char>('a' + random.below(26)));
  return to_bytes(payload);
}

EntryId World::highest_acknowledged() const {
  EntryId highest = 0;
  for (const AppendRecord& a : history_.appends) {
    if (a.outcome == AppendOutcome::ok) highest = std::max(highest, a.id + 1);
  }
  return highest;
}

Task<void> World::open_writer_task(Node& n) {
  Result<std::unique_ptr<SimWriter>> opened = co_await open_any_writer(n);
  if (!opened.ok()) {
    note(n.index, "open writer failed: " + opened.error().describe());
    co_return;
  }
  if (n.writer) n.retired_writers.push_back(std::move(n.writer));
  n.writer = std::move(opened).value();
  n.writer_index = ++writer_count_;
  history_.opens.push_back(WriterOpenRecord{n.writer_index, n.index, n.writer->epoch(), now()});
  note(n.index, fmt::format("writer #{} open, epoch {}, next id {}", n.writer_index,
                            n.writer->epoch(), n.writer->next_entry_id()));
  start_retries(n);
}

void World::start_open_writer(Node& n) {
  n.wants_writer = true;
  n.runtime->spawn(open_writer_task(n));
}

Task<void> World::append_task(Node& n, SimWriter& writer, size_t record_index, Bytes payload,
                              std::optional<AppendKey> key, std::optional<RetryBy> retry) {
  const TimePoint invoked = now();
  if (key) {
    std::optional<AppendAttempt> resend;
    if (retry) resend = AppendAttempt{retry->writer_index, invoked};
    producers_[n.index].outstanding[record_index] = {record_index, *key, payload, resend};
  }
  Result<EntryId> appended = co_await writer.append(std::move(payload), key);
  AppendRecord& record = history_.appends[record_index];
  record.completed = now();
  std::optional<ProducerState::Retry> kept;  // to send again if the outcome is unknown
  if (key) {
    auto& outstanding = producers_[n.index].outstanding;
    kept = std::move(outstanding.at(record_index));
    outstanding.erase(record_index);
  }
  if (appended.ok()) {
    // A retry that returns an id is the same append as the original (invoked back then): a
    // deduplicated key returns the original's id, a key never applied gets a new one, written
    // by the retrying writer (a candidate for the fencing checker).
    record.outcome = AppendOutcome::ok;
    record.id = *appended;
    if (retry && *appended >= retry->first_new_id) {
      record.resends.push_back(AppendAttempt{retry->writer_index, invoked});
    }
    audit_memory_ack(n, *appended);
  } else if (retry) {
    // The original may be in the log whatever the retry says. invalid_argument: the producer
    // has a later sequence in the log, so this one is in it already or was never appended.
    record.outcome = AppendOutcome::failed_unknown;
    record.error = appended.error().describe();
    if (appended.error().code != Errc::invalid_argument) {
      if (appended.error().unknown()) {
        record.resends.push_back(AppendAttempt{retry->writer_index, invoked});
      }
      producers_[n.index].retries.push_back(std::move(*kept));
    }
  } else {
    record.outcome = appended.error().unknown() ? AppendOutcome::failed_unknown
                                                : AppendOutcome::failed_definite;
    record.error = appended.error().describe();
    note_fenced(n, record.writer_index, record.epoch, appended.error());
    if (key && record.outcome == AppendOutcome::failed_unknown) {
      producers_[n.index].retries.push_back(std::move(*kept));
    }
  }
  std::erase(n.live_appends, record_index);
}

// MemoryBuffer's acknowledgement promises the entry's block is in the object store (a PUT that
// succeeded), where nothing is lost: checked at every ack, crash or not, so an ack sent before
// its PUT completed is seen even when no crash hits the window (sim/ack_audit.h, the LogStore
// side). An entry below the truncation point may be collected already: not checked.
void World::audit_memory_ack(const Node& n, EntryId id) {
  if (config_.quorum) return;
  const std::string log(log_name);
  if (services_.block_holds_entry(log, id) || id < services_.truncation_point(log)) return;
  if (memory_ack_findings_.size() >= AckAudit::findings_max) return;
  memory_ack_findings_.push_back(fmt::format(
      "at {}ms node {} acknowledged entry {}, and no block in the object store holds "
      "it",
      std::chrono::duration_cast<std::chrono::milliseconds>(now() - start_).count(), n.index, id));
}

// Keyed mode: the node's new writer first re-sends, in sequence order and before any new
// append, every append of this producer whose outcome was unknown.
void World::start_retries(Node& n) {
  if (!config_.keyed) return;
  ProducerState& producer = producers_[n.index];
  std::vector<ProducerState::Retry> retries = std::move(producer.retries);
  producer.retries.clear();
  std::sort(retries.begin(), retries.end(),
            [](const auto& a, const auto& b) { return a.key.sequence < b.key.sequence; });
  for (ProducerState::Retry& retry : retries) {
    n.live_appends.push_back(retry.record_index);
    n.runtime->spawn(append_task(n, *n.writer, retry.record_index, std::move(retry.payload),
                                 retry.key, RetryBy{n.writer_index, n.writer->next_entry_id()}));
  }
  if (!retries.empty()) {
    note(n.index, fmt::format("retrying {} appends with an unknown outcome", retries.size()));
  }
}

void World::note_fenced(const Node& n, uint64_t writer_index, Epoch epoch, const Error& error) {
  if (error.code != Errc::fenced || !fenced_writers_.insert(writer_index).second) return;
  history_.fenced.push_back(FencedRecord{n.index, writer_index, epoch,
                                         services_.current_epoch(std::string(log_name)), now(),
                                         error.describe()});
}

void World::start_appends(Node& n, const Event& event) {
  if (!n.writer) {
    note(n.index, fmt::format("no writer: append of {} skipped", event.count));
    return;
  }
  for (uint32_t i = 0; i < event.count; ++i) {
    Bytes payload = make_payload(event, i, n);
    AppendRecord record;
    record.node = n.index;
    record.writer_index = n.writer_index;
    record.epoch = n.writer->epoch();
    record.payload_hash = hash_bytes(payload);
    record.payload_size = static_cast<uint32_t>(payload.size());
    record.invoked = now();
    history_.appends.push_back(record);
    n.live_appends.push_back(history_.appends.size() - 1);
    std::optional<AppendKey> key;
    if (config_.keyed) key = AppendKey{n.index, ++producers_[n.index].last_sequence};
    history_.appends.back().key = key;
    n.runtime->spawn(append_task(n, *n.writer, history_.appends.size() - 1, std::move(payload),
                                 key, std::nullopt));
  }
}

Task<void> World::reader_task(Node& n) {
  bool have_position = false;
  while (true) {
    const uint64_t session = ++n.read_sessions;
    const ReadPosition position =
        have_position ? ReadPosition::at(n.read_position) : ReadPosition::earliest();
    Result<std::unique_ptr<LogReader>> reader =
        co_await n.client->open_reader(std::string(log_name), position);
    if (!reader.ok()) {
      co_await sleep_for(*n.runtime, 200ms);
      continue;
    }
    while (true) {
      Result<LogEntry> entry = co_await (*reader)->next();
      if (!entry.ok()) {
        note(n.index, "read error: " + entry.error().describe());
        if (entry.error().code == Errc::out_of_range) have_position = false;
        break;
      }
      history_.reads.push_back(
          ReadRecord{n.index, session, entry->id, hash_bytes(entry->payload), now()});
      n.read_position = entry->id + 1;
      have_position = true;
    }
    co_await sleep_for(*n.runtime, 100ms);
  }
}

void World::start_reader(Node& n) {
  n.reader_running = true;
  n.runtime->spawn(reader_task(n));
}

void World::crash(uint32_t index, Duration restart_after) {
  Node& n = node(index);
  if (!n.runtime->alive()) return;
  note(index, fmt::format("CRASH (restart in {}ms)", ms(restart_after)));
  n.runtime->crash();  // every frame of the node dies where it stands
  for (size_t record : n.live_appends) {
    history_.appends[record].outcome = AppendOutcome::abandoned;
    history_.appends[record].completed = now();
  }
  // Keyed mode: the producer's outbox survives the process; its next writer sends these again.
  if (auto producer = producers_.find(index); producer != producers_.end()) {
    for (auto& [record, retry] : producer->second.outstanding) {
      // A re-send cut off by the crash may have written the entry.
      if (retry.resend) history_.appends[record].resends.push_back(*retry.resend);
      retry.resend.reset();
      producer->second.retries.push_back(std::move(retry));
    }
    producer->second.outstanding.clear();
  }
  n.live_appends.clear();
  n.writer.reset();
  n.retired_writers.clear();
  n.reader_running = false;
  n.logstore.reset();
  if (n.disk) {
    const MemDiskCrashSummary lost = n.disk->crash();
    (void)lost;
  }
  scheduler_.schedule_after(restart_after, world_owner, Site("world.restart"),
                            [this, index] { restart(index); });
}

void World::restart(uint32_t index) {
  Node& n = node(index);
  if (n.runtime->alive()) return;
  n.runtime->restart();
  note(index, "restart");
  if (is_writer(index) && n.wants_writer) start_open_writer(n);
  if (is_reader(index)) start_reader(n);
  if (shape_.is_logstore(index)) start_logstore(n);
}

void World::apply(const Event& event) {
  trace_.decision(Site("world.event"), event.node, (uint64_t{event.id} << 8) |
                                                       static_cast<uint64_t>(event.kind));
  const uint32_t admin = shape_.admin_node();
  const bool node_ok = event.node >= 1 && event.node <= shape_.node_count();
  switch (event.kind) {
    case EventKind::open_writer:
      if (node_ok && is_writer(event.node) && node(event.node).runtime->alive()) {
        start_open_writer(node(event.node));
      }
      break;
    case EventKind::append:
      if (node_ok && is_writer(event.node) && node(event.node).runtime->alive()) {
        start_appends(node(event.node), event);
      }
      break;
    case EventKind::close_writer:
      if (node_ok && node(event.node).runtime->alive() && node(event.node).writer) {
        Node& n = node(event.node);
        n.wants_writer = false;
        n.runtime->spawn([](World& world, Node& nd, SimWriter& w) -> Task<void> {
          Status closed = co_await w.close();
          world.note(nd.index, "close: " + (closed.ok() ? std::string("ok") : closed.error().describe()));
          if (!closed.ok()) world.note_fenced(nd, nd.writer_index, w.epoch(), closed.error());
        }(*this, n, *n.writer));
      }
      break;
    case EventKind::truncate:
      start_truncate(event);
      break;
    case EventKind::collect_garbage:
      start_gc(event.node == 0 ? admin : event.node, event.magnitude == 1);
      break;
    case EventKind::crash:
      if (node_ok && event.node != admin) crash(event.node, event.duration);
      break;
    case EventKind::meta_partition:
      if (node_ok) {
        Node& n = node(event.node);
        if (n.partitions++ == 0) services_.meta_partition(event.node, true);
        note(0, fmt::format("etcd partitions node {} for {}ms", event.node, ms(event.duration)));
        const uint32_t index = event.node;
        scheduler_.schedule_after(event.duration, world_owner, Site("world.meta_heal"),
                                  [this, index] {
                                    Node& m = node(index);
                                    if (m.partitions > 0 && --m.partitions == 0) {
                                      services_.meta_partition(index, false);
                                    }
                                  });
      }
      break;
    case EventKind::meta_leader_change:
      note(0, "etcd leader change (lease TTLs restart)");
      services_.meta_leader_change();
      break;
    case EventKind::meta_compact:
      note(0, "etcd compaction");
      services_.meta_compact();
      break;
    case EventKind::meta_txn_lost:
      if (node_ok) {
        const bool request_side = (event.magnitude & faults::meta_txn_request_lost_flag) != 0;
        const faults::MetaTxnTarget target = faults::meta_txn_target(event.magnitude);
        note(0, fmt::format("etcd loses the {} of node {}'s next {} within {}ms",
                            request_side ? "request" : "reply", event.node,
                            faults::meta_txn_target_name(target), ms(event.duration)));
        services_.meta_txn_lost(event.node, target, request_side, now() + event.duration);
      }
      break;
    case EventKind::s3_latency_spike:
    case EventKind::s3_errors:
    case EventKind::s3_timeouts:
    case EventKind::s3_outage:
    case EventKind::s3_get_corruption: {
      note(0, faults::describe(event));
      const uint64_t window = services_.object_fault_begin(event.kind, event.magnitude);
      scheduler_.schedule_after(event.duration, world_owner, Site("world.s3_fault_end"),
                                [this, window] { services_.object_fault_end(window); });
      break;
    }
    case EventKind::disk_wipe:
    case EventKind::net_partition:
    case EventKind::net_chaos:
    case EventKind::slow_fsync:
    case EventKind::logstores_restart:
      apply_quorum_fault(event);
      break;
    case EventKind::count_: WAL_UNREACHABLE();
  }
}

// The admin truncates a little below the highest acknowledged id; recorded in the history
// with its outcome (a failed call may still have taken effect).
void World::start_truncate(const Event& event) {
  const uint32_t admin = shape_.admin_node();
  const EntryId end = highest_acknowledged();
  if (end <= event.count || !node(admin).runtime->alive()) return;
  const EntryId point = end - event.count;
  note(admin, fmt::format("truncate below {}", point));
  history_.truncations.push_back(TruncateRecord{admin, point, now(), {}, {}, {}});
  node(admin).runtime->spawn([](World& world, LogClient& client, EntryId p,
                                size_t record_index) -> Task<void> {
    Status s = co_await client.truncate(std::string(log_name), p);
    TruncateRecord& record = world.history_.truncations[record_index];
    record.completed = world.now();
    record.outcome = s.ok()                ? AppendOutcome::ok
                     : s.error().unknown() ? AppendOutcome::failed_unknown
                                           : AppendOutcome::failed_definite;
    if (!s.ok()) {
      record.error = s.error().describe();
      world.note(world.shape_.admin_node(), "truncate failed: " + s.error().describe());
    }
  }(*this, *node(admin).client, point, history_.truncations.size() - 1));
}

// A GC pass on `index` (any node with a client: writers, readers, the admin), alongside
// whatever else that node runs and whatever passes other nodes run (G1 in docs/protocol.md).
void World::start_gc(uint32_t index, bool full) {
  if (index < 1 || index > shape_.node_count() || shape_.is_logstore(index)) return;
  Node& n = node(index);
  if (!n.runtime->alive()) return;
  n.runtime->spawn([](World& world, Node& nd, bool full_pass) -> Task<void> {
    // Counts the pass while its frame lives: a crash of the node destroys the frame.
    struct Running {
      explicit Running(uint32_t& count) : count_(count) { ++count_; }
      ~Running() { --count_; }
      Running(const Running&) = delete;
      Running& operator=(const Running&) = delete;
      uint32_t& count_;
    } running(world.gc_passes_running_);
    Result<GcReport> r = co_await nd.client->collect_garbage(std::string(log_name), full_pass);
    if (r.ok()) {
      world.note(nd.index, fmt::format("gc{}: {} segments, {} orphans", full_pass ? " (full)" : "",
                                       r->segments_deleted, r->orphans_deleted));
    } else {
      world.note(nd.index, "gc failed: " + r.error().describe());
    }
  }(*this, n, full));
}

void World::apply_quorum_fault(const Event& event) {
  if (!config_.quorum) {
    note(0, faults::describe(event) + " (no LogStores in this mode: ignored)");
    return;
  }
  const bool node_ok = event.node >= 1 && event.node <= shape_.node_count();
  if (event.kind == EventKind::disk_wipe) {
      if (!node_ok || !shape_.is_logstore(event.node) || !node(event.node).runtime->alive()) return;
      if (!wipe_keeps_fault_model(event.node)) {
        note(event.node, "disk wipe skipped: another replica of an unuploaded segment lost its "
                         "disk already (outside the fault model)");
        return;
      }
      Node& n = node(event.node);
      crash(event.node, event.duration);
      n.disk->wipe();
      // Until its LogStore is back up (and has read the revision its new disk starts at), the
      // node counts as having lost everything: see wipe_keeps_fault_model.
      n.wiped_at_revision = std::numeric_limits<int64_t>::max();
      note(event.node, "DISK WIPED");
      return;
  }
  if (event.kind == EventKind::logstores_restart) {
    note(0, faults::describe(event));
    for (uint32_t i = shape_.first_logstore(); i <= shape_.node_count(); ++i) {
      crash(i, event.duration);
    }
    return;
  }
  if (event.kind == EventKind::slow_fsync) {
      if (!node_ok || !shape_.is_logstore(event.node)) return;
      Node& n = node(event.node);
      DiskFaults slow = n.disk->faults();
      slow.sync_latency.base = std::chrono::milliseconds(std::min<uint32_t>(event.magnitude, 2000));
      n.disk->set_faults(slow);
      note(event.node, faults::describe(event));
      scheduler_.schedule_after(event.duration, world_owner, Site("world.slow_fsync_end"),
                                [this, index = event.node] {
                                  node(index).disk->set_faults(DiskFaults{});
                                });
      return;
  }
  {
      WAL_ASSERT(event.kind == EventKind::net_partition || event.kind == EventKind::net_chaos);
      if (event.kind == EventKind::net_partition && !node_ok) return;
      note(0, faults::describe(event));
      const uint64_t window = next_network_fault_++;
      network_faults_.emplace(window, event);
      apply_network_faults();
      scheduler_.schedule_after(event.duration, world_owner, Site("world.net_fault_end"),
                                [this, window] {
                                  network_faults_.erase(window);
                                  apply_network_faults();
                                });
  }
}

// Partitions and message chaos are windows that may overlap: rebuild the network's state from
// the windows still open.
void World::apply_network_faults() {
  network_->heal();
  SimNetworkConfig config;
  for (const auto& [window, event] : network_faults_) {
    if (event.kind == EventKind::net_chaos) {
      const uint32_t ppm = std::min<uint32_t>(event.magnitude, 500'000);
      config.drop_ppm = std::max(config.drop_ppm, ppm);
      config.duplicate_ppm = std::max(config.duplicate_ppm, ppm);
      config.spike_ppm = std::max(config.spike_ppm, ppm);
      continue;
    }
    std::vector<NodeIndex> others;
    for (uint32_t i = 1; i <= shape_.node_count(); ++i) {
      if (i != event.node) others.push_back(i);
    }
    network_->partition({event.node}, others,
                        event.magnitude == 1 ? PartitionMode::one_way : PartitionMode::symmetric);
  }
  network_->set_config(config);
}

// The fault model allows at most one replica of a segment to lose its disk before the segment
// is uploaded: refuse a wipe that would be the second.
bool World::wipe_keeps_fault_model(uint32_t index) {
  const std::string self = fmt::format("n{}", index);
  for (const SegmentMeta& segment : services_.segments(log_name)) {
    if (!segment.quorum() || segment.uploaded) continue;
    if (std::find(segment.ensemble.begin(), segment.ensemble.end(), self) ==
        segment.ensemble.end()) {
      continue;
    }
    for (const std::string& member : segment.ensemble) {
      if (member == self) continue;
      const uint32_t other = static_cast<uint32_t>(std::stoul(member.substr(1)));
      if (node(other).wiped_at_revision >= segment.create_revision) return false;
    }
  }
  return true;
}

void World::schedule_events() {
  for (const Event& event : config_.schedule.events) {
    if (event.at >= config_.fault_phase) continue;
    scheduler_.schedule_at(start_ + event.at, world_owner, Site("world.schedule"),
                           [this, event] { apply(event); });
  }
}

void World::liveness_failure(std::string name, std::string detail) {
  if (result_.verdict == Verdict::pass) result_.verdict = Verdict::liveness_failure;
  result_.anomalies.push_back(Anomaly{std::move(name), std::move(detail)});
}

bool World::run_until_done(const std::function<bool()>& done, TimePoint deadline,
                           const char* what) {
  const RunReport report = scheduler_.run_while([&] { return !done(); }, deadline);
  if (done()) return true;
  liveness_failure("liveness_timeout", fmt::format("{} not done {}ms after the heal began "
                                                   "(stopped: {} steps)", what,
                                                   ms(report.now - start_ - config_.fault_phase),
                                                   report.steps));
  return false;
}

bool World::heal_everything() {
  healing_ = true;
  note(0, "HEAL: faults stop, crashed nodes restart");
  services_.heal_all();
  if (network_) {
    network_faults_.clear();
    apply_network_faults();
  }
  for (auto& n : nodes_) {
    if (n->disk) n->disk->set_faults(DiskFaults{});
    n->partitions = 0;
    if (!n->runtime->alive()) restart(n->index);
  }
  return true;
}

bool World::wait_appends_resolved(TimePoint deadline) {
  auto resolved = [&] {
    for (const auto& n : nodes_) {
      if (!n->live_appends.empty()) return false;
    }
    return true;
  };
  if (run_until_done(resolved, deadline, "resolving every pending append")) return true;
  for (const auto& n : nodes_) {
    for (size_t record : n->live_appends) {
      liveness_failure("append_unresolved", fmt::format("node {}: append invoked at {}ms never "
                                                        "completed", n->index,
                                                        ms(history_.appends[record].invoked -
                                                           TimePoint{})));
      break;
    }
  }
  return false;
}

bool World::final_writer(TimePoint deadline) {
  Node& admin = node(shape_.admin_node());
  bool done = false;
  std::optional<Error> failure;
  admin.runtime->spawn([](World& world, Node& n, bool& finished,
                          std::optional<Error>& error) -> Task<void> {
    // An open still under way on another node (slowed by the faults, or started by a node's
    // restart) may fence this one once, during its open or before its close seals: a live
    // system would simply open again, and so does the check, a few times (property seed 102:
    // a restarted node's open bumped the epoch between this writer's open and its close).
    for (int attempt = 0; attempt < 5; ++attempt) {
      if (attempt > 0) co_await sleep_for(*n.runtime, std::chrono::milliseconds(500));
      Result<std::unique_ptr<SimWriter>> opened = co_await world.open_any_writer(n);
      if (!opened.ok()) {
        error = opened.error();
        if (opened.error().code == Errc::fenced) continue;
        break;
      }
      n.writer_index = ++world.writer_count_;
      world.history_.opens.push_back(
          WriterOpenRecord{n.writer_index, n.index, (*opened)->epoch(), world.now()});
      world.note(n.index, fmt::format("final writer #{} open, epoch {}, next id {}",
                                      n.writer_index, (*opened)->epoch(),
                                      (*opened)->next_entry_id()));
      Status closed = co_await (*opened)->close();
      if (closed.ok()) {
        error.reset();
        break;
      }
      error = closed.error();
      world.note(n.index, "final writer close: " + closed.error().describe());
      world.note_fenced(n, n.writer_index, (*opened)->epoch(), closed.error());
      if (closed.error().code != Errc::fenced) break;
    }
    finished = true;
  }(*this, admin, done, failure));
  if (!run_until_done([&] { return done; }, deadline, "opening and closing a final writer")) {
    return false;
  }
  if (failure) {
    liveness_failure("final_writer_failed", failure->describe());
    return false;
  }
  return true;
}

bool World::final_gc(TimePoint deadline) {
  // The workload is over: writer processes exit, and requests they already sent (a stale
  // writer's late checkpoint, say) land before the last collection, as they would in time.
  // A process exit ends every task of the node first (a close() still in flight, say, holds a
  // reference to its writer), then the writers themselves.
  for (auto& n : nodes_) {
    if (!is_writer(n->index)) continue;
    if (n->runtime->alive()) {
      n->runtime->crash();
      n->runtime->restart();
    }
    n->live_appends.clear();  // all resolved: wait_appends_resolved ran first
    n->writer.reset();
    n->retired_writers.clear();
  }
  Node& admin = node(shape_.admin_node());
  // Earlier truncations of the admin and collections of every node finish first: one still
  // running could delete a segment's metadata after the last collection saw it alive.
  if (!run_until_done(
          [&] {
            return services_.object_requests_in_flight() == 0 &&
                   admin.runtime->scope().running_count() == 0 && gc_passes_running_ == 0;
          },
          deadline, "draining S3 requests and maintenance still in flight")) {
    return false;
  }
  bool done = false;
  std::optional<Error> failure;
  admin.runtime->spawn([](LogClient& client, bool& finished,
                          std::optional<Error>& error) -> Task<void> {
    Result<GcReport> report = co_await client.collect_garbage(std::string(log_name), true);
    if (!report.ok()) error = report.error();
    finished = true;
  }(*admin.client, done, failure));
  if (!run_until_done([&] { return done; }, deadline, "final garbage collection")) return false;
  if (failure) {
    liveness_failure("gc_failed", failure->describe());
    return false;
  }
  if (config_.quorum) {
    // A LogStore may still be uploading a segment the collection just deleted, or finishing a
    // checkpoint the seal overtook (its late manifest can land after the collection); it cleans
    // up and then drops the journal. Every segment is sealed and uploaded by now, so wait until
    // no LogStore holds any, and the orphan check sees the settled store.
    const uint64_t id_of_log = services_.log_id(log_name);
    int64_t seen_revision = -1;
    std::set<SegmentId> live;
    auto settled = [&] {
      if (services_.meta_revision() != seen_revision) {
        seen_revision = services_.meta_revision();
        live.clear();
        for (const SegmentMeta& segment : services_.segments(log_name)) {
          if (!segment.uploaded) live.insert(segment.segment_id);
        }
      }
      for (auto& n : nodes_) {
        if (!n->logstore) continue;
        const auto& store = static_cast<const quorum::LogStoreNode&>(*n->logstore);
        for (SegmentId held : store.held_segments(id_of_log)) {
          if (!live.contains(held)) return false;
        }
      }
      return true;
    };
    if (!run_until_done(settled, deadline,
                        "LogStores dropping the journals of deleted and uploaded segments")) {
      return false;
    }
  }
  return true;
}

// Quorum mode: every sealed segment reaches object storage (a LogStore uploads it and marks it
// uploaded), so the final read and the readers can see it.
bool World::uploads_done(TimePoint deadline) {
  if (!config_.quorum) return true;
  // The predicate runs after every scheduler step: decode the segments again only when etcd's
  // revision moved.
  int64_t seen_revision = -1;
  std::optional<SegmentMeta> first_pending;
  auto pending = [&] {
    const int64_t revision = services_.meta_revision();
    if (revision == seen_revision) return first_pending;
    seen_revision = revision;
    first_pending.reset();
    for (const SegmentMeta& segment : services_.segments(log_name)) {
      if (segment.quorum() && segment.state == SegmentState::sealed && !segment.uploaded) {
        first_pending = segment;
        break;
      }
    }
    return first_pending;
  };
  if (run_until_done([&] { return !pending().has_value(); }, deadline,
                     "uploading every sealed segment")) {
    // How much of the upload path the run exercised (seals keep the checkpoint fields).
    uint64_t segment_count = 0;
    uint64_t checkpointed = 0;
    for (const SegmentMeta& segment : services_.segments(log_name)) {
      ++segment_count;
      if (segment.checkpoint_block_count > 0) ++checkpointed;
    }
    note(0, fmt::format("all sealed segments uploaded; {} of {} segments were checkpointed "
                        "while open", checkpointed, segment_count));
    for (auto& n : nodes_) {
      if (!n->logstore) continue;
      const quorum::LogStoreStats& stats = n->logstore->stats();
      note(n->index, fmt::format("LogStore since its last start: {} segments uploaded, {} "
                                 "checkpoints, {} segments repaired",
                                 stats.segments_uploaded, stats.checkpoints,
                                 stats.segments_repaired));
    }
    return true;
  }
  const std::optional<SegmentMeta> stuck = pending();
  // Stuck because no replica holds the whole sealed range? Then entries the seal declares part
  // of the log are gone: a durability failure, not a slow upload.
  EntryId best_end = stuck->first_entry_id;
  const uint64_t id_of_log = services_.log_id(log_name);
  for (auto& n : nodes_) {
    if (!n->logstore) continue;
    const auto& store = static_cast<const quorum::LogStoreNode&>(*n->logstore);
    const quorum::Segment* held = store.find_segment(id_of_log, stuck->segment_id);
    if (held != nullptr && held->first_entry_id() == stuck->first_entry_id) {
      best_end = std::max(best_end, held->durable_end());
    }
  }
  if (best_end < stuck->end_entry_id) {
    result_.verdict = Verdict::safety_failure;
    // Safety first, ahead of the timeout that revealed it.
    result_.anomalies.insert(result_.anomalies.begin(), Anomaly{
        "sealed_range_lost",
        fmt::format("segment {} is sealed at [{}, {}) but no LogStore holds more than [{}, {})",
                    stuck->segment_id, stuck->first_entry_id, stuck->end_entry_id,
                    stuck->first_entry_id, best_end)});
  }
  liveness_failure("upload_stuck",
                   fmt::format("segment {} [{}, {}) on {} is sealed but not uploaded",
                               stuck->segment_id, stuck->first_entry_id, stuck->end_entry_id,
                               fmt::join(stuck->ensemble, ",")));
  return false;
}

bool World::final_read(TimePoint deadline) {
  Node& admin = node(shape_.admin_node());
  final_read_ran_ = true;
  // Known even if no reader can open: the checkers judge what should have been readable.
  history_.final_log.first_kept = services_.truncation_point(log_name);
  bool done = false;
  admin.runtime->spawn([](LogClient& client, FinalLog& log, bool& finished) -> Task<void> {
    Result<std::unique_ptr<LogReader>> reader =
        co_await client.open_reader(std::string(log_name), ReadPosition::earliest());
    if (!reader.ok()) {
      log.error = reader.error().describe();
      finished = true;
      co_return;
    }
    log.first_kept = (*reader)->first_kept();
    while (true) {
      Result<std::optional<LogEntry>> entry = co_await (*reader)->try_next();
      if (!entry.ok()) {
        log.error = entry.error().describe();
        break;
      }
      if (!*entry) {
        log.read_ok = true;
        break;
      }
      log.ids.push_back((*entry)->id);
      log.payload_hashes.push_back(hash_bytes((*entry)->payload));
    }
    finished = true;
  }(*admin.client, history_.final_log, done));
  if (!run_until_done([&] { return done; }, deadline, "reading the final log")) return false;
  history_.final_log.ended = true;
  history_.final_log.at = now();
  if (!history_.final_log.read_ok) {
    // A read error after the heal is a safety problem: the log cannot be read back.
    result_.verdict = Verdict::safety_failure;
    result_.anomalies.push_back(Anomaly{"final_read_failed", history_.final_log.error});
    return false;
  }
  return true;
}

bool World::readers_caught_up(TimePoint deadline) {
  const EntryId end = history_.final_log.first_kept + history_.final_log.ids.size();
  auto caught_up = [&] {
    for (const auto& n : nodes_) {
      if (is_reader(n->index) && n->read_position < end) return false;
    }
    return true;
  };
  if (run_until_done(caught_up, deadline, "readers catching up")) return true;
  for (const auto& n : nodes_) {
    if (is_reader(n->index) && n->read_position < end) {
      liveness_failure("reader_stuck", fmt::format("node {} is at id {}, the log ends at {}",
                                                   n->index, n->read_position, end));
    }
  }
  return false;
}

bool World::no_orphans(TimePoint) {
  std::vector<std::string> orphans = services_.orphaned_objects(log_name);
  if (orphans.empty()) return true;
  liveness_failure("orphans_remain", fmt::format("{} objects no segment owns after GC, e.g. {}",
                                                 orphans.size(), orphans.front()));
  return false;
}

SimResult World::run() {
  // The admin creates the log before anything else happens.
  Node& admin = node(shape_.admin_node());
  bool created = false;
  admin.runtime->spawn([](LogClient& client, bool& done) -> Task<void> {
    Result<LogInfo> info = co_await client.create_log(log_name);
    WAL_ASSERT(info.ok());
    done = true;
  }(*admin.client, created));
  scheduler_.run_while([&] { return !created; }, TimePoint{} + 60s);
  WAL_ASSERT(created);
  services_.guard_deletes(log_name);
  start_ = now();
  for (auto& n : nodes_) {
    if (is_reader(n->index)) start_reader(*n);
  }
  schedule_events();
  scheduler_.run_until(start_ + config_.fault_phase);
  heal_everything();
  const TimePoint deadline = now() + config_.heal_timeout;
  const bool live = wait_appends_resolved(deadline) && final_writer(deadline) &&
                    uploads_done(deadline) && final_gc(deadline) && final_read(deadline) && readers_caught_up(deadline) &&
                    no_orphans(deadline);
  if (!live && !final_read_ran_ && now() < deadline) {
    // Acknowledged entries above the truncation point must stay readable whatever else failed:
    // a final writer that cannot open (a footer GC deleted under it, keyed seed 19094) must not
    // hide a log that cannot be read back. Read it anyway, within the same budget.
    note(0, "the heal failed before the final read: reading the log anyway");
    (void)final_read(deadline);
  }
  {
    // Also after a liveness failure: the rules on the whole history need no final log.
    std::vector<Anomaly> safety = check_unreadable(history_);
    std::vector<Anomaly> rules = check_safety(history_);
    safety.insert(safety.end(), rules.begin(), rules.end());
    // A delete that named an owned object is the cause of whatever else broke: first.
    std::vector<Anomaly> storage;
    for (const std::string& line : services_.owned_deletions()) {
      storage.push_back(Anomaly{"owned_object_deleted", line});
    }
    for (const std::string& line : ack_audit_.findings()) {
      storage.push_back(Anomaly{"ack_beyond_sync", line});
    }
    for (const std::string& line : memory_ack_findings_) {
      storage.push_back(Anomaly{"ack_not_in_store", line});
    }
    std::vector<Anomaly> fenced = check_fenced_answers(history_);
    storage.insert(storage.end(), fenced.begin(), fenced.end());
    safety.insert(safety.begin(), storage.begin(), storage.end());
    if (!safety.empty()) {
      result_.verdict = Verdict::safety_failure;
      // Safety anomalies first: they are the more serious finding.
      safety.insert(safety.end(), result_.anomalies.begin(), result_.anomalies.end());
      result_.anomalies = std::move(safety);
    }
  }
  result_.trace_hash = trace_.hash();
  if (config_.record_digests) result_.trace_log = trace_.log();
  result_.sim_time = now() - TimePoint{};
  result_.steps = scheduler_.steps_total();
  result_.marks = marks_.counts();
  // Tear down nodes before the services they hold clients of.
  for (auto& n : nodes_) n->runtime->crash();
  nodes_.clear();
  return std::move(result_);
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::pass: return "pass";
    case Verdict::safety_failure: return "fail";
    case Verdict::liveness_failure: return "liveness";
  }
  WAL_UNREACHABLE();
}

WriterOptions sim_writer_options(FencingMode fencing) {
  WriterOptions options;
  options.block_size_bytes_max = 4096;
  options.inflight_blocks_max = 4;
  options.inflight_bytes_max = 256 * 1024;
  options.segment_size_bytes_max = 48 * 1024;
  options.segment_age_max = std::chrono::milliseconds(3000);
  options.checkpoint_interval_blocks = 4;
  options.fencing = fencing;
  options.retry_backoff_min = std::chrono::milliseconds(10);
  options.retry_backoff_max = std::chrono::milliseconds(1000);
  return options;
}

SimResult run_simulation(const SimConfig& config) {
  World world(config);
  return world.run();
}

}  // namespace wal::sim
