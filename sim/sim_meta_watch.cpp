// SimMetaStore's watches.
//
// A watch is a channel shared by two ends:
//   server side  a pump task on the world executor pulls revisions from a MemMetaStore watch as
//                they commit and sends each batch to the node with one-way latency; deliveries
//                of one channel never overtake each other (a stream). While the node is
//                partitioned the pump holds what it pulled and pulls nothing more, so a long
//                stall can be overtaken by compaction (compacted from next()).
//   node side    ClientWatch: next() takes the batches that arrived, in order, and waits when
//                there are none.
// A message that ends the watch (compacted, unavailable) is delivered after every batch before
// it and then returned by every later next().
#include <deque>
#include <optional>
#include <utility>

#include "sim/sim_meta_store.h"

namespace wal::sim {

namespace {
constexpr Site site_watch_open = "etcd.watch_open";
constexpr Site site_watch_send = "etcd.watch_send";
constexpr Site site_watch_deliver = "etcd.watch_deliver";
constexpr Site site_watch_gone = "etcd.watch_to_gone_node";
constexpr Site site_watch_unavailable = "etcd.watch_unavailable";
}  // namespace

struct SimMetaStore::WatchChannel {
  uint64_t watch_id = 0;
  NodeIndex node = 0;
  uint64_t generation = 0;           // of the node that opened it
  SimMetaStore* service = nullptr;   // null once the service is destroyed
  std::unique_ptr<Watch> server;     // the MemMetaStore watch the pump reads
  std::deque<Result<std::vector<WatchEvent>>> arrived;  // at the node, not yet taken
  std::optional<Completion<bool>> client_wake;          // node side, while next() waits
  std::optional<Completion<bool>> pump_wake;            // world side, while the pump stalls
  TimePoint last_delivery{};  // deliveries are scheduled no earlier: the stream keeps order
  bool stopped = false;       // the server side sends nothing more
  bool client_closed = false;
  std::optional<Error> terminal;  // node side: the error the watch ended with
};

namespace {

void wake(std::optional<Completion<bool>>& slot) {
  if (!slot) return;
  Completion<bool> completion = std::move(*slot);
  slot.reset();
  completion.set(true);
}

}  // namespace

// ---- the node side -----------------------------------------------------------------------------

class SimMetaStore::ClientWatch final : public Watch {
 public:
  ClientWatch(std::shared_ptr<WatchChannel> channel, Executor& node_executor)
      : channel_(std::move(channel)), node_executor_(node_executor) {}
  ~ClientWatch() override { close(); }
  ClientWatch(const ClientWatch&) = delete;
  ClientWatch& operator=(const ClientWatch&) = delete;

  Task<Result<std::vector<WatchEvent>>> next() override {
    // A static coroutine holding the shared channel: its frame stays valid if this object is
    // destroyed while next() waits.
    return next_on(channel_, node_executor_);
  }

  void close() override {
    WatchChannel& channel = *channel_;
    if (channel.client_closed) return;
    channel.client_closed = true;
    wake(channel.client_wake);
    if (channel.service != nullptr) channel.service->release_channel(channel);
  }

 private:
  static Task<Result<std::vector<WatchEvent>>> next_on(std::shared_ptr<WatchChannel> channel,
                                                       Executor& executor) {
    while (true) {
      if (channel->client_closed) co_return make_error(Errc::closed, "watch closed");
      if (!channel->arrived.empty()) {
        Result<std::vector<WatchEvent>> message = std::move(channel->arrived.front());
        channel->arrived.pop_front();
        if (!message.ok()) channel->terminal = message.error();
        co_return message;
      }
      if (channel->terminal) co_return Error(*channel->terminal);
      if (channel->service == nullptr) co_return make_error(Errc::closed, "etcd is gone");
      WAL_ASSERT(!channel->client_wake);  // one next() at a time
      Completion<bool> woken(executor);
      channel->client_wake = woken;
      const bool value = co_await woken.wait();
      WAL_ASSERT(value);
    }
  }

