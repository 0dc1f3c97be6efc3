#!/usr/bin/env python3
"""repin-trace: give a planted-bug trace in traces/ a fresh minimal schedule.

A planted-bug trace pins a shrunk schedule under which the bug's run fails with the trace's
anomaly. When the WAL's timing changes (a new timer, a different batching), the old schedule may
stop reaching the bug, and traces_corpus_test fails although the checkers still catch it. This
script finds a new one the way the trace was made:

  1. reads the trace's bug(s), anomaly, mode and fencing (from its replay token);
  2. runs `wp-sim sweep` over --seeds with the bug on, in chunks, until a seed fails with the
     same anomaly;
  3. shrinks that run (`wp-sim shrink`) and checks that the shrunk run fails with that anomaly;
  4. rewrites the trace's token and the "Caught at ..." end of its description (in place, or to
     --out).

A trace without a "bug" field pins the fix of a real bug: it must pass, so there is nothing to
re-pin, and the script refuses it. Exit status: 0 re-pinned; 1 no seed in the range failed with
the anomaly, or wp-sim failed; 2 usage error or unreadable trace.
"""

import argparse
import base64
import json
import os
import re
import subprocess
import sys

TOKEN_PATTERN = re.compile(r"wpsim1\.[A-Za-z0-9_-]+")
FAILURE_PATTERN = re.compile(r"seed=(\d+) result=fail anomaly=(\S+)")
SHRUNK_PATTERN = re.compile(r"minimal schedule \((\d+) events")
CAUGHT_PATTERN = re.compile(r"Caught at .*$")
SEEDS_PER_SWEEP = 50


def fail(message, status):
    print(f"repin-trace: {message}", file=sys.stderr)
    sys.exit(status)


def decode_token(token):
    """The JSON object inside a wpsim1.<base64url> token."""
    payload = token.split(".", 1)[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def run_wp_sim(wp_sim, arguments):
    """wp-sim's combined output. A sweep exits 1 when a seed fails a safety check (what we look
    for), 2 or 3 when another seed fails liveness or crashes; the output lists every seed."""
    completed = subprocess.run([wp_sim] + arguments, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, check=False)
    if completed.returncode not in (0, 1, 2, 3):
        fail(f"wp-sim {arguments[0]} exited {completed.returncode}:\n{completed.stdout}", 1)
    return completed.stdout


def find_failing_token(wp_sim, settings, anomaly, first_seed, last_seed):
    """The replay token of the first seed in the range that fails with `anomaly`, and its seed."""
    for chunk_start in range(first_seed, last_seed + 1, SEEDS_PER_SWEEP):
        chunk_end = min(chunk_start + SEEDS_PER_SWEEP - 1, last_seed)
        print(f"repin-trace: sweeping seeds {chunk_start}..{chunk_end}", file=sys.stderr)
        output = run_wp_sim(wp_sim, ["sweep", "--seeds", f"{chunk_start}..{chunk_end}",
                                     "--no-determinism-check"] + settings)
        lines = output.splitlines()
        for index, line in enumerate(lines):
            failure = FAILURE_PATTERN.search(line)
            if not failure or failure.group(2) != anomaly:
                continue
            for following in lines[index + 1:index + 3]:
                token = TOKEN_PATTERN.search(following)
                if token:
                    return token.group(0), int(failure.group(1))
    return None, None


def main():
    parser = argparse.ArgumentParser(
        description="Give a planted-bug trace in traces/ a fresh minimal schedule "
                    "(sweep with the bug on, shrink, rewrite the token).")
    parser.add_argument("trace", help="a traces/*.json file with a \"bug\" field")
    parser.add_argument("--seeds", default="1..500",
                        help="swarm seeds to search, A..B (default 1..500)")
    parser.add_argument("--wp-sim", default=None,
                        help="the wp-sim binary (default: $BUILD_DIR/wp-sim or build/wp-sim)")
    parser.add_argument("--out", default=None,
                        help="write the re-pinned trace here instead of over TRACE")
    options = parser.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    wp_sim = options.wp_sim or os.path.join(os.environ.get("BUILD_DIR", os.path.join(root, "build")),
                                            "wp-sim")
    if not os.access(wp_sim, os.X_OK):
        fail(f"no wp-sim at {wp_sim} (build first, or pass --wp-sim)", 2)
    seeds = re.fullmatch(r"(\d+)\.\.(\d+)", options.seeds)
    if not seeds or int(seeds.group(1)) > int(seeds.group(2)):
        fail(f"--seeds must be A..B with A <= B, not {options.seeds!r}", 2)
    try:
        with open(options.trace, encoding="utf-8") as file:
            trace = json.load(file)
    except (OSError, ValueError) as error:
        fail(f"cannot read {options.trace}: {error}", 2)
    if "bug" not in trace:
        fail(f"{options.trace} pins a real bug's fix (no \"bug\" field): it must pass, there is "
             "no failure to re-pin", 2)
    for field in ("description", "anomaly", "token"):
        if field not in trace:
            fail(f"{options.trace} has no \"{field}\" field", 2)
    try:
        pinned = decode_token(trace["token"])
    except (IndexError, ValueError) as error:
        fail(f"{options.trace}: the token does not decode: {error}", 2)

    settings = ["--mode", pinned.get("mode", "memory"),
                "--fencing", pinned.get("fencing", "fence_object")]
    for bug in pinned.get("bugs", [trace["bug"]]):
        settings += ["--bug", bug]
    token, seed = find_failing_token(wp_sim, settings, trace["anomaly"],
                                     int(seeds.group(1)), int(seeds.group(2)))
    if token is None:
        fail(f"no seed in {options.seeds} failed with {trace['anomaly']} "
             f"({' '.join(settings)}); try a wider --seeds", 1)
    print(f"repin-trace: seed {seed} fails with {trace['anomaly']}; shrinking", file=sys.stderr)
    shrunk = run_wp_sim(wp_sim, ["shrink", token])
    events = SHRUNK_PATTERN.search(shrunk)
    tokens = TOKEN_PATTERN.findall(shrunk)
    failures = FAILURE_PATTERN.findall(shrunk)
    if not events or not tokens or not failures:
        fail(f"wp-sim shrink printed no minimal schedule:\n{shrunk}", 1)
    if failures[-1][1] != trace["anomaly"]:
        fail(f"the shrunk run fails with {failures[-1][1]}, not {trace['anomaly']}:\n{shrunk}", 1)

    caught = (f"Caught at swarm seed {seed} ({pinned.get('mode', 'memory')} mode), shrunk to "
              f"{events.group(1)} events.")
    description = trace["description"]
    trace["description"] = (CAUGHT_PATTERN.sub(caught, description)
                            if CAUGHT_PATTERN.search(description) else f"{description} {caught}")
    trace["token"] = tokens[-1]
    out = options.out or options.trace
    with open(out, "w", encoding="utf-8") as file:
        json.dump(trace, file, indent=1)
        file.write("\n")
    print(f"repin-trace: wrote {out}: {caught}", file=sys.stderr)


if __name__ == "__main__":
    main()
