#include "faults/swarm.h"

#include <fmt/core.h>

#include "wal/env/random.h"

namespace wal::faults {

namespace {

using std::chrono::milliseconds;

// A family is on with probability 1/2; when on, its mean interval is drawn log-uniformly-ish
// between `low` and `high` ms.
uint32_t draw_interval(Random& random, uint32_t low, uint32_t high) {
  if (random.below(2) == 0) return 0;
  const uint32_t spans[] = {low, (low + high) / 4, (low + high) / 2, high};
  return spans[random.below(4)];
}

// Exponential-ish gaps from integers only: uniform in [mean/2, 3*mean/2].
Duration next_gap(Random& random, uint32_t mean_ms) {
  return milliseconds(mean_ms / 2 + random.below(mean_ms + 1));
}

struct Builder {
  Schedule schedule;
  uint32_t next_id = 1;
  Event& add(Duration at, EventKind kind) {
    Event e;
    e.id = next_id++;
    e.at = at;
    e.kind = kind;
    schedule.events.push_back(e);
    return schedule.events.back();
  }
};

void add_workload(Builder& b, Random& random, const SwarmDraw& draw, WorldShape shape,
                  Duration phase) {
  uint32_t current_writer = 1;
  b.add(Duration{0}, EventKind::open_writer).node = current_writer;
  for (Duration t = milliseconds(1); t < phase; t += next_gap(random, draw.append_interval_ms)) {
    Event& e = b.add(t, EventKind::append);
    // Mostly the current writer; sometimes a stale one keeps trying (a zombie).
    e.node = random.below(8) == 0 ? static_cast<uint32_t>(1 + random.below(shape.writer_nodes))
                                  : current_writer;
    e.count = static_cast<uint32_t>(1 + random.below(draw.append_batch_max));
  }
  if (draw.takeover_interval_ms != 0) {
    for (Duration t = next_gap(random, draw.takeover_interval_ms); t < phase;
         t += next_gap(random, draw.takeover_interval_ms)) {
      current_writer = current_writer % shape.writer_nodes + 1;
      b.add(t, EventKind::open_writer).node = current_writer;
    }
  }
  if (draw.truncate_interval_ms != 0) {
    for (Duration t = next_gap(random, draw.truncate_interval_ms); t < phase;
         t += next_gap(random, draw.truncate_interval_ms)) {
      b.add(t, EventKind::truncate).count = static_cast<uint32_t>(1 + random.below(300));
      b.add(t + milliseconds(1 + random.below(500)), EventKind::collect_garbage);
    }
  }
}

template <typename Fill>
void add_family(Builder& b, Random& random, uint32_t interval_ms, Duration phase, EventKind kind,
                Fill fill) {
  if (interval_ms == 0) return;
  for (Duration t = next_gap(random, interval_ms); t < phase; t += next_gap(random, interval_ms)) {
    fill(b.add(t, kind));
  }
}

void add_quorum_families(Builder& b, uint64_t seed, const SwarmDraw& draw, WorldShape shape,
                         Duration phase) {
  Xoshiro256 random(derive_seed(seed, 0x9a0a5c4e));  // "quorum schedule"
  auto logstore = [&] { return shape.first_logstore() + static_cast<uint32_t>(random.below(shape.logstore_nodes)); };
  add_family(b, random, draw.logstore_crash_interval_ms, phase, EventKind::crash, [&](Event& e) {
    e.node = logstore();
    e.duration = milliseconds(10 + random.below(2000));
  });
  add_family(b, random, draw.disk_wipe_interval_ms, phase, EventKind::disk_wipe, [&](Event& e) {
    e.node = logstore();
    e.duration = milliseconds(10 + random.below(2000));
  });
  add_family(b, random, draw.net_partition_interval_ms, phase, EventKind::net_partition,
             [&](Event& e) {
               e.node = static_cast<uint32_t>(1 + random.below(shape.node_count()));
               e.duration = milliseconds(100 + random.below(3000));
               e.magnitude = static_cast<uint32_t>(random.below(2));
             });
  add_family(b, random, draw.net_chaos_interval_ms, phase, EventKind::net_chaos, [&](Event& e) {
    e.duration = milliseconds(100 + random.below(3000));
    e.magnitude = static_cast<uint32_t>(10'000 + random.below(200'000));
  });
  add_family(b, random, draw.slow_fsync_interval_ms, phase, EventKind::slow_fsync, [&](Event& e) {
    e.node = logstore();
    e.duration = milliseconds(100 + random.below(3000));
    e.magnitude = static_cast<uint32_t>(5 + random.below(500));
  });
  add_family(b, random, draw.restart_all_interval_ms, phase, EventKind::logstores_restart,
             [&](Event& e) { e.duration = milliseconds(10 + random.below(1000)); });
  add_family(b, random, draw.logstore_meta_partition_interval_ms, phase,
             EventKind::meta_partition, [&](Event& e) {
               e.node = logstore();
               e.duration = milliseconds(100 + random.below(3000));
             });
}

// Overlapping GC passes, the shape of keyed seed 19094 (docs/protocol.md, G1): a pass that is
// still sweeping (S3 is slow) while the truncation point moves and a second pass, on another
// node, deletes what the first one is marking; and passes racing a writer's recovery. Every
// node with a client may run GC (writers, readers, the admin), so crashes interrupt passes too.
void add_gc_overlap(Builder& b, uint64_t seed, const SwarmDraw& draw, WorldShape shape,
                    Duration phase) {
  if (draw.gc_overlap_interval_ms == 0) return;
  Xoshiro256 random(derive_seed(seed, 0x6c0e1a9e));  // "gc overlap schedule"
  auto client = [&] { return static_cast<uint32_t>(1 + random.below(shape.admin_node())); };
  auto add_pass = [&](Duration at) {
    Event& e = b.add(at, EventKind::collect_garbage);
    e.node = client();
    e.magnitude = random.below(4) == 0 ? 1 : 0;  // now and then a full pass
  };
  // Writers open (recovering the previous one's segment) at takeovers and after restarts.
  std::vector<Duration> recoveries;
  for (const Event& e : b.schedule.events) {
    if (e.kind == EventKind::open_writer && e.at > Duration{0}) recoveries.push_back(e.at);
    if (e.kind == EventKind::crash && e.node <= shape.writer_nodes) {
      recoveries.push_back(e.at + e.duration);
    }
  }
  for (Duration t = next_gap(random, draw.gc_overlap_interval_ms); t < phase;
       t += next_gap(random, draw.gc_overlap_interval_ms)) {
    add_pass(t);
    b.add(t + milliseconds(random.below(20)), EventKind::truncate).count =
        static_cast<uint32_t>(1 + random.below(300));
    add_pass(t + milliseconds(random.below(40)));
  }
  for (Duration at : recoveries) {
    if (at < phase && random.below(2) == 0) add_pass(at + milliseconds(random.below(30)));
  }
}

// One meta_txn_lost event on `node` at `at`: the next txn of `target` loses its reply (a quarter
// of the time its request), within a window long enough for a slow recovery to reach it.
void add_txn_loss(Builder& b, Random& random, Duration at, uint32_t node, MetaTxnTarget target) {
  Event& e = b.add(at, EventKind::meta_txn_lost);
  e.node = node;
  e.duration = milliseconds(1000 + random.below(4000));
  e.magnitude =
      static_cast<uint32_t>(target) | (random.below(4) == 0 ? meta_txn_request_lost_flag : 0);
}

// Unknown outcomes on the writer's record txns (epoch bump, create, seal), which random etcd
// faults almost never hit: the settle-by-reading paths behind them (coverage marks
// epoch_settled_as_*, create_*, seal_settled_as_ours) need a loss aimed at the txn, and the
// "read back as another's" branches need a competing writer opening while the loser waits for
// its deadline.
void add_meta_txn_losses(Builder& b, uint64_t seed, const SwarmDraw& draw, WorldShape shape,
                         Duration phase) {
  if (draw.meta_txn_loss_interval_ms == 0) return;
  Xoshiro256 random(derive_seed(seed, 0x7a1e5e11));  // "aimed txn loss schedule"
  struct Open {
    Duration at;
    uint32_t node;
  };
  std::vector<Open> opens;  // writer opens: scheduled ones and restarts after crashes
  for (const Event& e : b.schedule.events) {
    if (e.kind == EventKind::open_writer) opens.push_back({e.at, e.node});
    if (e.kind == EventKind::crash && e.node <= shape.writer_nodes) {
      opens.push_back({e.at + e.duration, e.node});
    }
  }
  for (const Open& open : opens) {
    if (open.at >= phase || random.below(2) == 0) continue;
    const auto target = static_cast<MetaTxnTarget>(1 + random.below(3));
    add_txn_loss(b, random, open.at, open.node, target);
    if (shape.writer_nodes < 2 || random.below(3) != 0) continue;
    // A competing writer opens while the loser waits for its deadline; the loser opens again
    // later, so the workload's current writer is the same afterwards.
    const Duration rival_at = open.at + milliseconds(50 + random.below(2500));
    b.add(rival_at, EventKind::open_writer).node = open.node % shape.writer_nodes + 1;
    b.add(rival_at + milliseconds(3000 + random.below(3000)), EventKind::open_writer).node =
        open.node;
  }
  for (Duration t = next_gap(random, draw.meta_txn_loss_interval_ms); t < phase;
       t += next_gap(random, draw.meta_txn_loss_interval_ms)) {
    const auto node = static_cast<uint32_t>(1 + random.below(shape.writer_nodes));
    const MetaTxnTarget target =
        random.below(2) == 0 ? MetaTxnTarget::seal : MetaTxnTarget::segment_create;
    add_txn_loss(b, random, t, node, target);
  }
}

}  // namespace

