#pragma once
// Simulation runs in child processes, so that a run which aborts (a failed WAL_ASSERT), dies of a
// signal or hangs is reported as the failure of that one run, and a sweep goes on with the next
// seed. The simulation itself is unchanged: the child calls the same run function the caller
// would have called in its own process (determinism checks included) and hands back the result.
//
// What crosses the process boundary: the verdict, the anomalies, the trace hash, the simulated
// time, the step count, the determinism check's outcome, the two checkers' verdicts and the
// coverage marks reached. The history, the trace log and the node log stay in the child; a child
// that wants artifacts writes them itself before it answers.
//
// Threading: a ChildPool is used from one thread, and the process must have no other threads
// while it forks (fork() copies only the calling thread: a lock another thread held would stay
// held in the child forever). wp-sim and the test binaries are single-threaded.
// Output: before each fork the pool flushes stdio, so the child does not print the parent's
// buffered output a second time; children end with _exit(). A child's stdout and stderr are
// captured (never shown), and their last line becomes Crash::message. Children dump no core.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/runner.h"

namespace wal::sim {

// How a child ended when it did not hand back a result.
struct Crash {
  std::string how;      // "killed by signal 6 (Aborted)", "exited with status 3", "no result ..."
  std::string message;  // the last line it wrote to stderr (a failed WAL_ASSERT names its
                        // expression and file:line); may be empty
  // "how: message", one line.
  [[nodiscard]] std::string describe() const;
  // What identifies the crash across runs of shrunk schedules: the message, or `how` without one.
  [[nodiscard]] std::string signature() const { return message.empty() ? how : message; }
};

// One run's outcome: exactly one of `run` (the child answered) and `crash` is set. `run` has no
// history, trace log or node log (they stayed in the child).
struct ChildOutcome {
  std::optional<CheckedRun> run;
  std::optional<Crash> crash;
};

// Up to `jobs_max` children at a time, each running one function that returns a CheckedRun.
class ChildPool {
 public:
  // A child that has not answered `answer_timeout` after it started is killed (SIGKILL) and
  // reported as a crash. Simulated runs are bounded in virtual time and steps, so only a bug
  // that loops inside one event (or a machine far slower than expected) reaches it.
  ChildPool(unsigned jobs_max, std::chrono::seconds answer_timeout);
  ~ChildPool();  // kills and reaps the children still running
  ChildPool(const ChildPool&) = delete;
  ChildPool& operator=(const ChildPool&) = delete;

  // Forks a child that runs `work` and answers with its result. Waits for a free slot first
  // when `jobs_max` children are running (children that end meanwhile are kept for
  // next_finished). `tag` names the run in next_finished's answer.
  void start(uint64_t tag, std::function<CheckedRun()> work);
  // Blocks until a child has ended and returns its tag and outcome.
  // Precondition: busy() (a child is running or has ended and was not returned yet).
  [[nodiscard]] std::pair<uint64_t, ChildOutcome> next_finished();
  [[nodiscard]] bool busy() const { return !running_.empty() || !finished_.empty(); }
  // Whether next_finished() would return at once.
  [[nodiscard]] bool has_finished() const { return !finished_.empty(); }

 private:
  struct Child {
    pid_t pid = -1;
    uint64_t tag = 0;
    int answer_fd = -1;  // the result, JSON, written once at the end
    int stderr_fd = -1;  // everything the child writes to stderr
    std::string answer;
    std::string stderr_tail;  // the last stderr_tail_bytes_max bytes
    std::chrono::steady_clock::time_point deadline;
    bool killed = false;
  };
  // Waits (poll) until at least one running child has ended, then reaps it into finished_.
  void wait_for_one();
  // Reads what is available on `fd`; false at end of file (the fd is then closed and -1).
  [[nodiscard]] static bool drain(int& fd, std::string& into, size_t keep_bytes_max);
  [[nodiscard]] static ChildOutcome reap(Child& child);

  unsigned jobs_max_;
  std::chrono::seconds answer_timeout_;
  std::vector<Child> running_;
  std::deque<std::pair<uint64_t, ChildOutcome>> finished_;
};

// Runs `work` in one child and waits for it.
[[nodiscard]] ChildOutcome run_in_child(std::function<CheckedRun()> work,
                                        std::chrono::seconds answer_timeout);

// The child's answer on the wire (JSON); exposed for tests. decode: nullopt when malformed.
[[nodiscard]] std::string encode_checked_run(const CheckedRun& run);
[[nodiscard]] std::optional<CheckedRun> decode_checked_run(const std::string& text);

}  // namespace wal::sim
