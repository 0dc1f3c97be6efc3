#pragma once
// A tiny S3 endpoint on loopback for tests of shutdown (tests/client/client_threads_test.cpp):
// it answers like an empty bucket (LIST: no keys; GET, HEAD: 404; PUT: 200 with an ETag;
// DELETE: 204) until stall_puts() is called, after which every PUT is read and never answered,
// as a server that hangs mid-request. One thread per connection; the destructor shuts every
// socket down and joins them.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wal::client::testing {

class StallingS3Server {
 public:
  StallingS3Server() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        listen(listen_fd_, 64) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~StallingS3Server() {
    stopping_ = true;
    shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    if (acceptor_.joinable()) acceptor_.join();
    std::lock_guard lock(mutex_);
    for (int fd : connection_fds_) shutdown(fd, SHUT_RDWR);  // wakes recv()
    for (std::thread& connection : connections_) connection.join();
    for (int fd : connection_fds_) close(fd);
    close(listen_fd_);
  }
  StallingS3Server(const StallingS3Server&) = delete;
  StallingS3Server& operator=(const StallingS3Server&) = delete;

  [[nodiscard]] std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }
  void stall_puts() { stall_puts_ = true; }
  [[nodiscard]] int stalled_puts() const { return stalled_puts_.load(); }

 private:
  void accept_loop() {
    while (!stopping_) {
      const int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      connection_fds_.push_back(fd);
      connections_.emplace_back([this, fd] { serve(fd); });
    }
  }

  // Reads requests (headers, then Content-Length bytes of body) and answers each, until the
  // peer closes, the server stops, or a PUT stalls.
  void serve(int fd) {
    std::string buffer;
    char chunk[65536];
    while (true) {
      const size_t header_end = buffer.find("\r\n\r\n");
      if (header_end == std::string::npos) {
        const ssize_t got = recv(fd, chunk, sizeof(chunk), 0);
        if (got <= 0) return;
        buffer.append(chunk, static_cast<size_t>(got));
        continue;
      }
      const std::string head = buffer.substr(0, header_end);
      const size_t body_bytes = content_length(head);
      while (buffer.size() < header_end + 4 + body_bytes) {
        const ssize_t got = recv(fd, chunk, sizeof(chunk), 0);
        if (got <= 0) return;
        buffer.append(chunk, static_cast<size_t>(got));
      }
      buffer.erase(0, header_end + 4 + body_bytes);
      if (head.rfind("PUT ", 0) == 0 && stall_puts_) {
        ++stalled_puts_;
        while (recv(fd, chunk, sizeof(chunk), 0) > 0) {
        }
        return;
      }
      const std::string reply = answer(head);
      if (send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) return;
    }
  }

  static size_t content_length(const std::string& head) {
    for (const char* name : {"\r\nContent-Length: ", "\r\ncontent-length: "}) {
      const size_t at = head.find(name);
      if (at != std::string::npos) return std::stoul(head.substr(at + std::strlen(name)));
    }
    return 0;
  }

  static std::string answer(const std::string& head) {
    auto reply = [](const std::string& status, const std::string& extra, const std::string& body) {
      return "HTTP/1.1 " + status + "\r\n" + extra + "Content-Length: " +
             std::to_string(body.size()) + "\r\n\r\n" + body;
    };
    if (head.rfind("PUT ", 0) == 0) return reply("200 OK", "ETag: \"0123456789abcdef\"\r\n", "");
    if (head.rfind("DELETE ", 0) == 0) return reply("204 No Content", "", "");
    const std::string first_line = head.substr(0, head.find("\r\n"));
    if (head.rfind("GET ", 0) == 0 && first_line.find("list-type=2") != std::string::npos) {
      return reply("200 OK", "Content-Type: application/xml\r\n",
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>wal</Name>"
                   "<KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>");
    }
    if (head.rfind("HEAD ", 0) == 0) return reply("404 Not Found", "", "");
    return reply("404 Not Found", "Content-Type: application/xml\r\n",
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code>"
                 "<Message>The specified key does not exist.</Message></Error>");
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stall_puts_{false};
  std::atomic<int> stalled_puts_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> connection_fds_;
  std::vector<std::thread> connections_;
};

}  // namespace wal::client::testing
