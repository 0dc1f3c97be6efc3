"""The real processes of a wp-chaos run: the cluster (scripts/cluster.sh), the client processes
(wp-chaos-client) and the faults done to them. Every process is signalled by its PID, never by
name; `close()` resumes what is paused and stops what is left."""
import json
import os
import re
import signal
import subprocess
import time

SEGMENT_LINE = re.compile(r"^  (\d+)\s+(\w+)\s+\d+\s+\[\d+, (?:\d+|\.\.\.)\)\s+(\S+)\s")


class Cluster:
    def __init__(self, root, build, out, objects, log):
        self.root, self.build, self.out, self.log = root, build, out, log
        self.dir = os.path.join(out, "cluster")
        self.objects = objects
        self.config = os.path.join(self.dir, "cluster.json")
        self.env = dict(os.environ, BUILD_DIR=build)
        self.paused = set()

    def script(self, *args, check=True):
        result = subprocess.run([os.path.join(self.root, "scripts/cluster.sh"), *args],
                                env=self.env, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise RuntimeError("cluster.sh %s failed: %s" % (" ".join(args),
                                                           result.stderr.strip()[-400:]))
        return result.stdout

    def wp(self, *args, check=True):
        result = subprocess.run([os.path.join(self.build, "wp"), "--config", self.config, *args],
                                env=self.env, capture_output=True, text=True, timeout=60)
        if check and result.returncode != 0:
            raise RuntimeError("wp %s failed: %s" % (" ".join(args), result.stderr.strip()))
        return result.stdout

    def up(self, logstores, etcd_members, mode):
        """Starts the cluster and creates the log. mode "memory": the clients get a MemoryBuffer
        config on the same etcd and object store (memory.json; the LogStores idle)."""
        self.logstores = logstores
        self.script("up", self.dir, "--logstores", str(logstores), "--objects", self.objects,
                    "--etcd-members", str(etcd_members), "--owner-pid", str(os.getpid()))
        if mode == "memory":
            with open(self.config) as f:
                config = json.load(f)
            del config["mode"], config["quorum"]
            self.config = os.path.join(self.dir, "memory.json")
            with open(self.config, "w") as f:
                json.dump(config, f, indent=2)
        self.wp("log", "create", self.log)

    def etcd(self, *args):
        """scripts/etcd.sh COMMAND DIR/etcd ARGS...: its output."""
        result = subprocess.run([os.path.join(self.root, "scripts/etcd.sh"), args[0],
                                 os.path.join(self.dir, "etcd"), *args[1:]],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError("etcd.sh %s failed: %s" % (" ".join(args),
                                                        result.stderr.strip()[-400:]))
        return result.stdout.strip()

    def signal_pid_file(self, path, sig):
        with open(os.path.join(self.dir, path)) as f:
            pid = int(f.read())
        os.kill(pid, sig)
        if sig == signal.SIGSTOP:
            self.paused.add(pid)
        else:
            self.paused.discard(pid)

    def kill(self, n):
        self.script("kill", self.dir, str(n))

    def restart(self, n):
        self.script("restart", self.dir, str(n))

    def wipe(self, n):
        self.script("wipe", self.dir, str(n))

    def pause(self, n):
        self.signal_pid_file("ls%d.pid" % n, signal.SIGSTOP)

    def resume(self, n):
        self.signal_pid_file("ls%d.pid" % n, signal.SIGCONT)

    def segments(self):
        """[(segment id, state, uploaded)] of the log, from `wp inspect`."""
        found = []
        for line in self.wp("inspect", self.log).splitlines():
            m = SEGMENT_LINE.match(line)
            if m:
                found.append((int(m.group(1)), m.group(2), m.group(3)))
        return found

    def wait_settled(self, below_id, timeout_s):
        """True once every segment with an id below `below_id` (None: all) is sealed and
        uploaded; False after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while True:
            pending = [s for s in self.segments()
                       if (below_id is None or s[0] < below_id)
                       and (s[1] != "sealed" or s[2] != "yes")]
            if not pending:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)

    def close(self):
        for pid in list(self.paused):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.paused.clear()
        self.script("down", self.dir, check=False)


class Clients:
    """The client processes of a run, numbered from 1 in start order."""

    def __init__(self, build, out, config, log, run_start_ns):
        self.build, self.out, self.config, self.log = build, out, config, log
        self.run_start_ns = run_start_ns
        self.procs = {}  # number -> {"role", "events", "popen", "end", "end_ns"}
        os.makedirs(os.path.join(out, "processes"), exist_ok=True)

    def start(self, role, *extra):
        number = len(self.procs) + 1
        base = os.path.join(self.out, "processes", "p%d-%s" % (number, role))
        command = [os.path.join(self.build, "wp-chaos-client"), role, "--config", self.config,
                   "--log", self.log, "--events", base + ".events.jsonl",
                   "--run-start-ns", str(self.run_start_ns), "--process", str(number), *extra]
        with open(base + ".log", "w") as log:
            popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT)
        self.procs[number] = {"role": role, "events": base + ".events.jsonl", "popen": popen,
                              "end": "running", "end_ns": None, "command": command}
        return number

    def now_ns(self):
        return time.time_ns() - self.run_start_ns

    def kill(self, number, end="killed"):
        proc = self.procs[number]
        if proc["popen"].poll() is None:
            proc["popen"].send_signal(signal.SIGKILL)
            proc["popen"].wait()
            proc["end"], proc["end_ns"] = end, self.now_ns()
        else:
            self.note_exit(number)

    def note_exit(self, number):
        proc = self.procs[number]
        if proc["end"] == "running" and proc["popen"].poll() is not None:
            proc["end"], proc["end_ns"] = "exited %d" % proc["popen"].returncode, self.now_ns()

    def wait(self, number, timeout_s):
        """True if the process exited within timeout_s."""
        try:
            self.procs[number]["popen"].wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return False
        self.note_exit(number)
        return True

    def stop(self, number):
        """SIGTERM, then SIGKILL after 5 s; what it recorded so far stands."""
        proc = self.procs[number]
        if proc["popen"].poll() is None:
            proc["popen"].send_signal(signal.SIGTERM)
            if not self.wait(number, 5):
                proc["popen"].send_signal(signal.SIGKILL)
                proc["popen"].wait()
            proc["end"], proc["end_ns"] = "stopped", self.now_ns()

    def close(self):
        for number, proc in self.procs.items():
            if proc["popen"].poll() is None:
                proc["popen"].send_signal(signal.SIGKILL)
                proc["popen"].wait()
                proc["end"], proc["end_ns"] = "running", self.now_ns()
