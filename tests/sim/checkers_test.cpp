// The safety checkers on small hand-made histories: a correct history passes, and each rule
// names its anomaly when the one fact it guards is broken. Times are milliseconds.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim/checkers.h"

namespace wal::sim {
namespace {

TimePoint at(int64_t ms) { return TimePoint{} + std::chrono::milliseconds(ms); }

// Writer #1 (epoch 1) opens at 0 and appends ids 0..3 (payloads 100..103, each invoked at
// 10*i+1 and acknowledged at 10*i+5); a reader reads ids 0..3 at 10*i+7; the final log holds
// all four.
History correct_history() {
  History h;
  h.opens.push_back(WriterOpenRecord{1, 1, 1, at(0)});
  for (uint64_t i = 0; i < 4; ++i) {
    AppendRecord a;
    a.node = 1;
    a.writer_index = 1;
    a.epoch = 1;
    a.payload_hash = 100 + i;
    a.payload_size = 10;
    a.invoked = at(static_cast<int64_t>(10 * i + 1));
    a.completed = at(static_cast<int64_t>(10 * i + 5));
    a.outcome = AppendOutcome::ok;
    a.id = i;
    h.appends.push_back(a);
    h.reads.push_back(ReadRecord{3, 1, i, 100 + i, at(static_cast<int64_t>(10 * i + 7))});
  }
  h.final_log.ended = true;
  h.final_log.read_ok = true;
  h.final_log.at = at(100);
  for (uint64_t i = 0; i < 4; ++i) {
    h.final_log.ids.push_back(i);
    h.final_log.payload_hashes.push_back(100 + i);
  }
  return h;
}

// Drops ids below `point` from the final log, as a truncation there and GC would.
void truncate_final_log(History& h, EntryId point) {
  h.truncations.push_back(TruncateRecord{4, point, at(60), at(61), AppendOutcome::ok, {}});
  FinalLog& log = h.final_log;
  while (!log.ids.empty() && log.ids.front() < point) {
    log.ids.erase(log.ids.begin());
    log.payload_hashes.erase(log.payload_hashes.begin());
  }
  log.first_kept = point;
}

std::vector<std::string> names(const History& h) {
  std::vector<std::string> out;
  for (const Anomaly& a : check_safety(h)) out.push_back(a.name);
  return out;
}

bool has(const History& h, const std::string& name) {
  const auto all = names(h);
  return std::find(all.begin(), all.end(), name) != all.end();
}

TEST(checkers, a_correct_history_passes_with_and_without_truncation) {
  History h = correct_history();
  EXPECT_TRUE(names(h).empty());
  truncate_final_log(h, 2);
  EXPECT_TRUE(names(h).empty());
}

// The blind spot the whole-history rules close: id 1 lost, acknowledged again to other bytes,
// then truncated away. The final log alone looks fine.
TEST(checkers, an_id_acknowledged_twice_is_found_after_truncation) {
  History h = correct_history();
  h.reads.erase(h.reads.begin() + 1, h.reads.end());
  AppendRecord again = h.appends[1];
  again.payload_hash = 999;
  again.invoked = at(41);
  again.completed = at(45);
  h.appends.push_back(again);
  truncate_final_log(h, 2);
  EXPECT_TRUE(has(h, "conflicting_ack"));
  EXPECT_FALSE(has(h, "lost_write"));  // the final-log rule alone would pass it
}

TEST(checkers, reads_of_one_id_must_agree_for_the_whole_run) {
  History h = correct_history();
  h.reads.push_back(ReadRecord{3, 2, 1, 555, at(50)});  // id 1, other bytes, later session
  truncate_final_log(h, 2);
  EXPECT_TRUE(has(h, "divergent_read"));
  EXPECT_TRUE(has(h, "phantom_read"));  // and nobody sent those bytes
}

TEST(checkers, an_entry_read_at_two_ids_is_a_duplicate) {
  History h = correct_history();
  h.reads.push_back(ReadRecord{3, 2, 4, 102, at(50)});
  h.final_log.read_ok = false;  // judged on the reads alone
  EXPECT_TRUE(has(h, "duplicate_entry"));
}

TEST(checkers, an_acknowledged_entry_read_at_another_id_moved) {
  History h = correct_history();
  h.reads[2].id = 3;
  h.reads[3].id = 2;
  h.final_log.read_ok = false;  // judged on the reads alone
  EXPECT_TRUE(has(h, "moved_write"));
}

TEST(checkers, a_read_before_its_append_was_invoked_is_premature) {
  History h = correct_history();
  h.reads[2].at = at(20);  // id 2 was invoked at 21
  EXPECT_TRUE(has(h, "premature_read"));
}

TEST(checkers, an_append_invoked_after_a_read_gets_a_higher_id) {
  History h = correct_history();
  // Id 3 was read at 37; an append invoked at 38 (unknown outcome) shows up at id 3's place.
  std::swap(h.appends[3].payload_hash, h.appends[2].payload_hash);
  h.appends[3].outcome = AppendOutcome::failed_unknown;
  h.appends[2].outcome = AppendOutcome::failed_unknown;
  h.appends[3].invoked = at(38);
  h.reads.pop_back();
  h.final_log.read_ok = false;
  EXPECT_TRUE(has(h, "order_violation"));
}

TEST(checkers, truncation_never_removes_more_than_asked) {
  History h = correct_history();
  truncate_final_log(h, 2);
  EXPECT_TRUE(names(h).empty());
  h.truncations.front().point = 1;
  EXPECT_TRUE(has(h, "over_truncation"));
  // A truncation that failed definitely did not happen; one with an unknown outcome may have.
  h.truncations.push_back(TruncateRecord{4, 2, at(70), at(71), AppendOutcome::failed_definite,
                                         "no"});
  EXPECT_TRUE(has(h, "over_truncation"));
  h.truncations.back().outcome = AppendOutcome::failed_unknown;
  EXPECT_FALSE(has(h, "over_truncation"));
}

TEST(checkers, every_id_below_the_end_needs_an_append_that_can_have_written_it) {
  History h = correct_history();
  h.appends[0].outcome = AppendOutcome::failed_unknown;
  h.reads.erase(h.reads.begin());
  truncate_final_log(h, 1);
  EXPECT_TRUE(names(h).empty());  // id 0: the unknown append may have written it
  h.appends[0].outcome = AppendOutcome::failed_definite;
  EXPECT_TRUE(has(h, "phantom_entry"));  // id 0 exists, but its only candidate never happened
}

// Ids 2..3 truncated unread: writer #1's unknown appends may have written them, but not if
// those were invoked after id 4 existed, or came from a writer fenced before id 1.
TEST(checkers, unclaimed_ids_need_a_writer_of_the_right_epoch_and_time) {
  History h = correct_history();
  h.opens.push_back(WriterOpenRecord{2, 2, 2, at(50)});
  for (uint64_t i = 0; i < 2; ++i) {
    AppendRecord a = h.appends[0];
    a.writer_index = 2;
    a.epoch = 2;
    a.payload_hash = 200 + i;
    a.invoked = at(static_cast<int64_t>(51 + i));
    a.completed = at(static_cast<int64_t>(55 + i));
    a.id = 4 + i;
    h.appends.push_back(a);
    h.final_log.ids.push_back(4 + i);
    h.final_log.payload_hashes.push_back(200 + i);
  }
  h.appends[2].outcome = AppendOutcome::abandoned;
  h.appends[3].outcome = AppendOutcome::abandoned;
  h.reads.resize(2);
  truncate_final_log(h, 4);
  EXPECT_TRUE(names(h).empty());
  h.appends[3].invoked = at(56);  // after id 4 was acknowledged (55): too late for id 3
  EXPECT_TRUE(has(h, "phantom_entry"));
  h.appends[3].invoked = at(31);
  h.appends[3].epoch = 0;         // a writer older than id 1's: fenced before
  EXPECT_TRUE(has(h, "phantom_entry"));
}

TEST(checkers, a_fenced_writer_acknowledging_is_found_even_if_nobody_sees_the_entry) {
  History h = correct_history();
  h.opens.push_back(WriterOpenRecord{2, 2, 2, at(20)});
  h.reads.erase(h.reads.begin() + 2, h.reads.end());
  truncate_final_log(h, 4);
  EXPECT_TRUE(has(h, "fenced_write_acknowledged"));  // ids 2 and 3 were invoked after 20
  EXPECT_FALSE(has(h, "fenced_write_visible"));
  h.reads.push_back(ReadRecord{3, 1, 2, 102, at(27)});
  EXPECT_TRUE(has(h, "fenced_write_visible"));
}

TEST(checkers, a_definite_failure_a_reader_saw_is_visible) {
  History h = correct_history();
  h.appends[1].outcome = AppendOutcome::failed_definite;
  truncate_final_log(h, 2);
  EXPECT_TRUE(has(h, "definite_failure_visible"));
}

TEST(checkers, history_rules_run_without_a_final_log) {
  History h = correct_history();
  h.final_log = FinalLog{};  // the heal stopped early: a liveness failure
  EXPECT_TRUE(names(h).empty());
  h.appends[3].id = 2;
  EXPECT_TRUE(has(h, "conflicting_ack"));
}

}  // namespace
}  // namespace wal::sim
