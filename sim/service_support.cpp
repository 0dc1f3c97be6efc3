#include "sim/service_support.h"

#include <algorithm>
#include <utility>

#include "sim/sim_network.h"

namespace wal::sim {

namespace {

constexpr Site site_world_post = "world.post";
constexpr Site site_world_timer = "world.timer";
constexpr uint64_t bytes_per_mib = uint64_t{1} << 20;

uint64_t nanoseconds(Duration duration) {
  WAL_ASSERT(duration >= Duration::zero());
  return static_cast<uint64_t>(duration.count());
}

}  // namespace

void check_latency_spec(const LatencySpec& spec) {
  WAL_ASSERT(spec.base >= Duration::zero());
  WAL_ASSERT(spec.tail_mean >= Duration::zero());
  WAL_ASSERT(spec.tail_max >= Duration::zero());
  WAL_ASSERT(spec.spike_min >= Duration::zero());
  WAL_ASSERT(spec.spike_min <= spec.spike_max);
  WAL_ASSERT_LE(spec.spike_ppm, uint32_t{1'000'000});
}

LatencyDraw draw_latency(const LatencySpec& spec, Random& tail_random, Random& spike_random) {
  check_latency_spec(spec);
  LatencyDraw draw;
  uint64_t delay_ns = nanoseconds(spec.base);
  if (spec.tail_mean > Duration::zero()) {
    const uint64_t tail_ns = exponential_ns(tail_random.next_u64(), nanoseconds(spec.tail_mean));
    delay_ns += std::min(tail_ns, nanoseconds(spec.tail_max));
  }
  if (spec.spike_ppm > 0 && spike_random.chance_ppm(spec.spike_ppm)) {
    draw.spiked = true;
    delay_ns += spike_random.between(nanoseconds(spec.spike_min), nanoseconds(spec.spike_max));
  }
  draw.delay = Duration(static_cast<int64_t>(delay_ns));
  WAL_ASSERT(draw.delay >= spec.base);
  return draw;
}

Duration transfer_time(uint64_t bytes, Duration per_mib) {
  WAL_ASSERT(per_mib >= Duration::zero());
  if (per_mib == Duration::zero() || bytes == 0) return Duration::zero();
  __extension__ using Wide = unsigned __int128;  // bytes * ns can exceed 64 bits
  const Wide product = static_cast<Wide>(bytes) * nanoseconds(per_mib);
  const auto ns = static_cast<uint64_t>(product / bytes_per_mib);
  WAL_ASSERT_LE(ns, uint64_t{INT64_MAX});
  return Duration(static_cast<int64_t>(ns));
}

// ---- WorldRuntime ------------------------------------------------------------------------------

void WorldRuntime::post(std::function<void()> fn) {
  WAL_ASSERT(fn);
  scheduler_.schedule_at(scheduler_.now(), world_owner, site_world_post, std::move(fn));
}

int64_t WorldRuntime::unix_time_ms() const {
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      scheduler_.now().time_since_epoch());
  return unix_epoch_ms_ + elapsed.count();
}

TimerId WorldRuntime::call_at(TimePoint when, std::function<void()> fn) {
  WAL_ASSERT(fn);
  const EventId event = scheduler_.schedule_at(when, world_owner, site_world_timer, std::move(fn));
  WAL_ASSERT_NE(event, no_event);
  return event;
}

void WorldRuntime::cancel(TimerId timer) {
  if (timer == no_event) return;
  const bool cancelled = scheduler_.cancel(timer);
  WAL_MAYBE(cancelled);  // false: it fired already, a no-op by the Clock contract
}

// ---- ServiceClients ----------------------------------------------------------------------------

void ServiceClients::attach(NodeIndex node, NodeRuntime& runtime) {
  WAL_ASSERT_GT(node, world_owner);
  WAL_ASSERT_EQ(runtime.node(), node);
  Attached& entry = nodes_[node];
  if (entry.view_count > 0) WAL_ASSERT(entry.runtime == &runtime);  // one runtime per node
  entry.runtime = &runtime;
  ++entry.view_count;
  WAL_ASSERT_GT(entry.view_count, uint64_t{0});
}

void ServiceClients::detach(NodeIndex node) {
  const auto it = nodes_.find(node);
  WAL_ASSERT(it != nodes_.end());
  WAL_ASSERT_GT(it->second.view_count, uint64_t{0});
  if (--it->second.view_count == 0) nodes_.erase(it);
}

NodeRuntime& ServiceClients::runtime(NodeIndex node) const {
  const auto it = nodes_.find(node);
  WAL_ASSERT(it != nodes_.end());
  WAL_ASSERT(it->second.runtime != nullptr);
  return *it->second.runtime;
}

NodeRuntime* ServiceClients::reachable(NodeIndex node, uint64_t generation) const {
  const auto it = nodes_.find(node);
  if (it == nodes_.end()) return nullptr;
  NodeRuntime* runtime = it->second.runtime;
  WAL_ASSERT(runtime != nullptr);
  if (!runtime->alive() || runtime->generation() != generation) return nullptr;
  return runtime;
}

// ---- OwnedEvents -------------------------------------------------------------------------------

OwnedEvents::~OwnedEvents() {
  // Moved out first: destroying a cancelled callback may run destructors, which must not find
  // the map half-walked.
  std::map<uint64_t, EventId> pending = std::move(pending_);
  pending_.clear();
  for (const auto& [token, event] : pending) {
    const bool cancelled = scheduler_.cancel(event);
    WAL_ASSERT(cancelled);  // a pending event is still in the queue
  }
}

void OwnedEvents::at(TimePoint when, Site site, std::function<void()> fn) {
  WAL_ASSERT(fn);
  const uint64_t token = next_token_++;
  const EventId event = scheduler_.schedule_at(
      when, world_owner, site, [this, token, callback = std::move(fn)] {
        const size_t erased = pending_.erase(token);
        WAL_ASSERT_EQ(erased, size_t{1});
        callback();
      });
  WAL_ASSERT_NE(event, no_event);
  pending_.emplace(token, event);
}

}  // namespace wal::sim
