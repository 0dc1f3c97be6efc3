// Recovery of an open QuorumBuffer segment, and the seal CAS both recovery and rolls use.
// docs/protocol.md explains why each step exists; the comments here say which planted bug
// breaks which step.
#include "wal/quorum/quorum_recovery.h"

#include <algorithm>

#include "wal/log/segment_txn.h"

#include <fmt/format.h>

namespace wal::quorum {

namespace {

Task<void> call_into(Network& network, std::string node, std::string method, Bytes body,
                     TimePoint deadline, Completion<Result<Bytes>> out) {
  Result<Bytes> reply =
      co_await network.call(std::move(node), std::move(method), std::move(body), deadline);
  out.set(std::move(reply));
}

// Sends bodies[i] to nodes[i] concurrently and waits for every reply (each bounded by deadline).
Task<std::vector<Result<Bytes>>> fan_out(QuorumRecoveryContext& c,
                                         const std::vector<std::string>& nodes,
                                         std::string_view method, std::vector<Bytes> bodies,
                                         TimePoint deadline) {
  std::vector<Completion<Result<Bytes>>> replies;
  for (size_t i = 0; i < nodes.size(); ++i) {
    replies.emplace_back(c.env.executor);
    c.scope.spawn(call_into(*c.env.network, nodes[i], std::string(method), std::move(bodies[i]),
                            deadline, replies.back()));
  }
  std::vector<Result<Bytes>> out;
  for (auto& reply : replies) out.push_back(co_await reply.wait());
  co_return out;
}

struct ReplicaState {
  bool replied = false;
  FenceReply fence;
};

// Reads entries [from, end) from `source`, which the caller fenced at c.epoch.
Task<Result<std::vector<Bytes>>> recovery_read(QuorumRecoveryContext& c, const SegmentRef& ref,
                                               const std::string& source, EntryId from,
                                               EntryId end) {
  std::vector<Bytes> entries;
  EntryId next = from;
  while (next < end) {
    ReadRequest request;
    request.segment = ref;
    request.from = next;
    request.bytes_max = c.options.message_bytes_max;
    request.recovery_epoch = c.epoch;
    Result<Bytes> reply = co_await c.env.network->call(
        source, std::string(method_read), encode(request), c.env.clock.now() + c.options.rpc_timeout);
    if (!reply.ok()) co_return std::move(reply).error();
    Result<ReadReply> decoded = decode_read_reply(*reply);
    if (!decoded.ok()) co_return std::move(decoded).error();
    if (decoded->payloads.empty() || decoded->first_entry_id != next) {
      co_return make_error(Errc::unavailable,
                           fmt::format("{} returned no entry at {} during recovery", source, next));
    }
    for (Bytes& payload : decoded->payloads) {
      if (next >= end) break;
      entries.push_back(std::move(payload));
      ++next;
    }
  }
  WAL_ASSERT_EQ(next, end);
  WAL_ASSERT_EQ(entries.size(), end - from);
  co_return entries;
}

// Copies entries [from, end) (given as `entries`, starting at `entries_first`) to `target`,
// starting at the target's own durable end. Returns the target's durable end afterwards.
Task<Result<EntryId>> rereplicate(QuorumRecoveryContext& c, const SegmentRef& ref,
                                  const std::string& target, EntryId target_end,
                                  EntryId entries_first, const std::vector<Bytes>& entries,
                                  EntryId end) {
  WAL_ASSERT_EQ(entries.size(), end - entries_first);
  EntryId next = target_end;
  while (next < end) {
    WAL_ASSERT(next >= entries_first);
    AddRequest request;
    request.segment = ref;
    request.epoch = c.epoch;
    request.recovery = true;
    request.first_entry_id = next;
    uint64_t bytes = 0;
    for (EntryId id = next; id < end; ++id) {
      const Bytes& payload = entries[id - entries_first];
      if (!request.payloads.empty() && bytes + payload.size() > c.options.message_bytes_max) break;
      bytes += payload.size();
      request.payloads.push_back(payload);
    }
    const EntryId sent_end = next + request.payloads.size();
    Result<Bytes> reply = co_await c.env.network->call(
        target, std::string(method_add), encode(request), c.env.clock.now() + c.options.rpc_timeout);
    if (!reply.ok()) co_return std::move(reply).error();
    Result<AddReply> decoded = decode_add_reply(*reply);
    if (!decoded.ok()) co_return std::move(decoded).error();
    switch (decoded->status) {
      case AddStatus::ok:
        if (decoded->durable_end < sent_end) {
          co_return make_error(Errc::protocol, target + " acknowledged less than it was sent");
        }
        c.stats.entries_rereplicated += request.payloads.size();
        c.env.faults.reached(CoverageMark::quorum_rereplicated);
        next = decoded->durable_end;
        break;
      case AddStatus::gap:
        if (decoded->durable_end < entries_first) {
          co_return make_error(Errc::unavailable, target + " needs entries recovery did not read");
        }
        next = decoded->durable_end;
        break;
      case AddStatus::fenced:
      case AddStatus::sealed:
        co_return make_error(Errc::fenced, fmt::format("{} fenced at epoch {} during recovery",
                                                       target, decoded->fence_epoch));
    }
  }
  co_return next;
}

// ---- Step 1: fence every replica ----------------------------------------------------------

// Planted bug SimBug::quorum_recovery_without_fence: ask each replica for its end with an
// ordinary read instead of fencing it; nothing stops the old writer from adding more.
Bytes planted_unfenced_probe(const SegmentRef& ref, const SegmentMeta& open) {
  return encode(ReadRequest{ref, open.first_entry_id, 1, 0, 0});
}

// The planted probe's reply, dressed up as the fence reply recovery expected.
std::optional<FenceReply> planted_read_as_fence(const Bytes& reply) {
  Result<ReadReply> decoded = decode_read_reply(reply);
  if (!decoded.ok()) return std::nullopt;
  FenceReply as_fence;
  as_fence.knowledge = decoded->knowledge;
  as_fence.fenced = true;
  as_fence.durable_end = decoded->durable_end;
  as_fence.confirmed_end = decoded->confirmed_end;
  return as_fence;
}

// Fences every replica at c.epoch and returns what each said (replied = false: no usable
// reply). A fence is persisted before it is answered, so once 2 replicas answered, the old
// writer can never again get an entry acknowledged by 2. fenced: a replica already holds a newer
// epoch (definite: we are not the current writer).
Task<Result<std::vector<ReplicaState>>> fence_replicas(QuorumRecoveryContext& c,
                                                       const SegmentRef& ref,
                                                       const SegmentMeta& open) {
  const std::vector<std::string>& nodes = open.ensemble;
  const bool fence = !c.env.faults.bug(SimBug::quorum_recovery_without_fence);
  std::vector<Bytes> bodies;
  for (size_t i = 0; i < nodes.size(); ++i) {
    bodies.push_back(fence ? encode(FenceRequest{ref, c.epoch})
                           : planted_unfenced_probe(ref, open));
  }
  std::vector<Result<Bytes>> replies =
      co_await fan_out(c, nodes, fence ? method_fence : method_read, std::move(bodies),
                       c.env.clock.now() + c.options.rpc_timeout);
  WAL_ASSERT_EQ(replies.size(), nodes.size());
  std::vector<ReplicaState> replicas(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!replies[i].ok()) continue;
    if (!fence) {
      std::optional<FenceReply> probed = planted_read_as_fence(*replies[i]);
      if (probed) replicas[i] = {true, *probed};
      continue;
    }
    Result<FenceReply> decoded = decode_fence_reply(*replies[i]);
    if (!decoded.ok()) continue;
    if (!decoded->fenced) {
      co_return make_error(Errc::fenced,
                           fmt::format("{} is fenced at epoch {} on {}", describe(ref),
                                       decoded->fence_epoch, nodes[i]));
    }
    replicas[i] = {true, *decoded};
  }
  co_return replicas;
}

// ---- Step 2: pick the tail ----------------------------------------------------------------

// The replicas whose replies count. "Unknown" (a wiped or damaged disk) says nothing about what
// the node acknowledged and is never counted as empty; but with all 3 replies the maximum is
// safe whatever they know: the 2 replicas holding an acknowledged entry both answered, and at
// most one replica of a segment loses its disk (the fault model), so the other reports it. A
// node in limbo only because its new disk started after the segment was created (it was down
// when the writer chose it) then does not block recovery forever.
std::vector<size_t> counted_replicas(QuorumRecoveryContext& c,
                                     const std::vector<ReplicaState>& replicas) {
  std::vector<size_t> known;
  size_t replied = 0;
  for (size_t i = 0; i < replicas.size(); ++i) {
    if (!replicas[i].replied) continue;
    ++replied;
    if (replicas[i].fence.knowledge == Knowledge::unknown) {
      c.env.faults.reached(CoverageMark::quorum_fence_reply_unknown);
    }
    // Planted bug SimBug::quorum_unknown_as_absent counts an "unknown" reply as known.
    if (replicas[i].fence.knowledge == Knowledge::known ||
        c.env.faults.bug(SimBug::quorum_unknown_as_absent)) {
      known.push_back(i);
    }
  }
  if (known.size() < 2 && replied == replicas.size()) {
    known.clear();
    for (size_t i = 0; i < replicas.size(); ++i) known.push_back(i);
  }
  return known;
}

// What the replicas said in a round that counted fewer than 2, for the final error.
std::string describe_round(const std::vector<std::string>& nodes,
                           const std::vector<ReplicaState>& replicas) {
  std::string round;
  for (size_t i = 0; i < nodes.size(); ++i) {
    round += fmt::format(" {}={}", nodes[i],
                         !replicas[i].replied ? std::string("no reply")
                         : replicas[i].fence.knowledge == Knowledge::unknown
                             ? std::string("unknown")
                             : fmt::format("known end {}", replicas[i].fence.durable_end));
  }
  return round;
}

struct Tail {
  EntryId end = 0;    // the segment's entries are [open.first_entry_id, end)
  size_t source = 0;  // a replica that holds all of them
};

// Planted bugs that pick a wrong tail. SimBug::quorum_min_of_fence_replies ends the segment at
// the MINIMUM counted reply (woodpecker#320); SimBug::quorum_seal_from_lagging at the first
// counted reply's end, however lagging (woodpecker#242).
void apply_planted_tail_bugs(QuorumRecoveryContext& c, const SegmentMeta& open,
                             const std::vector<ReplicaState>& replicas,
                             const std::vector<size_t>& known, Tail& tail) {
  if (c.env.faults.bug(SimBug::quorum_min_of_fence_replies)) {
    for (size_t i : known) tail.end = std::min(tail.end, replicas[i].fence.durable_end);
  }
  if (c.env.faults.bug(SimBug::quorum_seal_from_lagging)) {
    tail.end = std::max(open.first_entry_id, replicas[known.front()].fence.durable_end);
    tail.source = known.front();
  }
}

// The end is the MAXIMUM over at least 2 counted replies: an acknowledged entry is on 2 of 3
// replicas, so at least one of any 2 known replies holds it.
Tail pick_tail(QuorumRecoveryContext& c, const SegmentMeta& open,
               const std::vector<ReplicaState>& replicas, const std::vector<size_t>& known) {
  WAL_ASSERT_GE(known.size(), size_t{2});
  Tail tail{open.first_entry_id, known.front()};
  for (size_t i : known) {
    if (replicas[i].fence.durable_end > tail.end) {
      tail.end = replicas[i].fence.durable_end;
      tail.source = i;
    }
  }
  if (tail.end > open.first_entry_id) {
    WAL_ASSERT_EQ(replicas[tail.source].fence.durable_end, tail.end);
  }
  apply_planted_tail_bugs(c, open, replicas, known, tail);
  return tail;
}

// ---- Step 3: re-replicate ------------------------------------------------------------------

enum class Copies : uint8_t {
  enough,       // every entry below the tail is durable on at least 2 replicas
  read_failed,  // the source could not be read: try another round
  too_few,      // copying left fewer than 2 holders: try another round
};

// Makes every entry below tail.end durable on at least 2 replicas, or a later single failure
// could lose an entry the seal declares part of the log. fenced: a newer epoch fenced a replica.
Task<Result<Copies>> rereplicate_tail(QuorumRecoveryContext& c, const SegmentRef& ref,
                                      const SegmentMeta& open,
                                      const std::vector<ReplicaState>& replicas, Tail tail) {
  size_t holders = 0;
  EntryId read_from = tail.end;
  for (const ReplicaState& r : replicas) {
    if (!r.replied) continue;
    if (r.fence.durable_end >= tail.end) {
      ++holders;
    } else {
      read_from = std::min(read_from, std::max(open.first_entry_id, r.fence.durable_end));
    }
  }
  // An empty segment needs no copies.
  if (holders >= 2 || tail.end <= open.first_entry_id) co_return Copies::enough;
  Result<std::vector<Bytes>> entries =
      co_await recovery_read(c, ref, open.ensemble[tail.source], read_from, tail.end);
  if (!entries.ok()) {
    if (entries.error().code == Errc::fenced) co_return std::move(entries).error();
    co_return Copies::read_failed;
  }
  for (size_t i = 0; i < replicas.size(); ++i) {
    if (!replicas[i].replied || replicas[i].fence.durable_end >= tail.end) continue;
    Result<EntryId> copied = co_await rereplicate(
        c, ref, open.ensemble[i], std::max(open.first_entry_id, replicas[i].fence.durable_end),
        read_from, *entries, tail.end);
    if (!copied.ok()) {
      if (copied.error().code == Errc::fenced) co_return std::move(copied).error();
      continue;
    }
    if (*copied >= tail.end) ++holders;
  }
  WAL_ASSERT_LE(holders, replicas.size());
  co_return holders >= 2 ? Copies::enough : Copies::too_few;
}

// Whether a round whose copying went as `copies` says may seal. Planted bug
// SimBug::quorum_seal_from_lagging seals even when too few replicas hold the tail.
bool may_seal(QuorumRecoveryContext& c, Copies copies) {
  switch (copies) {
    case Copies::enough: return true;
    case Copies::read_failed: return false;
    case Copies::too_few: return c.env.faults.bug(SimBug::quorum_seal_from_lagging);
  }
  WAL_UNREACHABLE();
}

}  // namespace

