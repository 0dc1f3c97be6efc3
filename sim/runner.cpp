#include "sim/runner.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <fmt/core.h>

#ifndef WAL_GIT_COMMIT
#define WAL_GIT_COMMIT "unknown"
#endif
#ifndef WAL_BUILD_OPTIONS
#define WAL_BUILD_OPTIONS "unknown"
#endif

namespace wal::sim {

namespace {

std::string base64url_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(written));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : (c == '/' ? '_' : c);
  return out;
}

Result<std::string> base64url_decode(std::string_view text) {
  std::string padded(text);
  for (char& c : padded) c = c == '-' ? '+' : (c == '_' ? '/' : c);
  while (padded.size() % 4 != 0) padded.push_back('=');
  std::string out(3 * padded.size() / 4 + 1, '\0');
  const int written = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(padded.data()),
                                      static_cast<int>(padded.size()));
  if (written < 0) return make_error(Errc::invalid_argument, "the token is not base64url");
  size_t length = static_cast<size_t>(written);
  for (size_t i = padded.size(); i > 0 && padded[i - 1] == '='; --i) --length;
  out.resize(length);
  return out;
}

std::string_view fencing_name(FencingMode mode) {
  switch (mode) {
    case FencingMode::fence_object: return "fence_object";
    case FencingMode::meta_confirm: return "meta_confirm";
  }
  WAL_UNREACHABLE();
}

std::string_view faults_name(FaultSource source) {
  switch (source) {
    case FaultSource::swarm: return "swarm";
    case FaultSource::none: return "none";
    case FaultSource::explicit_schedule: return "explicit";
  }
  WAL_UNREACHABLE();
}

}  // namespace

std::string build_commit() { return WAL_GIT_COMMIT; }
std::string build_options() { return WAL_BUILD_OPTIONS; }

const std::vector<BugInfo>& planted_bugs() {
  static const std::vector<BugInfo> bugs{
      {SimBug::ack_before_put, "memory",
       "durability: acknowledges an append before its block "
       "PUT completed; a crash then loses it",
       FencingMode::fence_object},
      {SimBug::retry_blindly_after_unknown, "memory",
       "outcomes: reports a PUT with an unknown "
       "outcome as a definite failure, so the caller retries an entry that may be in the log",
       FencingMode::fence_object},
      {SimBug::unknown_as_success, "memory",
       "durability: treats an unknown PUT outcome as "
       "success; a PUT that never landed is acknowledged",
       FencingMode::fence_object},
      {SimBug::skip_fence_on_open, "memory",
       "fencing: recovery seals without a fence object, so "
       "the old writer can still acknowledge entries past the sealed end",
       FencingMode::fence_object},
      {SimBug::seal_one_short, "memory",
       "durability: recovery seals a segment one entry short "
       "of its last acknowledged entry",
       FencingMode::fence_object},
      {SimBug::reader_skips_checksum, "memory",
       "ordering: readers accept blocks without "
       "checking their CRC and return corrupted bytes",
       FencingMode::fence_object},
      {SimBug::truncate_needed_segment, "memory",
       "durability: GC deletes the segment just above "
       "the truncation point",
       FencingMode::fence_object},
      {SimBug::fence_by_lease_only, "memory",
       "fencing: in meta_confirm mode the writer trusts "
       "its own view instead of re-reading its epoch before acknowledging",
       FencingMode::meta_confirm},
      {SimBug::quorum_min_of_fence_replies, "quorum",
       "durability: recovery ends the segment at "
       "the minimum of the fence replies (woodpecker#320)",
       FencingMode::fence_object},
      {SimBug::quorum_seal_from_lagging, "quorum",
       "durability: recovery seals at the first "
       "reply's end, however far that replica lags (woodpecker#242)",
       FencingMode::fence_object},
      {SimBug::quorum_ack_before_fsync, "quorum",
       "durability: a LogStore answers an add before "
       "its journal sync; crashes then lose acknowledged entries",
       FencingMode::fence_object},
      {SimBug::quorum_ack_on_one, "quorum",
       "durability: the writer acknowledges an entry once "
       "1 of 3 replicas has it",
       FencingMode::fence_object},
      {SimBug::quorum_fence_in_memory_only, "quorum",
       "fencing: a LogStore keeps the fence epoch "
       "only in memory; after a restart the old writer's adds are accepted again",
       FencingMode::fence_object},
      {SimBug::quorum_recovery_without_fence, "quorum",
       "fencing: recovery reads the replicas' "
       "ends without fencing them; the old writer keeps acknowledging past the seal",
       FencingMode::fence_object},
      {SimBug::quorum_unknown_as_absent, "quorum",
       "durability: recovery counts a wiped "
       "replica's \"unknown\" as an empty journal",
       FencingMode::fence_object},
      {SimBug::quorum_stale_epoch_accepted, "quorum",
       "fencing: a LogStore accepts adds below "
       "the segment's fence epoch",
       FencingMode::fence_object},
      {SimBug::append_key_ignored, "keyed",
       "ordering: the writer ignores append keys, so a "
       "retry after an unknown outcome is appended a second time",
       FencingMode::fence_object},
      {SimBug::gc_sweeps_undeleted_segment, "keyed",
       "durability: GC's leftover sweep takes a "
       "segment whose delete lost its compare to an overlapping pass for gone, and deletes the "
       "objects its metadata still points at",
       FencingMode::fence_object},
      {SimBug::seal_unknown_as_failure, "memory",
       "outcomes: a seal txn with an unknown outcome "
       "is taken for a definite failure, so the writer's own seal that landed is read back as a "
       "newer writer's and it reports itself fenced",
       FencingMode::fence_object},
  };
  return bugs;
}

