#!/usr/bin/env python3
"""wp-chaos: runs of real processes under injected faults, judged by wp-lincheck.

  wp-chaos run --seed N [--duration-s S] [--faults a,b,...] --out DIR [options]

Starts a QuorumBuffer cluster (scripts/cluster.sh: etcd, 3 members when an etcd fault is
enabled; an object store; 4 wp-logstore daemons; the TCP fault proxy in front of the LogStores
and S3 when a network fault is enabled), writers and tailing readers (wp-chaos-client),
injects the faults of a schedule drawn from the seed, heals, waits for the
writers to finish and every segment to be sealed and uploaded, reads the whole log once more,
merges every process's events into one history (docs/history.md) and runs wp-lincheck on it.
DIR receives history.jsonl, schedule.json, faults.jsonl (what was injected, when), processes/
(each client's events and log), cluster/ (every server's log) and verdict.json. Exit: 0 the
history passed, 1 it did not (the command that repeats the schedule is printed), 2 the run
itself failed (bad arguments, a cluster that would not start).

Real runs are not bit-for-bit deterministic: the seed fixes the schedule (which fault, when
after the previous heal, on which LogStore), not how the OS interleaves the processes.
"""
import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chaos_history  # noqa: E402
import chaos_proxy  # noqa: E402
import chaos_schedule  # noqa: E402
from chaos_cluster import Clients, Cluster  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOG = "chaos"


def parse_args(argv):
    faults = "\n".join("  %s\n%s" % (k, textwrap.fill(v, 90, initial_indent=" " * 6,
                                                         subsequent_indent=" " * 6))
                       for k, v in chaos_schedule.FAULTS.items())
    parser = argparse.ArgumentParser(
        prog="wp-chaos", description=__doc__.split("\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="faults:\n" + faults)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"),
                        help="where wp, wp-logstore, wp-chaos-client, wp-lincheck are")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="one run (wp-chaos run --help)",
                         description=__doc__.split("\n", 1)[1], epilog="faults:\n" + faults,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--seed", type=int, required=True, help="draws the fault schedule")
    run.add_argument("--duration-s", type=float, default=60,
                     help="how long the writer appends and faults are injected (default 60)")
    run.add_argument("--faults", default="",
                     help="comma-separated faults to draw from (default: all that apply to "
                          "the mode, listed below)")
    run.add_argument("--out", required=True, help="folder for the run's files (must not exist)")
    run.add_argument("--readers", type=int, default=2, help="tailing reader processes")
    run.add_argument("--pace-ms", type=int, default=3, help="writer: pause between appends")
    run.add_argument("--window", type=int, default=16, help="writer: appends outstanding")
    run.add_argument("--mode", choices=["quorum", "memory"], default="quorum",
                     help="QuorumBuffer (default) or MemoryBuffer on the same etcd and object "
                          "store (LogStore faults do not apply; the default faults omit them)")
    run.add_argument("--objects", choices=["local", "rgw"], default=None,
                     help="object store of the cluster: a shared directory (local) or Ceph "
                          "RGW (default: rgw when an S3 or network fault is enabled, else "
                          "local)")
    run.add_argument("--writers", type=int, default=1,
                     help="writer processes at once (default 1). More than one: each one "
                          "that is fenced opens again after --refence-ms, fencing the other, "
                          "until the duration is over")
    run.add_argument("--refence-ms", type=int, default=1500,
                     help="with --writers > 1: how long a fenced writer waits before it takes "
                          "the log back (default 1500)")
    run.add_argument("--plant-bug", default="",
                     help="switch on this SimBug (wp-sim bugs) in every process: test builds")
    args = parser.parse_args(argv)
    for name, value, low, high in (("--duration-s", args.duration_s, 5, 86400),
                                   ("--readers", args.readers, 0, 16),
                                   ("--pace-ms", args.pace_ms, 0, 10000),
                                   ("--window", args.window, 1, 4096),
                                   ("--writers", args.writers, 1, 8),
                                   ("--refence-ms", args.refence_ms, 1, 600000)):
        if not low <= value <= high:
            parser.error("%s must be in %g..%g, got %g" % (name, low, high, value))
    return args


