// Runs in child processes (sim/child_runs.h) and sweeps over them (sim/sweep.h): a run that
// aborts, asserts, dies of a signal or hangs is one seed's failure with its replay token, and
// the sweep goes on; a finished run's result crosses the process boundary intact.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>

#include "sim/child_runs.h"
#include "sim/sweep.h"

namespace wal::sim {
namespace {

using namespace std::chrono_literals;

CheckedRun passing_run() { return CheckedRun{}; }

TEST(child_runs, a_failed_assertion_is_a_crash_that_names_the_assertion) {
  const ChildOutcome outcome = run_in_child(
      [] {
        WAL_ASSERT_EQ(1 + 1, 3);
        return passing_run();
      },
      60s);
  ASSERT_TRUE(outcome.crash.has_value());
  EXPECT_FALSE(outcome.run.has_value());
  EXPECT_NE(outcome.crash->how.find("signal 6"), std::string::npos) << outcome.crash->how;
  EXPECT_NE(outcome.crash->message.find("assertion failed: 1 + 1 == 3"), std::string::npos)
      << outcome.crash->message;
}

TEST(child_runs, a_signal_and_an_exit_without_a_result_are_crashes) {
  const ChildOutcome segv = run_in_child(
      [] {
        ::raise(SIGSEGV);
        return passing_run();
      },
      60s);
  ASSERT_TRUE(segv.crash.has_value());
  EXPECT_NE(segv.crash->how.find("signal 11"), std::string::npos) << segv.crash->how;
  const ChildOutcome exited = run_in_child(
      [] {
        std::fprintf(stderr, "giving up\n");
        std::exit(7);
        return passing_run();
      },
      60s);
  ASSERT_TRUE(exited.crash.has_value());
  EXPECT_EQ(exited.crash->describe(), "exited with status 7: giving up");
}

TEST(child_runs, a_child_that_does_not_answer_in_time_is_killed) {
  const auto started = std::chrono::steady_clock::now();
  const ChildOutcome outcome = run_in_child(
      [] {
        ::sleep(120);
        return passing_run();
      },
      1s);
  ASSERT_TRUE(outcome.crash.has_value());
  EXPECT_NE(outcome.crash->how.find("killed"), std::string::npos) << outcome.crash->how;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
}

TEST(child_runs, a_finished_run_crosses_the_process_boundary_intact) {
  RunSpec spec;
  spec.seed = 1;
  spec.mode = "memory";
  spec.bugs = {SimBug::seal_one_short};  // a failing run: anomalies with details to carry
  const CheckedRun here = run_checked(spec, true);
  ASSERT_FALSE(here.result.anomalies.empty());
  const ChildOutcome there = run_in_child([&] { return run_checked(spec, true); }, 600s);
  ASSERT_TRUE(there.run.has_value()) << there.crash->describe();
  EXPECT_EQ(there.run->result.verdict, here.result.verdict);
  EXPECT_EQ(there.run->result.trace_hash, here.result.trace_hash);
  EXPECT_EQ(there.run->result.sim_time, here.result.sim_time);
  EXPECT_EQ(there.run->result.steps, here.result.steps);
  EXPECT_EQ(there.run->deterministic, here.deterministic);
  ASSERT_EQ(there.run->result.anomalies.size(), here.result.anomalies.size());
  for (size_t i = 0; i < here.result.anomalies.size(); ++i) {
    EXPECT_EQ(there.run->result.anomalies[i].name, here.result.anomalies[i].name);
    EXPECT_EQ(there.run->result.anomalies[i].detail, here.result.anomalies[i].detail);
  }
  EXPECT_EQ(result_line(spec, there.run->result), result_line(spec, here.result));
}

TEST(child_runs, a_malformed_answer_is_not_a_result) {
  EXPECT_FALSE(decode_checked_run("").has_value());
  EXPECT_FALSE(decode_checked_run("{\"verdict\":9}").has_value());
  EXPECT_FALSE(decode_checked_run("[1,2]").has_value());
  CheckedRun run;
  run.result.verdict = Verdict::liveness_failure;
  run.result.anomalies = {{"reader_stuck", "reader 3 at 17"}};
  run.deterministic = false;
  run.divergence = "record 5";
  run.cross.simulator_flags = true;
  run.cross.simulator_verdict = "lost_write: id 4";
  run.cross.independent_verdict = "pass";
  run.cross.agree = false;
  const auto decoded = decode_checked_run(encode_checked_run(run));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->result.verdict, Verdict::liveness_failure);
  EXPECT_EQ(decoded->divergence, "record 5");
  // A disagreement of the two checkers found in a child must reach the sweep's verdict.
  EXPECT_FALSE(decoded->cross.agree);
  EXPECT_TRUE(decoded->cross.simulator_flags);
  EXPECT_FALSE(decoded->cross.independent_flags);
  EXPECT_EQ(decoded->cross.simulator_verdict, "lost_write: id 4");
  EXPECT_EQ(exit_code(*decoded), 1);
}

// The sweep side: seed 3 of 1..6 aborts; the others pass. With 2 jobs the crash happens while
// another child runs, and both that child's result and the later seeds still arrive.
TEST(sweep, a_crashing_seed_is_reported_with_its_token_and_the_sweep_goes_on) {
  SweepOptions options;
  options.first_seed = 1;
  options.last_seed = 6;
  options.jobs = 2;
  options.spec_for = [](uint64_t seed) {
    RunSpec spec;
    spec.seed = seed;
    spec.mode = "quorum";
    return spec;
  };
  options.run = [](const RunSpec& spec, bool) {
    WAL_ASSERT(spec.seed != 3);
    return passing_run();
  };
  std::vector<uint64_t> progress_failures;
  uint64_t progress_calls = 0;
  const SweepReport report = run_sweep(options, [&](const SweepProgress& p, const SweepFailure* f) {
    ++progress_calls;
    EXPECT_EQ(p.seed_count, 6u);
    if (f != nullptr) progress_failures.push_back(f->seed);
  });
  EXPECT_EQ(progress_calls, 6u);
  EXPECT_EQ(progress_failures, std::vector<uint64_t>{3});
  ASSERT_EQ(report.failures.size(), 1u);
  const SweepFailure& crash = report.failures[0];
  EXPECT_EQ(crash.seed, 3u);
  EXPECT_EQ(crash.exit_code, exit_code_crash);
  EXPECT_EQ(report.exit_code, exit_code_crash);
  EXPECT_NE(crash.line.find("seed=3 result=crash"), std::string::npos) << crash.line;
  EXPECT_NE(crash.line.find("spec.seed != 3"), std::string::npos) << crash.line;
  auto replay = decode_token(crash.token);
  ASSERT_TRUE(replay.ok()) << replay.error().describe();
  EXPECT_EQ(replay->seed, 3u);
  EXPECT_EQ(replay->mode, "quorum");
}

TEST(sweep, failing_runs_keep_their_exit_codes_and_tokens_with_trace_hashes) {
  SweepOptions options;
  options.first_seed = 10;
  options.last_seed = 12;
  options.spec_for = [](uint64_t seed) {
    RunSpec spec;
    spec.seed = seed;
    return spec;
  };
  options.run = [](const RunSpec& spec, bool) {
    CheckedRun run;
    run.result.trace_hash = TraceHash{spec.seed, 1};
    if (spec.seed == 11) {
      run.result.verdict = Verdict::liveness_failure;
      run.result.anomalies = {{"reader_stuck", "reader 3"}};
    }
    return run;
  };
  const SweepReport report = run_sweep(options, nullptr);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].exit_code, 2);
  EXPECT_EQ(report.failures[0].detail, "reader 3");
  auto replay = decode_token(report.failures[0].token);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->expected_trace_hash, (TraceHash{11, 1}.hex()));
}

TEST(sweep, a_seed_count_is_a_positive_number_or_a_clear_error) {
  EXPECT_EQ(*parse_seed_count("50000", "WAL_SIM_SLOW_SEEDS", 1'000'000), 50'000u);
  for (const char* bad : {"", "0", "abc", "12abc", "-5", "+5", " 5", "5 ", "1e4",
                          "99999999999999999999999", "1000001"}) {
    auto parsed = parse_seed_count(bad, "WAL_SIM_SLOW_SEEDS", 1'000'000);
    ASSERT_FALSE(parsed.ok()) << "'" << bad << "'";
    EXPECT_EQ(parsed.error().code, Errc::invalid_argument);
    EXPECT_NE(parsed.error().message.find("WAL_SIM_SLOW_SEEDS"), std::string::npos);
  }
}

}  // namespace
}  // namespace wal::sim