std::optional<SimBug> bug_by_name(std::string_view name) {
  for (const BugInfo& info : planted_bugs()) {
    if (sim_bug_name(info.bug) == name) return info.bug;
  }
  return std::nullopt;
}

faults::WorldShape shape_for(const RunSpec& spec) {
  faults::WorldShape shape;
  if (spec.mode == "quorum") shape.logstore_nodes = 4;
  return shape;
}

faults::Schedule schedule_for(const RunSpec& spec) {
  const faults::WorldShape shape = shape_for(spec);
  const Duration phase = std::chrono::milliseconds(spec.fault_phase_ms);
  switch (spec.faults) {
    case FaultSource::swarm:
      return faults::swarm_schedule(
          spec.seed, faults::draw_swarm(spec.seed, shape.logstore_nodes > 0), shape, phase);
    case FaultSource::none: return faults::workload_schedule(spec.seed, shape, phase);
    case FaultSource::explicit_schedule: return spec.schedule;
  }
  WAL_UNREACHABLE();
}

SimConfig config_for(const RunSpec& spec) {
  SimConfig config;
  config.seed = spec.seed;
  config.schedule = schedule_for(spec);
  config.fencing = spec.fencing;
  config.shape = shape_for(spec);
  config.quorum = spec.mode == "quorum";
  config.keyed = spec.mode == "keyed";
  config.bugs = spec.bugs;
  config.fault_phase = std::chrono::milliseconds(spec.fault_phase_ms);
  return config;
}

std::string run_header(const RunSpec& spec) {
  std::string bugs;
  for (SimBug bug : spec.bugs) bugs += std::string(bugs.empty() ? "" : ",") + std::string(sim_bug_name(bug));
  std::string header = fmt::format("seed={} mode={} fencing={} faults={} bugs={} commit={}",
                                   spec.seed, spec.mode, fencing_name(spec.fencing),
                                   faults_name(spec.faults), bugs.empty() ? "none" : bugs,
                                   build_commit());
  if (spec.faults == FaultSource::swarm) {
    header += "\n  swarm: " + faults::draw_swarm(spec.seed).describe();
  } else if (spec.faults == FaultSource::explicit_schedule) {
    header += fmt::format("\n  schedule: {} events", spec.schedule.events.size());
  }
  return header;
}

std::string encode_token(const RunSpec& spec) {
  nlohmann::json bugs = nlohmann::json::array();
  for (SimBug bug : spec.bugs) bugs.push_back(sim_bug_name(bug));
  nlohmann::json body{{"seed", spec.seed},
                      {"mode", spec.mode},
                      {"faults", faults_name(spec.faults)},
                      {"fencing", fencing_name(spec.fencing)},
                      {"bugs", bugs},
                      {"phase_ms", spec.fault_phase_ms},
                      {"commit", build_commit()},
                      {"build", build_options()}};
  if (!spec.expected_trace_hash.empty()) body["hash"] = spec.expected_trace_hash;
  if (spec.faults == FaultSource::explicit_schedule) {
    body["schedule"] = nlohmann::json::parse(faults::to_json(spec.schedule));
  }
  return "wpsim1." + base64url_encode(body.dump());
}