std::string SwarmDraw::describe() const {
  auto family = [](const char* name, uint32_t ms) {
    return ms == 0 ? fmt::format("{}=off", name) : fmt::format("{}=~{}ms", name, ms);
  };
  return fmt::format("appends every ~{}ms (batch <= {}); {} {} {} {} {} {} {} {} {} {} {} {} {}",
                     append_interval_ms, append_batch_max, family("takeover", takeover_interval_ms),
                     family("crash", crash_interval_ms),
                     family("etcd-partition", meta_partition_interval_ms),
                     family("leader-change", leader_change_interval_ms),
                     family("compaction", compaction_interval_ms),
                     family("s3-latency", s3_latency_interval_ms),
                     family("s3-errors", s3_error_interval_ms),
                     family("s3-timeouts", s3_timeout_interval_ms),
                     family("s3-outage", s3_outage_interval_ms),
                     family("get-corruption", get_corruption_interval_ms),
                     family("truncate", truncate_interval_ms),
                     family("gc-overlap", gc_overlap_interval_ms),
                     family("etcd-txn-loss", meta_txn_loss_interval_ms)) +
         (logstore_crash_interval_ms + disk_wipe_interval_ms + net_partition_interval_ms +
                      net_chaos_interval_ms + slow_fsync_interval_ms + restart_all_interval_ms +
                      logstore_meta_partition_interval_ms ==
                  0
              ? std::string()
              : fmt::format(
                    "; {} {} {} {} {} {} {}", family("logstore-crash", logstore_crash_interval_ms),
                    family("disk-wipe", disk_wipe_interval_ms),
                    family("net-partition", net_partition_interval_ms),
                    family("net-chaos", net_chaos_interval_ms),
                    family("slow-fsync", slow_fsync_interval_ms),
                    family("restart-all", restart_all_interval_ms),
                    family("logstore-etcd-partition", logstore_meta_partition_interval_ms)));
}

