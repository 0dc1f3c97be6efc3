#pragma once
// SimHarness: the contract suites' Harness over the simulator (sim/), so every interface's
// contract suite also runs against the simulated S3, etcd and disk (faults off).

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "sim/node_runtime.h"
#include "sim/random_streams.h"
#include "sim/scheduler.h"
#include "sim/sim_disk.h"
#include "sim/sim_meta_store.h"
#include "sim/sim_object_store.h"
#include "sim/trace.h"
#include "tests/contract/contract_support.h"
#include "wal/async/scope.h"
#include "wal/async/sleep.h"

namespace wal::contract {


// A contract Harness over the simulator: one node (index 1) whose executor and clock the tests
// use, and the simulated S3, etcd and disk with their default (fault-free) configuration.
// run_task() spawns the task on the node and steps the scheduler until it finishes; virtual time
// jumps, so waiting is free. A task that never finishes within run_time_max of virtual time (or
// step_max events) is a deadlock in the code under test: the harness reports it and aborts,
// because Harness::run() has no result to return.
class SimHarness final : public Harness {
 public:
  static constexpr Duration run_time_max = std::chrono::hours(24);
  static constexpr uint64_t step_max = 100'000'000;

  explicit SimHarness(uint64_t seed = 1)
      : streams_(seed),
        objects_(scheduler_, streams_, trace_),
        meta_(scheduler_, streams_, trace_),
        runtime_(scheduler_, node_index),
        disk_(runtime_, streams_, trace_) {}
  ~SimHarness() override {
    // The node's frames may be suspended in the services' calls: they die first.
    if (runtime_.alive()) runtime_.crash();
  }
  SimHarness(const SimHarness&) = delete;
  SimHarness& operator=(const SimHarness&) = delete;

  Executor& executor() override { return runtime_; }
  Clock& clock() override { return runtime_; }
  void run_task(Task<void> task) override {
    bool done = false;
    runtime_.spawn([](Task<void> inner, bool& finished) -> Task<void> {
      co_await std::move(inner);
      finished = true;
    }(std::move(task), done));
    const sim::RunReport report = scheduler_.run_while(
        [&] { return !done; }, scheduler_.now() + run_time_max, step_max);
    if (done) return;
    std::fprintf(stderr, "SimHarness: task unfinished (%s after %llu steps, t=%lld ns)\n",
                 std::string(sim::stop_reason_name(report.reason)).c_str(),
                 static_cast<unsigned long long>(report.steps),
                 static_cast<long long>(scheduler_.now().time_since_epoch().count()));
    std::abort();
  }

  // Views for node 1. Destroy them before the harness.
  [[nodiscard]] std::unique_ptr<ObjectStore> object_client() {
    return objects_.client(node_index, runtime_);
  }
  [[nodiscard]] std::unique_ptr<MetaStore> meta_client() {
    return meta_.client(node_index, runtime_);
  }
  [[nodiscard]] Disk& disk() { return disk_; }

  [[nodiscard]] sim::SimObjectStore& objects() { return objects_; }
  [[nodiscard]] sim::SimMetaStore& meta() { return meta_; }
  [[nodiscard]] sim::SimDisk& sim_disk() { return disk_; }
  [[nodiscard]] sim::Scheduler& scheduler() { return scheduler_; }
  [[nodiscard]] const sim::Trace& trace() const { return trace_; }

 private:
  static constexpr sim::NodeIndex node_index = 1;
  // Declaration order is construction order; destruction runs bottom-up: the disk, the node
  // (already crashed), the services, then the scheduler and the trace they use.
  sim::Trace trace_;
  sim::Scheduler scheduler_{trace_};
  sim::RandomStreams streams_;
  sim::SimObjectStore objects_;
  sim::SimMetaStore meta_;
  sim::NodeRuntime runtime_;
  sim::SimDisk disk_;
};

}  // namespace wal::contract
