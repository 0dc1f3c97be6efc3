#pragma once
// Where compare_bench writes what it measured, for bench/compare_report.py:
//   <out>/results.jsonl            one JSON object per case or ceiling, appended
//   <out>/cdf/<system>-<entry bytes>-<rate>-<append|e2e>.dat
//                                  "latency_ms fraction" per histogram bucket (a CDF to plot)
// Errors: io_error naming the file that could not be written.

#include <string>

#include "case_recorder.h"
#include "compare_ceilings.h"
#include "wal/core/result.h"

namespace wal::bench {

[[nodiscard]] Status write_case(const std::string& out_dir, const CaseResult& result);
[[nodiscard]] Status write_ceiling(const std::string& out_dir, const CeilingResult& result);
// One line for the terminal: system, size, rate, throughput, p50/p99 of both latencies.
[[nodiscard]] std::string describe_case(const CaseResult& result);
[[nodiscard]] std::string describe_ceiling(const CeilingResult& result);

}  // namespace wal::bench