// Rounds of fence, pick the tail, re-replicate, seal; a round that cannot finish (too few
// replies, a failed copy) backs off and starts again from the fence.
Task<Result<SegmentMeta>> recover_quorum_segment(QuorumRecoveryContext c, SegmentMeta open,
                                                 int64_t mod_revision) {
  WAL_ASSERT(open.quorum());
  WAL_ASSERT_EQ(open.ensemble.size(), size_t{3});
  WAL_ASSERT(open.state == SegmentState::open);
  const SegmentRef ref{c.keys.name, c.keys.log_id, open.segment_id, open.first_entry_id,
                       open.create_revision};
  std::string last_round;  // what the replicas said, for the error
  for (uint32_t round = 0; round < c.options.fence_rounds_max; ++round) {
    if (round > 0) co_await backoff_sleep(c.env, c.options.backoff, std::min<uint32_t>(round, 6));
    Result<std::vector<ReplicaState>> replicas = co_await fence_replicas(c, ref, open);
    if (!replicas.ok()) co_return std::move(replicas).error();
    const std::vector<size_t> known = counted_replicas(c, *replicas);
    if (known.size() < 2) {
      last_round = describe_round(open.ensemble, *replicas);
      continue;
    }
    const Tail tail = pick_tail(c, open, *replicas, known);
    Result<Copies> copies = co_await rereplicate_tail(c, ref, open, *replicas, tail);
    if (!copies.ok()) co_return std::move(copies).error();
    if (!may_seal(c, *copies)) continue;
    // Step 4: seal with a CAS, only if our epoch is still current and nobody changed the segment.
    Result<SealResult> sealed =
        co_await seal_quorum_segment(c.env, c.keys, c.options.backoff, c.epoch,
                                     c.epoch_mod_revision, open, mod_revision, tail.end, nullptr);
    if (!sealed.ok()) co_return std::move(sealed).error();
    ++c.stats.segments_recovered;
    co_return sealed->sealed;
  }
  co_return make_error(Errc::unavailable,
                       fmt::format("could not recover {}: fewer than 2 replicas answered known "
                                   "(last round:{})",
                                   describe(ref), last_round));
}

