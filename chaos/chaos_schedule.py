"""The faults of a wp-chaos run and the schedule a seed draws (chaos/README.md).

A schedule is a list of steps, each: wait `gap_s` after the previous fault healed, inject
`fault` on `target` for `hold_s`, heal. Drawing is seeded (random.Random(seed)), so a seed
fixes which fault comes when and where; how long a real heal takes is not fixed, which is why
gaps count from the previous heal. Kinds come in seeded permutations, so every enabled kind
recurs about equally often even in short runs.
"""
import random

# name -> (what it does, for --help)
FAULTS = {
    "logstore_kill": "SIGKILL a LogStore, restart it on its journals after hold_s",
    "logstore_pause": "SIGSTOP a LogStore for hold_s (past the writer's 2 s RPC deadline), "
                      "then SIGCONT",
    "logstore_wipe": "SIGKILL a LogStore, delete its journals, restart it (it comes back in "
                     "limbo for what it held); one at a time: the next wipe waits until the "
                     "segments that existed at this one are sealed and uploaded",
    "writer_kill": "SIGKILL the writer process and start a new one at once (the new writer "
                   "fences the old one's epoch and recovers its open segment)",
    "writer_takeover": "start a new writer process while the old one still appends: the old "
                       "one must be fenced (its appends fail; none it acknowledges after the "
                       "takeover may be lost); it stops when fenced",
    "etcd_leader_kill": "SIGKILL the etcd leader (of 3 members), restart it after hold_s",
    "etcd_member_pause": "SIGSTOP an etcd member (of 3) for hold_s, then SIGCONT",
    "s3_kill": "SIGKILL the S3 server's gateway (Ceph RGW; its objects live on in the OSD) and "
               "restart it on the same port after hold_s",
    "net_delay": "TCP fault proxy: every byte on one link (to a LogStore, or to S3) arrives "
                 "delay_ms (50-800) late for hold_s",
    "net_stall": "TCP fault proxy: nothing moves on one link for hold_s (past the 2 s RPC "
                 "deadline); what waited is delivered after the heal, so requests their "
                 "client gave up on may still land",
    "net_reset": "TCP fault proxy: reset every connection of one link, and each new one, for "
                 "hold_s",
    "takeover_lagging_replica": "TCP fault proxy: delay the connections open now to one "
                                "LogStore by delay_ms (200-1200, below the RPC deadline), so "
                                "the writer's adds reach it late; 0.5 s later a new writer "
                                "process takes over, its own connection undelayed (its fence "
                                "overtakes the old writer's adds); heal after hold_s",
    "disk_full": "fill logstore-4's journal disk (a 64 MiB tmpfs; mounting it needs root) for "
                 "hold_s, then free it: its journal writes fail with no space meanwhile "
                 "(first waits up to 10 s for it to hold an open segment)",
}
ETCD_FAULTS = ("etcd_leader_kill", "etcd_member_pause")
LOGSTORE_FAULTS = ("logstore_kill", "logstore_pause", "logstore_wipe", "disk_full",
                   "takeover_lagging_replica")
NET_FAULTS = ("net_delay", "net_stall", "net_reset", "takeover_lagging_replica")
S3_FAULTS = ("s3_kill",)
DISK_FULL_TARGET = 4  # the LogStore whose journals live on the small tmpfs

# hold_s range per kind: long enough to matter, short enough for a few of each in a minute.
HOLD_S = {
    "logstore_kill": (0.5, 2.0),
    "logstore_pause": (2.5, 4.0),
    "logstore_wipe": (0.2, 1.0),
    "writer_kill": (0.0, 0.0),
    "writer_takeover": (0.0, 0.0),
    "etcd_leader_kill": (0.5, 2.0),
    "etcd_member_pause": (1.0, 3.0),
    "s3_kill": (0.5, 3.0),
    "net_delay": (2.0, 5.0),
    "net_stall": (2.5, 4.0),
    "net_reset": (0.2, 2.0),
    "disk_full": (1.0, 4.0),
    "takeover_lagging_replica": (1.0, 3.0),
}
DELAY_MS = (50, 800)
LAGGING_DELAY_MS = (200, 1200)
GAP_S = (1.0, 3.0)


def parse_faults(text):
    """'a,b' -> ['a', 'b']; raises ValueError naming an unknown fault."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError("--faults: no fault named (choose from %s)" % ", ".join(FAULTS))
    for name in names:
        if name not in FAULTS:
            raise ValueError("--faults: no fault '%s' (choose from %s)"
                             % (name, ", ".join(FAULTS)))
    return sorted(set(names), key=list(FAULTS).index)


def draw_target(rng, kind, logstores, links):
    if kind.startswith("writer_"):
        return "writer"
    if kind == "takeover_lagging_replica":
        return "logstore-%d" % rng.randint(1, logstores)
    if kind in NET_FAULTS:
        return rng.choice(links)
    if kind == "s3_kill":
        return "s3"
    if kind == "disk_full":
        return "logstore-%d" % DISK_FULL_TARGET
    if kind == "etcd_leader_kill":
        return "etcd-leader"  # which member leads is known only when the fault lands
    if kind == "etcd_member_pause":
        return "etcd-%d" % rng.randint(1, 3)
    return "logstore-%d" % rng.randint(1, logstores)


def draw_schedule(seed, faults, duration_s, logstores, links=()):
    """The steps of a run: enough to fill duration_s if every heal were instant. `links`: the
    proxied links a network fault may hit ("logstore-N", "s3")."""
    rng = random.Random(seed)
    steps = []
    planned_s = 0.0
    while planned_s < duration_s:
        kinds = list(faults)
        rng.shuffle(kinds)
        for kind in kinds:
            low, high = HOLD_S[kind]
            step = {
                "fault": kind,
                "gap_s": round(rng.uniform(*GAP_S), 3),
                "hold_s": round(rng.uniform(low, high), 3),
                "target": draw_target(rng, kind, logstores, links),
            }
            if kind == "net_delay":
                step["delay_ms"] = rng.randint(*DELAY_MS)
            if kind == "takeover_lagging_replica":
                step["delay_ms"] = rng.randint(*LAGGING_DELAY_MS)
            steps.append(step)
            planned_s += step["gap_s"] + step["hold_s"]
    return steps
