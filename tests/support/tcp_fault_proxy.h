#pragma once
// TcpFaultProxy: a TCP proxy on 127.0.0.1 that sits between the S3 client and the S3 server and
// breaks connections on request, for the fault tests (tests/integration/s3_fault_test.cpp).
// One thread forwards bytes both ways with poll(); faults are armed from the test's thread.
//
//   reset_next_responses(n)  the next n responses never reach the client: when the server's
//                            first bytes of a response arrive, the client connection is reset
//                            (RST) and the server's closed. The server has done the request.
//   cut_next_requests(n, b)  the next n requests are cut after b bytes reached the server: both
//                            sides are reset. The server never had a whole request.
//   stall_for(d)             every connection open during the next d (and every one accepted
//                            then) is frozen for good: nothing is forwarded either way and it
//                            stays open, as on a path that went dark. Connections made after d
//                            work again.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wal::testing {

class TcpFaultProxy {
 public:
  // Forwards to target_host:target_port (an IPv4 address). Throws if it cannot listen.
  TcpFaultProxy(const std::string& target_host, uint16_t target_port);
  ~TcpFaultProxy();
  TcpFaultProxy(const TcpFaultProxy&) = delete;
  TcpFaultProxy& operator=(const TcpFaultProxy&) = delete;

  [[nodiscard]] uint16_t port() const { return port_; }
  [[nodiscard]] std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void reset_next_responses(int count);
  void cut_next_requests(int count, uint64_t bytes);
  void stall_for(std::chrono::milliseconds duration);

  [[nodiscard]] int responses_reset() const { return responses_reset_.load(); }
  [[nodiscard]] int requests_cut() const { return requests_cut_.load(); }

 private:
  struct Connection;
  void run();
  void accept_new();
  enum class Verdict : uint8_t { keep, close, reset };
  Verdict forward(Connection& connection, bool from_client);

  std::string target_host_;
  uint16_t target_port_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;  // guards the fault settings below
  int resets_pending_ = 0;
  int cuts_pending_ = 0;
  uint64_t cut_after_bytes_ = 0;
  std::chrono::steady_clock::time_point stall_until_{};
  std::atomic<int> responses_reset_{0};
  std::atomic<int> requests_cut_{0};
  std::vector<std::unique_ptr<Connection>> connections_;  // proxy thread only
  std::thread thread_;
};

}  // namespace wal::testing
