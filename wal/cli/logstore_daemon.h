#pragma once
// The wp-logstore process: one LogStore (wal/quorum/logstore.h), the same code the simulator
// runs, on real parts: journals on a PosixDisk under the data directory, the LogStore protocol
// over gRPC, etcd as the MetaStore (registration under a lease, segment metadata), an object
// store for uploads and checkpoints, peers found through the etcd registry (GrpcRegistry), and
// /metrics and /health over HTTP. Every store is wrapped in a metering decorator.
//
// Life: start (one line per step; any failure is one error line and exit 1), serve, and on
// SIGTERM or SIGINT drain: deregister (writers stop choosing this node), wait until the node
// holds no segment (all uploaded, or dropped) or drain_timeout passes, then exit 0. A second
// signal ends the drain at once. Stopping at any point, SIGKILL included, is safe: the journals
// hold what was acknowledged, and a restart replays them.
#include <memory>
#include <optional>
#include <string>

#include "config_logstore.h"
#include "wal/async/notify.h"
#include "wal/metrics/metrics.h"
#include "wal/real/event_loop.h"

namespace wal::cli {

class LogStoreDaemon {
 public:
  explicit LogStoreDaemon(LogStoreDaemonConfig config);
  ~LogStoreDaemon();
  LogStoreDaemon(const LogStoreDaemon&) = delete;
  LogStoreDaemon& operator=(const LogStoreDaemon&) = delete;

  // Runs until stopped; returns the process exit code.
  int run();

  struct Parts;  // the stores, network and node, in construction order

 private:
  enum class State : uint8_t { starting, serving, draining, stopped };
  Task<int> main_task();
  Task<Status> start_parts();
  Task<void> drain();
  void on_signal(int signal);  // on the loop thread
  void log(const std::string& message) const;
  void register_metrics();
  [[nodiscard]] std::string health_json(bool& healthy) const;
  [[nodiscard]] static std::string_view state_name(State state);

  LogStoreDaemonConfig config_;
  EventLoop loop_;
  metrics::Registry registry_;
  std::unique_ptr<Parts> parts_;
  State state_ = State::starting;
  int signals_seen_ = 0;
  Notify signalled_{loop_};
  std::string who_;  // "wp-logstore[node]" for log lines
};

}  // namespace wal::cli
