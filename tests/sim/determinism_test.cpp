// Determinism of the simulator core: one seed gives one trace hash; a planted source of
// nondeterminism is caught and located at the first divergent record; JSONL traces are well formed.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/sim_network.h"
#include "sim/trace.h"
#include "wal/async/sleep.h"

using namespace std::chrono_literals;

namespace wal::sim {
namespace {

struct ScenarioOptions {
  uint64_t seed = 1;
  bool record_digests = false;
  std::ostream* jsonl = nullptr;
  bool plant_nondeterminism = false;
};

struct ScenarioResult {
  TraceLog log;
  int ok_count = 0;
  int timeout_count = 0;
  int unavailable_count = 0;
  RunReport report;
  std::optional<uint64_t> planted_record_index;  // where the planted value entered the trace
};

// Differs between runs in one process: the planted bug. A real simulator must never let state
// like this (a static, an address, a clock) reach a decision.
uint64_t planted_counter = 0;

// Four nodes call each other (and sometimes a name that does not exist) under drops,
// duplicates, latency tails and spikes; handlers sleep for random times; node 3 crashes and
// restarts once. All randomness comes from the seed's streams.
class Scenario {
 public:
  static constexpr NodeIndex node_count = 4;
  static constexpr int calls_per_node = 25;

  explicit Scenario(const ScenarioOptions& options)
      : options_(options),
        trace_(Trace::Options{options.record_digests, limits::trace_records_max_default,
                              options.jsonl}),
        streams_(options.seed),
        hub_(scheduler_, streams_, trace_, network_config()) {
    for (NodeIndex node = 1; node <= node_count; ++node) {
      runtimes_.push_back(std::make_unique<NodeRuntime>(scheduler_, node));
      randoms_.push_back(std::make_unique<TracedRandom>(streams_.stream("node.random", node),
                                                        trace_, node, Site("node.random")));
      endpoints_.push_back(hub_.endpoint(node, name(node), *runtimes_.back()));
      serve(node);
    }
  }
  ~Scenario() {
    endpoints_.clear();
    runtimes_.clear();
  }

  ScenarioResult run() {
    for (NodeIndex node = 1; node <= node_count; ++node) runtime(node).spawn(client(node));
    scheduler_.schedule_at(TimePoint(40ms), world_owner, "fault.crash",
                           [this] { runtime(3).crash(); });
    scheduler_.schedule_at(TimePoint(90ms), world_owner, "fault.restart", [this] {
      runtime(3).restart();
      serve(3);
    });
    result_.report = scheduler_.run_while([this] { return clients_done_ < node_count - 1; },
                                          TimePoint(60s), 1'000'000);
    result_.log = trace_.log();
    return std::move(result_);
  }

 private:
  static SimNetworkConfig network_config() {
    SimNetworkConfig config;
    config.drop_ppm = 50'000;
    config.duplicate_ppm = 50'000;
    config.spike_ppm = 20'000;
    return config;
  }
  static NodeId name(NodeIndex node) { return "node-" + std::to_string(node); }
  NodeRuntime& runtime(NodeIndex node) { return *runtimes_[node - 1]; }
  Random& random(NodeIndex node) { return *randoms_[node - 1]; }

  void serve(NodeIndex node) {
    endpoints_[node - 1]->serve([this, node](RpcRequest request) -> Task<Result<Bytes>> {
      const Duration work = std::chrono::microseconds(random(node).below(2000));
      co_await sleep_for(runtime(node), work);
      co_return to_bytes(name(node) + "<-" + request.from);
    });
  }

