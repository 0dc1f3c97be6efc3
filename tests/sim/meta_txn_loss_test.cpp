// The aimed etcd fault meta_txn_lost in the swarm (faults/swarm.cpp): drawn from its own stream,
// so a seed's other events are unchanged, and aimed at every kind of record txn.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

#include "faults/schedule.h"
#include "faults/swarm.h"

namespace wal::sim {
namespace {

using faults::Event;
using faults::EventKind;

// With the family on, the schedule is the family-off schedule plus the family's own events
// (ids after all others). Shown to fail by adding the family before the GC-overlap family
// (whose passes after writer opens then also follow the rival opens).
TEST(meta_txn_loss, the_family_adds_events_and_moves_no_other_event) {
  const faults::WorldShape shape;
  uint32_t seeds_with_family = 0;
  std::set<uint32_t> magnitudes;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    const faults::SwarmDraw draw = faults::draw_swarm(seed);
    if (draw.meta_txn_loss_interval_ms == 0) continue;
    ++seeds_with_family;
    SCOPED_TRACE("seed " + std::to_string(seed) + ": " + draw.describe());
    faults::SwarmDraw off = draw;
    off.meta_txn_loss_interval_ms = 0;
    const Duration phase = std::chrono::seconds(20);
    const faults::Schedule with = faults::swarm_schedule(seed, draw, shape, phase);
    const faults::Schedule without = faults::swarm_schedule(seed, off, shape, phase);
    uint32_t id_max = 0;
    for (const Event& e : without.events) id_max = std::max(id_max, e.id);
    faults::Schedule others;
    uint32_t losses = 0;
    for (const Event& e : with.events) {
      if (e.id <= id_max) others.events.push_back(e);
      if (e.kind != EventKind::meta_txn_lost) continue;
      ++losses;
      EXPECT_GE(e.node, 1u);
      EXPECT_LE(e.node, shape.writer_nodes);
      magnitudes.insert(e.magnitude);
    }
    EXPECT_EQ(others, without);
    EXPECT_GT(losses, 0u);
  }
  EXPECT_GE(seeds_with_family, 10u);  // a swarm family: on for about half the seeds
  // Every target, reply and request side: epoch bump, create and seal (1-3), plus 4.
  for (const uint32_t magnitude : {1u, 2u, 3u, 5u, 6u, 7u}) {
    EXPECT_TRUE(magnitudes.contains(magnitude)) << magnitude;
  }
}

TEST(meta_txn_loss, schedules_round_trip_through_json) {
  faults::Schedule schedule;
  Event e;
  e.id = 1;
  e.kind = EventKind::meta_txn_lost;
  e.node = 2;
  e.duration = std::chrono::milliseconds(1500);
  e.magnitude = 3 | faults::meta_txn_request_lost_flag;
  schedule.events.push_back(e);
  const std::string json = faults::to_json(schedule);
  EXPECT_NE(json.find("\"meta_txn_lost\""), std::string::npos) << json;
  Result<faults::Schedule> parsed = faults::schedule_from_json(json);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(*parsed, schedule);
  EXPECT_EQ(faults::meta_txn_target(e.magnitude), faults::MetaTxnTarget::seal);
}

}  // namespace
}  // namespace wal::sim
