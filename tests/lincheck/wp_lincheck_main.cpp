// wp-lincheck: judges recorded histories of the WAL (docs/history.md), written by
// `wp-sim run --history FILE` or by any runner of real processes that writes the same format.
//   wp-lincheck [--steps-max N] [--quiet] FILE...     ("-" reads standard input)
// Exit codes: 0 every history linearizable, 1 a violation, 2 no verdict (a search ran out of
// steps), 64 usage error or a file that is not a history.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tests/lincheck/lincheck.h"

namespace {

bool read_all(const std::string& path, std::string& text) {
  std::stringstream buffer;
  if (path == "-") {
    buffer << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    buffer << in.rdbuf();
  }
  text = buffer.str();
  return true;
}

// Prints one file's verdict; returns its exit code.
int judge(const std::string& path, const lincheck::Options& options, bool quiet) {
  std::string text;
  if (!read_all(path, text)) {
    fmt::print(stderr, "wp-lincheck: cannot read {}\n", path);
    return 64;
  }
  const auto start = std::chrono::steady_clock::now();
  const lincheck::Report report = lincheck::check_history_text(text, options);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (report.verdict == lincheck::Verdict::malformed) {
    fmt::print(stderr, "wp-lincheck: {}: {}\n", path, report.error);
    return 64;
  }
  fmt::print("{}: {} ({:.1f} ms)\n", path, report.summary(), ms);
  if (!quiet) {
    for (const lincheck::LogReport& log : report.logs) {
      fmt::print("  log '{}': {}, {} operations, {} search steps\n", log.log,
                 lincheck::verdict_name(log.verdict), log.operations, log.search_steps);
      for (const lincheck::Finding& f : log.findings) fmt::print("    {}: {}\n", f.rule, f.detail);
    }
  }
  switch (report.verdict) {
    case lincheck::Verdict::linearizable: return 0;
    case lincheck::Verdict::violation: return 1;
    case lincheck::Verdict::exhausted: return 2;
    case lincheck::Verdict::malformed: return 64;
  }
  return 64;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"wp-lincheck: checks recorded WAL histories (JSON lines, docs/history.md): the "
               "order each reader and writer sees, and linearizability of each log as a "
               "sequential object (append -> next id, read id -> payload), with appends of "
               "unknown outcome allowed to take effect or not. Exit 0 linearizable, 1 violation, "
               "2 no verdict (search budget), 64 usage or malformed input."};
  std::vector<std::string> files;
  lincheck::Options options;
  bool quiet = false;
  app.add_option("files", files, "history files; - reads standard input")->required();
  app.add_option("--steps-max", options.search_steps_max,
                 "search budget per log, in steps (default 100,000,000); past it: no verdict");
  app.add_flag("--quiet", quiet, "one line per file");
  CLI11_PARSE(app, argc, argv);
  // The worst file decides: unreadable (64) over a violation (1) over no verdict (2) over 0.
  auto rank = [](int code) { return code == 64 ? 3 : code == 1 ? 2 : code == 2 ? 1 : 0; };
  int worst = 0;
  for (const std::string& path : files) {
    const int code = judge(path, options, quiet);
    if (rank(code) > rank(worst)) worst = code;
  }
  return worst;
}