  Task<void> client(NodeIndex node) {
    for (int i = 0; i < calls_per_node; ++i) {
      Duration pause = std::chrono::microseconds(random(node).below(5000));
      if (options_.plant_nondeterminism && node == 1 && i == 5) {
        result_.planted_record_index = trace_.record_count();  // the sleep's schedule record
        pause += Duration(++planted_counter);
      }
      co_await sleep_for(runtime(node), pause);
      const uint64_t pick = random(node).below(node_count + 1);  // node_count + 1: unknown
      const NodeId target = pick == node_count ? "ghost" : name(static_cast<NodeIndex>(pick + 1));
      const TimePoint deadline = runtime(node).now() + 20ms;
      const Result<Bytes> reply = co_await endpoints_[node - 1]->call(
          target, "ping", to_bytes(std::to_string(i)), deadline);
      count(reply);
    }
    ++clients_done_;  // node 3's client dies in its crash and never counts
  }

  void count(const Result<Bytes>& reply) {
    if (reply.ok()) {
      ++result_.ok_count;
      return;
    }
    switch (reply.error().code) {
      case Errc::timeout: ++result_.timeout_count; return;
      case Errc::unavailable: ++result_.unavailable_count; return;
      case Errc::not_found:
      case Errc::already_exists:
      case Errc::condition_failed:
      case Errc::corrupt:
      case Errc::torn_tail:
      case Errc::invalid_argument:
      case Errc::too_large:
      case Errc::fenced:
      case Errc::permission_denied:
      case Errc::no_space:
      case Errc::io_error:
      case Errc::cancelled:
      case Errc::closed:
      case Errc::out_of_range:
      case Errc::compacted:
      case Errc::unsupported:
      case Errc::protocol: break;
    }
    ADD_FAILURE() << "unexpected error " << reply.error().describe();
  }

