// QuorumWriter append path: one sender task per replica keeps one add request in flight to its
// LogStore (everything pending goes into the next request: group commit), replies advance the
// replica's durable end, and the second-highest durable end is the acknowledged end. Opening,
// rolling, sealing and closing are in quorum_writer_lifecycle.cpp; recovery in
// quorum_recovery.cpp.
#include "wal/quorum/quorum_writer.h"

#include <algorithm>

#include <fmt/format.h>

#include "wal/format/block_codec.h"

namespace wal::quorum {

QuorumWriter::QuorumWriter(Env& env, LogKeys keys, QuorumWriterOptions options)
    : env_(env),
      keys_(std::move(keys)),
      options_(options),
      changed_(env.executor),
      scope_(env.executor) {
  WAL_ASSERT(env_.network != nullptr);
  WAL_ASSERT(env_.meta_store != nullptr);
}

QuorumWriter::~QuorumWriter() = default;

Task<Result<EntryId>> QuorumWriter::append(Bytes payload) {
  if (payload.size() > limits::entry_size_bytes_max) {
    co_return make_error(Errc::too_large, fmt::format("entry of {} bytes exceeds the {} byte limit",
                                                      payload.size(),
                                                      limits::entry_size_bytes_max));
  }
  while (!failure_ && !closing_ && pending_bytes_ > options_.buffered_bytes_max) {
    co_await changed_.wait();
  }
  if (failure_) co_return Error{failure_->code, Outcome::definite, failure_->message};
  if (closing_) co_return make_error(Errc::closed, "the writer is closing");
  Completion<Result<EntryId>> done(env_.executor);
  pending_bytes_ += payload.size();
  pending_.push_back(Pending{next_entry_id_++, std::move(payload), done, false});
  changed_.notify_all();
  co_return co_await done.wait();
}

SegmentRef QuorumWriter::segment_ref() const {
  return SegmentRef{keys_.name, keys_.log_id, segment_.segment_id, segment_.first_entry_id,
                    segment_.create_revision};
}

bool QuorumWriter::stop_sending() const { return failure_.has_value() || rolling_; }

// The second-highest durable end over the ensemble: every entry below it is durable on at least
// 2 replicas. A failed replica keeps counting with what it reported: those entries are durable.
EntryId QuorumWriter::quorum_end() const {
  WAL_ASSERT_EQ(replicas_.size(), size_t{3});
  std::array<EntryId, 3> ends{replicas_[0].durable_end, replicas_[1].durable_end,
                              replicas_[2].durable_end};
  std::sort(ends.begin(), ends.end(), std::greater<>());
  if (env_.faults.bug(SimBug::quorum_ack_on_one)) return ends[0];
  return ends[1];
}

Task<void> QuorumWriter::replica_sender(size_t index, uint64_t generation) {
  ++senders_running_;
  while (generation == generation_ && !stop_sending() && !replicas_[index].failed) {
    Replica& replica = replicas_[index];
    const bool have_entries = replica.sent_end < next_entry_id_;
    const bool have_confirm = replica.confirmed_sent < acknowledged_end_;
    if (!have_entries && !have_confirm) {
      co_await changed_.wait();
      continue;
    }
    AddRequest request;
    request.segment = segment_ref();
    request.epoch = epoch_;
    request.first_entry_id = replica.sent_end;
    request.confirmed_end = acknowledged_end_;
    if (have_entries) {
      if (pending_.empty() || pending_.front().id > replica.sent_end) {
        // The replica lost entries we no longer hold (it answered `gap` below what every other
        // replica has): it cannot catch up in this segment.
        on_replica_failed(index, make_error(Errc::out_of_range, "replica fell behind the buffer"));
        break;
      }
      uint64_t bytes = 0;
      for (size_t i = replica.sent_end - pending_.front().id; i < pending_.size(); ++i) {
        Pending& entry = pending_[i];
        if (!request.payloads.empty() && bytes + entry.payload.size() > options_.message_bytes_max) {
          break;
        }
        if (request.payloads.size() >= entries_per_message_max) break;
        bytes += entry.payload.size();
        request.payloads.push_back(entry.payload);
        entry.sent = true;
      }
      ++stats_.adds_sent;
    } else {
      ++stats_.confirms_sent;
    }
    const EntryId sent_end = request.first_entry_id + request.payloads.size();
    replica.sent_end = sent_end;
    const EntryId confirmed = request.confirmed_end;
    const std::string node = replica.node;
    Result<Bytes> reply = co_await env_.network->call(
        node, std::string(method_add), encode(request), env_.clock.now() + options_.rpc_timeout);
    if (generation != generation_ || failure_) break;
    if (!reply.ok()) {
      on_replica_failed(index, reply.error());
      break;
    }
    Result<AddReply> decoded = decode_add_reply(*reply);
    if (!decoded.ok()) {
      on_replica_failed(index, decoded.error());
      break;
    }
    replicas_[index].confirmed_sent = std::max(replicas_[index].confirmed_sent, confirmed);
    on_reply(index, *decoded, sent_end);
  }
  --senders_running_;
  changed_.notify_all();
}

void QuorumWriter::on_reply(size_t index, const AddReply& reply, EntryId sent_end) {
  Replica& replica = replicas_[index];
  switch (reply.status) {
    case AddStatus::ok:
      if (reply.durable_end < sent_end) {
        on_replica_failed(index, make_error(Errc::protocol, "ok reply below the entries sent"));
        return;
      }
      replica.durable_end = std::max(replica.durable_end, reply.durable_end);
      replica.sent_end = std::max(replica.sent_end, reply.durable_end);
      complete_acknowledged();
      return;
    case AddStatus::gap:
      // The node holds less than we sent it before (it restarted and lost unsynced entries it
      // never acknowledged): resend from its end. Less than it acknowledged means lost data.
      if (reply.durable_end < replica.durable_end) {
        on_replica_failed(index, make_error(Errc::corrupt, fmt::format(
                                                "{} lost acknowledged entries", replica.node)));
        return;
      }
      replica.sent_end = reply.durable_end;
      return;
    case AddStatus::fenced:
    case AddStatus::sealed:
      if (reply.status == AddStatus::fenced && reply.fence_epoch <= epoch_) {
        // Not a newer writer: the node is in limbo (its disk was wiped since the segment was
        // created, so it may have forgotten a fence) and refuses ordinary adds. Move on.
        on_replica_failed(index, make_error(Errc::unavailable, replica.node + " is in limbo"));
        return;
      }
      fail_writer(make_unknown(Errc::fenced, fmt::format("{} was fenced at epoch {} on {}",
                                                         describe(segment_ref()),
                                                         reply.fence_epoch, replica.node)));
      return;
  }
  on_replica_failed(index, make_error(Errc::protocol, "unknown add status"));
}

void QuorumWriter::on_replica_failed(size_t index, const Error& error) {
  Replica& replica = replicas_[index];
  if (replica.failed) return;
  replica.failed = true;
  ++stats_.replica_failures;
  failed_nodes_.insert(replica.node);
  last_replica_error_ = error;  // the roll is the same whatever the cause
  request_roll();
}

// Completes, in order, every append below the acknowledged end, and drops entries every live
// replica holds.
void QuorumWriter::complete_acknowledged() {
  const EntryId end = std::max(acknowledged_end_, quorum_end());
  for (Pending& entry : pending_) {
    if (entry.id >= end) break;
    if (entry.id >= acknowledged_end_) {
      segment_bytes_ += entry.payload.size();
      entry.done.set(entry.id);
    }
  }
  acknowledged_end_ = end;
  EntryId live_min = end;
  for (const Replica& r : replicas_) {
    if (!r.failed) live_min = std::min(live_min, r.durable_end);
  }
  while (!pending_.empty() && pending_.front().id < live_min) {
    pending_bytes_ -= pending_.front().payload.size();
    pending_.pop_front();
  }
  // A replica far behind the other two holds the buffer hostage: move on without it.
  if (pending_bytes_ > options_.buffered_bytes_max && !pending_.empty() &&
      pending_.front().id < acknowledged_end_) {
    for (size_t i = 0; i < replicas_.size(); ++i) {
      if (!replicas_[i].failed && replicas_[i].durable_end == live_min) {
        on_replica_failed(i, make_error(Errc::unavailable, "replica lags too far"));
        break;
      }
    }
  }
  const uint64_t entries = acknowledged_end_ - segment_.first_entry_id;
  if (entries >= options_.segment_entries_max || segment_bytes_ >= options_.segment_bytes_max) {
    request_roll();
  }
  changed_.notify_all();
}

void QuorumWriter::request_roll() {
  if (rolling_ || failure_) return;
  rolling_ = true;
  changed_.notify_all();
  scope_.spawn(roll_segment());
}

void QuorumWriter::fail_writer(const Error& error) {
  if (failure_) return;
  failure_ = error;
  for (Pending& entry : pending_) {
    if (entry.id < acknowledged_end_) continue;
    // An entry that reached a LogStore may still be recovered by the next writer.
    entry.done.set(Error{error.code, entry.sent ? Outcome::unknown : Outcome::definite,
                         error.message});
  }
  changed_.notify_all();
}

}  // namespace wal::quorum
