#include "tests/lincheck/lincheck.h"

#include <fmt/core.h>

namespace lincheck {

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::linearizable: return "linearizable";
    case Verdict::violation: return "violation";
    case Verdict::exhausted: return "exhausted";
    case Verdict::malformed: return "malformed";
  }
  return "?";
}

LogReport check_log(const LogHistory& log, const Options& options) {
  LogReport report;
  report.log = log.name;
  report.findings = check_client_order(log);
  Model model(log);
  report.operations = model.ops().size();
  const SearchResult searched = search(model, options.search_steps_max);
  report.search_steps = searched.steps;
  report.linearized_max = searched.linearized_max;
  switch (searched.kind) {
    case SearchResult::Kind::linearizable: break;
    case SearchResult::Kind::not_linearizable:
      report.findings.push_back(Finding{
          "not_linearizable",
          fmt::format("at most {} of {} operations linearise; then the {}",
                      searched.linearized_max, report.operations, searched.stuck)});
      break;
    case SearchResult::Kind::exhausted:
      if (report.findings.empty()) report.verdict = Verdict::exhausted;
      break;
  }
  if (!report.findings.empty()) report.verdict = Verdict::violation;
  return report;
}

Report check_history_text(std::string_view jsonl, const Options& options) {
  Report report;
  Parsed parsed = parse_history(jsonl);
  if (!parsed.history) {
    report.verdict = Verdict::malformed;
    report.error = parsed.error;
    return report;
  }
  for (const auto& [name, log] : parsed.history->logs) {
    report.logs.push_back(check_log(log, options));
    const Verdict v = report.logs.back().verdict;
    if (v == Verdict::violation) report.verdict = Verdict::violation;
    if (v == Verdict::exhausted && report.verdict == Verdict::linearizable) {
      report.verdict = Verdict::exhausted;
    }
  }
  return report;
}

std::string Report::summary() const {
  if (verdict == Verdict::malformed) return "malformed history: " + error;
  uint64_t operations = 0;
  for (const LogReport& log : logs) {
    operations += log.operations;
    if (!log.findings.empty()) {
      return fmt::format("{} in log '{}': {}", log.findings.front().rule, log.log,
                         log.findings.front().detail);
    }
    if (log.verdict == Verdict::exhausted) {
      return fmt::format("no verdict: the search of log '{}' stopped after {} steps", log.log,
                         log.search_steps);
    }
  }
  return fmt::format("linearizable ({} logs, {} operations)", logs.size(), operations);
}

}  // namespace lincheck
