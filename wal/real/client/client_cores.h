#pragma once
// The loop-thread state behind a wal::client::Writer and Reader handle. Internal to the client
// library; every member is touched on the client's loop thread only. A core is owned by its
// handle, by the runtime's registry (until the handle is released and the core closed) and by
// the calls running on it; the LogWriter / LogReader inside is destroyed on the loop thread
// (ClientRuntime::tear_down resets it before the stores go).

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "wal/async/completion.h"
#include "wal/client/types.h"
#include "wal/env/clock.h"
#include "wal/log/log_reader.h"
#include "wal/log/log_writer.h"

namespace wal::client::detail {

class ClientRuntime;

struct WriterCore {
  uint64_t registry_id = 0;
  std::unique_ptr<LogWriter> writer;  // null after teardown
  bool close_started = false;
  bool released = false;  // the handle is gone: forget the core once closed
  std::optional<Status> close_result;
  std::vector<std::function<void(const Status&)>> on_closed;  // run once close_result is set
};

// Starts closing the writer unless that began already; `done` runs once it finished (at once
// when it has). Loop thread.
void close_writer(ClientRuntime& runtime, const std::shared_ptr<WriterCore>& core,
                  std::function<void(const Status&)> done);

struct ReaderCore {
  struct Waiter {
    uint64_t waiter_id = 0;
    Completion<Result<std::optional<Entry>>> done;
    std::optional<TimerId> timer;  // the timeout, if the read has one
  };
  uint64_t registry_id = 0;
  std::unique_ptr<LogReader> reader;  // null after teardown
  bool closed = false;
  bool pumping = false;  // a LogReader::next() runs for the waiters
  // Reads waiting for an entry, served front first; and an entry (or error) that arrived when
  // none waited any more (their timeouts passed). One of the two is always empty.
  std::deque<Waiter> waiters;
  std::deque<Result<LogEntry>> arrived;
  uint64_t next_waiter_id = 0;
};

// Ends the reader: every waiting read gets closed. Loop thread.
void close_reader(ClientRuntime& runtime, ReaderCore& core);

}  // namespace wal::client::detail
