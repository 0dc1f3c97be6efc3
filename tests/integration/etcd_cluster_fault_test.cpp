// EtcdMetaStore against a real 3-member etcd cluster on loopback whose leader is killed with
// SIGKILL and restarted, three times, while the store runs a stream of txns, lease keep-alives
// and a watch (scripts/etcd.sh; about 25 s).
//
// Checked afterwards, against what the cluster holds:
//  - every acknowledged txn is there, and every txn reported as not applied (a definite error,
//    or its compare reported failed) is not: an unknown outcome is the only allowed doubt;
//  - keep-alives never lost the lease: none answered not_found or failed, and the lease and
//    its key are alive at the end;
//  - the watch, opened before the first kill, saw every write once, in revision order, with no
//    gap, across the kills (it never returned an error: it resumed on another endpoint);
//  - the store kept working: txns were acknowledged after the last restart.
// Two groups of writers: one with the default per-attempt deadline, which has to fail over,
// and one with a 3 ms deadline, shorter than an etcd commit here, so that many txns time out
// after etcd committed them. Any code that turned those into retries or failures (instead of
// unknown) breaks the first check; see the commit that added this test for how that was shown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/contract/contract_support.h"
#include "tests/support/etcd_process.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"
#include "wal/log/keys.h"
#include "wal/real/etcd_meta_store.h"

using namespace std::chrono_literals;

