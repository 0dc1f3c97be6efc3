#include "compare_nats.h"

#include <nats/nats.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "wal/core/assert.h"

namespace wal::bench {

namespace {

// How long a publish may wait for its acknowledgement, and PublishAsync for a free slot, before
// libnats calls it failed. Far above any latency a case should see: a failure here is a finding.
constexpr int64_t publish_wait_ms = 60000;
// Time the consumer gets to catch up after the last acknowledgement, as the WAL's reader gets
// (compare_wal.h, reader_wait_seconds_max).
constexpr std::chrono::seconds consumer_wait_max{30};

Error nats_error(const std::string& what, natsStatus status, jsErrCode code = jsErrCode(0)) {
  return make_error(Errc::io_error,
                    "nats: " + what + ": " + natsStatus_GetText(status) +
                        (code != 0 ? " (JetStream error " + std::to_string(int(code)) + ")" : ""));
}

// The publishes in flight, the acknowledgements and the consumer of one case.
class NatsCase {
 public:
  NatsCase(CaseRecorder& recorder, uint64_t window) : recorder_(recorder), window_(window) {}

  static void on_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto& self = *static_cast<NatsCase*>(closure);
    const auto now = Steady::now();
    const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(msg));
    const auto due =
        CaseRecorder::read_stamp({data, static_cast<size_t>(natsMsg_GetDataLength(msg))});
    if (ack != nullptr && due) {
      self.recorder_.acknowledged(*due, now);
    } else {
      self.recorder_.failed(error != nullptr ? std::string("publish: ") + error->ErrText
                                             : std::string("publish: unstamped message"));
    }
    natsMsg_Destroy(msg);
    self.finished_one();
  }
  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto& self = *static_cast<NatsCase*>(closure);
    const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(msg));
    const auto due =
        CaseRecorder::read_stamp({data, static_cast<size_t>(natsMsg_GetDataLength(msg))});
    if (due) self.recorder_.received(*due, Steady::now());
    natsMsg_Destroy(msg);
  }

  // Blocks until fewer than `window` publishes are in flight (0: no limit), then counts one.
  void before_publish() {
    std::unique_lock lock(mutex_);
    if (window_ > 0) changed_.wait(lock, [&] { return outstanding_ < window_; });
    ++outstanding_;
  }
  void publish_failed(const std::string& error) {
    recorder_.failed(error);
    finished_one();
  }
  void wait_all_acknowledged() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return outstanding_ == 0; });
  }

 private:
  void finished_one() {
    const std::lock_guard lock(mutex_);
    WAL_ASSERT_GT(outstanding_, uint64_t{0});
    --outstanding_;
    changed_.notify_all();
  }

  CaseRecorder& recorder_;
  const uint64_t window_;
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t outstanding_ = 0;
};

class Nats final : public NatsSystem {
 public:
  Nats(natsOptions* options, natsConnection* connection, int replicas)
      : options_(options), connection_(connection), replicas_(replicas) {}
  ~Nats() override {
    natsConnection_Destroy(connection_);
    natsOptions_Destroy(options_);
    nats_Close();
  }
  Result<CaseResult> run_case(const Workload& workload, uint64_t entry_bytes, double rate) override;

 private:
  // The case on a stream that exists, through a JetStream context of its own.
  Result<CaseResult> run_on_stream(const std::string& subject, const Workload& workload,
                                   uint64_t entry_bytes, double rate);

  natsOptions* options_;
  natsConnection* connection_;
  const int replicas_;
  uint64_t cases_count_ = 0;
};

// Publishes until the window ends: a closed loop of `window` in flight, or an open loop.
void publish_all(jsCtx* js, const std::string& subject, NatsCase& nats_case,
                 const CaseRecorder& recorder, uint64_t entry_bytes, double rate) {
  std::vector<std::byte> payload(entry_bytes);
  for (uint64_t i = 0; i < entry_bytes; ++i) payload[i] = std::byte('a' + i % 26);
  const Steady::time_point start = Steady::now();
  const auto interval =
      rate > 0
          ? std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(1.0 / rate))
          : Steady::duration{};
  for (int64_t i = 0;; ++i) {
    const Steady::time_point due = rate > 0 ? start + interval * i : Steady::now();
    if (due >= recorder.window_end()) break;
    if (rate > 0) std::this_thread::sleep_until(due);
    nats_case.before_publish();
    CaseRecorder::stamp(payload, due);
    const natsStatus status = js_PublishAsync(js, subject.c_str(), payload.data(),
                                              static_cast<int>(entry_bytes), nullptr);
    if (status != NATS_OK)
      nats_case.publish_failed(std::string("publish: ") + natsStatus_GetText(status));
  }
}

