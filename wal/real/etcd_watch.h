#pragma once
// EtcdWatch: a MetaStore Watch over one etcd Watch stream (internal to EtcdMetaStore, see
// etcd_meta_store.h for what callers see).
//
// open() creates the stream and waits for etcd's "created" answer, trying the endpoints in turn
// like a read. Then a pump reads the stream into a queue of per-revision event groups that
// next() hands out one at a time. The watch remembers the first revision it has not received;
// when the stream breaks, the pump re-opens it from there on the next endpoint, so events are
// neither missed nor repeated (etcd numbers revisions cluster-wide, and any member serves the
// history). Terminal errors, after the events already queued: compacted (etcd cancelled the
// watch because its revision was compacted), unavailable (no endpoint took the watch back
// within operation_timeout), permission_denied, closed.
// Threading: the loop thread. Lifetimes: may outlive the store; the store's destructor calls
// detach(), after which the watch never touches the client again and next() returns closed.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wal/async/scope.h"
#include "etcd_client.h"

namespace wal::etcd {

class EtcdWatch;

// The store's list of live watches. The store sets `alive` to false as it goes.
struct WatchLink {
  bool alive = true;
  uint64_t next_id = 1;
  std::map<uint64_t, EtcdWatch*> watches;
};

class EtcdWatch final : public Watch {
 public:
  // Watches [key, range_end) from `start_revision` (>= 1, explicit).
  EtcdWatch(EtcdClient& client, std::shared_ptr<WatchLink> link, std::string key,
            std::string range_end, int64_t start_revision);
  ~EtcdWatch() override;

  // Opens the first stream and starts the pump. The error of the last attempt if none opened.
  Task<Status> open();
  Task<Result<std::vector<WatchEvent>>> next() override;
  void close() override;
  // The store is going away.
  void detach();

 private:
  using WatchStream = EtcdClient::Stream<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;

  // One stream from next_revision_, up to etcd's "created". Tries endpoints until `overall`.
  Task<Result<std::shared_ptr<WatchStream>>> create_stream(TimePoint overall);
  Task<Result<std::shared_ptr<WatchStream>>> create_on(size_t endpoint, TimePoint deadline);
  Task<void> pump(std::shared_ptr<WatchStream> stream);
  // False when the watch must end (error recorded).
  bool take(const etcdserverpb::WatchResponse& response);
  void fail(Error error);
  void wake();

  Executor& executor_;
  EtcdClient* client_;  // null once closed or detached
  std::shared_ptr<WatchLink> link_;
  uint64_t id_ = 0;
  const std::string key_;
  const std::string range_end_;
  int64_t next_revision_;  // the first revision not received yet
  std::deque<std::vector<WatchEvent>> ready_;
  std::optional<Error> failed_;  // after ready_ is drained, every next() returns it
  std::optional<Completion<bool>> wake_;
  std::shared_ptr<WatchStream> stream_;
  std::unique_ptr<Scope> scope_;  // the pump; declared last: it uses the members above
};

}  // namespace wal::etcd
