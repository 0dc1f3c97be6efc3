#!/usr/bin/env python3
"""Fuzz-style test of `wp`: a seeded generator feeds it flag values, config files and input
lines, well-formed and not, and an oracle (a model of the log) predicts each outcome.

Checked for every run: no signal or abort, an exit status from the documented set (0 ok, 1
failed, 2 usage), the status the oracle predicts (2 exactly when a flag, name or config value is
outside its documented range), a failure is one line on stderr. Checked throughout and at the
end: the "golden" log holds exactly what the oracle says was acknowledged (appends stop at the
first bad line, truncation never passes the end) and verifies.

usage: wp_fuzz_test.py PATH_TO_WP [--seed N] [--runs N]
A failure prints the seed, the run number and the command, so it can be replayed.
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

U64_MAX = 2**64 - 1
ENTRY_MAX = 16 << 20

# Values for numeric flags: ones that look like numbers but are not plain decimal digits, ones
# that wrap around 2^32 or 2^64, zero, and ordinary ones.
NASTY_NUMBERS = ["-1", "-0", "+5", " 5", "5 ", "1e3", "0x10", "", "abc", "1.5", "007", "5\t",
                 "18446744073709551616", "18446744073709551615", "4294967296", "4294967297",
                 "99999999999999999999999", "\u0663", "0"]


def valid_uint(text, low, high):
    if not re.fullmatch(r"[0-9]+", text, flags=re.ASCII):
        return False
    return low <= int(text) <= high


def valid_name(name):
    return (0 < len(name.encode()) <= 200 and name not in (".", "..")
            and re.fullmatch(r"[A-Za-z0-9._-]+", name, flags=re.ASCII) is not None)


class Failure(Exception):
    pass


class Fuzzer:
    def __init__(self, wp, seed, work):
        self.wp = wp
        self.rng = random.Random(seed)
        self.seed = seed
        self.work = work
        self.data = os.path.join(work, "data")
        self.golden = []       # the golden log's entries (bytes), from id 0
        self.truncated = 0     # its first kept id
        self.run_index = 0
        self.counts = {}

    # ---- running wp ----

    def wp_run(self, args, stdin=b"", expect=None, what=""):
        self.run_index += 1
        command = [self.wp] + args
        try:
            done = subprocess.run(command, input=stdin, capture_output=True, timeout=120)
        except subprocess.TimeoutExpired:
            raise Failure(f"run {self.run_index}: hung: {command}")
        status = done.returncode
        self.counts[status] = self.counts.get(status, 0) + 1
        where = f"run {self.run_index} ({what}): {command!r}"
        if status < 0:
            raise Failure(f"{where}: killed by signal {-status}: {done.stderr[-500:]!r}")
        if status not in (0, 1, 2):
            raise Failure(f"{where}: undocumented exit status {status}: {done.stderr[-500:]!r}")
        allowed = expect if isinstance(expect, tuple) else (expect,)
        if expect is not None and status not in allowed:
            raise Failure(f"{where}: exit {status}, expected {expect}: {done.stderr[-500:]!r}")
        if status != 0 and "verify" not in args:
            lines = done.stderr.decode(errors="replace").splitlines()
            if len(lines) != 1 or not lines[0].startswith("wp: "):
                raise Failure(f"{where}: a failure must be one line on stderr: {lines[:3]!r}")
        return done

    def base(self, config=None):
        args = ["--data", self.data]
        if config is not None:
            path = os.path.join(self.work, "config.json")
            with open(path, "w") as out:
                out.write(config)
            args += ["--config", path]
        return args

    # ---- generators ----

    def number(self, low, high):
        """A flag value and whether it is valid for [low, high]."""
        if self.rng.random() < 0.5:
            text = self.rng.choice(NASTY_NUMBERS)
        else:
            text = str(self.rng.randint(low, min(high, low + 50)))
        return text, valid_uint(text, low, high)

    def line(self, hex_format):
        if hex_format:
            raw = bytes(self.rng.randrange(256) for _ in range(self.rng.choice([0, 1, 3, 20])))
            text = raw.hex()
            if self.rng.random() < 0.08:  # a bad line
                text = self.rng.choice([text + "0", "zz" + text, text[:1] + "g" + text[2:]])
            return text.encode()
        alphabet = b"abcxyz019 \t|\r\x01\xff\xc3\xa9"
        return bytes(self.rng.choice(alphabet) for _ in range(self.rng.choice([0, 1, 5, 40])))

    def config(self):
        """A config file text and whether it is valid."""
        writer_ranges = {"block_size_bytes_max": (1024, 64 << 20),
                         "inflight_blocks_max": (1, 64),
                         "inflight_bytes_max": (1 << 20, 16 << 30),
                         "segment_size_bytes_max": (1 << 20, 1 << 40),
                         "segment_age_max_ms": (1000, 30 * 24 * 3600 * 1000),
                         "checkpoint_interval_blocks": (1, 1 << 16),
                         "tail_publish_interval_ms": (0, 60000)}
        choice = self.rng.randrange(8)
        if choice == 0:
            return self.rng.choice(["", "{", "[]", "null", "5", '"x"', "{}}"]), False
        if choice == 1:
            section = self.rng.choice(["writer", "reader"])
            return json.dumps({section: self.rng.choice([None, [], 5, "x"])}), False
        if choice == 2:
            return json.dumps({self.rng.choice(["writr", "data", "Writer"]): {}}), False
        if choice == 3:
            return json.dumps({"writer": {"fencing": self.rng.choice(
                ["fence_object", "meta_confirm", "x", 5, None])}}), None
        key = self.rng.choice(list(writer_ranges) + ["prefetch_blocks", "typo_key"])
        low, high = writer_ranges.get(key, (0, 64))
        value = self.rng.choice([-1, 0, 1, 1.5, low, high, high + 1, 2**32 + 1, 2**64, "5",
                                 None, [], low + 1])
        section = "reader" if key == "prefetch_blocks" else "writer"
        valid = (key != "typo_key" and type(value) is int and low <= value <= high)
        if valid and section == "writer":
            # Cross-field rule: in-flight bytes and segment size hold at least one block.
            block = value if key == "block_size_bytes_max" else 4 << 20
            inflight = value if key == "inflight_bytes_max" else 64 << 20
            segment = value if key == "segment_size_bytes_max" else 256 << 20
            valid = inflight >= block and segment >= block
        return json.dumps({section: {key: value}}), valid

    # ---- the golden log's model ----

    def expected_read(self, start, limit):
        entries = list(enumerate(self.golden))[start:]
        return entries[:limit] if limit is not None else entries

    def check_golden(self, what):
        done = self.wp_run(self.base() + ["read", "g", "--ids", "--format", "hex"], expect=0,
                           what=what)
        want = "".join(f"{i}\t{e.hex()}\n" for i, e in self.expected_read(self.truncated, None))
        if done.stdout.decode() != want:
            raise Failure(f"after run {self.run_index} ({what}): the golden log differs from "
                          f"what was acknowledged")

    # ---- one fuzzed command each ----

    def fuzz_append_golden(self):
        hex_format = self.rng.random() < 0.5
        lines = [self.line(hex_format) for _ in range(self.rng.randrange(0, 30))]
        args = self.base() + ["append", "g"] + (["--format", "hex"] if hex_format else [])
        stdin = b"".join(l + b"\n" for l in lines)
        stored = []
        bad_line = None
        for number, text in enumerate(lines, start=1):
            if hex_format:
                try:
                    payload = bytes.fromhex(text.decode())
                    if len(text) % 2 or not re.fullmatch(rb"[0-9a-fA-F]*", text):
                        raise ValueError
                except ValueError:
                    bad_line = number
                    break
            else:
                payload = text
            stored.append(payload)
        done = self.wp_run(args, stdin, expect=1 if bad_line else 0, what="append to golden")
        if bad_line and f"line {bad_line}:".encode() not in done.stderr:
            raise Failure(f"run {self.run_index}: the error does not name line {bad_line}: "
                          f"{done.stderr!r}")
        self.golden += stored

    def fuzz_truncate_golden(self):
        text, valid = self.number(0, U64_MAX)
        if valid and self.rng.random() < 0.5:
            text = str(self.rng.randint(self.truncated, len(self.golden) + 3))
        expect = 2 if not valid_uint(text, 0, U64_MAX) else (1 if int(text) > len(self.golden)
                                                              else 0)
        self.wp_run(self.base() + ["truncate", "g", text], expect=expect, what="truncate")
        if expect == 0:
            self.truncated = max(self.truncated, int(text))

    def fuzz_read_golden(self):
        args = ["read", "g", "--ids", "--format", "hex"]
        valid = True
        start, limit = self.truncated, None
        if self.rng.random() < 0.5:
            text, _ = self.number(0, U64_MAX)
            text = self.rng.choice([text, "earliest", "latest", "Latest"])
            args += ["--from", text]
            ok = valid_uint(text, 0, U64_MAX) or text in ("earliest", "latest")
            valid = valid and ok
            if ok and text == "latest":
                start = len(self.golden)
            elif ok and text != "earliest":
                start = int(text)
        if self.rng.random() < 0.5:
            text, ok = self.number(1, U64_MAX)
            args += ["--limit", text]
            valid = valid and ok
            limit = int(text) if ok else None
        if not valid:
            self.wp_run(self.base() + args, expect=2, what="read with bad flags")
            return
        if start < self.truncated:
            self.wp_run(self.base() + args, expect=1, what="read below the truncation point")
            return
        done = self.wp_run(self.base() + args, expect=0, what="read")
        want = "".join(f"{i}\t{e.hex()}\n" for i, e in self.expected_read(start, limit))
        if done.stdout.decode() != want:
            raise Failure(f"run {self.run_index}: read {args} returned other entries")

    def fuzz_tail_golden(self):
        text, ok = self.number(0, U64_MAX)
        done = self.wp_run(self.base() + ["tail", "g", "--ids", "-n", text],
                           expect=0 if ok else 2, what="tail")
        if ok:
            start = max(self.truncated, len(self.golden) - min(int(text), len(self.golden)))
            want = "".join(f"{i}\t{e.decode('latin-1')}\n"
                           for i, e in self.expected_read(start, None))
            if done.stdout.decode("latin-1") != want:
                raise Failure(f"run {self.run_index}: tail -n {text} returned other entries")

    def fuzz_append_other(self):
        args = ["append", "f"]
        valid = True
        generated = self.rng.random() < 0.3
        if generated:
            count, ok_count = self.number(1, 1000)
            size, ok_size = self.number(1, 1000)
            args += ["--count", count, "--size", size]
            valid = ok_count and ok_size
        if self.rng.random() < 0.5:
            producer, ok = self.number(1, U64_MAX)
            args += ["--producer", producer]
            valid = valid and ok
            if self.rng.random() < 0.5:
                start, ok = self.number(0, U64_MAX)
                start = self.rng.choice([start, str(U64_MAX), str(U64_MAX - 1)])
                args += ["--sequence-start", start]
                valid = valid and valid_uint(start, 0, U64_MAX)
        config, config_valid = (None, True)
        if self.rng.random() < 0.4:
            config, config_valid = self.config()
        lines = b"".join(self.line(False) + b"\n" for _ in range(self.rng.randrange(0, 20)))
        expect = 2 if not valid else None
        if valid and config_valid is False:
            expect = 2
        done = self.wp_run(self.base(config) + args, lines, expect=expect,
                           what="append to another log")
        if config_valid is True and valid and done.returncode == 2:
            raise Failure(f"run {self.run_index}: a valid command was a usage error: "
                          f"{done.stderr!r}")

    def fuzz_log_create(self):
        name = self.rng.choice([".", "..", "a/b", "x" * 201, "x" * 200, "ok-name_1.2", "",
                                "tab\there", "caf\u00e9", "-", "..."]) + \
            self.rng.choice(["", str(self.run_index)])
        expect = (0, 1) if valid_name(name) else 2
        self.wp_run(self.base() + ["log", "create", name], expect=expect, what="log create")

    def fuzz_maintenance(self):
        command = self.rng.choice([["gc", "g"], ["gc"], ["inspect", "g"], ["verify", "g"],
                                   ["log", "list"], ["inspect", "nosuchlog"]])
        expect = 1 if command[-1] == "nosuchlog" else 0
        self.wp_run(self.base() + command, expect=expect, what=" ".join(command))

    def run(self, runs):
        self.wp_run(self.base() + ["log", "create", "g"], expect=0, what="setup")
        self.wp_run(self.base() + ["log", "create", "f"], expect=0, what="setup")
        steps = [self.fuzz_append_golden, self.fuzz_truncate_golden, self.fuzz_read_golden,
                 self.fuzz_tail_golden, self.fuzz_append_other, self.fuzz_log_create,
                 self.fuzz_maintenance]
        weights = [4, 2, 3, 2, 4, 1, 1]
        for step_index in range(runs):
            step = self.rng.choices(steps, weights)[0]
            step()
            if step_index % 25 == 24:
                self.check_golden("periodic check")
        self.check_golden("final check")
        self.wp_run(self.base() + ["verify", "g"], expect=0, what="final verify")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wp")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--runs", type=int, default=300)
    options = parser.parse_args()
    work = tempfile.mkdtemp()
    fuzzer = Fuzzer(os.path.abspath(options.wp), options.seed, work)
    try:
        fuzzer.run(options.runs)
    except Failure as failure:
        print(f"FAIL (seed {options.seed}): {failure}")
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"PASS: seed {options.seed}, {fuzzer.run_index} runs of wp, exit statuses "
          f"{dict(sorted(fuzzer.counts.items()))}; the golden log holds "
          f"{len(fuzzer.golden) - fuzzer.truncated} entries from id {fuzzer.truncated}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