Task<Result<SealResult>> seal_quorum_segment(Env& env, const LogKeys& keys, Backoff backoff,
                                             Epoch epoch, int64_t epoch_mod_revision,
                                             const SegmentMeta& segment, int64_t mod_revision,
                                             EntryId end, const SegmentMeta* next) {
  WAL_ASSERT(segment.state == SegmentState::open);
  WAL_ASSERT_GE(end, segment.first_entry_id);
  SegmentTxn txn;
  txn.seal = segment;
  txn.seal->state = SegmentState::sealed;
  txn.seal->end_entry_id = end;
  txn.seal->block_count = 0;
  txn.seal->size_bytes = 0;
  // An empty segment has nothing to upload (and no LogStore may even hold a journal for it).
  txn.seal->uploaded = end == segment.first_entry_id;
  txn.seal->sealed_unix_ms = env.clock.unix_time_ms();
  txn.seal->sealed_by_epoch = epoch;
  txn.seal_mod_revision = mod_revision;
  if (next != nullptr) txn.create = *next;
  // Settled by reading; a compare that failed only because a LogStore recorded a checkpoint is
  // redone on top of it (wal/log/segment_txn.h).
  Result<SegmentTxnResult> done = co_await commit_segment_txn(
      SegmentTxnContext{env, keys, backoff, epoch, epoch_mod_revision}, std::move(txn));
  if (!done.ok()) co_return std::move(done).error();
  co_return SealResult{done->sealed->meta, std::move(done->created)};
}

}  // namespace wal::quorum
