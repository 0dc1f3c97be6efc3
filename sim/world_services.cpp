// WorldServices over the simulated S3 (sim_object_store.h) and etcd (sim_meta_store.h).
#include "sim/world_services.h"

#include "wal/format/block_codec.h"
#include "wal/log/keys.h"

#include <algorithm>

#include <fmt/core.h>

#include "sim/sim_meta_store.h"
#include "sim/sim_object_store.h"
#include "sim/world_orphans.h"

namespace wal::sim {

namespace {

using namespace std::chrono_literals;

// Quiet-time behaviour of the services: S3 PUTs and GETs of a few ms with a tail (research/
// peers.md §4 plans p50 tens of ms on AWS; a local S3 answers in 2-5 ms), etcd in about a ms.
// Deadlines are short so that a lost message costs seconds, not minutes, of virtual time.
ObjectStoreFaults base_object_faults() {
  ObjectStoreFaults faults;
  faults.latency.base = 3ms;
  faults.latency.tail_mean = 5ms;
  faults.latency.tail_max = 500ms;
  faults.request_timeout = 2s;
  return faults;
}

MetaStoreFaults base_meta_faults() {
  MetaStoreFaults faults;
  faults.latency.base = 1ms;
  faults.latency.tail_mean = 1ms;
  faults.request_timeout = 2s;
  faults.watch_unavailable_after = 2s;
  return faults;
}

// Which of the writer's record txns `request` is, told from what it writes (the WAL's key
// layout and records, wal/log/metadata.h): an epoch bump puts the log's epoch record; a create
// puts an open segment under a compare that its key is absent; a seal puts a sealed segment (a
// roll's txn is both a seal and a create). Checkpoints and tail publications are none of these.
bool txn_is(const TxnRequest& request, faults::MetaTxnTarget target) {
  auto creates = [&](const std::string& key) {
    return std::any_of(request.compares.begin(), request.compares.end(), [&](const Compare& c) {
      return c.key == key && c.target == Compare::Target::version && c.op == Compare::Op::equal &&
             c.number == 0;
    });
  };
  for (const TxnOp& op : request.success) {
    const auto* put = std::get_if<PutOp>(&op);
    if (put == nullptr) continue;
    const bool epoch = put->key.ends_with("/epoch") && decode_epoch(put->key, put->value).ok();
    std::optional<SegmentMeta> segment;
    if (!epoch && put->key.find("/seg/") != std::string::npos) {
      Result<SegmentMeta> decoded = decode_segment(put->key, put->value);
      if (decoded.ok()) segment = std::move(decoded).value();
    }
    const bool create = segment && segment->state == SegmentState::open && creates(put->key);
    const bool seal = segment && segment->state == SegmentState::sealed;
    switch (target) {
      case faults::MetaTxnTarget::any:
        if (epoch || create || seal) return true;
        break;
      case faults::MetaTxnTarget::epoch_bump:
        if (epoch) return true;
        break;
      case faults::MetaTxnTarget::segment_create:
        if (create) return true;
        break;
      case faults::MetaTxnTarget::seal:
        if (seal) return true;
        break;
    }
  }
  return false;
}

}  // namespace

struct WorldServices::Impl {
  Impl(Scheduler& scheduler, const RandomStreams& streams, Trace& trace)
      : objects(scheduler, streams, trace, base_object_faults()),
        meta(scheduler, streams, trace, base_meta_faults()) {}
  SimObjectStore objects;
  SimMetaStore meta;
};

// A node's view of S3 with every delete checked before it is sent. Not a coroutine: it returns
// the view's own task, so no frame depends on this object (nodes' clients may be rebuilt).
class WorldServices::DeleteGuard final : public ObjectStore {
 public:
  DeleteGuard(WorldServices& services, uint32_t node, std::unique_ptr<ObjectStore> inner)
      : services_(services), node_(node), inner_(std::move(inner)) {}

  Task<Result<ObjectInfo>> put(std::string key, Bytes body, PutCondition condition) override {
    return inner_->put(std::move(key), std::move(body), std::move(condition));
  }
  Task<Result<ObjectInfo>> put_shared(std::string key, SharedBytes body,
                                      PutCondition condition) override {
    return inner_->put_shared(std::move(key), std::move(body), std::move(condition));
  }
  Task<Result<ObjectData>> get(std::string key, std::optional<ByteRange> range) override {
    return inner_->get(std::move(key), range);
  }
  Task<Result<ObjectInfo>> head(std::string key) override { return inner_->head(std::move(key)); }
  Task<Result<ListPage>> list(std::string prefix, std::string token, size_t max_keys) override {
    return inner_->list(std::move(prefix), std::move(token), max_keys);
  }
  Task<Status> remove(std::string key) override {
    services_.check_deletes(node_, {key});
    return inner_->remove(std::move(key));
  }
  Task<Result<std::vector<Status>>> remove_many(std::vector<std::string> keys) override {
    services_.check_deletes(node_, keys);
    return inner_->remove_many(std::move(keys));
  }