def say(clients, text):
    print("[%7.1fs] %s" % (clients.now_ns() / 1e9, text), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Run:
    def __init__(self, args):
        self.args = args
        memory = args.mode == "memory"
        local = args.objects == "local"
        if not args.faults:
            args.faults = ",".join(
                f for f in chaos_schedule.FAULTS
                if not (memory and f in chaos_schedule.LOGSTORE_FAULTS)
                and not (local and f in chaos_schedule.S3_FAULTS)
                and not (local and memory and f in chaos_schedule.NET_FAULTS))
        self.faults = chaos_schedule.parse_faults(args.faults)
        chosen = set(self.faults)
        if memory and chosen & set(chaos_schedule.LOGSTORE_FAULTS):
            raise ValueError("--faults: LogStore faults do not apply to --mode memory")
        if args.objects is None:
            s3_or_net = set(chaos_schedule.S3_FAULTS) | set(chaos_schedule.NET_FAULTS)
            args.objects = "rgw" if chosen & s3_or_net else "local"
        if args.objects == "local" and chosen & set(chaos_schedule.S3_FAULTS):
            raise ValueError("--faults: s3_kill needs an S3 server (--objects rgw)")
        # The links the TCP fault proxy stands in (none without a network fault).
        self.links = []
        if chosen & set(chaos_schedule.NET_FAULTS):
            if not memory:
                self.links += ["logstore-%d" % n for n in range(1, 5)]
            if args.objects == "rgw":
                self.links.append("s3")
            if not self.links:
                raise ValueError("--faults: network faults in --mode memory act on the S3 "
                                 "link: --objects rgw")
        self.out = os.path.abspath(args.out)
        self.build = os.path.abspath(args.build_dir)
        self.injected = []
        self.wipe_fence = None  # segments below this id must settle before the next wipe
        self.writer = None
        self.anomalies = []

    def repeat_command(self):
        a = self.args
        extra = " --plant-bug %s" % a.plant_bug if a.plant_bug else ""
        if a.writers > 1:
            extra += " --writers %d --refence-ms %d" % (a.writers, a.refence_ms)
        return ("wp-chaos run --seed %d --duration-s %g --mode %s --faults %s --readers %d "
                "--pace-ms %d --window %d --objects %s%s --out NEW_DIR"
                % (a.seed, a.duration_s, a.mode, ",".join(self.faults), a.readers, a.pace_ms,
                   a.window, a.objects, extra))

    def start_writer(self):
        """Starts a writer process; the writer faults act on the latest one."""
        until_ns = int(self.args.duration_s * 1e9)
        refence = ["--reopen-when-fenced-ms", str(self.args.refence_ms)] \
            if self.args.writers > 1 else []
        self.writer = self.clients.start(
            "writer", "--count", str(10**9), "--until-ns", str(until_ns),
            "--pace-ms", str(self.args.pace_ms), "--window", str(self.args.window), *refence)

    def inject(self, step):
        kind, hold = step["fault"], step["hold_s"]
        record = dict(step, start_ns=self.clients.now_ns())
        if kind.startswith("writer_"):
            record["old_process"] = self.writer
            if kind == "writer_kill":
                self.clients.kill(self.writer)
            self.start_writer()
            record["new_process"] = self.writer
        elif kind.startswith("etcd_"):
            self.inject_etcd(step, record)
        elif kind == "takeover_lagging_replica":
            link = step["target"]
            chaos_proxy.send(self.proxy_control, "delay %s %d old" % (link, step["delay_ms"]))
            time.sleep(0.5)
            record["old_process"] = self.writer
            self.start_writer()
            record["new_process"] = self.writer
            time.sleep(hold)
            chaos_proxy.send(self.proxy_control, "heal " + link)
        elif kind in chaos_schedule.NET_FAULTS:
            link = step["target"]
            verb = {"net_delay": "delay %s %d" % (link, step.get("delay_ms", 0)),
                    "net_stall": "stall " + link, "net_reset": "reset " + link}[kind]
            chaos_proxy.send(self.proxy_control, verb)
            time.sleep(hold)
            chaos_proxy.send(self.proxy_control, "heal " + link)
        elif kind == "s3_kill":
            self.cluster.kill_s3()
            time.sleep(hold)
            self.cluster.restart_s3()
        elif kind == "disk_full":
            n = int(step["target"].split("-")[1])
            # A full disk matters to a node that journals: wait (10 s at most) until the
            # writer's ensemble includes it.
            waited_from = time.monotonic()
            while (self.cluster.metric(n, "woodpecker_logstore_segments_open") or 0) == 0 \
                    and time.monotonic() - waited_from < 10:
                time.sleep(0.2)
            record["waited_for_open_segment_s"] = round(time.monotonic() - waited_from, 1)
            errors = "woodpecker_logstore_journal_write_errors_total"
            before = self.cluster.metric(n, errors)
            record["filled_bytes"] = self.cluster.fill_disk(n)
            time.sleep(hold)
            after = self.cluster.metric(n, errors)
            self.cluster.free_disk(n)
            if before is not None and after is not None:
                # 0 when no segment of the writer's had this node in its ensemble meanwhile
                record["journal_write_errors"] = int(after - before)
        else:
            n = int(step["target"].split("-")[1])
            if kind == "logstore_wipe" and self.wipe_fence is not None and \
                    not self.cluster.wait_settled(self.wipe_fence, 30):
                record["skipped"] = "the previous wipe's segments are not yet uploaded"
                return record
            if kind == "logstore_pause":
                self.cluster.pause(n)
                time.sleep(hold)
                self.cluster.resume(n)
            else:
                if kind == "logstore_wipe":
                    ids = [s[0] for s in self.cluster.segments()]
                    self.wipe_fence = max(ids) + 1 if ids else 0
                    self.cluster.wipe(n)
                else:
                    self.cluster.kill(n)
                time.sleep(hold)
                self.cluster.restart(n)
        record["healed_ns"] = self.clients.now_ns()
        return record

    def inject_etcd(self, step, record):
        if step["fault"] == "etcd_leader_kill":
            member = self.cluster.etcd("leader")
            record["member"] = int(member)
            self.cluster.etcd("kill", member)
            time.sleep(step["hold_s"])
            self.cluster.etcd("restart", member)
        else:
            pid_file = os.path.join("etcd", "m%s.pid" % step["target"].split("-")[1])
            self.cluster.signal_pid_file(pid_file, signal.SIGSTOP)
            time.sleep(step["hold_s"])
            self.cluster.signal_pid_file(pid_file, signal.SIGCONT)

    def start_proxy(self):
        """Starts the TCP fault proxy in front of self.links; returns {link: proxy port}."""
        ports = {link: free_port() for link in self.links}
        self.proxy_control = os.path.join(self.out, "proxy.sock")
        ready = os.path.join(self.out, "proxy.ready")
        command = [sys.executable, os.path.join(ROOT, "chaos", "chaos_proxy.py"),
                   "--control", self.proxy_control, "--ready", ready]
        for link, port in ports.items():
            if link == "s3":
                upstream = "env:%s:S3_ENDPOINT" % os.path.join(self.cluster.dir, "rgw", "env")
            else:
                upstream = "file:%s" % os.path.join(
                    self.cluster.dir, "ls%s.listen_port" % link.split("-")[1])
            command += ["--link", "%s=%d=%s" % (link, port, upstream)]
        with open(os.path.join(self.out, "proxy.log"), "w") as log:
            self.proxy = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if self.proxy.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the TCP fault proxy did not start (%s)"
                                   % os.path.join(self.out, "proxy.log"))
            time.sleep(0.05)
        return ports

    def stop_proxy(self):
        try:
            self.proxy_stats = json.loads(chaos_proxy.send(self.proxy_control, "stats"))
        except (OSError, RuntimeError, ValueError):
            pass
        self.proxy.terminate()
        try:
            self.proxy.wait(5)
        except subprocess.TimeoutExpired:
            self.proxy.kill()
            self.proxy.wait()

    def fault_phase(self, schedule):
        end_s = self.args.duration_s - 1
        for step in schedule:
            if self.clients.now_ns() / 1e9 + step["gap_s"] + step["hold_s"] >= end_s:
                break
            time.sleep(step["gap_s"])
            self.clients.note_exit(self.writer)
            if self.clients.procs[self.writer]["end"] != "running":
                say(self.clients, "writer p%d ended early (%s): a new one starts"
                    % (self.writer, self.clients.procs[self.writer]["end"]))
                self.start_writer()
            say(self.clients, "%s %s (hold %.1fs)" % (step["fault"], step["target"],
                                                      step["hold_s"]))
            record = self.inject(step)
            self.injected.append(record)
            if "skipped" in record:
                say(self.clients, "  skipped: " + record["skipped"])
        remaining = self.args.duration_s - self.clients.now_ns() / 1e9
        if remaining > 0:
            time.sleep(remaining)

    def finish_phase(self):
        say(self.clients, "duration over: waiting for the writers to close")
        for number, proc in self.clients.procs.items():
            if proc["role"] == "writer" and not self.clients.wait(number, 90):
                self.anomalies.append("writer p%d did not finish within 90 s" % number)
        sealer = self.clients.start("writer", "--count", "0")
        if not self.clients.wait(sealer, 90):
            self.anomalies.append("the sealing writer p%d did not finish in 90 s" % sealer)
        say(self.clients, "waiting for every segment to be sealed and uploaded")
        if self.args.mode == "quorum" and not self.cluster.wait_settled(None, 90):
            self.anomalies.append("stuck upload: segments not sealed and uploaded after 90 s: %s"
                                  % self.cluster.segments())
        for number, proc in self.clients.procs.items():
            if proc["role"] == "reader":
                self.clients.stop(number)
        say(self.clients, "final read")
        final = self.clients.start("final")
        if not self.clients.wait(final, 120):
            self.anomalies.append("the final read p%d did not finish in 120 s" % final)
        self.clients.close()

    def judge(self):
        procs = {n: {k: p[k] for k in ("role", "events", "end", "end_ns")}
                 for n, p in self.clients.procs.items()}
        header = {"seed": self.args.seed, "mode": self.args.mode, "faults": self.faults,
                  "duration_s": self.args.duration_s, "objects": self.args.objects,
                  "writers": self.args.writers,
                  "bugs": [self.args.plant_bug] if self.args.plant_bug else [],
                  "repeat": self.repeat_command()}
        records, stats = chaos_history.merge(procs, header, LOG)
        history = os.path.join(self.out, "history.jsonl")
        chaos_history.write_history(history, records)
        check = subprocess.run([os.path.join(self.build, "wp-lincheck"), history],
                               capture_output=True, text=True)
        by_kind = {}
        for r in self.injected:
            if "skipped" not in r:
                by_kind[r["fault"]] = by_kind.get(r["fault"], 0) + 1
        verdict = {"seed": self.args.seed, "passed": check.returncode == 0 and
                   not self.anomalies, "lincheck_exit": check.returncode,
                   "lincheck": (check.stdout + check.stderr).strip(),
                   "anomalies": self.anomalies, "faults_injected": by_kind,
                   "acknowledged_entries_checked": stats["appends"].get("ok", 0),
                   "history": stats, "processes": procs, "plant_bug": self.args.plant_bug,
                   "proxy": self.proxy_stats,
                   "repeat": self.repeat_command()}
        with open(os.path.join(self.out, "verdict.json"), "w") as f:
            json.dump(verdict, f, indent=2)
        return verdict

    def execute(self):
        os.makedirs(self.out)
        schedule = chaos_schedule.draw_schedule(self.args.seed, self.faults,
                                                self.args.duration_s, 4, self.links)
        with open(os.path.join(self.out, "schedule.json"), "w") as f:
            json.dump({"seed": self.args.seed, "faults": self.faults, "steps": schedule}, f,
                      indent=2)
        self.cluster = Cluster(ROOT, self.build, self.out, self.args.objects, LOG)
        self.clients = None
        self.proxy = None
        self.proxy_stats = None
        try:
            print("wp-chaos: seed %d, %gs, %s mode, faults %s, %d writer(s), objects %s; "
                  "cluster in %s" % (self.args.seed, self.args.duration_s, self.args.mode,
                                     ",".join(self.faults), self.args.writers,
                                     self.args.objects, self.cluster.dir), flush=True)
            etcd_members = 3 if set(self.faults) & set(chaos_schedule.ETCD_FAULTS) else 1
            if "disk_full" in self.faults:
                self.cluster.mount_small_disk(chaos_schedule.DISK_FULL_TARGET)
            proxied = self.start_proxy() if self.links else {}
            self.cluster.up(4, etcd_members, self.args.mode, proxied)
            self.clients = Clients(self.build, self.out, self.cluster.config, LOG, time.time_ns())
            for _ in range(self.args.writers):
                self.start_writer()
            for _ in range(self.args.readers):
                self.clients.start("reader")
            self.fault_phase(schedule)
            self.finish_phase()
        finally:
            if self.clients is not None:
                self.clients.close()
            if self.proxy is not None:
                self.stop_proxy()
            self.cluster.close()
            with open(os.path.join(self.out, "faults.jsonl"), "w") as f:
                for r in self.injected:
                    f.write(json.dumps(r) + "\n")
        return self.judge()


def main(argv):
    args = parse_args(argv)
    if args.plant_bug:
        os.environ["WAL_PLANT_BUG"] = args.plant_bug
    try:
        run = Run(args)
        if os.path.exists(os.path.abspath(args.out)):
            raise ValueError("--out %s exists already: give a new folder" % args.out)
        verdict = run.execute()
    except (ValueError, RuntimeError, OSError) as error:
        print("wp-chaos: %s" % error, file=sys.stderr)
        return 2
    appends = verdict["history"]["appends"]
    print("wp-chaos: %s. faults %s; appends %s; %d reads; %d entries in the final read"
          % ("PASSED" if verdict["passed"] else "FAILED", verdict["faults_injected"], appends,
             verdict["history"]["reads"], verdict["history"]["final_entries"]))
    if not verdict["passed"]:
        print("wp-lincheck: " + verdict["lincheck"][-2000:])
        for anomaly in verdict["anomalies"]:
            print("anomaly: " + anomaly)
        print("repeat its schedule with: " + verdict["repeat"])
    return 0 if verdict["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
