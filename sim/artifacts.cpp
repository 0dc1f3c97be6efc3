#include "sim/artifacts.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include <fmt/core.h>

namespace wal::sim {

namespace {

double ms(TimePoint t) {
  return std::chrono::duration<double, std::milli>(t.time_since_epoch()).count();
}

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string_view outcome_color(AppendOutcome outcome) {
  switch (outcome) {
    case AppendOutcome::ok: return "#2e7d32";
    case AppendOutcome::failed_definite: return "#c62828";
    case AppendOutcome::failed_unknown: return "#ef6c00";
    case AppendOutcome::abandoned: return "#6a1b9a";
    case AppendOutcome::pending: return "#9e9e9e";
  }
  WAL_UNREACHABLE();
}

Status make_directory(const std::string& path) {
  std::string partial;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!partial.empty() && mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        return make_error(Errc::io_error, "cannot create " + partial + ": " + std::strerror(errno));
      }
    }
    if (i < path.size()) partial.push_back(path[i]);
  }
  return Status{};
}

}  // namespace

std::string render_column_log(const SimResult& result, uint32_t node_count) {
  constexpr size_t column_width = 34;
  std::string out = fmt::format("{:>10} | {:<{}}", "time ms", "world", column_width);
  for (uint32_t n = 1; n <= node_count; ++n) {
    out += fmt::format(" | {:<{}}", fmt::format("node {}", n), column_width);
  }
  out += "\n";
  for (const NodeLogLine& line : result.node_log) {
    out += fmt::format("{:>10.1f}", ms(line.at));
    for (uint32_t n = 0; n <= node_count; ++n) {
      std::string cell = n == line.node ? line.text : "";
      if (cell.size() > column_width) cell = cell.substr(0, column_width - 1) + "~";
      out += fmt::format(" | {:<{}}", cell, column_width);
    }
    out += "\n";
  }
  return out;
}

std::string render_html_timeline(const RunSpec& spec, const SimResult& result) {
  const History& h = result.history;
  double end_ms = 1;
  for (const AppendRecord& a : h.appends) end_ms = std::max(end_ms, ms(a.completed));
  for (const ReadRecord& r : h.reads) end_ms = std::max(end_ms, ms(r.at));
  constexpr double width_px = 1400;
  const double scale = width_px / end_ms;
  std::map<uint64_t, std::vector<const AppendRecord*>> lanes;
  for (const AppendRecord& a : h.appends) lanes[a.writer_index].push_back(&a);
  std::string svg;
  double y = 20;
  for (const auto& [writer, appends] : lanes) {
    std::string label = fmt::format("writer #{}", writer);
    for (const WriterOpenRecord& open : h.opens) {
      if (open.writer_index == writer) {
        label = fmt::format("writer #{} node {} epoch {}", writer, open.node, open.epoch);
        svg += fmt::format("<line x1='{0:.1f}' y1='{1:.0f}' x2='{0:.1f}' y2='{2:.0f}' "
                           "stroke='#1565c0' stroke-dasharray='3'/>",
                           ms(open.opened) * scale + 200, y - 12, y + 14);
      }
    }
    svg += fmt::format("<text x='4' y='{:.0f}' font-size='11'>{}</text>", y + 4, html_escape(label));
    for (const AppendRecord* a : appends) {
      const double x0 = ms(a->invoked) * scale + 200;
      const double x1 = std::max(x0 + 1, (a->outcome == AppendOutcome::pending ? end_ms
                                                                                : ms(a->completed)) *
                                                 scale + 200);
      svg += fmt::format("<rect x='{:.1f}' y='{:.0f}' width='{:.1f}' height='8' fill='{}'>"
                         "<title>node {} {} id {} invoked {:.1f}ms completed {:.1f}ms {}"
                         "</title></rect>",
                         x0, y, x1 - x0, outcome_color(a->outcome), a->node,
                         append_outcome_name(a->outcome), a->id, ms(a->invoked), ms(a->completed),
                         html_escape(a->error));
    }
    y += 26;
  }
  for (const ReadRecord& r : h.reads) {
    svg += fmt::format("<circle cx='{:.1f}' cy='{:.0f}' r='1.5' fill='#37474f'><title>node {} "
                       "read id {}</title></circle>",
                       ms(r.at) * scale + 200, y + 4, r.node, r.id);
  }
  y += 30;
  std::string anomalies;
  for (const Anomaly& a : result.anomalies) {
    anomalies += fmt::format("<li><b>{}</b>: {}</li>", html_escape(a.name), html_escape(a.detail));
  }
  return fmt::format(
      "<!doctype html><html><head><meta charset='utf-8'><title>wp-sim seed {}</title>"
      "<style>body{{font-family:sans-serif}} .k span{{display:inline-block;width:12px;"
      "height:10px;margin:0 4px 0 12px}}</style></head><body><h2>wp-sim seed {} — {}</h2>"
      "<p>{}</p><pre>{}</pre><div class='k'>appends: <span style='background:#2e7d32'></span>ok"
      "<span style='background:#c62828'></span>failed (definite)<span style='background:#ef6c00'>"
      "</span>failed (unknown)<span style='background:#6a1b9a'></span>abandoned (crash)"
      "<span style='background:#9e9e9e'></span>pending; dashed: writer opened; dots: reads"
      "</div><svg width='{:.0f}' height='{:.0f}'>{}</svg><h3>Anomalies</h3><ul>{}</ul>"
      "</body></html>",
      spec.seed, spec.seed, verdict_name(result.verdict), html_escape(result_line(spec, result)),
      html_escape(run_header(spec)), width_px + 220, y, svg, anomalies);
}

