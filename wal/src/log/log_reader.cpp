#include "wal/log/log_reader.h"

#include <limits>

#include "wal/format/crc32c.h"
#include "wal/log/segment_recovery.h"

namespace wal {

namespace {

// Planted bug SimBug::reader_skips_checksum: rewrite both CRCs to match whatever bytes arrived,
// which is what a reader that does not verify checksums effectively trusts.
void reseal_checksums(Bytes& bytes) {
  if (bytes.size() < block_format::header_size_bytes) return;
  const ByteView view = bytes;
  uint32_t block_crc = crc32c(view.first(block_format::block_crc_offset));
  block_crc = crc32c_extend(block_crc, view.subspan(block_format::header_size_bytes));
  Bytes field;
  put_u32(field, crc32c_mask(block_crc));
  std::copy(field.begin(), field.end(), bytes.begin() + block_format::block_crc_offset);
  field.clear();
  put_u32(field, crc32c_mask(crc32c(view.first(block_format::header_crc_offset))));
  std::copy(field.begin(), field.end(), bytes.begin() + block_format::header_crc_offset);
}

}  // namespace

LogReader::LogReader(Env& env, LogKeys keys, ReaderOptions options, SegmentReplicas* replicas)
    : env_(env),
      keys_(std::move(keys)),
      options_(options),
      replicas_(replicas),
      backoff_{options.retry_backoff_min, options.retry_backoff_max},
      scope_(env.executor) {
  WAL_ASSERT(env.object_store != nullptr);
  WAL_ASSERT(env.meta_store != nullptr);
}

LogReader::~LogReader() {
  if (watch_) watch_->close();
}

Task<Result<std::unique_ptr<LogReader>>> LogReader::open(Env& env, LogKeys keys,
                                                         ReadPosition position,
                                                         ReaderOptions options,
                                                         SegmentReplicas* replicas) {
  std::unique_ptr<LogReader> reader(new LogReader(env, std::move(keys), options, replicas));
  WAL_CO_TRY(co_await reader->load_metadata());
  switch (position.kind) {
    case ReadPosition::Kind::earliest:
      // Exactly the truncation point: if storage below the first segment is missing above it,
      // the reader must say so (out_of_range), never skip ahead silently.
      reader->next_id_ = reader->truncation_.first_kept_entry_id;
      break;
    case ReadPosition::Kind::latest: reader->next_id_ = co_await reader->acknowledged_end(); break;
    case ReadPosition::Kind::at: reader->next_id_ = position.id; break;
  }
  co_return reader;
}

void LogReader::close() {
  closed_ = true;
  if (watch_) watch_->close();
}

// Reads every key of the log at one revision, then watches from the next revision.
Task<Status> LogReader::load_metadata() {
  ++stats_.metadata_reloads;
  MetaStore& meta = *env_.meta_store;
  RangeRequest request;
  request.key = keys_.log_prefix();
  request.range_end = prefix_end(keys_.log_prefix());
  Result<RangeResponse> all =
      co_await retry_read(env_, backoff_, [&] { return meta.range(request); });
  if (!all.ok()) co_return std::move(all).error();
  Result<std::optional<KeyValue>> log_kv =
      co_await retry_read(env_, backoff_, [&] { return meta.get(keys_.log_key()); });
  if (!log_kv.ok()) co_return std::move(log_kv).error();
  if (!*log_kv) co_return make_error(Errc::not_found, "no log named '" + keys_.name + "'");
  segments_.clear();
  tail_ = {};
  truncation_ = {};
  for (const KeyValue& kv : all->kvs) WAL_CO_TRY(apply(kv));
  seen_revision_ = all->revision;
  if (watch_) watch_->close();
  watch_.reset();
  Result<std::unique_ptr<Watch>> watch =
      co_await meta.watch(request.key, request.range_end, seen_revision_ + 1);
  if (watch.ok()) watch_ = std::move(watch).value();  // else: wait_for_change retries
  co_return Status{};
}

Status LogReader::apply(const KeyValue& kv) {
  if (kv.key == keys_.tail_key()) {
    Result<TailRecord> tail = decode_tail(kv.key, kv.value);
    if (!tail.ok()) return std::move(tail).error();
    tail_ = *tail;
  } else if (kv.key == keys_.truncation_key()) {
    Result<TruncationRecord> truncation = decode_truncation(kv.key, kv.value);
    if (!truncation.ok()) return std::move(truncation).error();
    truncation_ = *truncation;
  } else if (auto segment_id = parse_segment_key(keys_.segment_prefix(), kv.key)) {
    Result<SegmentMeta> segment = decode_segment(kv.key, kv.value);
    if (!segment.ok()) return std::move(segment).error();
    segment->create_revision = kv.create_revision;
    segments_[*segment_id] = *segment;
  }
  return Status{};
}

void LogReader::apply_delete(const std::string& key) {
  if (auto segment_id = parse_segment_key(keys_.segment_prefix(), key)) segments_.erase(*segment_id);
}

// Waits for the next change to the log's metadata. A broken watch (compaction, a lost
// connection) is replaced by a fresh read: nothing is missed, nothing is polled.
Task<Status> LogReader::wait_for_change() {
  if (closed_) co_return make_error(Errc::closed, "reader closed");
  if (!watch_) {
    co_await backoff_sleep(env_, backoff_, 0);
    co_return co_await load_metadata();
  }
  Result<std::vector<WatchEvent>> events = co_await watch_->next();
  if (closed_) co_return make_error(Errc::closed, "reader closed");
  if (!events.ok()) co_return co_await load_metadata();
  for (const WatchEvent& event : *events) {
    seen_revision_ = std::max(seen_revision_, event.kv.mod_revision);
    if (event.type == WatchEvent::Type::remove) {
      apply_delete(event.kv.key);
    } else {
      WAL_CO_TRY(apply(event.kv));
    }
  }
  co_return Status{};
}

const SegmentMeta* LogReader::segment_for(EntryId id) const {
  const SegmentMeta* found = nullptr;
  for (const auto& [segment_id, segment] : segments_) {
    if (segment.first_entry_id > id) break;
    if (segment.state == SegmentState::sealed && id >= segment.end_entry_id) continue;
    found = &segment;
    break;
  }
  return found;
}

// Entries of `segment` below this are acknowledged and readable.
EntryId LogReader::segment_visible_end(const SegmentMeta& segment) const {
  // A QuorumBuffer segment's entries are on its LogStores until one uploads it: readable there
  // up to its sealed end (open: up to the LogStores' confirmed end, which only they know).
  if (segment.quorum() && !segment.uploaded) {
    // Without the LogStores only the checkpointed prefix (in object storage) is readable.
    if (replicas_ == nullptr) {
      return std::max(segment.checkpoint_end_entry_id, segment.first_entry_id);
    }
    return segment.state == SegmentState::sealed ? segment.end_entry_id
                                                 : std::numeric_limits<EntryId>::max();
  }
  if (segment.state == SegmentState::sealed) return segment.end_entry_id;
  if (tail_.segment_id == segment.segment_id) {
    return std::max(tail_.end_entry_id, segment.first_entry_id);
  }
  // The tail is in an earlier segment (nothing acknowledged here yet) or a later one (this
  // segment's seal is on its way): read only what a checkpoint proves.
  return segment.checkpoint_end_entry_id;
}

EntryId LogReader::visible_end() const {
  if (segments_.empty()) return truncation_.first_kept_entry_id;
  return segment_visible_end(segments_.rbegin()->second);
}

Task<Result<LogEntry>> LogReader::next() {
  while (true) {
    Result<std::optional<LogEntry>> entry = co_await try_next();
    if (!entry.ok()) co_return std::move(entry).error();
    if (*entry) co_return std::move(**entry);
    if (const SegmentMeta* quorum = unuploaded_quorum_segment_at_next()) {
      // At a QuorumBuffer tail: a long poll on a LogStore wakes on the next confirmed entry.
      const SegmentMeta segment = *quorum;
      Result<bool> polled = co_await load_from_logstores(segment, options_.tail_poll_ms);
      if (polled.ok() && *polled) continue;
      WAL_CO_TRY(co_await load_metadata());  // sealed, rolled or uploaded meanwhile?
      continue;
    }
    WAL_CO_TRY(co_await wait_for_change());
  }
}

Task<Result<std::optional<LogEntry>>> LogReader::try_next() {
  if (closed_) co_return make_error(Errc::closed, "reader closed");
  if (std::optional<LogEntry> buffered = take_buffered()) co_return buffered;
  if (!block_ || next_id_ >= block_->header().first_entry_id + block_->entry_count()) {
    Result<bool> loaded = co_await load_block_for_next();
    if (!loaded.ok()) co_return std::move(loaded).error();
    if (!*loaded) co_return std::optional<LogEntry>{};
    if (std::optional<LogEntry> buffered = take_buffered()) co_return buffered;
  }
  const uint64_t index = next_id_ - block_->header().first_entry_id;
  WAL_ASSERT_LT(index, block_->entry_count());
  const ByteView payload = block_->entry(static_cast<uint32_t>(index));
  LogEntry entry{next_id_, Bytes(payload.begin(), payload.end())};
  ++next_id_;
  co_return std::optional<LogEntry>(std::move(entry));
}

Task<Result<bool>> LogReader::load_block_for_next() {
  for (int reloads = 0;; ++reloads) {
    if (next_id_ < truncation_.first_kept_entry_id) {
      co_return make_error(Errc::out_of_range,
                           "entry " + std::to_string(next_id_) + " was truncated; the first " +
                               "entry kept is " + std::to_string(truncation_.first_kept_entry_id));
    }
    const SegmentMeta* found = segment_for(next_id_);
    if (found == nullptr) {
      const bool before_everything =
          !segments_.empty() && segments_.begin()->second.first_entry_id > next_id_;
      if (before_everything) {
        co_return make_error(Errc::out_of_range, "entry " + std::to_string(next_id_) +
                                                     " is no longer stored");
      }
      co_return false;  // beyond the last segment: the writer has not got there
    }
    const SegmentMeta segment = *found;
    if (next_id_ >= segment_visible_end(segment)) co_return false;
    // A quorum segment not yet uploaded: its checkpointed prefix is read from object storage
    // like any block (catch-up reads spare the LogStores), the rest from its LogStores.
    if (segment.quorum() && !segment.uploaded && next_id_ >= segment.checkpoint_end_entry_id) {
      co_return co_await load_from_logstores(segment, 0);
    }
    const bool sequential = block_ && block_segment_id_ == segment.segment_id &&
                            block_->header().first_entry_id + block_->entry_count() == next_id_;
    uint64_t block_index = 0;
    std::optional<EntryId> expected_first;
    if (sequential) {
      block_index = block_index_ + 1;
      expected_first = next_id_;
    } else if (next_id_ == segment.first_entry_id) {
      expected_first = next_id_;
    } else {
      Result<uint64_t> index = co_await find_block_index(segment, next_id_);
      if (!index.ok()) co_return std::move(index).error();
      block_index = *index;
    }
    Result<DecodedBlock> block = co_await fetch_block(segment, block_index, expected_first);
    if (!block.ok()) {
      // A block of a segment that GC removed meanwhile: re-read the metadata once.
      if (block.error().code == Errc::not_found && reloads == 0) {
        WAL_CO_TRY(co_await load_metadata());
        continue;
      }
      if (block.error().code == Errc::not_found) {
        co_return make_error(Errc::corrupt, "block " + std::to_string(block_index) +
                                                " of segment " +
                                                std::to_string(segment.segment_id) +
                                                " is missing but its entries are acknowledged");
      }
      co_return std::move(block).error();
    }
    const EntryId first = block->header().first_entry_id;
    if (next_id_ < first || next_id_ >= first + block->entry_count()) {
      co_return make_error(Errc::corrupt, "block " + std::to_string(block_index) +
                                              " does not hold entry " + std::to_string(next_id_));
    }
    block_ = std::move(block).value();
    block_segment_id_ = segment.segment_id;
    block_index_ = block_index;
    co_return true;
  }
}

// Which block of `segment` holds `id`: from the footer (sealed) or the last checkpoint (open),
// then, past the checkpoint, by reading block headers forward.
Task<Result<uint64_t>> LogReader::find_block_index(const SegmentMeta& segment, EntryId id) {
  // A sealed quorum segment before its upload has only its checkpoint in object storage.
  uint64_t manifest_blocks = segment.state == SegmentState::sealed && segment.uploaded
                                 ? segment.block_count
                                 : segment.checkpoint_block_count;
  EntryId scan_first = segment.first_entry_id;
  uint64_t scan_index = 0;
  if (manifest_blocks > 0) {
    ++stats_.manifest_reads;
    Result<SegmentManifest> manifest =
        co_await read_manifest(env_, keys_, segment.segment_id, manifest_blocks, backoff_);
    if (!manifest.ok()) co_return std::move(manifest).error();
    if (auto index = block_index_for_entry(*manifest, id)) co_return uint64_t{*index};
    scan_first = manifest->next_entry_id();
    scan_index = manifest->blocks.size();
  }
  for (;; ++scan_index) {
    ++stats_.header_probes;
    const std::string key = keys_.block_key(segment.segment_id, scan_index);
    Result<BlockFrame> frame =
        co_await retry_verified_read(env_, backoff_, [&]() -> Task<Result<BlockFrame>> {
          Result<ObjectData> read =
              co_await env_.object_store->get(key, ByteRange{0, block_format::header_size_bytes});
          if (!read.ok()) co_return std::move(read).error();
          Result<BlockFrame> decoded = decode_block_frame(read->body);
          if (!decoded.ok()) {
            co_return Error{decoded.error().code, Outcome::definite,
                            key + ": " + decoded.error().message};
          }
          co_return decoded;
        });
    if (!frame.ok()) co_return std::move(frame).error();
    if (frame->header.first_entry_id != scan_first) {
      co_return make_error(Errc::corrupt, key + ": misdirected block");
    }
    if (id < scan_first + frame->header.entry_count) co_return scan_index;
    scan_first += frame->header.entry_count;
  }
}

Task<Result<DecodedBlock>> LogReader::fetch_block(const SegmentMeta& segment,
                                                  uint64_t block_index,
                                                  std::optional<EntryId> expected_first) {
  if (prefetch_segment_id_ != segment.segment_id) {
    prefetched_.clear();
    prefetch_segment_id_ = segment.segment_id;
  }
  std::optional<Completion<Result<ObjectData>>> pending;
  if (auto it = prefetched_.find(block_index); it != prefetched_.end()) {
    pending = it->second;
    prefetched_.erase(it);
  }
  start_prefetch(segment, block_index);
  const std::string key = keys_.block_key(segment.segment_id, block_index);
  BlockExpectation expected;
  expected.log_id = keys_.log_id;
  expected.segment_id = segment.segment_id;
  expected.first_entry_id = expected_first;
  auto decode = [&](Result<ObjectData> read) -> Result<DecodedBlock> {
    if (!read.ok()) return std::move(read).error();
    ++stats_.blocks_read;
    if (env_.faults.bug(SimBug::reader_skips_checksum)) reseal_checksums(read->body);
    Result<DecodedBlock> block = decode_block(std::move(read->body), expected);
    if (!block.ok()) {
      return Error{block.error().code, Outcome::definite, key + ": " + block.error().message};
    }
    return block;
  };
  if (pending) {
    Result<DecodedBlock> block = decode(co_await pending->wait());
    if (block.ok() || block.error().code != Errc::corrupt) co_return block;
    // Damaged in transit, perhaps: read it again below.
  }
  // A body that fails its checksum is read again (corruption in transit goes away); damage at
  // rest persists and is reported as corrupt.
  co_return co_await retry_verified_read(env_, backoff_, [&]() -> Task<Result<DecodedBlock>> {
    co_return decode(co_await env_.object_store->get(key, std::nullopt));
  });
}

// Catch-up reads of sealed segments: keep the next few blocks' GETs in flight.
void LogReader::start_prefetch(const SegmentMeta& segment, uint64_t block_index) {
  if (segment.state != SegmentState::sealed) return;
  for (uint64_t ahead = 1; ahead <= options_.prefetch_blocks; ++ahead) {
    const uint64_t index = block_index + ahead;
    if (index >= segment.block_count) break;
    if (prefetched_.count(index) > 0) continue;
    Completion<Result<ObjectData>> done(env_.executor);
    prefetched_.emplace(index, done);
    scope_.spawn([](LogReader& reader, std::string key,
                    Completion<Result<ObjectData>> sink) -> Task<void> {
      Result<ObjectData> read = co_await retry_read(reader.env_, reader.backoff_, [&] {
        return reader.env_.object_store->get(key, std::nullopt);
      });
      sink.set(std::move(read));
    }(*this, keys_.block_key(segment.segment_id, index), done));
  }
}

}  // namespace wal
