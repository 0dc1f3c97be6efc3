#include "wal/real/metrics_http_server.h"

#include <chrono>
#include <future>
#include <mutex>
#include <optional>

#include <httplib.h>

namespace wal {

namespace {
// How long a request thread waits for the loop: far above a render (microseconds), below
// Prometheus' default scrape timeout (10 s).
constexpr std::chrono::seconds reply_wait_max{3};
// Two request threads: scrapes and health checks are rare and cheap (httplib's default pool is
// at least 8 threads per server).
constexpr size_t request_threads = 2;
}  // namespace

struct MetricsHttpServer::Shared {
  Executor& loop;
  RenderMetrics metrics;
  CheckHealth health;
  std::mutex mutex;
  bool alive = true;  // guarded by mutex; false once destruction began (loop thread)
  httplib::Server server;

  Shared(Executor& executor, RenderMetrics m, CheckHealth h)
      : loop(executor), metrics(std::move(m)), health(std::move(h)) {}

  // Runs `fn` on the loop and returns its result, or nullopt if the loop did not answer in time
  // or the server is going away.
  template <typename T>
  std::optional<T> on_loop(std::function<T(Shared&)> fn, const std::shared_ptr<Shared>& self) {
    auto promise = std::make_shared<std::promise<T>>();
    std::future<T> future = promise->get_future();
    loop.post([self, promise, fn = std::move(fn)] {
      // Runs on the loop thread, as destruction does: no race on `alive` past the lock.
      std::lock_guard lock(self->mutex);
      if (!self->alive) return;  // the promise breaks: the request thread sees no value
      promise->set_value(fn(*self));
    });
    if (future.wait_for(reply_wait_max) != std::future_status::ready) return std::nullopt;
    try {
      return future.get();
    } catch (const std::future_error&) {
      return std::nullopt;  // broken promise: shutting down
    }
  }
};

Result<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::start(
    Executor& loop, const std::string& listen_address, RenderMetrics metrics, CheckHealth health) {
  WAL_ASSERT(metrics != nullptr);
  WAL_ASSERT(health != nullptr);
  const size_t colon = listen_address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen_address.size()) {
    return make_error(Errc::invalid_argument,
                      "metrics address '" + listen_address + "' is not host:port");
  }
  const std::string host = listen_address.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen_address.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return make_error(Errc::invalid_argument, "metrics address '" + listen_address +
                                                  "' has no valid port");
  }
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  auto shared = std::make_shared<Shared>(loop, std::move(metrics), std::move(health));
  server->shared_ = shared;
  httplib::Server& http = shared->server;
  http.new_task_queue = [] { return new httplib::ThreadPool(request_threads); };
  std::weak_ptr<Shared> weak = shared;
  http.Get("/metrics", [weak](const httplib::Request&, httplib::Response& response) {
    std::shared_ptr<Shared> self = weak.lock();
    if (!self) return;
    std::optional<std::string> text =
        self->on_loop<std::string>([](Shared& s) { return s.metrics(); }, self);
    if (!text) {
      response.status = 503;
      response.set_content("event loop busy\n", "text/plain");
      return;
    }
    response.set_content(*text, "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get("/health", [weak](const httplib::Request&, httplib::Response& response) {
    std::shared_ptr<Shared> self = weak.lock();
    if (!self) return;
    std::optional<HealthReport> report =
        self->on_loop<HealthReport>([](Shared& s) { return s.health(); }, self);
    if (!report) {
      response.status = 503;
      response.set_content("{\"healthy\": false, \"why\": \"event loop busy\"}\n",
                           "application/json");
      return;
    }
    response.status = report->healthy ? 200 : 503;
    response.set_content(report->json + "\n", "application/json");
  });
  const bool bound = port == 0 ? (server->port_ = http.bind_to_any_port(host)) > 0
                               : http.bind_to_port(host, port);
  if (!bound) {
    return make_error(Errc::unavailable, "cannot listen on " + listen_address + " (metrics)");
  }
  if (port != 0) server->port_ = port;
  server->address_ = host + ":" + std::to_string(server->port_);
  server->thread_ = std::thread([shared] { shared->server.listen_after_bind(); });
  // stop() before the listening thread runs would be lost and the join would hang: wait until it
  // accepts (microseconds; bounded in case it failed at once).
  for (int i = 0; i < 2000 && !http.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!http.is_running()) {
    return make_error(Errc::unavailable, "the metrics server on " + listen_address +
                                             " did not start");
  }
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  if (!shared_) return;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->alive = false;
  }
  shared_->server.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace wal