  std::shared_ptr<WatchChannel> channel_;
  Executor& node_executor_;
};

std::unique_ptr<Watch> SimMetaStore::make_client_watch(std::shared_ptr<WatchChannel> channel,
                                                       Executor& node_executor) {
  WAL_ASSERT(channel != nullptr);
  WAL_ASSERT(!channel->client_closed);
  return std::make_unique<ClientWatch>(std::move(channel), node_executor);
}

// ---- the server side ---------------------------------------------------------------------------

SimMetaStore::~SimMetaStore() {
  // Views call back into the service when destroyed; they must go first.
  WAL_ASSERT_EQ(clients_.attached_count(), size_t{0});
  // Watches may outlive the service: they return what already arrived, then closed.
  for (auto& [watch_id, channel] : channels_) {
    channel->service = nullptr;
    channel->stopped = true;
    wake(channel->client_wake);
  }
}

SimMetaStore::ChannelResult SimMetaStore::open_channel(NodeIndex node, uint64_t generation,
                                                       const std::string& key,
                                                       const std::string& range_end,
                                                       int64_t start_revision) {
  Result<std::unique_ptr<Watch>> server = state_.open_watch(key, range_end, start_revision);
  if (!server.ok()) return std::move(server).error();
  auto channel = std::make_shared<WatchChannel>();
  channel->watch_id = next_watch_id_++;
  channel->node = node;
  channel->generation = generation;
  channel->service = this;
  channel->server = std::move(*server);
  channel->last_delivery = scheduler_.now();
  const bool inserted = channels_.emplace(channel->watch_id, channel).second;
  WAL_ASSERT(inserted);
  trace_.decision(site_watch_open, node, channel->watch_id);
  pumps_.spawn(pump(channel));
  return channel;
}

Task<void> SimMetaStore::pump(std::shared_ptr<WatchChannel> channel) {
  WAL_ASSERT(channel->server != nullptr);
  while (!channel->stopped) {
    Result<std::vector<WatchEvent>> message = co_await channel->server->next();
    // A partitioned node's watch stalls: hold the batch until heal or until the watch fails.
    while (!channel->stopped && partitioned(channel->node)) {
      Completion<bool> resumed(world_);
      channel->pump_wake = resumed;
      const bool value = co_await resumed.wait();
      WAL_ASSERT(value);
    }
    if (channel->stopped) break;
    const bool last = !message.ok();
    if (last && message.error().code == Errc::compacted) ++stats_.watch_compacted_count;
    send_watch_message(channel, std::move(message), true);
    if (last) channel->stopped = true;  // the server side of a failed watch is done
  }
}

void SimMetaStore::send_watch_message(const std::shared_ptr<WatchChannel>& channel,
                                      Result<std::vector<WatchEvent>> message,
                                      bool with_latency) {
  WAL_ASSERT(channel != nullptr);
  WAL_ASSERT(!channel->client_closed || channel->stopped);
  TimePoint when = scheduler_.now();
  if (with_latency) {
    const LatencyDraw round_trip =
        draw_latency(faults_.latency, latency_random_, spike_random_);
    if (round_trip.spiked) ++stats_.spike_count;
    when += round_trip.delay / 2;  // one way
  }
  when = std::max(when, channel->last_delivery);
  channel->last_delivery = when;
  const auto when_ns = static_cast<uint64_t>(when.time_since_epoch().count());
  trace_.decision(site_watch_send, channel->node, mix64(channel->watch_id) ^ when_ns);
  events_.at(when, site_watch_deliver,
             [this, channel, message = std::move(message)]() mutable {
               deliver_watch_message(channel, std::move(message));
             });
}

void SimMetaStore::deliver_watch_message(const std::shared_ptr<WatchChannel>& channel,
                                         Result<std::vector<WatchEvent>> message) {
  if (channel->client_closed) return;
  if (clients_.reachable(channel->node, channel->generation) == nullptr) {
    // The node crashed since it opened the watch: nobody reads it any more.
    trace_.decision(site_watch_gone, channel->node, channel->watch_id);
    release_channel(*channel);
    return;
  }
  if (message.ok()) ++stats_.watch_batch_count;
  channel->arrived.push_back(std::move(message));
  wake(channel->client_wake);
  WAL_ASSERT(!channel->arrived.empty());
}

void SimMetaStore::stop_channel(WatchChannel& channel) {
  WAL_ASSERT(channel.server != nullptr);
  channel.stopped = true;
  channel.server->close();  // wakes the pump if it waits for a commit
  wake(channel.pump_wake);  // ... or for a heal
  WAL_ASSERT(channel.stopped);
}

void SimMetaStore::release_channel(WatchChannel& channel) {
  stop_channel(channel);
  channels_.erase(channel.watch_id);  // the pump and the node side keep their own references
}

void SimMetaStore::fail_partitioned_watches(NodeIndex node, uint64_t partition_epoch) {
  const auto epoch = partition_epochs_.find(node);
  WAL_ASSERT(epoch != partition_epochs_.end());
  // Healed (and maybe partitioned again) since this timer was set: not this partition's turn.
  if (!partitioned(node) || epoch->second != partition_epoch) return;
  for (auto& [watch_id, channel] : channels_) {
    if (channel->node != node || channel->stopped) continue;
    ++stats_.watch_unavailable_count;
    trace_.decision(site_watch_unavailable, node, watch_id);
    // The client library notices the dead connection itself: no network latency, but after
    // whatever was already on its way.
    send_watch_message(channel,
                       make_error(Errc::unavailable, "etcd watch: lost the connection"), false);
    stop_channel(*channel);
  }
}

void SimMetaStore::wake_pumps(NodeIndex node) {
  for (auto& [watch_id, channel] : channels_) {
    if (channel->node == node) wake(channel->pump_wake);
  }
}

}  // namespace wal::sim
