#pragma once
// wal::client::Reader: reads one log in id order from a start position (Client::open_reader)
// and waits at its end for new entries (tailing). A handle: cheap to move, not copyable; every
// method may be called from any thread (wal/client/client.h). Reads on one reader are served
// in call order, each entry to exactly one of them.
//
// Guarantees: entries come in strictly increasing id order with no gaps and no duplicates;
// every reader, in any process, sees the same bytes for the same id; a reader never returns an
// entry that is not acknowledged, so nothing it returned can disappear in a later recovery.
// Waiting at the end costs no polling: the reader watches the log's metadata.
//
// Read errors (none of them moves the position: reading again retries):
//   out_of_range  the next entry was truncated (the message names the first entry still
//                 kept); open a new reader at StartAt::earliest() to skip ahead deliberately.
//   corrupt       a block failed its checksum, is misdirected, or is missing although the
//                 metadata promises it. Nothing from it is returned.
//   closed        close() was called, or the client shut down (definite).
//   the stores' errors once the reader's retries are exhausted.

#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include "wal/client/types.h"

namespace wal::client {

namespace detail {
class ClientRuntime;
struct ReaderCore;
struct Handles;
}  // namespace detail

class Reader {
 public:
  Reader(Reader&& other) noexcept;
  Reader& operator=(Reader&& other) noexcept;
  ~Reader();  // close() in the background

  // The next entry, waiting as long as it takes for a writer to append it.
  Result<Entry> next();
  std::future<Result<Entry>> next_async();
  void next_async(Callback<Entry> done);

  // The next entry, or nullopt if none was readable within `timeout` (0: only what is
  // readable at once). An entry that turns up after the timeout is kept for the next read: a
  // timed-out read never loses one.
  Result<std::optional<Entry>> next_for(std::chrono::milliseconds timeout);
  std::future<Result<std::optional<Entry>>> next_for_async(std::chrono::milliseconds timeout);
  void next_for_async(std::chrono::milliseconds timeout, Callback<std::optional<Entry>> done);

  // Ends every waiting read with closed; later reads fail with closed. Never fails but with
  // closed when the client is gone (which closed the reader already).
  Status close();

 private:
  friend struct detail::Handles;
  Reader(std::shared_ptr<detail::ClientRuntime> runtime, std::shared_ptr<detail::ReaderCore> core);
  void release();
  std::shared_ptr<detail::ClientRuntime> runtime_;
  std::shared_ptr<detail::ReaderCore> core_;
};

}  // namespace wal::client
