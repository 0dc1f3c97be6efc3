#include "tests/support/tcp_fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace wal::testing {

struct TcpFaultProxy::Connection {
  int client_fd = -1;
  int server_fd = -1;
  uint64_t request_bytes = 0;  // client bytes forwarded since the server last answered
  bool cut_armed = false;      // this connection's current request is to be cut
  bool frozen = false;         // stalled for good (stall_for)
};

namespace {

// Closing with SO_LINGER 0 sends RST instead of FIN: the peer sees "connection reset".
void reset_and_close(int fd) {
  if (fd < 0) return;
  linger hard{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  close(fd);
}

bool send_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t sent = send(fd, data, size, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<size_t>(sent);
  }
  return true;
}

}  // namespace

TcpFaultProxy::TcpFaultProxy(const std::string& target_host, uint16_t target_port)
    : target_host_(target_host), target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("proxy: socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    close(listen_fd_);
    throw std::runtime_error("proxy: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { run(); });
}

TcpFaultProxy::~TcpFaultProxy() {
  stopping_ = true;
  thread_.join();
  for (auto& connection : connections_) {
    close(connection->client_fd);
    close(connection->server_fd);
  }
  close(listen_fd_);
}

void TcpFaultProxy::reset_next_responses(int count) {
  std::lock_guard lock(mutex_);
  resets_pending_ = count;
}

void TcpFaultProxy::cut_next_requests(int count, uint64_t bytes) {
  std::lock_guard lock(mutex_);
  cuts_pending_ = count;
  cut_after_bytes_ = bytes;
}

void TcpFaultProxy::stall_for(std::chrono::milliseconds duration) {
  std::lock_guard lock(mutex_);
  stall_until_ = std::chrono::steady_clock::now() + duration;
}

void TcpFaultProxy::accept_new() {
  const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (client < 0) return;
  const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(target_port_);
  inet_pton(AF_INET, target_host_.c_str(), &address.sin_addr);
  if (server < 0 || connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    reset_and_close(client);  // the server is down: the client sees the connection refused
    if (server >= 0) close(server);
    return;
  }
  const int on = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  auto connection = std::make_unique<Connection>();
  connection->client_fd = client;
  connection->server_fd = server;
  connections_.push_back(std::move(connection));
}

TcpFaultProxy::Verdict TcpFaultProxy::forward(Connection& connection, bool from_client) {
  char buffer[64 * 1024];
  const int from = from_client ? connection.client_fd : connection.server_fd;
  const int to = from_client ? connection.server_fd : connection.client_fd;
  const ssize_t got = recv(from, buffer, sizeof buffer, MSG_DONTWAIT);
  if (got == 0) return Verdict::close;  // one side closed (an idle keep-alive): close both
  if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? Verdict::keep : Verdict::reset;
  const auto sent = [](bool ok) { return ok ? Verdict::keep : Verdict::reset; };
  std::lock_guard lock(mutex_);
  if (!from_client) {
    connection.request_bytes = 0;
    if (resets_pending_ > 0) {
      --resets_pending_;
      ++responses_reset_;
      return Verdict::reset;
    }
    return sent(send_all(to, buffer, static_cast<size_t>(got)));
  }
  if (connection.request_bytes == 0 && cuts_pending_ > 0) {
    --cuts_pending_;
    connection.cut_armed = true;  // a new request starts on this connection
  }
  size_t length = static_cast<size_t>(got);
  if (connection.cut_armed && connection.request_bytes + length >= cut_after_bytes_) {
    length = static_cast<size_t>(cut_after_bytes_ - connection.request_bytes);
    send_all(to, buffer, length);
    ++requests_cut_;
    return Verdict::reset;
  }
  connection.request_bytes += length;
  return sent(send_all(to, buffer, length));
}

void TcpFaultProxy::run() {
  while (!stopping_) {
    bool stalled = false;
    {
      std::lock_guard lock(mutex_);
      stalled = std::chrono::steady_clock::now() < stall_until_;
    }
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
    for (const auto& connection : connections_) {
      connection->frozen = connection->frozen || stalled;
      const short events = connection->frozen ? 0 : POLLIN;
      fds.push_back({connection->client_fd, events, 0});
      fds.push_back({connection->server_fd, events, 0});
    }
    if (poll(fds.data(), fds.size(), 20) <= 0) continue;
    const size_t polled = connections_.size();  // accept_new() appends after these
    if (fds[0].revents & POLLIN) accept_new();
    std::vector<std::unique_ptr<Connection>> kept;
    for (size_t i = 0; i < connections_.size(); ++i) {
      Connection& connection = *connections_[i];
      Verdict verdict = Verdict::keep;
      const short ready = POLLIN | POLLHUP | POLLERR;
      if (i < polled && (fds[1 + 2 * i].revents & ready)) verdict = forward(connection, true);
      if (i < polled && verdict == Verdict::keep && (fds[2 + 2 * i].revents & ready)) {
        verdict = forward(connection, false);
      }
      if (verdict == Verdict::keep) {
        kept.push_back(std::move(connections_[i]));
      } else if (verdict == Verdict::reset) {
        reset_and_close(connection.client_fd);
        reset_and_close(connection.server_fd);
      } else {
        close(connection.client_fd);
        close(connection.server_fd);
      }
    }
    connections_ = std::move(kept);
  }
}

}  // namespace wal::testing