Result<CaseResult> Nats::run_case(const Workload& workload, uint64_t entry_bytes, double rate) {
  const std::string name =
      "COMPARE_" + std::to_string(::getpid()) + "_" + std::to_string(cases_count_++);
  const std::string subject = "compare." + name;
  jsCtx* js = nullptr;
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = publish_wait_ms;
  natsStatus status = natsConnection_JetStream(&js, connection_, &js_options);
  if (status != NATS_OK) return nats_error("JetStream context", status);
  jsStreamConfig stream;
  jsStreamConfig_Init(&stream);
  stream.Name = name.c_str();
  const char* subjects[] = {subject.c_str()};
  stream.Subjects = subjects;
  stream.SubjectsLen = 1;
  stream.Storage = js_FileStorage;
  stream.Replicas = replicas_;
  jsStreamInfo* info = nullptr;
  jsErrCode code = jsErrCode(0);
  status = js_AddStream(&info, js, &stream, nullptr, &code);
  jsStreamInfo_Destroy(info);
  if (status != NATS_OK) {
    jsCtx_Destroy(js);
    return nats_error("create stream " + name, status, code);
  }
  Result<CaseResult> result = run_on_stream(subject, workload, entry_bytes, rate);
  status = js_DeleteStream(js, name.c_str(), nullptr, &code);
  jsCtx_Destroy(js);
  if (status != NATS_OK && result.ok()) return nats_error("delete stream " + name, status, code);
  return result;
}

Result<CaseResult> Nats::run_on_stream(const std::string& subject, const Workload& workload,
                                       uint64_t entry_bytes, double rate) {
  CaseResult result;
  result.entry_bytes = entry_bytes;
  result.window = rate == 0 ? workload.saturation_window(entry_bytes) : 0;
  result.offered_rate_per_second = rate == 0 ? 0 : workload.offered_rate(rate, entry_bytes);
  const Steady::time_point start = Steady::now();
  const auto warmup = std::chrono::duration_cast<Steady::duration>(
      std::chrono::duration<double>(workload.warmup_seconds));
  const auto duration = std::chrono::duration_cast<Steady::duration>(
      std::chrono::duration<double>(workload.duration_seconds));
  CaseRecorder recorder(start + warmup, start + warmup + duration);
  NatsCase nats_case(recorder, result.window);
  // A context of the case's own, whose asynchronous publishes call back into nats_case.
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = publish_wait_ms;
  options.PublishAsync.MaxPending = static_cast<int64_t>(workload.inflight_entries_max);
  options.PublishAsync.StallWait = publish_wait_ms;
  options.PublishAsync.AckHandler = &NatsCase::on_ack;
  options.PublishAsync.AckHandlerClosure = &nats_case;
  jsCtx* js = nullptr;
  natsStatus status = natsConnection_JetStream(&js, connection_, &options);
  if (status != NATS_OK) return nats_error("JetStream context", status);
  natsSubscription* subscription = nullptr;
  if (workload.consumers > 0) {
    jsSubOptions sub_options;
    jsSubOptions_Init(&sub_options);
    sub_options.Config.AckPolicy = js_AckNone;
    sub_options.Config.DeliverPolicy = js_DeliverAll;
    jsErrCode code = jsErrCode(0);
    status = js_Subscribe(&subscription, js, subject.c_str(), &NatsCase::on_message, &nats_case,
                          nullptr, &sub_options, &code);
    if (status != NATS_OK) {
      jsCtx_Destroy(js);
      return nats_error("subscribe", status, code);
    }
    // No client-side limit: a dropped message would look like a lost one.
    (void)natsSubscription_SetPendingLimits(subscription, -1, -1);
  }
  publish_all(js, subject, nats_case, recorder, entry_bytes, result.offered_rate_per_second);
  nats_case.wait_all_acknowledged();
  const Steady::time_point give_up = Steady::now() + consumer_wait_max;
  while (subscription != nullptr && recorder.received_total() < recorder.acknowledged_total() &&
         Steady::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (recorder.received_total() < recorder.acknowledged_total() && subscription != nullptr) {
    result.note = "the consumer had not received every message after 30 s";
    static_assert(consumer_wait_max == std::chrono::seconds(30));
  }
  if (subscription != nullptr) {
    (void)natsSubscription_Unsubscribe(subscription);
    natsSubscription_Destroy(subscription);
  }
  jsCtx_Destroy(js);
  recorder.finish(result);
  return result;
}

}  // namespace

Result<std::unique_ptr<NatsSystem>> NatsSystem::connect(const std::vector<std::string>& urls,
                                                        int replicas) {
  WAL_ASSERT(!urls.empty());
  std::vector<const char*> servers;
  for (const std::string& url : urls) servers.push_back(url.c_str());
  natsOptions* options = nullptr;
  natsStatus status = natsOptions_Create(&options);
  if (status == NATS_OK) {
    status = natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size()));
  }
  natsConnection* connection = nullptr;
  if (status == NATS_OK) status = natsConnection_Connect(&connection, options);
  if (status != NATS_OK) {
    natsOptions_Destroy(options);
    return make_error(Errc::unavailable, "nats: cannot connect to " + urls.front() + ": " +
                                             natsStatus_GetText(status));
  }
  return std::unique_ptr<NatsSystem>(new Nats(options, connection, replicas));
}

}  // namespace wal::bench
