#pragma once
// Cancellation: a CancellationSource owned by whoever may cancel; CancellationTokens handed to
// the work. Cancelling is a request: the work checks cancelled() at its await points, or
// subscribes a callback (run synchronously inside cancel(), on the executor's thread).
// A cancelled mutation that already left the node has an unknown outcome, like a timeout.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>

namespace wal {

class CancellationToken;

class CancellationSource {
 public:
  CancellationSource();
  void cancel();
  [[nodiscard]] bool cancelled() const;
  [[nodiscard]] CancellationToken token() const;

 private:
  friend class CancellationToken;
  struct State {
    bool cancelled = false;
    uint64_t next_id = 0;
    std::map<uint64_t, std::function<void()>> callbacks;
  };
  std::shared_ptr<State> state_;
};

class CancellationToken {
 public:
  CancellationToken() = default;  // never cancelled
  [[nodiscard]] bool cancelled() const { return state_ && state_->cancelled; }

  // RAII: unsubscribes when destroyed. If already cancelled, `fn` runs at once.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(std::weak_ptr<CancellationSource::State> state, uint64_t id)
        : state_(std::move(state)), id_(id) {}
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription() { reset(); }

   private:
    void reset();
    std::weak_ptr<CancellationSource::State> state_;
    uint64_t id_ = 0;
  };
  [[nodiscard]] Subscription subscribe(std::function<void()> fn) const;

 private:
  friend class CancellationSource;
  explicit CancellationToken(std::shared_ptr<CancellationSource::State> state)
      : state_(std::move(state)) {}
  std::shared_ptr<CancellationSource::State> state_;
};

}  // namespace wal
