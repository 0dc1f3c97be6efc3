#include "sim/child_runs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include <fmt/core.h>

namespace wal::sim {

namespace {

// Enough for the last lines of a crash report (an assertion's line, a sanitizer's summary).
constexpr size_t stderr_tail_bytes_max = 8192;
// A result is a few hundred bytes plus the anomalies' details; a run with thousands of
// anomalies stays far below this, and a child that writes more is treated as broken.
constexpr size_t answer_bytes_max = 64ull << 20;

void write_all(int fd, const std::string& bytes) {
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent is gone; nobody is left to tell
    written += static_cast<size_t>(n);
  }
}

// The child: runs `work`, writes its answer, and ends without running the parent's exit
// handlers or flushing stdio buffers it inherited.
[[noreturn]] void child_main(int answer_fd, int stderr_fd,
                             const std::function<CheckedRun()>& work) {
  // Whatever the run prints goes to the parent's capture, not between the parent's own lines.
  ::dup2(stderr_fd, STDOUT_FILENO);
  ::dup2(stderr_fd, STDERR_FILENO);
  ::close(stderr_fd);
  // A crash is reported by the parent; a core file per crashed seed of a long sweep would only
  // fill the disk (replay the token in a debugger instead).
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  const CheckedRun run = work();
  write_all(answer_fd, encode_checked_run(run));
  ::close(answer_fd);
  std::fflush(stderr);
  ::_exit(0);
}

std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const size_t newline = text.rfind('\n');
  return newline == std::string::npos ? text : text.substr(newline + 1);
}

}  // namespace

std::string Crash::describe() const { return message.empty() ? how : how + ": " + message; }

std::string encode_checked_run(const CheckedRun& run) {
  nlohmann::json anomalies = nlohmann::json::array();
  for (const Anomaly& a : run.result.anomalies) anomalies.push_back({a.name, a.detail});
  const nlohmann::json body{
      {"verdict", static_cast<int>(run.result.verdict)},
      {"anomalies", anomalies},
      {"hash", {run.result.trace_hash.lane_low, run.result.trace_hash.lane_high}},
      {"sim_ns", run.result.sim_time.count()},
      {"steps", run.result.steps},
      {"deterministic", run.deterministic},
      {"divergence", run.divergence},
      {"marks", run.result.marks},
      {"cross",
       {run.cross.simulator_flags, run.cross.simulator_verdict, run.cross.independent_flags,
        run.cross.independent_verdict, run.cross.agree}}};
  return body.dump();
}

