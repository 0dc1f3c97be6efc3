#include "event_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

namespace wal::chaos {

EventLog::EventLog(const std::string& path, int64_t run_start_ns, uint64_t process)
    : run_start_ns_(run_start_ns), process_(process), path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    std::fprintf(stderr, "wp-chaos-client: cannot open event file %s: %s\n", path.c_str(),
                 std::strerror(errno));
    std::exit(2);
  }
}

EventLog::~EventLog() {
  if (fd_ >= 0) ::close(fd_);
}

int64_t EventLog::now_ns() const {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);  // one clock for every process of the run
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec - run_start_ns_;
}

void EventLog::record(std::string_view fields) {
  const std::string line = fmt::format("{{{},\"process\":{}}}\n", fields, process_);
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::fprintf(stderr, "wp-chaos-client: cannot write event file %s: %s\n", path_.c_str(),
                   std::strerror(errno));
      std::exit(2);
    }
    written += static_cast<size_t>(n);
  }
}

std::string payload_hash(ByteView payload) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const std::byte byte : payload) {
    hash ^= static_cast<uint8_t>(byte);
    hash *= 0x100000001b3ull;
  }
  return fmt::format("{:016x}", hash);
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace wal::chaos