SwarmDraw draw_swarm(uint64_t seed, bool quorum) {
  Xoshiro256 random(derive_seed(seed, 0x5377a4d));  // "swarm"
  SwarmDraw draw;
  const uint32_t append_intervals[] = {10, 25, 50, 200};
  draw.append_interval_ms = append_intervals[random.below(4)];
  const uint32_t batches[] = {1, 4, 16, 32};
  draw.append_batch_max = batches[random.below(4)];
  draw.takeover_interval_ms = draw_interval(random, 500, 8000);
  draw.crash_interval_ms = draw_interval(random, 500, 8000);
  draw.meta_partition_interval_ms = draw_interval(random, 1000, 8000);
  draw.leader_change_interval_ms = draw_interval(random, 1000, 10000);
  draw.compaction_interval_ms = draw_interval(random, 1000, 10000);
  draw.s3_latency_interval_ms = draw_interval(random, 500, 8000);
  draw.s3_error_interval_ms = draw_interval(random, 500, 8000);
  draw.s3_timeout_interval_ms = draw_interval(random, 500, 8000);
  draw.s3_outage_interval_ms = draw_interval(random, 2000, 15000);
  draw.get_corruption_interval_ms = draw_interval(random, 1000, 8000);
  draw.truncate_interval_ms = draw_interval(random, 1000, 8000);
  if (quorum) {
    Xoshiro256 q(derive_seed(seed, 0x9a0a));  // "quorum"
    draw.logstore_crash_interval_ms = draw_interval(q, 500, 6000);
    draw.disk_wipe_interval_ms = draw_interval(q, 2000, 15000);
    draw.net_partition_interval_ms = draw_interval(q, 1000, 8000);
    draw.net_chaos_interval_ms = draw_interval(q, 1000, 8000);
    draw.slow_fsync_interval_ms = draw_interval(q, 1000, 8000);
    draw.restart_all_interval_ms = draw_interval(q, 1000, 8000);
    draw.logstore_meta_partition_interval_ms = draw_interval(q, 1000, 8000);
  }
  Xoshiro256 gc(derive_seed(seed, 0x6c0e));  // "gc overlap"
  draw.gc_overlap_interval_ms = draw_interval(gc, 300, 4000);
  Xoshiro256 aim(derive_seed(seed, 0x7a1e));  // "aimed txn loss"
  draw.meta_txn_loss_interval_ms = draw_interval(aim, 1000, 8000);
  return draw;
}