std::optional<CheckedRun> decode_checked_run(const std::string& text) {
  const nlohmann::json body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return std::nullopt;
  try {
    CheckedRun run;
    const int verdict = body.at("verdict").get<int>();
    if (verdict < 0 || verdict > static_cast<int>(Verdict::liveness_failure)) return std::nullopt;
    run.result.verdict = static_cast<Verdict>(verdict);
    for (const auto& a : body.at("anomalies")) {
      run.result.anomalies.push_back({a.at(0).get<std::string>(), a.at(1).get<std::string>()});
    }
    run.result.trace_hash.lane_low = body.at("hash").at(0).get<uint64_t>();
    run.result.trace_hash.lane_high = body.at("hash").at(1).get<uint64_t>();
    run.result.sim_time = Duration(body.at("sim_ns").get<int64_t>());
    run.result.steps = body.at("steps").get<uint64_t>();
    run.deterministic = body.at("deterministic").get<bool>();
    run.divergence = body.at("divergence").get<std::string>();
    run.result.marks = body.at("marks").get<MarkCounts>();
    const auto& cross = body.at("cross");
    run.cross.simulator_flags = cross.at(0).get<bool>();
    run.cross.simulator_verdict = cross.at(1).get<std::string>();
    run.cross.independent_flags = cross.at(2).get<bool>();
    run.cross.independent_verdict = cross.at(3).get<std::string>();
    run.cross.agree = cross.at(4).get<bool>();
    return run;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

ChildPool::ChildPool(unsigned jobs_max, std::chrono::seconds answer_timeout)
    : jobs_max_(std::max(1u, jobs_max)), answer_timeout_(answer_timeout) {
  WAL_ASSERT(answer_timeout.count() > 0);
}

ChildPool::~ChildPool() {
  for (Child& child : running_) {
    ::kill(child.pid, SIGKILL);
    child.killed = true;
    (void)reap(child);
  }
}

void ChildPool::start(uint64_t tag, std::function<CheckedRun()> work) {
  while (running_.size() >= jobs_max_) wait_for_one();
  int answer_pipe[2];
  int stderr_pipe[2];
  WAL_ASSERT(::pipe2(answer_pipe, O_CLOEXEC) == 0);
  WAL_ASSERT(::pipe2(stderr_pipe, O_CLOEXEC) == 0);
  std::fflush(nullptr);  // or the child would print the parent's buffered output again
  const pid_t pid = ::fork();
  WAL_ASSERT(pid >= 0);
  if (pid == 0) {
    ::close(answer_pipe[0]);
    ::close(stderr_pipe[0]);
    // Pipes of siblings started earlier stay open in this child but are never used; they close
    // when it exits, and the parent reads each sibling's own ends, so nothing waits on them.
    child_main(answer_pipe[1], stderr_pipe[1], work);
  }
  ::close(answer_pipe[1]);
  ::close(stderr_pipe[1]);
  Child child;
  child.pid = pid;
  child.tag = tag;
  child.answer_fd = answer_pipe[0];
  child.stderr_fd = stderr_pipe[0];
  child.deadline = std::chrono::steady_clock::now() + answer_timeout_;
  running_.push_back(std::move(child));
}

std::pair<uint64_t, ChildOutcome> ChildPool::next_finished() {
  WAL_ASSERT(busy());
  while (finished_.empty()) wait_for_one();
  std::pair<uint64_t, ChildOutcome> next = std::move(finished_.front());
  finished_.pop_front();
  return next;
}

bool ChildPool::drain(int& fd, std::string& into, size_t keep_bytes_max) {
  char buffer[65536];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
  if (n <= 0) {
    ::close(fd);
    fd = -1;
    return false;
  }
  into.append(buffer, static_cast<size_t>(n));
  if (into.size() > keep_bytes_max) into.erase(0, into.size() - keep_bytes_max);
  return true;
}

void ChildPool::wait_for_one() {
  WAL_ASSERT(!running_.empty());
  while (true) {
    // A child has ended once both of its pipes reached end of file (or it was killed).
    for (size_t i = 0; i < running_.size(); ++i) {
      Child& child = running_[i];
      if (child.answer_fd >= 0 || child.stderr_fd >= 0) continue;
      ChildOutcome outcome = reap(child);
      finished_.emplace_back(child.tag, std::move(outcome));
      running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
    std::vector<pollfd> fds;
    std::vector<std::pair<size_t, bool>> owners;  // child index, is the answer pipe
    auto now = std::chrono::steady_clock::now();
    auto wake_at = now + answer_timeout_;
    for (size_t i = 0; i < running_.size(); ++i) {
      Child& child = running_[i];
      if (now >= child.deadline && !child.killed) {
        ::kill(child.pid, SIGKILL);  // our own child, by its pid
        child.killed = true;
      }
      wake_at = std::min(wake_at, child.deadline);
      if (child.answer_fd >= 0) {
        fds.push_back({child.answer_fd, POLLIN, 0});
        owners.emplace_back(i, true);
      }
      if (child.stderr_fd >= 0) {
        fds.push_back({child.stderr_fd, POLLIN, 0});
        owners.emplace_back(i, false);
      }
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake_at - now);
    const int timeout_ms = static_cast<int>(std::clamp<int64_t>(wait.count() + 1, 1, 60'000));
    const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR) WAL_ASSERT(false && "poll failed");
    for (size_t k = 0; ready > 0 && k < fds.size(); ++k) {
      if (fds[k].revents == 0) continue;
      Child& child = running_[owners[k].first];
      if (owners[k].second) {
        (void)drain(child.answer_fd, child.answer, answer_bytes_max);
      } else {
        (void)drain(child.stderr_fd, child.stderr_tail, stderr_tail_bytes_max);
      }
    }
  }
}

ChildOutcome ChildPool::reap(Child& child) {
  for (int* fd : {&child.answer_fd, &child.stderr_fd}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  int status = 0;
  while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
  }
  ChildOutcome outcome;
  const bool clean_exit = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (clean_exit && !child.killed) {
    outcome.run = decode_checked_run(child.answer);
    if (outcome.run) return outcome;
  }
  Crash crash;
  crash.message = last_line(child.stderr_tail);
  if (child.killed) {
    crash.how = "no answer within the time limit; killed";
  } else if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    crash.how = fmt::format("killed by signal {} ({})", signal, strsignal(signal));
  } else if (!clean_exit) {
    crash.how = fmt::format("exited with status {}", WEXITSTATUS(status));
  } else {
    crash.how = "exited without a readable result";
  }
  outcome.crash = std::move(crash);
  return outcome;
}

ChildOutcome run_in_child(std::function<CheckedRun()> work, std::chrono::seconds answer_timeout) {
  ChildPool pool(1, answer_timeout);
  pool.start(0, std::move(work));
  return pool.next_finished().second;
}

}  // namespace wal::sim
