// The LogStore's add, fence and read handlers (protocol in wal/quorum/protocol.h).
#include <fmt/format.h>

#include "logstore_node.h"
#include "wal/log/keys.h"
#include "wal/log/metadata.h"

namespace wal::quorum {

namespace {

Error malformed(Error error, LogStoreStats& stats) {
  ++stats.requests_rejected;
  return error;
}

// Uploaded and forgotten: this node can no longer say what it held.
ReadReply dropped_read_reply(const SegmentRef& segment) {
  ReadReply reply;
  reply.knowledge = Knowledge::unknown;
  reply.durable_end = reply.confirmed_end = reply.first_entry_id = segment.first_entry_id;
  return reply;
}

Knowledge knowledge_of(const Segment& segment) {
  return segment.knowledge_lost() ? Knowledge::unknown : Knowledge::known;
}

}  // namespace

// A segment with no journal: lost if this disk was initialised after the segment was created,
// or if the node dropped its journal (uploaded) or found its journal's header damaged.
bool LogStoreNode::knowledge_lost_without_journal(const SegmentRef& ref) const {
  const SegmentKey key{ref.log_id, ref.segment_id};
  return ref.create_revision <= init_revision_ || lost_.contains(key) || dropped_.contains(key);
}

Result<std::shared_ptr<Segment>> LogStoreNode::segment_for(const SegmentRef& ref) {
  const SegmentKey key{ref.log_id, ref.segment_id};
  if (auto it = segments_.find(key); it != segments_.end()) {
    if (it->second->ref() != ref) {
      return make_error(Errc::invalid_argument,
                        describe(ref) + " does not match the segment this node holds: " +
                            describe(it->second->ref()));
    }
    return it->second;
  }
  auto segment = std::make_shared<Segment>(env_, scope_, stats_, cache_, ref,
                                           knowledge_lost_without_journal(ref));
  segments_[key] = segment;
  emit(LogStoreEventKind::segment_opened, segment.get(), segment->knowledge_lost() ? 1 : 0);
  return segment;
}

Task<Result<bool>> LogStoreNode::segment_is_open(const SegmentRef& ref) {
  const LogKeys keys{options_.meta_root, options_.object_root, ref.log_name, ref.log_id};
  const std::string key = keys.segment_key(ref.segment_id);
  Result<std::optional<KeyValue>> kv = co_await env_.meta_store->get(key);
  if (!kv.ok()) co_return std::move(kv).error();
  if (!*kv || (*kv)->create_revision != ref.create_revision) co_return false;
  Result<SegmentMeta> meta = decode_segment(key, (*kv)->value);
  if (!meta.ok()) co_return std::move(meta).error();
  co_return meta->state == SegmentState::open;
}

Task<Result<Bytes>> LogStoreNode::handle_add(ByteView body) {
  Result<AddRequest> decoded = decode_add_request(body);
  if (!decoded.ok()) co_return malformed(std::move(decoded).error(), stats_);
  AddRequest request = std::move(decoded).value();
  ++stats_.adds;
  if (request.first_entry_id < request.segment.first_entry_id) {
    co_return malformed(make_error(Errc::invalid_argument, "add below the segment's first entry"),
                        stats_);
  }
  const SegmentKey key{request.segment.log_id, request.segment.segment_id};
  if (dropped_.contains(key)) {
    co_return encode(AddReply{AddStatus::sealed, request.segment.first_entry_id, 0});
  }
  if (!segments_.contains(key)) {
    Result<bool> open = co_await segment_is_open(request.segment);
    if (!open.ok()) co_return std::move(open).error();
    if (!*open) {
      ++stats_.requests_rejected;
      co_return encode(AddReply{AddStatus::sealed, request.segment.first_entry_id, 0});
    }
  }
  Result<std::shared_ptr<Segment>> found = segment_for(request.segment);
  if (!found.ok()) co_return malformed(std::move(found).error(), stats_);
  std::shared_ptr<Segment> segment = std::move(found).value();
  WAL_ASSERT(segment->ref() == request.segment);  // segment_for refuses any other
  WAL_ASSERT_LE(segment->durable_end(), segment->appended_end());
  auto reply = [&](AddStatus status) {
    return encode(AddReply{status, segment->durable_end(), segment->fence_epoch()});
  };
  // admit_add's last checks and the append run without a wait in between: a finished Task hands
  // control straight back to its awaiter (wal/async/task.h).
  Result<std::optional<Bytes>> refused = co_await admit_add(*segment, request);
  if (!refused.ok()) co_return std::move(refused).error();
  if (*refused) co_return std::move(**refused);
  const EntryId end = request.first_entry_id + request.payloads.size();
  const EntryId held_end = std::min(end, segment->appended_end());
  // Past admit_add's gap check: the request starts at or below what is held, so it ends at or
  // above.
  WAL_ASSERT_GE(held_end, request.first_entry_id);
  if (segment->knowledge_lost()) WAL_ASSERT(request.recovery);  // limbo takes recovery only
  const size_t skipped = held_end - request.first_entry_id;
  WAL_ASSERT_LE(skipped, request.payloads.size());
  segment->append_entries(std::span<const Bytes>(request.payloads).subspan(skipped));
  WAL_ASSERT_GE(segment->appended_end(), end);
  if (env_.faults.bug(SimBug::quorum_ack_before_fsync)) {
    // Planted bug: answer before the journal sync; a crash now loses what we acknowledged.
    co_return encode(AddReply{AddStatus::ok, segment->appended_end(), segment->fence_epoch()});
  }
  Status durable = co_await segment->wait_durable(end, 0);
  if (!durable.ok()) co_return std::move(durable).error();
  // Acknowledging below `end` promises those entries survive a crash of this node.
  WAL_ASSERT_GE(segment->durable_end(), end);
  co_return reply(AddStatus::ok);
}

Task<Result<std::optional<Bytes>>> LogStoreNode::admit_add(Segment& segment,
                                                           const AddRequest& request) {
  auto reply = [&](AddStatus status) {
    return encode(AddReply{status, segment.durable_end(), segment.fence_epoch()});
  };
  const EntryId end = request.first_entry_id + request.payloads.size();
  // Entries already held are skipped (a retried or duplicated add), after checking they are the
  // same. Checking reads them back and waits, and the segment may change meanwhile (a fence, a
  // seal, a rollback, other adds), so every check runs again after each wait, and the append
  // follows the last checks without a wait in between.
  EntryId checked_end = request.first_entry_id;
  while (true) {
    if (segment.dropped()) co_return reply(AddStatus::sealed);
    // A recovering writer re-replicates only at the epoch it fenced the segment with.
    const bool stale = request.recovery
                           ? request.epoch == 0 || request.epoch != segment.fence_epoch()
                           : request.epoch < segment.fence_epoch() &&
                                 !env_.faults.bug(SimBug::quorum_stale_epoch_accepted);
    // A node that may have lost this segment's data may also have lost a fence: it takes only
    // recovery adds, from a writer that fenced it again (docs/protocol.md, I5).
    const bool limbo = segment.knowledge_lost() && !request.recovery;
    if (stale || limbo) {
      ++stats_.requests_rejected;
      co_return reply(AddStatus::fenced);
    }
    if (segment.sealed_end() && end > *segment.sealed_end()) co_return reply(AddStatus::sealed);
    segment.note_confirmed_end(request.confirmed_end);
    if (request.first_entry_id > segment.appended_end()) {
      ++stats_.requests_rejected;
      co_return reply(AddStatus::gap);
    }
    const EntryId held_end = std::min(end, segment.appended_end());
    if (checked_end >= held_end) co_return std::nullopt;
    Result<bool> same = co_await held_entries_match(segment, request, checked_end, held_end);
    // Dropped while being read (uploaded meanwhile): answer as for a dropped segment.
    if (!same.ok() && segment.dropped()) co_return reply(AddStatus::sealed);
    if (!same.ok()) co_return std::move(same).error();
    if (!*same) {
      ++stats_.requests_rejected;
      co_return make_error(Errc::corrupt,
                           fmt::format("{}: an entry in [{}, {}) differs from the "
                                       "one held",
                                       describe(request.segment), checked_end, held_end));
    }
    checked_end = held_end;
  }
}

Task<Result<bool>> LogStoreNode::held_entries_match(Segment& segment, const AddRequest& request,
                                                    EntryId from, EntryId end) {
  WAL_ASSERT_GE(from, request.first_entry_id);
  WAL_ASSERT_LE(end, request.first_entry_id + request.payloads.size());
  Result<std::vector<SharedBytes>> held =
      co_await segment.read_entries(from, end, CacheFill::bypass);
  if (!held.ok()) co_return std::move(held).error();
  for (size_t i = 0; i < held->size(); ++i) {
    if (*(*held)[i] != request.payloads[from + i - request.first_entry_id]) co_return false;
  }
  co_return true;
}

Task<Result<Bytes>> LogStoreNode::handle_fence(ByteView body) {
  Result<FenceRequest> decoded = decode_fence_request(body);
  if (!decoded.ok()) co_return malformed(std::move(decoded).error(), stats_);
  FenceRequest request = std::move(decoded).value();
  ++stats_.fences;
  const SegmentKey key{request.segment.log_id, request.segment.segment_id};
  if (dropped_.contains(key)) {
    // Uploaded and forgotten: this node can no longer say what it held, and rejects every add
    // (sealed), so the fence holds trivially.
    co_return encode(FenceReply{Knowledge::unknown, true, request.epoch,
                                request.segment.first_entry_id, request.segment.first_entry_id});
  }
  Result<std::shared_ptr<Segment>> found = segment_for(request.segment);
  if (!found.ok()) co_return malformed(std::move(found).error(), stats_);
  std::shared_ptr<Segment> segment = std::move(found).value();
  const bool raises = request.epoch > segment->fence_epoch();
  if (raises) segment->append_fence(request.epoch);
  WAL_ASSERT_GE(segment->fence_epoch(), request.epoch);  // a fence never lowers the epoch
  if (request.epoch == segment->fence_epoch()) {
    Status durable = co_await segment->wait_durable(segment->appended_end(), request.epoch);
    if (!durable.ok()) co_return std::move(durable).error();
    if (raises) emit(LogStoreEventKind::segment_fenced, segment.get(), request.epoch);
  }
  FenceReply reply;
  reply.knowledge = knowledge_of(*segment);
  // A newer fence may have arrived while ours was being synced: then ours no longer holds.
  reply.fenced = segment->fence_epoch() == request.epoch &&
                 segment->durable_fence_epoch() >= request.epoch;
  if (!reply.fenced) ++stats_.requests_rejected;
  reply.fence_epoch = segment->fence_epoch();
  reply.durable_end = segment->durable_end();
  reply.confirmed_end = segment->confirmed_end();
  // What is durable was accepted first, for entries and fences alike.
  WAL_ASSERT_LE(segment->durable_fence_epoch(), segment->fence_epoch());
  WAL_ASSERT_LE(reply.durable_end, segment->appended_end());
  co_return encode(reply);
}

Task<Result<Bytes>> LogStoreNode::handle_read(ByteView body) {
  Result<ReadRequest> decoded = decode_read_request(body);
  if (!decoded.ok()) co_return malformed(std::move(decoded).error(), stats_);
  ReadRequest request = std::move(decoded).value();
  ++stats_.reads;
  const SegmentKey key{request.segment.log_id, request.segment.segment_id};
  if (dropped_.contains(key)) co_return encode(dropped_read_reply(request.segment));
  Result<std::shared_ptr<Segment>> found = segment_for(request.segment);
  if (!found.ok()) co_return malformed(std::move(found).error(), stats_);
  std::shared_ptr<Segment> segment = std::move(found).value();
  const EntryId from = std::max(request.from, segment->first_entry_id());
  const bool recovery = request.recovery_epoch != 0 &&
                        request.recovery_epoch == segment->durable_fence_epoch() &&
                        request.recovery_epoch == segment->fence_epoch();
  auto readable_end = [&] {
    const EntryId durable = segment->durable_end();
    return recovery ? durable : std::min(durable, segment->confirmed_end());
  };
  const TimePoint deadline = env_.clock.now() + std::chrono::milliseconds(request.wait_ms);
  while (readable_end() <= from && env_.clock.now() < deadline && !segment->dropped()) {
    co_await segment->wait_change(deadline);
  }
  ReadReply reply;
  reply.knowledge = knowledge_of(*segment);
  reply.durable_end = segment->durable_end();
  reply.confirmed_end = segment->confirmed_end();
  reply.first_entry_id = from;
  const uint64_t bytes_max = request.bytes_max == 0
                                 ? options_.read_reply_bytes_max
                                 : std::min(request.bytes_max, options_.read_reply_bytes_max);
  // Only entries this node holds are served.
  WAL_ASSERT_LE(readable_end(), segment->appended_end());
  // The entries the reply takes, by their sizes in the index, then their payloads read once.
  const EntryId limit = readable_end();
  EntryId end = from;
  uint64_t bytes = 0;
  while (end < limit && end - from < entries_per_message_max) {
    const uint64_t entry_bytes = 4 + segment->entry_size_bytes(end);
    // At least one entry per reply, so a reader always makes progress.
    if (end > from && bytes + entry_bytes > bytes_max) break;
    bytes += entry_bytes;
    ++end;
  }
  if (end > from) {
    Result<std::vector<SharedBytes>> payloads =
        co_await segment->read_entries(from, end, CacheFill::fill);
    if (!payloads.ok()) {
      // Dropped while being read (uploaded meanwhile): answer as for a dropped segment.
      if (segment->dropped()) co_return encode(dropped_read_reply(request.segment));
      co_return std::move(payloads).error();
    }
    // Durable entries are never rolled back, so all of them came back.
    WAL_ASSERT_EQ(payloads->size(), end - from);
    for (const SharedBytes& payload : *payloads) reply.payloads.push_back(*payload);
  }
  WAL_ASSERT_LE(reply.payloads.size(), entries_per_message_max);
  if (from < readable_end()) WAL_ASSERT(!reply.payloads.empty());  // a reader always progresses
  co_return encode(reply);
}

}  // namespace wal::quorum