  ScenarioOptions options_;
  Trace trace_;
  Scheduler scheduler_{trace_};
  RandomStreams streams_;
  SimNetwork hub_;
  std::vector<std::unique_ptr<NodeRuntime>> runtimes_;
  std::vector<std::unique_ptr<TracedRandom>> randoms_;
  std::vector<std::unique_ptr<Network>> endpoints_;
  ScenarioResult result_;
  NodeIndex clients_done_ = 0;
};

ScenarioResult run_scenario(const ScenarioOptions& options) { return Scenario(options).run(); }

TEST(determinism, same_seed_gives_the_same_trace_hash_and_outcomes) {
  const ScenarioResult first = run_scenario({.seed = 7});
  const ScenarioResult second = run_scenario({.seed = 7});
  EXPECT_EQ(first.report.reason, StopReason::predicate_false);
  EXPECT_EQ(first.log.hash, second.log.hash);
  EXPECT_EQ(first.log.record_count, second.log.record_count);
  EXPECT_EQ(first.ok_count, second.ok_count);
  EXPECT_EQ(first.timeout_count, second.timeout_count);
  EXPECT_EQ(first.report.now, second.report.now);
  // The scenario really exercised the faults it claims to.
  EXPECT_GT(first.ok_count, 0);
  EXPECT_GT(first.timeout_count, 0);
  EXPECT_GT(first.unavailable_count, 0);
}

TEST(determinism, different_seeds_give_different_trace_hashes) {
  const ScenarioResult a = run_scenario({.seed = 7});
  const ScenarioResult b = run_scenario({.seed = 8});
  EXPECT_NE(a.log.hash, b.log.hash);
  const std::optional<Divergence> divergence = first_divergence(a.log, b.log);
  EXPECT_TRUE(divergence.has_value());
}

TEST(determinism, recording_digests_does_not_change_the_hash) {
  const ScenarioResult plain = run_scenario({.seed = 11});
  const ScenarioResult recorded = run_scenario({.seed = 11, .record_digests = true});
  EXPECT_EQ(plain.log.hash, recorded.log.hash);
  EXPECT_TRUE(plain.log.records.empty());
  EXPECT_EQ(recorded.log.records.size(), recorded.log.record_count);
  ScenarioResult again = run_scenario({.seed = 11, .record_digests = true});
  EXPECT_FALSE(first_divergence(recorded.log, again.log).has_value());
}

TEST(determinism, planted_nondeterminism_is_found_at_the_first_divergent_record) {
  const ScenarioResult a =
      run_scenario({.seed = 5, .record_digests = true, .plant_nondeterminism = true});
  const ScenarioResult b =
      run_scenario({.seed = 5, .record_digests = true, .plant_nondeterminism = true});
  ASSERT_TRUE(a.planted_record_index.has_value());
  ASSERT_EQ(a.planted_record_index, b.planted_record_index);  // identical up to the plant
  EXPECT_NE(a.log.hash, b.log.hash);
  const std::optional<Divergence> divergence = first_divergence(a.log, b.log);
  ASSERT_TRUE(divergence.has_value());
  EXPECT_EQ(divergence->index, *a.planted_record_index) << divergence->describe();
  ASSERT_TRUE(divergence->a.has_value());
  ASSERT_TRUE(divergence->b.has_value());
  EXPECT_EQ(std::string(divergence->a->site.name()), "node.timer");
  EXPECT_EQ(divergence->a->kind, TraceKind::schedule);
  EXPECT_EQ(divergence->a->node, 1u);
  EXPECT_EQ(divergence->a->time, divergence->b->time);    // same moment ...
  EXPECT_NE(divergence->a->value, divergence->b->value);  // ... different due time
  EXPECT_NE(divergence->describe().find("node.timer"), std::string::npos);
}

TraceRecord record_at(uint64_t index, uint64_t digest) {
  TraceRecord record;
  record.index = index;
  record.digest = digest;
  record.site = "test.site";
  return record;
}

TEST(first_divergence, a_run_that_ends_early_diverges_where_it_ends) {
  TraceLog longer;
  TraceLog shorter;
  for (uint64_t i = 0; i < 3; ++i) longer.records.push_back(record_at(i, 100 + i));
  shorter.records = {longer.records[0], longer.records[1]};
  longer.record_count = 3;
  shorter.record_count = 2;
  const std::optional<Divergence> divergence = first_divergence(longer, shorter);
  ASSERT_TRUE(divergence.has_value());
  EXPECT_EQ(divergence->index, 2u);
  EXPECT_TRUE(divergence->a.has_value());
  EXPECT_FALSE(divergence->b.has_value());
  EXPECT_FALSE(first_divergence(longer, longer).has_value());
}

TEST(first_divergence, differing_hashes_beyond_the_recorded_prefix_are_reported) {
  TraceLog a;
  a.records = {record_at(0, 1)};
  a.record_count = 10;  // recording stopped at records_max
  TraceLog b = a;
  b.hash.lane_low = 1;
  const std::optional<Divergence> divergence = first_divergence(a, b);
  ASSERT_TRUE(divergence.has_value());
  EXPECT_EQ(divergence->index, 1u);
  EXPECT_FALSE(divergence->a.has_value());
  EXPECT_FALSE(divergence->b.has_value());
}

TEST(trace_jsonl, writes_one_parseable_object_per_record) {
  std::ostringstream out;
  const ScenarioResult result = run_scenario({.seed = 3, .jsonl = &out});
  std::istringstream lines(out.str());
  std::string line;
  uint64_t expected_index = 0;
  uint64_t send_details = 0;
  while (std::getline(lines, line)) {
    const nlohmann::json object = nlohmann::json::parse(line);
    ASSERT_EQ(object.at("i").get<uint64_t>(), expected_index);
    EXPECT_TRUE(object.contains("t_us"));
    EXPECT_TRUE(object.contains("node"));
    EXPECT_TRUE(object.at("site").is_string());
    EXPECT_TRUE(object.at("detail").is_string());
    if (expected_index >= result.log.record_count) {
      // Written after the log was taken: the teardown of each node runtime.
      EXPECT_EQ(object.at("site"), "sched.cancel_owned_by");
    }
    if (object.at("site") == "net.send_request") {
      if (object.at("detail").get<std::string>().starts_with("msg=")) ++send_details;
    }
    ++expected_index;
  }
  EXPECT_EQ(expected_index, result.log.record_count + Scenario::node_count);
  EXPECT_GT(send_details, 0u);  // details are formatted when JSONL is on
}

}  // namespace
}  // namespace wal::sim
