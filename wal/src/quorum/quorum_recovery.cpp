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
  co_return entries;
}

// Copies entries [from, end) (given as `entries`, starting at `entries_first`) to `target`,
// starting at the target's own durable end. Returns the target's durable end afterwards.
Task<Result<EntryId>> rereplicate(QuorumRecoveryContext& c, const SegmentRef& ref,
                                  const std::string& target, EntryId target_end,
                                  EntryId entries_first, const std::vector<Bytes>& entries,
                                  EntryId end) {
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

}  // namespace

Task<Result<SegmentMeta>> recover_quorum_segment(QuorumRecoveryContext c, SegmentMeta open,
                                                 int64_t mod_revision) {
  WAL_ASSERT(open.quorum());
  WAL_ASSERT_EQ(open.ensemble.size(), size_t{3});
  const SegmentRef ref{c.keys.name, c.keys.log_id, open.segment_id, open.first_entry_id,
                       open.create_revision};
  const std::vector<std::string>& nodes = open.ensemble;
  const bool fence = !c.env.faults.bug(SimBug::quorum_recovery_without_fence);
  std::string last_round;  // what the replicas said, for the error
  for (uint32_t round = 0; round < c.options.fence_rounds_max; ++round) {
    if (round > 0) co_await backoff_sleep(c.env, c.options.backoff, std::min<uint32_t>(round, 6));
    // 1. Fence every replica. A fence is persisted before it is answered, so once 2 replicas
    //    answered, the old writer can never again get an entry acknowledged by 2.
    std::vector<Bytes> bodies;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (fence) {
        bodies.push_back(encode(FenceRequest{ref, c.epoch}));
      } else {
        // Planted bug: ask for the end with an ordinary read; nothing stops the old writer.
        bodies.push_back(encode(ReadRequest{ref, open.first_entry_id, 1, 0, 0}));
      }
    }
    std::vector<Result<Bytes>> replies =
        co_await fan_out(c, nodes, fence ? method_fence : method_read, std::move(bodies),
                         c.env.clock.now() + c.options.rpc_timeout);
    std::vector<ReplicaState> replicas(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!replies[i].ok()) continue;
      if (fence) {
        Result<FenceReply> decoded = decode_fence_reply(*replies[i]);
        if (!decoded.ok()) continue;
        if (!decoded->fenced) {
          co_return make_error(Errc::fenced, fmt::format("{} is fenced at epoch {} on {}",
                                                         describe(ref), decoded->fence_epoch,
                                                         nodes[i]));
        }
        replicas[i] = {true, *decoded};
      } else {
        Result<ReadReply> decoded = decode_read_reply(*replies[i]);
        if (!decoded.ok()) continue;
        FenceReply as_fence;
        as_fence.knowledge = decoded->knowledge;
        as_fence.fenced = true;
        as_fence.durable_end = decoded->durable_end;
        as_fence.confirmed_end = decoded->confirmed_end;
        replicas[i] = {true, as_fence};
      }
    }
    // 2. The end is the MAXIMUM over at least 2 known replies: an acknowledged entry is on 2 of 3
    //    replicas, so at least one of any 2 known replies holds it. "Unknown" (a wiped or damaged
    //    disk) says nothing about what the node acknowledged and is never counted as empty.
    std::vector<size_t> known;
    for (size_t i = 0; i < replicas.size(); ++i) {
      if (!replicas[i].replied) continue;
      if (replicas[i].fence.knowledge == Knowledge::unknown) {
        c.env.faults.reached(CoverageMark::quorum_fence_reply_unknown);
      }
      if (replicas[i].fence.knowledge == Knowledge::known ||
          c.env.faults.bug(SimBug::quorum_unknown_as_absent)) {
        known.push_back(i);
      }
    }
    // With all 3 replies the maximum is safe whatever they know: the 2 replicas holding an
    // acknowledged entry both answered, and at most one replica of a segment loses its disk (the
    // fault model), so the other reports it. A node in limbo only because its new disk started
    // after the segment was created (it was down when the writer chose it) then does not block
    // recovery forever.
    size_t replied = 0;
    for (const ReplicaState& r : replicas) replied += r.replied ? 1 : 0;
    if (known.size() < 2 && replied == nodes.size()) {
      known.clear();
      for (size_t i = 0; i < replicas.size(); ++i) known.push_back(i);
    }
    if (known.size() < 2) {
      last_round.clear();
      for (size_t i = 0; i < nodes.size(); ++i) {
        last_round += fmt::format(" {}={}", nodes[i],
                                  !replicas[i].replied ? std::string("no reply")
                                  : replicas[i].fence.knowledge == Knowledge::unknown
                                      ? std::string("unknown")
                                      : fmt::format("known end {}", replicas[i].fence.durable_end));
      }
      continue;
    }
    EntryId end = open.first_entry_id;
    size_t source = known.front();
    for (size_t i : known) {
      if (replicas[i].fence.durable_end > end) {
        end = replicas[i].fence.durable_end;
        source = i;
      }
    }
    if (c.env.faults.bug(SimBug::quorum_min_of_fence_replies)) {
      for (size_t i : known) end = std::min(end, replicas[i].fence.durable_end);
    }
    if (c.env.faults.bug(SimBug::quorum_seal_from_lagging)) {
      end = std::max(open.first_entry_id, replicas[known.front()].fence.durable_end);
      source = known.front();
    }
    // 3. Make every entry below the end durable on at least 2 replicas before sealing, or a
    //    later single failure could lose an entry the seal declares part of the log.
    size_t holders = 0;
    EntryId read_from = end;
    for (size_t i = 0; i < replicas.size(); ++i) {
      if (!replicas[i].replied) continue;
      if (replicas[i].fence.durable_end >= end) {
        ++holders;
      } else {
        read_from = std::min(read_from, std::max(open.first_entry_id, replicas[i].fence.durable_end));
      }
    }
    bool round_failed = false;
    if (holders < 2 && end > open.first_entry_id) {
      Result<std::vector<Bytes>> entries =
          co_await recovery_read(c, ref, nodes[source], read_from, end);
      if (!entries.ok()) {
        if (entries.error().code == Errc::fenced) co_return std::move(entries).error();
        continue;
      }
      for (size_t i = 0; i < replicas.size(); ++i) {
        if (!replicas[i].replied || replicas[i].fence.durable_end >= end) continue;
        Result<EntryId> copied =
            co_await rereplicate(c, ref, nodes[i],
                                 std::max(open.first_entry_id, replicas[i].fence.durable_end),
                                 read_from, *entries, end);
        if (!copied.ok()) {
          if (copied.error().code == Errc::fenced) co_return std::move(copied).error();
          continue;
        }
        if (*copied >= end) ++holders;
      }
      round_failed = holders < 2;
    } else if (holders < 2) {
      holders = 2;  // an empty segment needs no copies
    }
    if (round_failed && !c.env.faults.bug(SimBug::quorum_seal_from_lagging)) continue;
    // 4. Seal with a CAS: only if our epoch is still current and nobody changed the segment.
    Result<SealResult> sealed = co_await seal_quorum_segment(
        c.env, c.keys, c.options.backoff, c.epoch, c.epoch_mod_revision, open, mod_revision, end,
        nullptr);
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