HistoryHeader history_header(const RunSpec& spec) {
  nlohmann::json bugs = nlohmann::json::array();
  for (SimBug bug : spec.bugs) bugs.push_back(sim_bug_name(bug));
  HistoryHeader header;
  header.run_json = nlohmann::json{{"seed", spec.seed},
                                   {"mode", spec.mode},
                                   {"fencing", fencing_name(spec.fencing)},
                                   {"faults", faults_name(spec.faults)},
                                   {"bugs", bugs},
                                   {"commit", build_commit()},
                                   {"token", encode_token(spec)}}
                        .dump();
  return header;
}

Result<RunSpec> decode_token(std::string_view token) {
  constexpr std::string_view prefix = "wpsim1.";
  if (!token.starts_with(prefix)) {
    return make_error(Errc::invalid_argument, "a replay token starts with 'wpsim1.'");
  }
  Result<std::string> text = base64url_decode(token.substr(prefix.size()));
  if (!text.ok()) return std::move(text).error();
  const nlohmann::json body = nlohmann::json::parse(*text, nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("seed")) {
    return make_error(Errc::invalid_argument, "the token does not hold a run description");
  }
  RunSpec spec;
  spec.seed = body.value("seed", uint64_t{1});
  spec.mode = body.value("mode", std::string("memory"));
  if (spec.mode != "memory" && spec.mode != "keyed" && spec.mode != "quorum") {
    return make_error(Errc::invalid_argument, "the token names an unknown mode '" + spec.mode + "'");
  }
  const std::string faults = body.value("faults", std::string("swarm"));
  spec.faults = faults == "none" ? FaultSource::none
                : faults == "explicit" ? FaultSource::explicit_schedule
                                       : FaultSource::swarm;
  spec.fencing = body.value("fencing", std::string("fence_object")) == "meta_confirm"
                     ? FencingMode::meta_confirm
                     : FencingMode::fence_object;
  for (const auto& name : body.value("bugs", nlohmann::json::array())) {
    auto bug = bug_by_name(name.get<std::string>());
    if (!bug) return make_error(Errc::invalid_argument, "unknown bug in token: " + name.dump());
    spec.bugs.push_back(*bug);
  }
  spec.fault_phase_ms = body.value("phase_ms", 20'000u);
  spec.expected_trace_hash = body.value("hash", std::string());
  if (spec.faults == FaultSource::explicit_schedule) {
    Result<faults::Schedule> schedule = faults::schedule_from_json(body["schedule"].dump());
    if (!schedule.ok()) return std::move(schedule).error();
    spec.schedule = std::move(schedule).value();
  }
  if (body.value("commit", std::string()) != build_commit()) {
    fmt::print(stderr, "wp-sim: note: the token was made at commit {}, this is {}\n",
               body.value("commit", std::string("?")), build_commit());
  }
  return spec;
}

CheckedRun run_checked(const RunSpec& spec, bool check_determinism) {
  CheckedRun checked;
  checked.result = run_simulation(config_for(spec));
  checked.cross = cross_check(checked.result.history, history_header(spec));
  if (!check_determinism) return checked;
  const SimResult again = run_simulation(config_for(spec));
  if (again.trace_hash == checked.result.trace_hash) return checked;
  checked.deterministic = false;
  SimConfig recording = config_for(spec);
  recording.record_digests = true;
  const SimResult first = run_simulation(recording);
  const SimResult second = run_simulation(recording);
  const auto divergence = first_divergence(first.trace_log, second.trace_log);
  checked.divergence = divergence ? divergence->describe()
                                  : "the hashes differ but the recorded logs do not";
  return checked;
}

std::string result_line(const RunSpec& spec, const SimResult& result) {
  const double seconds = std::chrono::duration<double>(result.sim_time).count();
  return fmt::format("seed={} result={} anomaly={} trace_hash={} sim_seconds={:.1f}", spec.seed,
                     verdict_name(result.verdict), result.first_anomaly_name(),
                     result.trace_hash.hex(), seconds);
}

std::string result_line(const RunSpec& spec, const CheckedRun& run) {
  return result_line(spec, run.result) + (run.deterministic ? "" : " nondeterministic=true") +
         (run.cross.agree ? "" : " checkers=disagree");
}

int exit_code(const CheckedRun& run) {
  if (!run.deterministic || !run.cross.agree) return 1;
  switch (run.result.verdict) {
    case Verdict::pass: return 0;
    case Verdict::safety_failure: return 1;
    case Verdict::liveness_failure: return 2;
  }
  WAL_UNREACHABLE();
}

namespace {

bool fails_with(const RunSpec& spec, const std::string& anomaly, bool first_only,
                SimResult* out) {
  SimResult result = run_simulation(config_for(spec));
  bool found = false;
  for (const Anomaly& a : result.anomalies) found = found || a.name == anomaly;
  if (first_only) found = result.first_anomaly_name() == anomaly;
  if (found && out != nullptr) *out = std::move(result);
  return found;
}

}  // namespace

ShrinkResult shrink(const RunSpec& failing, const std::string& anomaly, uint32_t runs_max,
                    const std::function<void(const std::string&)>& progress, bool first_only) {
  return shrink_while(
      failing,
      [&anomaly, first_only](const RunSpec& candidate, SimResult* result) {
        return fails_with(candidate, anomaly, first_only, result);
      },
      runs_max, progress);
}

ShrinkResult shrink_while(const RunSpec& failing, const StillFails& still_fails,
                          uint32_t runs_max,
                          const std::function<void(const std::string&)>& progress) {
  ShrinkResult best;
  best.spec = failing;
  best.spec.schedule = schedule_for(failing);
  best.spec.faults = FaultSource::explicit_schedule;
  best.spec.expected_trace_hash.clear();
  auto attempt = [&](const RunSpec& candidate) {
    if (best.runs >= runs_max) return false;
    ++best.runs;
    return still_fails(candidate, &best.result);
  };
  // Removing events: chunks of half the schedule, then quarters, ... then single events.
  for (size_t chunk = std::max<size_t>(1, best.spec.schedule.events.size() / 2); chunk >= 1;) {
    bool removed_any = false;
    for (size_t start = 0; start < best.spec.schedule.events.size();) {
      RunSpec candidate = best.spec;
      auto& events = candidate.schedule.events;
      const size_t end = std::min(events.size(), start + chunk);
      events.erase(events.begin() + static_cast<std::ptrdiff_t>(start),
                   events.begin() + static_cast<std::ptrdiff_t>(end));
      if (attempt(candidate)) {
        best.spec = std::move(candidate);
        removed_any = true;
        if (progress) {
          progress(fmt::format("shrink: {} events left ({} runs)",
                               best.spec.schedule.events.size(), best.runs));
        }
      } else {
        start += chunk;
      }
    }
    if (best.runs >= runs_max) break;
    if (chunk == 1 && !removed_any) break;
    if (chunk > 1) chunk /= 2;
  }
  // Coalescing: one node's appends into its first append, with the summed count (a failure that
  // needs many entries, not many events).
  for (bool merged = true; merged && best.runs < runs_max;) {
    merged = false;
    auto& events = best.spec.schedule.events;
    for (size_t first = 0; first < events.size() && !merged; ++first) {
      if (events[first].kind != faults::EventKind::append) continue;
      RunSpec candidate = best.spec;
      auto& candidate_events = candidate.schedule.events;
      uint32_t total = candidate_events[first].count;
      for (size_t i = candidate_events.size(); i-- > first + 1;) {
        if (candidate_events[i].kind == faults::EventKind::append &&
            candidate_events[i].node == candidate_events[first].node) {
          total += candidate_events[i].count;
          candidate_events.erase(candidate_events.begin() + static_cast<std::ptrdiff_t>(i));
        }
      }
      if (candidate_events.size() == events.size()) continue;
      candidate_events[first].count = total;
      if (attempt(candidate)) {
        best.spec = std::move(candidate);
        merged = true;
      }
    }
  }
  // Smaller numbers: halve counts and durations while it still fails.
  for (size_t i = 0; i < best.spec.schedule.events.size() && best.runs < runs_max; ++i) {
    for (int round = 0; round < 6; ++round) {
      RunSpec candidate = best.spec;
      faults::Event& e = candidate.schedule.events[i];
      if (e.count <= 1 && e.duration <= std::chrono::milliseconds(1)) break;
      if (e.count > 1) e.count /= 2;
      // Whole milliseconds: that is what a token's JSON holds.
      if (e.duration > std::chrono::milliseconds(1)) {
        e.duration = std::chrono::milliseconds(
            std::chrono::duration_cast<std::chrono::milliseconds>(e.duration).count() / 2);
      }
      if (!attempt(candidate)) break;
      best.spec = std::move(candidate);
    }
  }
  // The result must carry a real failing run (re-run if the last success was overwritten).
  best.result = SimResult{};
  if (still_fails(best.spec, &best.result) && best.result.verdict != Verdict::pass) {
    best.spec.expected_trace_hash = best.result.trace_hash.hex();
  }
  return best;
}

}  // namespace wal::sim
