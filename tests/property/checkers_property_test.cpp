// Property tests of the checkers themselves. rapidcheck generates scripts for a sequential
// model of the log (tests/property/history_model_support.h): appends overlapping in time,
// unknown outcomes that took effect or not, definite failures, crashes, writer takeovers with
// fenced zombies, reader sessions and truncations. Every history played from such a script is
// correct, and both checkers (the simulator's, sim/checkers.h, and the independent one,
// tests/lincheck) must accept it. The same history with one fact broken must be refused by
// both. A failure shrinks to a minimal script: a few steps, printed with the verdicts.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <fmt/core.h>

#include "sim/checkers.h"
#include "sim/history_export.h"
#include "tests/lincheck/lincheck.h"
#include "tests/property/history_model_support.h"

namespace wal::sim::model {
namespace {

rc::Gen<Step> gen_step() {
  using namespace rc;
  return gen::apply(
      [](StepKind kind, uint32_t gap_ms, uint32_t delay_ms, uint32_t latency_ms, Fate fate) {
        return Step{kind, gap_ms, delay_ms, latency_ms, fate};
      },
      gen::weightedElement<StepKind>({{10, StepKind::append}, {2, StepKind::open_writer},
                                      {1, StepKind::crash}, {6, StepKind::read},
                                      {1, StepKind::new_session}, {2, StepKind::truncate},
                                      {1, StepKind::zombie}}),
      gen::inRange<uint32_t>(0, 20), gen::inRange<uint32_t>(0, 40),
      gen::inRange<uint32_t>(0, 60),
      gen::weightedElement<Fate>({{6, Fate::ok}, {2, Fate::unknown_taken},
                                  {2, Fate::unknown_lost}, {1, Fate::definite}}));
}

rc::Gen<Script> gen_script() {
  return rc::gen::map(rc::gen::container<std::vector<Step>>(gen_step()),
                      [](std::vector<Step> steps) { return Script{std::move(steps)}; });
}

std::string describe(const Script& script) {
  static constexpr const char* kinds[] = {"append", "open", "crash", "read", "session",
                                          "truncate", "zombie"};
  static constexpr const char* fates[] = {"ok", "unknown_taken", "unknown_lost", "definite"};
  std::string out = fmt::format("{} steps:", script.steps.size());
  for (const Step& s : script.steps) {
    out += fmt::format(" {}(+{}ms", kinds[static_cast<int>(s.kind)], s.gap_ms);
    if (s.kind == StepKind::append || s.kind == StepKind::zombie) {
      out += fmt::format(" {} {}/{}ms", fates[static_cast<int>(s.fate)], s.delay_ms, s.latency_ms);
    }
    out += ")";
  }
  return out;
}

struct Verdicts {
  std::vector<Anomaly> simulator;
  lincheck::Report independent;
  [[nodiscard]] std::string describe() const {
    return fmt::format("simulator: {}; independent: {}",
                       simulator.empty() ? std::string("pass")
                                         : simulator.front().name + ": " + simulator.front().detail,
                       independent.summary());
  }
};

Verdicts judge(const History& history) {
  return Verdicts{check_safety(history),
                  lincheck::check_history_text(history_to_jsonl(history, HistoryHeader{}))};
}

// What a generated history exercises, for rapidcheck's summary of the cases it ran.
void tag(const History& h) {
  bool unknown_visible = false;
  bool abandoned = false;
  bool fenced_failure = false;
  for (const AppendRecord& a : h.appends) {
    unknown_visible = unknown_visible || (a.outcome == AppendOutcome::failed_unknown &&
                                          a.id == 0 && a.error.empty());
    abandoned = abandoned || a.outcome == AppendOutcome::abandoned;
    fenced_failure = fenced_failure || a.error == "fenced";
  }
  RC_CLASSIFY(h.final_log.first_kept > 0, "truncated");
  RC_CLASSIFY(abandoned, "crash abandoned appends");
  RC_CLASSIFY(fenced_failure, "fenced zombie appends");
  RC_CLASSIFY(h.opens.size() > 2, "3+ writers");
  RC_CLASSIFY(!h.reads.empty(), "reads");
  RC_CLASSIFY(unknown_visible, "unknown outcomes");
}

RC_GTEST_PROP(checkers_property, correct_histories_are_accepted_by_both, ()) {
  const Script script = *gen_script();
  const History history = build_history(script);
  tag(history);
  const Verdicts v = judge(history);
  RC_LOG() << describe(script) << "\n" << v.describe() << "\n";
  RC_ASSERT(v.simulator.empty());
  RC_ASSERT(v.independent.verdict == lincheck::Verdict::linearizable);
}

void refused_by_both(Mutation mutation) {
  const Script script = *gen_script();
  const uint64_t choice = *rc::gen::arbitrary<uint64_t>();
  History history = build_history(script);
  RC_PRE(mutate(history, mutation, choice));
  const Verdicts v = judge(history);
  RC_LOG() << mutation_name(mutation) << " of " << describe(script) << "\n"
           << v.describe() << "\n";
  RC_ASSERT(!v.simulator.empty());
  RC_ASSERT(v.independent.verdict == lincheck::Verdict::violation);
}

RC_GTEST_PROP(checkers_property, a_dropped_acknowledged_entry_is_refused_by_both, ()) {
  refused_by_both(Mutation::drop_acknowledged);
}
RC_GTEST_PROP(checkers_property, swapped_ids_are_refused_by_both, ()) {
  refused_by_both(Mutation::swap_ids);
}
RC_GTEST_PROP(checkers_property, a_duplicated_entry_is_refused_by_both, ()) {
  refused_by_both(Mutation::duplicate_entry);
}
RC_GTEST_PROP(checkers_property, a_read_before_its_append_is_refused_by_both, ()) {
  refused_by_both(Mutation::read_before_append);
}
RC_GTEST_PROP(checkers_property, a_fenced_writers_entry_is_refused_by_both, ()) {
  refused_by_both(Mutation::fenced_entry_through);
}

}  // namespace
}  // namespace wal::sim::model
