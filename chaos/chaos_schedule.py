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
}
ETCD_FAULTS = ("etcd_leader_kill", "etcd_member_pause")
LOGSTORE_FAULTS = ("logstore_kill", "logstore_pause", "logstore_wipe")

# hold_s range per kind: long enough to matter, short enough for a few of each in a minute.
HOLD_S = {
    "logstore_kill": (0.5, 2.0),
    "logstore_pause": (2.5, 4.0),
    "logstore_wipe": (0.2, 1.0),
    "writer_kill": (0.0, 0.0),
    "writer_takeover": (0.0, 0.0),
    "etcd_leader_kill": (0.5, 2.0),
    "etcd_member_pause": (1.0, 3.0),
}
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


def draw_target(rng, kind, logstores):
    if kind.startswith("writer_"):
        return "writer"
    if kind == "etcd_leader_kill":
        return "etcd-leader"  # which member leads is known only when the fault lands
    if kind == "etcd_member_pause":
        return "etcd-%d" % rng.randint(1, 3)
    return "logstore-%d" % rng.randint(1, logstores)


def draw_schedule(seed, faults, duration_s, logstores):
    """The steps of a run: enough to fill duration_s if every heal were instant."""
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
                "target": draw_target(rng, kind, logstores),
            }
            steps.append(step)
            planned_s += step["gap_s"] + step["hold_s"]
    return steps
