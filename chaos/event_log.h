#pragma once
// EventLog: the JSON-lines file one chaos client process records its events in (chaos/README.md
// lists the records). Each line goes to the kernel with one write(2) as it happens, so a
// process killed with SIGKILL loses at most the line it was writing (wp-chaos drops a partial
// last line). Times are nanoseconds of CLOCK_REALTIME since the run's start, which wp-chaos
// passes to every process on one machine.
#include <cstdint>
#include <string>
#include <string_view>

#include "wal/core/bytes.h"

namespace wal::chaos {

class EventLog {
 public:
  // Opens `path` for appending (created if missing). Exits the process with a one-line error
  // when it cannot: a client that records nothing would make the run's verdict meaningless.
  EventLog(const std::string& path, int64_t run_start_ns, uint64_t process);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // Nanoseconds since the run's start, now.
  [[nodiscard]] int64_t now_ns() const;
  // Writes one record: `fields` is the inside of a JSON object without braces, e.g.
  // R"("type":"open","epoch":3)"; "process" is added. Exits with a message on a failed write.
  void record(std::string_view fields);

 private:
  int fd_ = -1;
  int64_t run_start_ns_ = 0;
  uint64_t process_ = 0;
  std::string path_;
};

// The 64-bit FNV-1a hash of `payload` as 16 lowercase hex digits (docs/history.md's
// payload_hash: payloads in a run are unique, so the hash names the entry).
[[nodiscard]] std::string payload_hash(ByteView payload);

// `text` as a JSON string literal, quotes included (error messages may hold anything).
[[nodiscard]] std::string json_string(std::string_view text);

}  // namespace wal::chaos