namespace wal {
namespace {

constexpr int fault_rounds = 3;
constexpr auto member_down_time = 2s;
constexpr auto between_faults = 2s;
constexpr auto keep_alive_interval = 500ms;
constexpr int64_t lease_ttl_seconds = 5;  // longer than an election with etcd's default timing
constexpr auto settle_time_max = 30s;     // for the watch to catch up at the end

enum class TxnOutcome : uint8_t { acknowledged, compare_failed, failed, unknown };

struct TxnRecord {
  std::string key;
  TxnOutcome outcome = TxnOutcome::unknown;
  std::string error;
};

struct History {
  std::vector<TxnRecord> txns;
  std::vector<std::string> keep_alive_failures;
  std::vector<WatchEvent> watched;
  std::vector<std::string> watch_errors;
  uint64_t keep_alives_ok = 0;
  uint64_t acknowledged_after_last_restart = 0;
};

struct Workload {
  std::string prefix;
  std::atomic<bool> faults_done{false};
  std::atomic<int> restarts{0};
  bool stop = false;
};

Task<void> run_writer(MetaStore& store, Workload& workload, History& history, std::string name) {
  for (uint64_t index = 0; !workload.stop; ++index) {
    TxnRecord record;
    record.key = workload.prefix + "txn/" + name + "-" + pad20(index);
    TxnRequest request;
    request.compares.push_back(Compare::absent(record.key));
    request.success.push_back(PutOp{record.key, name, 0});
    const int restarts_before = workload.restarts.load();
    Result<TxnResponse> response = co_await store.txn(std::move(request));
    if (response.ok()) {
      record.outcome = response->succeeded ? TxnOutcome::acknowledged : TxnOutcome::compare_failed;
      if (response->succeeded && restarts_before == fault_rounds) {
        ++history.acknowledged_after_last_restart;
      }
    } else {
      record.outcome = response.error().unknown() ? TxnOutcome::unknown : TxnOutcome::failed;
      record.error = response.error().describe();
    }
    history.txns.push_back(std::move(record));
  }
}

Task<void> run_keep_alives(EtcdMetaStore& store, Clock& clock, Workload& workload,
                           History& history, LeaseId lease) {
  while (!workload.stop) {
    Result<int64_t> ttl = co_await store.lease_keep_alive(lease);
    if (ttl.ok()) {
      ++history.keep_alives_ok;
    } else {
      history.keep_alive_failures.push_back(ttl.error().describe());
    }
    co_await sleep_for(clock, keep_alive_interval);
  }
}

Task<void> run_watch(Watch& watch, History& history, int64_t& revision_seen) {
  while (true) {
    Result<std::vector<WatchEvent>> events = co_await watch.next();
    if (!events.ok()) {
      if (events.error().code != Errc::closed) {
        history.watch_errors.push_back(events.error().describe());
      }
      co_return;
    }
    for (WatchEvent& event : *events) {
      revision_seen = event.kv.mod_revision;
      history.watched.push_back(std::move(event));
    }
  }
}

// Every way the history can contradict what the cluster holds at the end.
std::vector<std::string> violations(const History& history, const RangeResponse& final_state) {
  std::vector<std::string> found;
  std::map<std::string, int64_t> present;  // key -> mod_revision
  for (const KeyValue& kv : final_state.kvs) present[kv.key] = kv.mod_revision;
  for (const TxnRecord& txn : history.txns) {
    const bool there = present.contains(txn.key);
    switch (txn.outcome) {
      case TxnOutcome::acknowledged:
        if (!there) found.push_back("acknowledged txn lost: " + txn.key);
        break;
      case TxnOutcome::compare_failed:
        // Nothing else writes this key: its compare can only fail if an earlier copy of this
        // very txn committed, i.e. it was sent twice.
        found.push_back("txn on a fresh key reported its compare failed (sent twice?): " +
                        txn.key + (there ? " (it is there)" : ""));
        break;
      case TxnOutcome::failed:
        if (there) {
          found.push_back("txn reported as not applied is there: " + txn.key + ": " + txn.error);
        }
        break;
      case TxnOutcome::unknown:
        break;
    }
  }
  int64_t previous = 0;
  std::set<std::string> seen;
  for (const WatchEvent& event : history.watched) {
    if (event.kv.mod_revision <= previous) {
      found.push_back("watch revisions not increasing at " + event.kv.key);
    }
    previous = event.kv.mod_revision;
    if (event.type != WatchEvent::Type::put || !seen.insert(event.kv.key).second) {
      found.push_back("watch delivered an unexpected or repeated event for " + event.kv.key);
      continue;
    }
    auto it = present.find(event.kv.key);
    if (it == present.end() || it->second != event.kv.mod_revision) {
      found.push_back("watch event for " + event.kv.key + " does not match the store");
    }
  }
  for (const auto& [key, revision] : present) {
    if (!seen.contains(key)) {
      found.push_back("watch missed revision " + std::to_string(revision) + " (" + key + ")");
    }
  }
  for (const std::string& error : history.watch_errors) found.push_back("watch failed: " + error);
  for (const std::string& failure : history.keep_alive_failures) {
    found.push_back("keep-alive failed: " + failure);
  }
  return found;
}

Task<Result<RangeResponse>> read_prefix(MetaStore& store, const std::string& prefix) {
  RangeRequest request{prefix, prefix_end(prefix), 0, 0};  // named: docs/architecture.md
  co_return co_await store.range(std::move(request));
}

std::unique_ptr<EtcdMetaStore> open_store(contract::Harness& harness, EtcdOptions options) {
  Result<std::unique_ptr<EtcdMetaStore>> opened =
      harness.run(EtcdMetaStore::open(harness.executor(), harness.clock(), std::move(options)));
  EXPECT_TRUE(opened.ok()) << opened.error().describe();
  return opened.ok() ? std::move(*opened) : nullptr;
}

// The fault schedule, on its own thread: the loop keeps running the workload meanwhile.
void run_faults(testing::EtcdProcess& cluster, Workload& workload) {
  for (int round = 0; round < fault_rounds; ++round) {
    std::this_thread::sleep_for(between_faults);
    const int leader = cluster.leader();
    cluster.kill(leader);
    std::this_thread::sleep_for(member_down_time);
    cluster.restart(leader);
    ++workload.restarts;
  }
  std::this_thread::sleep_for(between_faults);
  workload.faults_done = true;
}

void print_summary(const History& history, const RangeResponse& final_state,
                   const EtcdMetaStore& store) {
  std::map<TxnOutcome, uint64_t> counts;
  for (const TxnRecord& txn : history.txns) ++counts[txn.outcome];
  std::printf("txns: %llu acknowledged, %llu failed (definite), %llu unknown, %llu compare "
              "failed; %zu keys in etcd; %zu watch events; %llu keep-alives; %llu failovers\n",
              static_cast<unsigned long long>(counts[TxnOutcome::acknowledged]),
              static_cast<unsigned long long>(counts[TxnOutcome::failed]),
              static_cast<unsigned long long>(counts[TxnOutcome::unknown]),
              static_cast<unsigned long long>(counts[TxnOutcome::compare_failed]),
              final_state.kvs.size(), history.watched.size(),
              static_cast<unsigned long long>(history.keep_alives_ok),
              static_cast<unsigned long long>(store.request_counts().failovers_count));
}

TEST(etcd_cluster, leader_kills_lose_no_acknowledged_txn_keep_leases_and_watches) {
  testing::EtcdProcess cluster(testing::EtcdProcessOptions{.members = 3});
  contract::RealHarness harness;
  Clock& clock = harness.clock();
  EtcdOptions options;
  options.endpoints = cluster.endpoints();
  std::unique_ptr<EtcdMetaStore> store = open_store(harness, options);
  options.request_timeout = 3ms;  // shorter than a commit: timeouts after commits
  std::unique_ptr<EtcdMetaStore> tight = open_store(harness, options);
  ASSERT_TRUE(store != nullptr && tight != nullptr);

  Workload workload;
  workload.prefix = testing::unique_key_prefix("fault");
  History history;
  Result<LeaseId> lease = harness.run(store->lease_grant(lease_ttl_seconds));
  ASSERT_TRUE(lease.ok()) << lease.error().describe();
  const std::string leased_key = workload.prefix + "leased";
  TxnRequest leased;
  leased.success.push_back(PutOp{leased_key, "alive", *lease});
  ASSERT_TRUE(harness.run(store->txn(std::move(leased))).ok());
  const std::string txn_prefix = workload.prefix + "txn/";
  Result<std::unique_ptr<Watch>> watch =
      harness.run(store->watch(txn_prefix, prefix_end(txn_prefix), 0));
  ASSERT_TRUE(watch.ok()) << watch.error().describe();

  std::thread faults([&] { run_faults(cluster, workload); });
  int64_t revision_seen = 0;
  Scope watch_scope(harness.executor());
  watch_scope.spawn(run_watch(**watch, history, revision_seen));
  harness.run_task([&]() -> Task<void> {
    Scope scope(harness.executor());
    scope.spawn(run_writer(*store, workload, history, "a0"));
    scope.spawn(run_writer(*store, workload, history, "a1"));
    scope.spawn(run_writer(*tight, workload, history, "t0"));
    scope.spawn(run_writer(*tight, workload, history, "t1"));
    scope.spawn(run_keep_alives(*store, clock, workload, history, *lease));
    while (!workload.faults_done) co_await sleep_for(clock, 100ms);
    workload.stop = true;
    while (scope.running_count() > 0) co_await sleep_for(clock, 10ms);
  }());
  faults.join();

  Result<RangeResponse> final_state = harness.run(read_prefix(*store, txn_prefix));
  ASSERT_TRUE(final_state.ok()) << final_state.error().describe();
  int64_t last_write = 0;
  for (const KeyValue& kv : final_state->kvs) last_write = std::max(last_write, kv.mod_revision);
  const TimePoint settle_deadline = clock.now() + settle_time_max;
  while (revision_seen < last_write && clock.now() < settle_deadline) harness.advance(50ms);
  (*watch)->close();
  print_summary(history, *final_state, *store);
  for (const std::string& violation : violations(history, *final_state)) {
    ADD_FAILURE() << violation;
  }
  // The doubt the test is about did arise: timeouts after commits, and kills mid-stream.
  uint64_t unknown_count = 0;
  for (const TxnRecord& txn : history.txns) unknown_count += txn.outcome == TxnOutcome::unknown;
  EXPECT_GT(unknown_count, 0u);
  EXPECT_GT(history.acknowledged_after_last_restart, 0u);
  EXPECT_GT(history.keep_alives_ok, 0u);
  Result<int64_t> ttl = harness.run(store->lease_time_to_live(*lease));
  ASSERT_TRUE(ttl.ok()) << ttl.error().describe();
  EXPECT_GT(*ttl, 0);
  Result<std::optional<KeyValue>> kept = harness.run(store->get(leased_key));
  ASSERT_TRUE(kept.ok()) << kept.error().describe();
  EXPECT_TRUE(kept->has_value()) << "the leased key expired";
}

}  // namespace
}  // namespace wal