Result<std::vector<std::string>> write_artifacts(const RunSpec& spec, const SimResult& result,
                                                 const std::string& directory) {
  if (Status made = make_directory(directory); !made.ok()) return made.error();
  std::vector<std::string> written;
  auto write = [&](const std::string& name, const std::string& text) -> Status {
    const std::string path = directory + "/" + name;
    std::ofstream out(path);
    out << text;
    if (!out) return make_error(Errc::io_error, "cannot write " + path);
    written.push_back(path);
    return Status{};
  };
  const uint32_t node_count = shape_for(spec).node_count();
  if (Status s = write("nodes.log", render_column_log(result, node_count)); !s.ok()) return s.error();
  // The same lines in full, one per line: for grep, and for cells the columns cut short.
  std::string events;
  for (const NodeLogLine& line : result.node_log) {
    events += fmt::format("{:>10.1f} {:<6} {}\n",
                          std::chrono::duration<double, std::milli>(line.at - TimePoint{}).count(),
                          line.node == 0 ? std::string("world") : fmt::format("n{}", line.node),
                          line.text);
  }
  if (Status s = write("events.log", events); !s.ok()) return s.error();
  if (Status s = write("timeline.html", render_html_timeline(spec, result)); !s.ok()) return s.error();
  RunSpec replay = spec;
  replay.expected_trace_hash = result.trace_hash.hex();
  if (Status s = write("replay.txt", result_line(spec, result) + "\n" + encode_token(replay) + "\n");
      !s.ok()) {
    return s.error();
  }
  const std::string history_path = directory + "/history.jsonl";
  if (Status s = write_history(history_path, result.history, history_header(spec)); !s.ok()) {
    return s.error();
  }
  written.push_back(history_path);
  const std::string trace_path = directory + "/trace.jsonl";
  std::ofstream trace(trace_path);
  SimConfig config = config_for(spec);
  config.jsonl = &trace;
  (void)run_simulation(config);
  if (!trace) return make_error(Errc::io_error, "cannot write " + trace_path);
  written.push_back(trace_path);
  return written;
}

}  // namespace wal::sim
