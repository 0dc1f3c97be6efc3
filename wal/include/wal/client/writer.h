#pragma once
// wal::client::Writer: the single writer of one log (Client::open_writer). A handle: cheap to
// move, not copyable; every method may be called from any thread (wal/client/client.h).
//
// Guarantees:
//  - append() succeeds, with the entry's id, once the entry and every entry before it are
//    durable in the object store. Ids are dense and follow the order in which appends reach
//    the writer: appends made one after another from one thread get increasing ids.
//  - Opening a writer fences the previous one by epoch token, never by timing: once a newer
//    writer opened, nothing an older one sends can become visible, and its appends fail with
//    fenced.
//  - An acknowledged entry is never lost: not by a crash of this process (kill -9 included),
//    of the store's server, or by a newer writer taking over.
//  - Group commit without a timer: an append with nothing in flight is sent at once; under load
//    appends gather into larger blocks. append() waits (back-pressure) while the writer's
//    "inflight_bytes_max" bytes are buffered or uploading.
//
// Idempotent appends: append(payload, AppendKey{producer_id, sequence}) applies each key at most
// once, also when retried through a later writer (after a crash) or after an unknown outcome:
//  - the key is the producer's last one in the log: returns the id it already has; nothing is
//    added (the payload is not compared);
//  - the key is accepted but not yet acknowledged: waits for that append, returns its result;
//  - the sequence is below the producer's last one: invalid_argument, definite; nothing added;
//  - otherwise a new entry.
// A producer that restarts asks last_appended() where it stopped and continues after it. The
// writer remembers the last "writer.producers_max" producers (4096; the one whose last entry is
// oldest is forgotten first, and a forgotten producer's retry is appended again).
//
// append() errors:
//   too_large         the entry exceeds 16 MiB (definite; the writer goes on).
//   invalid_argument  key.producer_id is 0, or the sequence is below the producer's last one
//                     (definite; the writer goes on).
//   fenced            a newer writer took over. Definite in fence_object mode; in meta_confirm
//                     mode (stores without conditional PUT) an entry already stored fails with
//                     Outcome::unknown: the new writer's recovery may have kept it.
//   closed            close() was called, or the writer failed earlier (definite: such an entry
//                     is never acknowledged and never visible), or the client shut down before
//                     the append was acknowledged (unknown: it may be durable).
//   other codes       a store error the writer cannot retry (permission_denied, no_space, ...):
//                     definite; the writer has failed and every later append fails the same way.
// Retryable store errors and unknown PUT outcomes are settled and retried inside; an append
// waits meanwhile.

#include <future>
#include <memory>
#include <optional>

#include "wal/client/types.h"

namespace wal::client {

namespace detail {
class ClientRuntime;
struct WriterCore;
struct Handles;
}  // namespace detail

class Writer {
 public:
  Writer(Writer&& other) noexcept;
  Writer& operator=(Writer&& other) noexcept;
  // Without close(), destroying the handle closes the writer in the background (its accepted
  // appends still complete and their callbacks run); the client's close() waits for it.
  ~Writer();

  // See the top of this header. The payload is copied (or moved, for the Bytes overloads)
  // before the call returns.
  Result<EntryId> append(ByteView payload);
  Result<EntryId> append(ByteView payload, AppendKey key);
  std::future<Result<EntryId>> append_async(Bytes payload);
  std::future<Result<EntryId>> append_async(Bytes payload, AppendKey key);
  void append_async(Bytes payload, Callback<EntryId> done);
  void append_async(Bytes payload, AppendKey key, Callback<EntryId> done);

  // The last key of `producer_id` that the log holds (acknowledged by this writer, or
  // recovered from storage when it opened); nullopt when the writer knows none. Never fails
  // but with closed.
  Result<std::optional<ProducerPosition>> last_appended(uint64_t producer_id);

  // Waits for every accepted append, then seals the segment, so the next writer has nothing to
  // recover. Later appends fail with closed. ok, or the first error the writer met (its appends
  // got that error). A second call returns the first one's result.
  Status close();
  std::future<Status> close_async();
  void close_async(Callback<void> done);

 private:
  friend struct detail::Handles;
  Writer(std::shared_ptr<detail::ClientRuntime> runtime, std::shared_ptr<detail::WriterCore> core);
  void release();
  std::shared_ptr<detail::ClientRuntime> runtime_;
  std::shared_ptr<detail::WriterCore> core_;
};

}  // namespace wal::client