Schedule swarm_schedule(uint64_t seed, const SwarmDraw& draw, WorldShape shape, Duration phase) {
  Xoshiro256 random(derive_seed(seed, 0x5c4ed01e));  // "schedule"
  Builder b;
  add_workload(b, random, draw, shape, phase);
  const uint32_t nodes_with_processes = shape.writer_nodes + shape.reader_nodes;
  add_family(b, random, draw.crash_interval_ms, phase, EventKind::crash, [&](Event& e) {
    e.node = static_cast<uint32_t>(1 + random.below(nodes_with_processes));
    e.duration = milliseconds(10 + random.below(2000));
  });
  add_family(b, random, draw.meta_partition_interval_ms, phase, EventKind::meta_partition,
             [&](Event& e) {
               e.node = static_cast<uint32_t>(1 + random.below(nodes_with_processes));
               e.duration = milliseconds(100 + random.below(3000));
             });
  add_family(b, random, draw.leader_change_interval_ms, phase, EventKind::meta_leader_change,
             [](Event&) {});
  add_family(b, random, draw.compaction_interval_ms, phase, EventKind::meta_compact, [](Event&) {});
  add_family(b, random, draw.s3_latency_interval_ms, phase, EventKind::s3_latency_spike,
             [&](Event& e) {
               e.duration = milliseconds(100 + random.below(3000));
               e.magnitude = static_cast<uint32_t>(50 + random.below(2000));
             });
  add_family(b, random, draw.s3_error_interval_ms, phase, EventKind::s3_errors, [&](Event& e) {
    e.duration = milliseconds(100 + random.below(3000));
    e.magnitude = static_cast<uint32_t>(50'000 + random.below(500'000));
  });
  add_family(b, random, draw.s3_timeout_interval_ms, phase, EventKind::s3_timeouts, [&](Event& e) {
    e.duration = milliseconds(100 + random.below(3000));
    e.magnitude = static_cast<uint32_t>(50'000 + random.below(500'000));
  });
  add_family(b, random, draw.s3_outage_interval_ms, phase, EventKind::s3_outage, [&](Event& e) {
    e.duration = milliseconds(100 + random.below(4000));
  });
  add_family(b, random, draw.get_corruption_interval_ms, phase, EventKind::s3_get_corruption,
             [&](Event& e) {
               e.duration = milliseconds(100 + random.below(3000));
               e.magnitude = static_cast<uint32_t>(100'000 + random.below(500'000));
             });
  if (shape.logstore_nodes > 0) add_quorum_families(b, seed, draw, shape, phase);
  add_gc_overlap(b, seed, draw, shape, phase);
  add_meta_txn_losses(b, seed, draw, shape, phase);  // last: every other event keeps its id
  sort_events(b.schedule);
  return b.schedule;
}

Schedule workload_schedule(uint64_t seed, WorldShape shape, Duration phase) {
  Xoshiro256 random(derive_seed(seed, 0x5c4ed01e));
  SwarmDraw draw;
  draw.append_interval_ms = 20;
  draw.append_batch_max = 16;
  draw.takeover_interval_ms = 0;
  Builder b;
  add_workload(b, random, draw, shape, phase);
  sort_events(b.schedule);
  return b.schedule;
}

}  // namespace wal::faults