 private:
  WorldServices& services_;
  uint32_t node_;
  std::unique_ptr<ObjectStore> inner_;
};

WorldServices::WorldServices(Scheduler& scheduler, const RandomStreams& streams, Trace& trace)
    : impl_(std::make_unique<Impl>(scheduler, streams, trace)), scheduler_(scheduler) {}
WorldServices::~WorldServices() = default;

std::unique_ptr<ObjectStore> WorldServices::object_client(uint32_t node, NodeRuntime& runtime) {
  return std::make_unique<DeleteGuard>(*this, node, impl_->objects.client(node, runtime));
}

void WorldServices::guard_deletes(std::string log_name) { guarded_log_ = std::move(log_name); }

const std::vector<std::string>& WorldServices::owned_deletions() const {
  return owned_deletions_;
}

void WorldServices::check_deletes(uint32_t node, const std::vector<std::string>& keys) {
  if (guarded_log_.empty() || owned_deletions_.size() >= owned_deletions_max) return;
  for (const OwnedObjects& owned : find_owned(impl_->objects.state(), impl_->meta.state(),
                                              "/wal/", "wal/", guarded_log_, keys)) {
    if (owned_deletions_.size() >= owned_deletions_max) break;
    const auto at_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(scheduler_.now() - TimePoint{});
    owned_deletions_.push_back(fmt::format(
        "at {}ms node {} sent a delete of {} objects that {} owns, e.g. {}", at_ms.count(), node,
        owned.keys.size(), owned.owner, owned.keys.back()));
  }
}

EntryId WorldServices::truncation_point(const std::string& log_name) {
  return sim::truncation_point(impl_->meta.state(), "/wal/", log_name);
}
Epoch WorldServices::current_epoch(const std::string& log_name) {
  return sim::current_epoch(impl_->meta.state(), "/wal/", log_name);
}
std::unique_ptr<MetaStore> WorldServices::meta_client(uint32_t node, NodeRuntime& runtime) {
  return impl_->meta.client(node, runtime);
}

uint64_t WorldServices::object_fault_begin(faults::EventKind kind, uint32_t magnitude) {
  windows_.emplace(next_window_, Window{kind, magnitude});
  apply_object_faults();
  return next_window_++;
}

void WorldServices::object_fault_end(uint64_t window) {
  windows_.erase(window);
  apply_object_faults();
}

// Overlapping windows combine: for each knob the strongest active window wins.
void WorldServices::apply_object_faults() {
  ObjectStoreFaults faults = base_object_faults();
  bool available = true;
  for (const auto& [id, window] : windows_) {
    const uint32_t ppm = std::min<uint32_t>(window.magnitude, 1'000'000);
    switch (window.kind) {
      case faults::EventKind::s3_latency_spike:
        // The fault model bounds a spike at 5 s per request: slower than that, real clients
        // and servers give up on the connection (and our deadline is 2 s anyway).
        faults.latency.base = std::max<Duration>(
            faults.latency.base, std::chrono::milliseconds(std::min<uint32_t>(window.magnitude,
                                                                              5000)));
        break;
      case faults::EventKind::s3_errors:
        faults.slow_down_ppm = std::max(faults.slow_down_ppm, ppm / 2);
        faults.internal_error_ppm = std::max(faults.internal_error_ppm, ppm / 2);
        break;
      case faults::EventKind::s3_timeouts:
        faults.request_loss_ppm = std::max(faults.request_loss_ppm, ppm / 2);
        faults.reply_loss_ppm = std::max(faults.reply_loss_ppm, ppm / 2);
        break;
      case faults::EventKind::s3_outage: available = false; break;
      case faults::EventKind::s3_get_corruption:
        faults.get_corruption_ppm = std::max(faults.get_corruption_ppm, ppm);
        break;
      case faults::EventKind::open_writer:
      case faults::EventKind::append:
      case faults::EventKind::close_writer:
      case faults::EventKind::truncate:
      case faults::EventKind::collect_garbage:
      case faults::EventKind::crash:
      case faults::EventKind::disk_wipe:
      case faults::EventKind::net_partition:
      case faults::EventKind::net_chaos:
      case faults::EventKind::slow_fsync:
      case faults::EventKind::logstores_restart:
      case faults::EventKind::meta_partition:
      case faults::EventKind::meta_leader_change:
      case faults::EventKind::meta_compact:
      case faults::EventKind::meta_txn_lost:
      case faults::EventKind::count_: WAL_UNREACHABLE();
    }
  }
  impl_->objects.set_faults(faults);
  impl_->objects.set_available(available);
}

void WorldServices::meta_partition(uint32_t node, bool partitioned) {
  if (partitioned) {
    impl_->meta.partition(node);
  } else {
    impl_->meta.heal(node);
  }
}

void WorldServices::meta_leader_change() { impl_->meta.leader_change(); }

void WorldServices::meta_txn_lost(uint32_t node, faults::MetaTxnTarget target, bool request_side,
                                  TimePoint until) {
  impl_->meta.lose_next_txn(
      node, [target](const TxnRequest& request) { return txn_is(request, target); }, until,
      request_side);
}

void WorldServices::meta_compact() {
  // Compact everything but the latest revision, as etcd's auto-compaction would.
  RangeRequest probe;
  probe.key = "/";
  probe.limit = 1;
  Result<RangeResponse> current = impl_->meta.state().apply_range(probe);
  if (current.ok() && current->revision > 1) ignore_result(impl_->meta.compact(current->revision - 1));
}

void WorldServices::heal_all() {
  windows_.clear();
  apply_object_faults();
  impl_->meta.heal_all();
}

size_t WorldServices::object_requests_in_flight() const { return impl_->objects.in_flight_count(); }

std::vector<std::string> WorldServices::orphaned_objects(const std::string& log_name) {
  return find_orphans(impl_->objects.state(), impl_->meta.state(), "/wal/", "wal/", log_name);
}

std::vector<SegmentMeta> WorldServices::segments(const std::string& log_name) {
  return list_segments(impl_->meta.state(), "/wal/", log_name);
}

int64_t WorldServices::meta_revision() { return impl_->meta.state().revision(); }

uint64_t WorldServices::log_id(const std::string& log_name) {
  const std::string key = logs_prefix("/wal/") + log_name;
  RangeRequest request;
  request.key = key;
  Result<RangeResponse> kv = impl_->meta.state().apply_range(request);
  if (!kv.ok() || kv->kvs.empty()) return 0;
  Result<LogMeta> meta = decode_log_meta(key, kv->kvs.front().value);
  return meta.ok() ? meta->log_id : 0;
}

namespace {

// The [first, end) ids of the block at `key` now, or nullopt (no object, or not a block).
std::optional<std::pair<EntryId, EntryId>> block_range(const MemObjectStore& objects,
                                                       const std::string& key) {
  const std::optional<ByteView> body = objects.body_view(key);
  if (!body) return std::nullopt;
  const Result<BlockFrame> frame = decode_block_frame(*body);
  if (!frame.ok()) return std::nullopt;
  const BlockHeader& header = frame->header;
  return std::pair{header.first_entry_id, header.first_entry_id + header.entry_count};
}

}  // namespace

bool WorldServices::block_holds_entry(const std::string& log_name, EntryId id) {
  uint64_t& id_of_log = log_ids_[log_name];  // a log's id never changes (0: not created yet)
  if (id_of_log == 0) id_of_log = log_id(log_name);
  if (id_of_log == 0) return false;
  const LogKeys keys{"/wal/", "wal/", log_name, id_of_log};
  const MemObjectStore& objects = impl_->objects.state();
  // Asked at every acknowledgement, so it reads etcd only for segments it has not seen yet and
  // decodes each block once: blocks are put create-only and never rewritten, and a range read
  // before is confirmed against the store (the block may have been collected since).
  auto holds = [&]() {
    // Newest segment first: an acknowledgement is almost always of the open one.
    for (auto it = block_ranges_.rbegin(); it != block_ranges_.rend(); ++it) {
      auto& [key, segment] = *it;
      if (key.first != id_of_log || segment.first > id) continue;
      std::vector<std::pair<EntryId, EntryId>>& ranges = segment.ranges;
      // Blocks are dense from index 0; a fence object or a gap ends the segment's data.
      while (const auto next = block_range(objects, keys.block_key(key.second, ranges.size()))) {
        ranges.push_back(*next);
      }
      const auto after =
          std::upper_bound(ranges.begin(), ranges.end(), id,
                           [](EntryId value, const std::pair<EntryId, EntryId>& range) {
                             return value < range.first;
                           });
      if (after == ranges.begin()) continue;
      const auto index = static_cast<uint64_t>(after - ranges.begin() - 1);
      const auto now = block_range(objects, keys.block_key(key.second, index));
      if (now && now->first <= id && id < now->second) return true;
    }
    return false;
  };
  if (holds()) return true;
  bool added = false;
  for (const SegmentMeta& segment : segments(log_name)) {
    added |=
        block_ranges_
            .try_emplace({id_of_log, segment.segment_id}, SeenBlocks{segment.first_entry_id, {}})
            .second;
  }
  return added && holds();
}

}  // namespace wal::sim
