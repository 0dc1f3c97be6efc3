// LogClient mutations (truncate, create_log) whose MetaStore txns time out: the outcome is
// settled by reading when it can be, and an error reported after an attempt that may still land
// says Outcome::unknown (wal/log/log_client.h). Txns meet their fates through a
// ScriptedMetaStore; a held txn lands late, at the next txn on the same key.
#include <gtest/gtest.h>

#include "tests/support/forwarding_stores.h"
#include "tests/support/scripted_meta_store.h"
#include "tests/support/wal_fixture.h"
#include "wal/log/retry.h"

namespace wal::testing {
namespace {

using Fate = ScriptedMetaStore::Fate;

// Every attempt but the last is lost; the last one meets `last`.
std::vector<Fate> all_lost_but_last(Fate last) {
  std::vector<Fate> fates(limits::read_attempts_max - 1, Fate::lose_then_timeout);
  fates.push_back(last);
  return fates;
}

struct ClientOutcomeFixture {
  ClientOutcomeFixture() {
    auto info = f.run(f.client.create_log("t"));
    WAL_ASSERT(info.ok());
    keys = f.client.keys_for(*info);
    // Entries to truncate: a truncation past the end is refused before any txn.
    auto writer = append_and_wait(f, "t", 10);
    WAL_ASSERT(f.run(writer->close()).ok());
  }
  EntryId truncation_point() {
    auto kv = f.run(f.meta.get(keys.truncation_key()));
    WAL_ASSERT(kv.ok() && kv->has_value());
    auto record = decode_truncation(keys.truncation_key(), (**kv).value);
    WAL_ASSERT(record.ok());
    return record->first_kept_entry_id;
  }

  WalFixture f;
  ScriptedMetaStore scripted{f.meta};
  Env env{f.loop, f.loop, f.random, f.faults, &f.slow_objects, &scripted, nullptr, nullptr};
  LogClient client{env};
  LogKeys keys;
};

// The last attempt landed and only its reply was lost: the read after it settles it as done.
TEST(log_client_outcome, a_truncate_whose_last_attempt_landed_succeeds) {
  ClientOutcomeFixture t;
  t.scripted.script(t.keys.truncation_key(), all_lost_but_last(Fate::apply_then_timeout));
  Status truncated = t.f.run(t.client.truncate("t", 5));
  EXPECT_TRUE(truncated.ok()) << truncated.error().describe();
  EXPECT_EQ(t.scripted.scripted_count, limits::read_attempts_max);
  EXPECT_EQ(t.truncation_point(), 5u);
}

// The last attempt is still on its way when the retries give up: the error must say the
// truncation may happen, and it does, at the next txn on the key.
TEST(log_client_outcome, a_truncate_that_may_still_land_is_reported_unknown) {
  ClientOutcomeFixture t;
  t.scripted.script(t.keys.truncation_key(), all_lost_but_last(Fate::hold_then_timeout));
  Status truncated = t.f.run(t.client.truncate("t", 5));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code, Errc::unavailable);
  EXPECT_EQ(truncated.error().outcome, Outcome::unknown) << truncated.error().describe();
  EXPECT_EQ(t.truncation_point(), 0u);
  ASSERT_TRUE(t.f.run(t.client.truncate("t", 1)).ok());
  EXPECT_EQ(t.scripted.held_landed_count, 1u);
  EXPECT_EQ(t.truncation_point(), 5u);  // the "failed" truncation happened after all
}

// A refusal on the first attempt (no attempt in doubt) stays definite: only attempts that may
// land make the outcome unknown.
TEST(log_client_outcome, a_truncate_refused_before_any_doubt_is_definite) {
  ClientOutcomeFixture t;
  struct Refuse final : ForwardingMetaStore {
    using ForwardingMetaStore::ForwardingMetaStore;
    Task<Result<TxnResponse>> txn(TxnRequest) override {
      co_return make_error(Errc::permission_denied, "not allowed");
    }
  } refuse{t.f.meta};
  Env env{t.f.loop, t.f.loop, t.f.random, t.f.faults, &t.f.slow_objects, &refuse, nullptr,
          nullptr};
  LogClient client{env};
  Status truncated = t.f.run(client.truncate("t", 5));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().code, Errc::permission_denied);
  EXPECT_EQ(truncated.error().outcome, Outcome::definite);
}

// create_log whose last attempt is held: not found by the settling read, but it may still land
// with this call's log id, and it does: the next create of the name finds it.
TEST(log_client_outcome, a_create_that_may_still_land_is_reported_unknown) {
  ClientOutcomeFixture t;
  const LogKeys other{t.keys.meta_root, t.keys.object_root, "u", 0};
  t.scripted.script(other.log_key(), all_lost_but_last(Fate::hold_then_timeout));
  auto created = t.f.run(t.client.create_log("u"));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, Errc::unavailable);
  EXPECT_EQ(created.error().outcome, Outcome::unknown) << created.error().describe();
  EXPECT_EQ(t.f.run(t.f.client.get_log("u")).error().code, Errc::not_found);
  auto again = t.f.run(t.client.create_log("u"));
  EXPECT_EQ(t.scripted.held_landed_count, 1u);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);  // the first create happened
  EXPECT_TRUE(t.f.run(t.f.client.get_log("u")).ok());
}

}  // namespace
}  // namespace wal::testing
