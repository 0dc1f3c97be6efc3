// wp-logstore's process (logstore_daemon.h): start-up, serving, draining.
#include "logstore_daemon.h"

#include <fmt/format.h>

#include "daemon_support.h"
#include "logstore_daemon_parts.h"
#include "wal/async/sleep.h"
#include "wal/quorum/logstore.h"

namespace wal::cli {

namespace {
// Blocking work of one node: journal appends and fsyncs (one per segment at a time, group
// commit) and object files. Four threads keep a few segments' fsyncs in flight at once.
constexpr size_t pool_thread_count = 4;
// How often a drain looks at what the node still holds, and how often it says so.
constexpr std::chrono::milliseconds drain_poll_interval{200};
constexpr std::chrono::seconds drain_progress_interval{5};
}  // namespace

LogStoreDaemon::LogStoreDaemon(LogStoreDaemonConfig config)
    : config_(std::move(config)), who_("wp-logstore[" + config_.node + "]") {}

LogStoreDaemon::~LogStoreDaemon() { parts_.reset(); }

void LogStoreDaemon::log(const std::string& message) const { log_line(who_, message); }

std::string_view LogStoreDaemon::state_name(State state) {
  switch (state) {
    case State::starting: return "starting";
    case State::serving: return "serving";
    case State::draining: return "draining";
    case State::stopped: return "stopped";
  }
  WAL_UNREACHABLE();
}

int LogStoreDaemon::run() {
  // First, before any thread exists: every later thread inherits the blocked signals.
  SignalWaiter signals([this](int signal) { loop_.post([this, signal] { on_signal(signal); }); });
  const int code = loop_.run(main_task());
  parts_.reset();
  log(code == 0 ? "stopped" : "stopped after an error");
  return code;
}

void LogStoreDaemon::on_signal(int signal) {
  ++signals_seen_;
  log(fmt::format("received {}{}", strsignal(signal),
                  signals_seen_ > 1 ? ": stopping now" : ": draining"));
  signalled_.notify_all();
}

Task<int> LogStoreDaemon::main_task() {
  Status started = co_await start_parts();
  if (!started.ok()) {
    log("error: " + started.error().describe());
    co_return 1;
  }
  state_ = State::serving;
  log("serving");
  while (signals_seen_ == 0) co_await signalled_.wait();
  co_await drain();
  co_return 0;
}

Task<Status> LogStoreDaemon::start_parts() {
  const LogStoreDaemonConfig& c = config_;
  WAL_ASSERT(c.object_store.has_value());
  log(fmt::format("starting: listen {} (advertised {}), zone '{}', data {}, etcd {} prefix {}",
                  c.listen, c.advertise, c.zone, c.data_dir,
                  fmt::join(c.meta_store.etcd.endpoints, ","), c.meta_store.prefix));
  parts_ = std::make_unique<Parts>();
  Parts& p = *parts_;
  WAL_CO_ASSIGN(p.lock, DirectoryLock::acquire(c.data_dir));
  WAL_CO_ASSIGN(const std::string owner, read_disk_owner(c.data_dir));
  if (!owner.empty() && owner != c.node) {
    co_return make_error(Errc::invalid_argument,
                         fmt::format("data directory {} belongs to node '{}', not '{}'",
                                     c.data_dir, owner, c.node));
  }
  p.pool = std::make_unique<BlockingPool>(loop_, pool_thread_count);
  WAL_CO_ASSIGN(p.meta, co_await open_meta_store(c.meta_store, loop_, loop_, c.data_dir));
  p.metered_meta = std::make_unique<metrics::MeteredMetaStore>(*p.meta, registry_, loop_);
  log("etcd reachable");
  WAL_CO_ASSIGN(OpenedObjectStore opened,
                co_await open_object_store(loop_, *p.pool, *c.object_store, ""));
  log(opened.description);
  p.objects = std::move(opened.store);
  p.metered_objects = std::make_unique<metrics::MeteredObjectStore>(*p.objects, registry_, loop_);
  p.disk = std::make_unique<PosixDisk>(*p.pool, c.data_dir);
  p.metered_disk = std::make_unique<metrics::MeteredDisk>(*p.disk, registry_, loop_);
  GrpcNetworkOptions network_options;
  network_options.listen_address = c.listen;
  WAL_CO_ASSIGN(p.network, GrpcNetwork::start(loop_, loop_, c.node, p.directory, network_options));
  p.metered_network = std::make_unique<metrics::MeteredNetwork>(*p.network, registry_, loop_);
  WAL_CO_ASSIGN(SimBug planted, planted_bug_from_environment("wp-logstore"));
  p.faults.plant(planted);
  p.env = std::make_unique<Env>(Env{loop_, loop_, p.random, p.faults, p.metered_objects.get(),
                                    p.metered_meta.get(), p.metered_disk.get(),
                                    p.metered_network.get()});
  WAL_CO_ASSIGN(p.peers, co_await GrpcRegistry::start(*p.env, c.meta_store.prefix, p.directory));
  log(fmt::format("listening on {}; {} registry entries read", p.network->address(),
                  p.peers->updates()));
  quorum::LogStoreOptions options = c.logstore;
  options.observer = [this](const quorum::LogStoreEvent& event) {
    if (event.kind == quorum::LogStoreEventKind::segment_opened && event.value != 0) {
      registry_.counter("woodpecker_logstore_limbo_segments_total",
                        "Segments this node found itself in limbo for (may have lost entries)")
          .add();
    }
    log(quorum::describe(event));
  };
  WAL_CO_ASSIGN(p.store, co_await quorum::LogStore::start(*p.env, std::move(options)));
  register_metrics();
  if (!c.metrics_listen.empty()) {
    WAL_CO_ASSIGN(p.http, MetricsHttpServer::start(
                              loop_, c.metrics_listen, [this] { return registry_.render(); },
                              [this] {
                                HealthReport report;
                                report.json = health_json(report.healthy);
                                return report;
                              }));
    log("metrics on http://" + p.http->address() + "/metrics, health on /health");
  }
  co_return Status{};
}

Task<void> LogStoreDaemon::drain() {
  WAL_ASSERT(parts_ != nullptr && parts_->store != nullptr);
  quorum::LogStore& store = *parts_->store;
  state_ = State::draining;
  log(fmt::format("draining: deregistering, then waiting up to {} s for held segments to be "
                  "uploaded or dropped",
                  std::chrono::duration_cast<std::chrono::seconds>(config_.drain_timeout).count()));
  Status deregistered = co_await store.deregister();
  if (!deregistered.ok()) {
    log("deregistration failed (the lease expires by itself): " + deregistered.error().describe());
  }
  const TimePoint deadline = loop_.now() + config_.drain_timeout;
  TimePoint next_progress = loop_.now() + drain_progress_interval;
  while (true) {
    const quorum::LogStoreGauges g = store.gauges();
    const std::string held =
        fmt::format("{} segment(s) held: {} open, {} sealed awaiting upload, {} in limbo",
                    g.segments_held, g.segments_open, g.segments_pending_upload,
                    g.segments_in_limbo);
    if (g.segments_held == 0) {
      log("drained: this node holds no segment");
      break;
    }
    if (signals_seen_ > 1 || loop_.now() >= deadline) {
      log("stopping with " + held + " (safe: each is on two other nodes or in object storage; "
          "a restart on this data directory replays them)");
      break;
    }
    if (loop_.now() >= next_progress) {
      log("draining: " + held);
      next_progress = loop_.now() + drain_progress_interval;
    }
    co_await sleep_for(loop_, drain_poll_interval);
  }
  state_ = State::stopped;
}

}  // namespace wal::cli
