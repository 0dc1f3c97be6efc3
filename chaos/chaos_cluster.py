"""The real processes of a wp-chaos run: the cluster (scripts/cluster.sh), the client processes
(wp-chaos-client) and the faults done to them. Every process is signalled by its PID, never by
name; `close()` resumes what is paused and stops what is left."""
import errno
import json
import os
import re
import signal
import subprocess
import time

SMALL_DISK_MIB = 64

SEGMENT_LINE = re.compile(r"^  (\d+)\s+(\w+)\s+\d+\s+\[\d+, (?:\d+|\.\.\.)\)\s+(\S+)\s")


class Cluster:
    def __init__(self, root, build, out, objects, log):
        self.root, self.build, self.out, self.log = root, build, out, log
        self.dir = os.path.join(out, "cluster")
        self.objects = objects
        self.config = os.path.join(self.dir, "cluster.json")
        self.env = dict(os.environ, BUILD_DIR=build)
        self.paused = set()
        self.mounted = []  # tmpfs mount points to unmount at close

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

    def up(self, logstores, etcd_members, mode, proxied):
        """Starts the cluster and creates the log. mode "memory": the clients get a MemoryBuffer
        config on the same etcd and object store (memory.json; the LogStores idle). proxied:
        {link: proxy port} of the TCP fault proxy; LogStores advertise theirs, every config
        names S3's."""
        self.logstores = logstores
        options = []
        if "logstore-1" in proxied:
            options += ["--advertise-ports",
                        ",".join(str(proxied["logstore-%d" % n]) for n in range(1, logstores + 1))]
        if "s3" in proxied:
            options += ["--s3-endpoint", "http://127.0.0.1:%d" % proxied["s3"]]
        self.script("up", self.dir, "--logstores", str(logstores), "--objects", self.objects,
                    "--etcd-members", str(etcd_members), "--owner-pid", str(os.getpid()),
                    *options)
        if mode == "memory":
            with open(self.config) as f:
                config = json.load(f)
            del config["mode"], config["quorum"]
            self.config = os.path.join(self.dir, "memory.json")
            with open(self.config, "w") as f:
                json.dump(config, f, indent=2)
        self.wp("log", "create", self.log)

    def service_script(self, script, folder, args, timeout_s):
        """scripts/SCRIPT COMMAND DIR/FOLDER ARGS... (etcd.sh, rgw.sh): its output."""
        result = subprocess.run([os.path.join(self.root, "scripts", script), args[0],
                                 os.path.join(self.dir, folder), *args[1:]],
                                capture_output=True, text=True, timeout=timeout_s)
        if result.returncode != 0:
            raise RuntimeError("%s %s failed: %s" % (script, " ".join(args),
                                                    result.stderr.strip()[-400:]))
        return result.stdout.strip()

    def etcd(self, *args):
        return self.service_script("etcd.sh", "etcd", args, 60)

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

    def kill_s3(self):
        """SIGKILL the S3 server's gateway (its objects stay in the OSD)."""
        self.rgw("kill-gateway", "main")

    def restart_s3(self):
        self.rgw("restart-gateway", "main")

    def rgw(self, *args):
        return self.service_script("rgw.sh", "rgw", args, 120)

    def mount_small_disk(self, n):
        """LogStore n's data folder on a tmpfs of SMALL_DISK_MIB, before the cluster starts."""
        path = os.path.join(self.dir, "ls%d" % n)
        os.makedirs(path)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % SMALL_DISK_MIB,
                                 "tmpfs", path], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError("disk_full needs a small tmpfs under logstore-%d, and mount "
                               "failed (it needs root or CAP_SYS_ADMIN): %s"
                               % (n, result.stderr.strip()))
        self.mounted.append(path)

    def filler_path(self, n):
        return os.path.join(self.dir, "ls%d" % n, "chaos-disk-filler")

    def fill_disk(self, n):
        """Fills LogStore n's small disk to the last byte; returns the bytes written."""
        written = 0
        with open(self.filler_path(n), "wb", buffering=0) as f:
            for size in (1 << 20, 1 << 12, 1):
                block = b"\0" * size
                while True:
                    try:
                        written += f.write(block)
                    except OSError as error:
                        if error.errno != errno.ENOSPC:
                            raise
                        break
        return written

    def free_disk(self, n):
        os.unlink(self.filler_path(n))

    def metric(self, n, name):
        """LogStore n's metric `name` (a series without labels), or None if unreadable."""
        text = self.script("metrics", self.dir, str(n), check=False)
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None

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
        for path in self.mounted:
            subprocess.run(["umount", "-l", path], capture_output=True)
        self.mounted.clear()


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
