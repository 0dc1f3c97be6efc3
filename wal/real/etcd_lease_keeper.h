#pragma once
// LeaseKeeper: MetaStore::lease_keep_alive over etcd's LeaseKeepAlive stream (internal to
// EtcdMetaStore, see etcd_meta_store.h).
//
// One stream at a time, opened on the first keep-alive and kept for later ones (a keep-alive
// is then one message each way, no new HTTP/2 stream). Requests are written one at a time in
// call order; etcd answers on the stream in the same order with the lease's id, so each answer
// goes to the oldest caller waiting for that id.
// A stream that fails (the member died or lost its leader, the connection dropped) or that has
// not answered a request within request_timeout is cancelled: every caller waiting on it sends
// its keep-alive again on a new stream on the next endpoint, until operation_timeout. That is
// safe because renewing a lease twice is the same as renewing it once.
// Results: the TTL etcd granted (> 0); not_found when etcd answers TTL 0 (the lease expired or
// was revoked: reported, never papered over); after operation_timeout, timeout or unavailable
// with OUTCOME UNKNOWN (a renewal may have been applied on a stream that broke before
// answering).
// Threading: the loop thread. Lifetimes: destroyed before the client; destroying it drops its
// coroutines and cancels its stream.

#include <cstdint>
#include <deque>
#include <memory>

#include "wal/async/scope.h"
#include "etcd_client.h"

namespace wal::etcd {

class LeaseKeeper {
 public:
  explicit LeaseKeeper(EtcdClient& client);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  Task<Result<int64_t>> keep_alive(LeaseId lease);

 private:
  using KeepAliveStream =
      EtcdClient::Stream<etcdserverpb::LeaseKeepAliveRequest, etcdserverpb::LeaseKeepAliveResponse>;
  struct Waiter {
    LeaseId lease = 0;
    Completion<Result<int64_t>> done;
  };

  // The stream of this generation, opened if there is none.
  void ensure_stream();
  Task<void> run_reads(std::shared_ptr<KeepAliveStream> stream, uint64_t generation);
  Task<void> run_writes(std::shared_ptr<KeepAliveStream> stream, uint64_t generation);
  // Ends `generation`'s stream (if it is still the current one): cancels it and fails every
  // waiter with `error`, so that each sends its keep-alive again.
  void break_stream(uint64_t generation, const Error& error);
  void on_reply(const etcdserverpb::LeaseKeepAliveResponse& reply);

  EtcdClient& client_;
  std::shared_ptr<KeepAliveStream> stream_;
  uint64_t generation_ = 0;  // of stream_; bumped by each new stream
  bool started_ = false;     // stream_ has started: writes may go
  bool writing_ = false;     // run_writes is running for stream_
  std::deque<LeaseId> unsent_;
  std::deque<Waiter> waiting_;  // sent or queued on stream_, in order
  std::unique_ptr<Scope> scope_;  // declared last: its tasks use the members above
};

}  // namespace wal::etcd
