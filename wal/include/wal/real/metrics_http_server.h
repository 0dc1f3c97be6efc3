#pragma once
// MetricsHttpServer: the HTTP endpoints of a daemon, served by cpp-httplib (Debian's
// libcpp-httplib-dev) on its own threads:
//   GET /metrics  the Prometheus text exposition (text/plain; version=0.0.4)
//   GET /health   200 with a JSON body while healthy, 503 with the same body when not
// Anything else is 404.
//
// The content comes from two functions that run on the daemon's event loop (the metrics and
// the node are loop-only state): a request thread posts them there and waits for the answer,
// at most reply_wait_max; a loop that does not answer in time gets a 503 ("event loop busy"),
// which is itself worth alerting on.
//
// start() errors: the address cannot be bound (unavailable), a malformed address
// (invalid_argument). Threading: start() and destruction on the loop thread; destruction stops
// the server, joins its threads, and from then on neither function is called again.

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "wal/async/executor.h"
#include "wal/core/result.h"

namespace wal {

struct HealthReport {
  bool healthy = false;
  std::string json;  // the body, either way
};

class MetricsHttpServer {
 public:
  using RenderMetrics = std::function<std::string()>;
  using CheckHealth = std::function<HealthReport()>;

  // `listen_address` is "host:port" (port 0: any free port, see port()).
  static Result<std::unique_ptr<MetricsHttpServer>> start(Executor& loop,
                                                          const std::string& listen_address,
                                                          RenderMetrics metrics,
                                                          CheckHealth health);
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] const std::string& address() const { return address_; }

  struct Shared;  // state the request threads and the loop share; defined in the .cpp

 private:
  MetricsHttpServer() = default;
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
  int port_ = 0;
  std::string address_;
};

}  // namespace wal
