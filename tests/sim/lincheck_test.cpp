// The independent checker (tests/lincheck) on small hand-written histories: it accepts what
// the log's specification allows (unknown outcomes either way, fencing races, keyed re-sends),
// refuses each kind of violation with a finding, and refuses malformed input with a line
// number instead of guessing.
#include <gtest/gtest.h>

#include <fmt/core.h>

#include "tests/lincheck/lincheck.h"

namespace lincheck {
namespace {

std::string header() {
  return R"({"type":"header","format":"woodpecker-wal-history","version":1,"source":"test",)"
         R"("run":{}})" "\n";
}
std::string open(uint64_t writer, uint64_t epoch, int64_t at) {
  return fmt::format(R"({{"type":"open","log":"l","writer":{},"node":1,"epoch":{},"opened_ns":{}}})"
                     "\n", writer, epoch, at);
}
std::string hash(uint64_t payload) { return fmt::format("{:016x}", payload); }
// An append of `payload` by `writer` (epoch = writer) from `invoked` to `completed`.
std::string append(uint64_t writer, uint64_t payload, int64_t invoked, int64_t completed,
                   const std::string& outcome, std::optional<uint64_t> id = {},
                   const std::string& extra = "") {
  return fmt::format(R"({{"type":"append","log":"l","index":{},"node":1,"writer":{},"epoch":{},)"
                     R"("payload_hash":"{}","payload_size":1,"invoked_ns":{},"completed_ns":{},)"
                     R"("outcome":"{}"{}{}}})" "\n",
                     payload, writer, writer, hash(payload), invoked, completed, outcome,
                     id ? fmt::format(R"(,"id":{})", *id) : "", extra);
}
std::string read(uint64_t id, uint64_t payload, int64_t at, uint64_t session = 1) {
  return fmt::format(R"({{"type":"read","log":"l","node":3,"session":{},"id":{},)"
                     R"("payload_hash":"{}","at_ns":{}}})" "\n",
                     session, id, hash(payload), at);
}
// The final read: `entries` are payloads at first_kept, first_kept + 1, ...
std::string final_read(int64_t at, uint64_t first_kept, const std::vector<uint64_t>& entries) {
  std::string out = fmt::format(
      R"({{"type":"final","log":"l","outcome":"ok","at_ns":{},"first_kept":{},"end":{}}})" "\n",
      at, first_kept, first_kept + entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    out += fmt::format(R"({{"type":"final_entry","log":"l","id":{},"payload_hash":"{}"}})" "\n",
                       first_kept + i, hash(entries[i]));
  }
  return out;
}
std::string truncate(uint64_t point, int64_t invoked, int64_t completed) {
  return fmt::format(R"({{"type":"truncate","log":"l","node":4,"point":{},"invoked_ns":{},)"
                     R"("completed_ns":{},"outcome":"ok"}})" "\n", point, invoked, completed);
}

Report check(const std::string& body) { return check_history_text(header() + body); }
std::string first_rule(const Report& r) {
  return r.logs.empty() || r.logs[0].findings.empty() ? "" : r.logs[0].findings[0].rule;
}

// Writer 1 appends 10, 11 (ids 0, 1), a reader reads both.
std::string two_appends() {
  return open(1, 1, 0) + append(1, 10, 1, 5, "ok", 0) + append(1, 11, 2, 6, "ok", 1) +
         read(0, 10, 7) + read(1, 11, 8);
}

TEST(lincheck, a_correct_history_is_linearizable) {
  const Report r = check(two_appends() + final_read(100, 0, {10, 11}));
  EXPECT_EQ(r.verdict, Verdict::linearizable) << r.summary();
  EXPECT_EQ(r.logs.size(), 1u);
}

TEST(lincheck, the_final_read_must_hold_the_acknowledged_bytes) {
  const Report r = check(two_appends() + final_read(100, 0, {11, 10}));
  EXPECT_EQ(r.verdict, Verdict::violation);
  EXPECT_NE(r.summary().find("final read"), std::string::npos) << r.summary();
}

TEST(lincheck, an_unknown_append_may_take_effect_or_not) {
  const std::string base = two_appends() + append(1, 12, 9, 20, "failed_unknown");
  EXPECT_EQ(check(base + final_read(100, 0, {10, 11})).verdict, Verdict::linearizable);
  EXPECT_EQ(check(base + final_read(100, 0, {10, 11, 12})).verdict, Verdict::linearizable);
  // A definite failure must not: the same history with its entry in the log is refused.
  const std::string definite = two_appends() + append(1, 12, 9, 20, "failed_definite");
  EXPECT_EQ(check(definite + final_read(100, 0, {10, 11})).verdict, Verdict::linearizable);
  EXPECT_EQ(check(definite + final_read(100, 0, {10, 11, 12})).verdict, Verdict::violation);
}

TEST(lincheck, an_id_acknowledged_twice_is_refused_even_when_truncated) {
  const Report r = check(two_appends() + open(2, 2, 8) + append(2, 12, 9, 12, "ok", 1) +
                         truncate(3, 30, 31) + final_read(100, 3, {}));
  EXPECT_EQ(r.verdict, Verdict::violation);
  EXPECT_EQ(first_rule(r), "not_linearizable");
}

TEST(lincheck, a_read_before_the_append_was_invoked_is_refused) {
  const Report r = check(open(1, 1, 0) + append(1, 10, 5, 9, "ok", 0) + read(0, 10, 4) +
                         final_read(100, 0, {10}));
  EXPECT_EQ(r.verdict, Verdict::violation);
}

TEST(lincheck, real_time_order_is_kept) {
  // 11 was invoked after 10 was acknowledged, so it cannot take the smaller id.
  const Report r = check(open(1, 1, 0) + append(1, 10, 1, 5, "ok", 1) +
                         append(1, 11, 6, 9, "ok", 0) + final_read(100, 0, {11, 10}));
  EXPECT_EQ(r.verdict, Verdict::violation);
  // Concurrent (invoked at the same instant), the same ids are fine.
  const Report concurrent = check(open(1, 1, 0) + append(1, 10, 1, 5, "ok", 1) +
                                  append(1, 11, 1, 9, "ok", 0) + final_read(100, 0, {11, 10}));
  EXPECT_EQ(concurrent.verdict, Verdict::linearizable) << concurrent.summary();
}

TEST(lincheck, a_fenced_writer_cannot_write) {
  // Writer 2 opens at 50; writer 1's append invoked at 60 and then visible: refused. Invoked
  // at 40 it may have landed before the open: accepted.
  const std::string base = two_appends() + open(2, 2, 50);
  EXPECT_EQ(check(base + append(1, 12, 60, 70, "failed_unknown") + final_read(100, 0, {10, 11, 12}))
                .verdict,
            Verdict::violation);
  EXPECT_EQ(check(base + append(1, 12, 40, 70, "failed_unknown") + final_read(100, 0, {10, 11, 12}))
                .verdict,
            Verdict::linearizable);
}

TEST(lincheck, truncation_never_removes_more_than_asked) {
  const std::string base = two_appends() + append(1, 12, 9, 12, "ok", 2);
  EXPECT_EQ(check(base + truncate(1, 20, 21) + final_read(100, 1, {11, 12})).verdict,
            Verdict::linearizable);
  EXPECT_EQ(check(base + truncate(1, 20, 21) + final_read(100, 2, {12})).verdict,
            Verdict::violation);
}

TEST(lincheck, keyed_resends_take_effect_once) {
  const std::string resend =
      R"(,"key":{"producer":1,"sequence":3},"resends":[{"writer":2,"epoch":2,"invoked_ns":60}])";
  const std::string base = two_appends() + open(2, 2, 50) +
                           append(1, 12, 9, 61, "ok", 2, resend);
  EXPECT_EQ(check(base + final_read(100, 0, {10, 11, 12})).verdict, Verdict::linearizable);
  // Applied twice (the key was ignored): refused.
  EXPECT_EQ(check(base + final_read(100, 0, {10, 11, 12, 12})).verdict, Verdict::violation);
}

TEST(lincheck, reader_sessions_and_writer_calls_are_in_order) {
  EXPECT_EQ(first_rule(check(two_appends() + read(0, 10, 9) + final_read(100, 0, {10, 11}))),
            "reader_order");
  const Report r = check(open(1, 1, 0) + append(1, 10, 1, 9, "ok", 1) +
                         append(1, 11, 2, 9, "ok", 0) + final_read(100, 0, {11, 10}));
  EXPECT_EQ(first_rule(r), "writer_order");
}

TEST(lincheck, a_failed_final_read_is_a_violation_and_no_final_read_is_not) {
  EXPECT_EQ(check(two_appends()).verdict, Verdict::linearizable);
  const Report r = check(two_appends() +
                         R"({"type":"final","log":"l","outcome":"failed","at_ns":100,"error":"x"})"
                         "\n");
  EXPECT_EQ(r.verdict, Verdict::violation);
}

TEST(lincheck, logs_are_judged_apart) {
  std::string other = two_appends() + final_read(100, 0, {10, 11});
  for (size_t at = other.find("\"l\""); at != std::string::npos; at = other.find("\"l\"", at)) {
    other.replace(at, 3, "\"m\"");
  }
  const Report r = check(two_appends() + final_read(100, 0, {10, 11}) + other);
  EXPECT_EQ(r.verdict, Verdict::linearizable) << r.summary();
  EXPECT_EQ(r.logs.size(), 2u);
}

TEST(lincheck, a_search_out_of_budget_gives_no_verdict) {
  Options tiny;
  tiny.search_steps_max = 2;
  const Report r = check_history_text(header() + two_appends() + final_read(100, 0, {10, 11}),
                                      tiny);
  EXPECT_EQ(r.verdict, Verdict::exhausted);
}

TEST(lincheck, malformed_input_names_its_line) {
  EXPECT_EQ(check_history_text("").verdict, Verdict::malformed);
  EXPECT_EQ(check_history_text("{\"type\":\"open\"}\n").error,
            "line 1: the first line is not a header");
  const std::string newer = R"({"type":"header","format":"woodpecker-wal-history","version":2})";
  EXPECT_NE(check_history_text(newer + "\n").error.find("version 2"), std::string::npos);
  Report r = check(open(1, 1, 0) + "not json\n");
  EXPECT_EQ(r.error, "line 3: not a JSON object");
  r = check(open(1, 1, 0) + R"({"type":"read","log":"l","node":3,"session":1,"id":0,)"
            R"("payload_hash":"xyz","at_ns":4})" "\n");
  EXPECT_EQ(r.error, "line 3: payload_hash is not 16 hex digits");
  r = check(R"({"type":"teleport","log":"l"})" "\n");
  EXPECT_EQ(r.error, "line 2: unknown record type 'teleport'");
  r = check(final_read(100, 0, {10, 11}).substr(0, 90) + "}\n");
  EXPECT_EQ(r.verdict, Verdict::malformed);
}

}  // namespace
}  // namespace lincheck
