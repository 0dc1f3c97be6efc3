#!/usr/bin/env python3
"""The table and plots of one bench/run-all.sh run, from what compare_bench and fio wrote.

usage: compare_report.py OUT [--workload FILE] [--commit SHA]

Reads OUT/results.jsonl and OUT/fio-<entry bytes>.json; writes OUT/table.md,
OUT/throughput.png (MiB/s per entry size, every system and ceiling, at saturation) and
OUT/latency-cdf.png (append and end-to-end latency CDFs per system, at the paced rate, for
the smallest entry size). Every system figure is given as a ratio to its ceiling and to the
peer (NATS JetStream R3) measured in the same run."""
import argparse
import json
import os
import platform
import subprocess
import sys

PEER = "nats-jetstream-r3"
# Each system's throughput ceiling (first: the one its target is judged on) and latency floor.
CEILINGS = {
    "memorybuffer-local": ["fio", "fdatasync-loop"],
    "memorybuffer-s3": ["s3-put"],
    "quorumbuffer": ["journal-group"],
    PEER: ["journal-group"],
}
LATENCY_FLOOR = {"quorumbuffer": "journal-single", PEER: "journal-single",
                 "memorybuffer-local": "fdatasync-loop", "memorybuffer-s3": "s3-put"}
ORDER = ["memorybuffer-local", "memorybuffer-s3", "quorumbuffer", PEER]


def size_name(n):
    if n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def ms(us):
    return f"{us / 1000:.2f}"


def cores(r):
    """CPU of the client and of the servers over the case, in cores (seconds per second)."""
    cpu = r.get("cpu")
    if not cpu or not cpu["wall_seconds"]:
        return "–"
    servers = f"{cpu['servers_seconds'] / cpu['wall_seconds']:.2f}" \
        if cpu["servers_seconds"] else "–"
    return f"{cpu['client_seconds'] / cpu['wall_seconds']:.2f} / {servers}"


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "–"


def load(out):
    systems, ceilings = [], {}
    with open(os.path.join(out, "results.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r["kind"] == "system":
                systems.append(r)
            else:
                ceilings[(r["system"], r["entry_bytes"])] = r
    for name in os.listdir(out):
        if name.startswith("fio-") and name.endswith(".json"):
            entry_bytes = int(name[4:-5])
            job = json.load(open(os.path.join(out, name)))["jobs"][0]["write"]
            fdl = ceilings.get(("fdatasync-loop", entry_bytes))
            # fio writes the blocks the loop writes: the same entries per block.
            per_byte = fdl["entries_per_second"] / (fdl["writes_per_second"] * fdl["write_bytes"]) \
                if fdl and fdl["writes_per_second"] else 0
            entries = job["bw_bytes"] * per_byte
            ceilings[("fio", entry_bytes)] = {
                "system": "fio", "entry_bytes": entry_bytes,
                "write_bytes": fdl["write_bytes"] if fdl else 0,
                "concurrency": fdl["concurrency"] if fdl else 0,
                "writes_per_second": job["iops"], "entries_per_second": entries,
                "mib_per_second": entries * entry_bytes / 2**20,
                "latency": None}
    return systems, ceilings


def find(systems, name, size, saturated):
    for r in systems:
        if r["system"] == name and r["entry_bytes"] == size and \
                (r["rate_per_second"] == 0) == saturated:
            return r
    return None


def points(systems, sizes, saturated):
    """(entry size, system, its result, the peer's result) in table order."""
    for size in sizes:
        peer = find(systems, PEER, size, saturated)
        for name in ORDER:
            r = find(systems, name, size, saturated)
            if r is not None:
                yield size, name, r, peer


def saturation_table(systems, ceilings, sizes):
    rows = ["| entry | system | entries/s | MiB/s | ceiling: MiB/s | ratio to ceiling | "
            "ratio to NATS | append p50 / p99 / p99.9 / max ms | e2e p50 / p99 / p99.9 ms | "
            "CPU cores: client / servers |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for size, name, r, peer in points(systems, sizes, True):
        parts = []
        for c in CEILINGS[name]:
            ceiling = ceilings.get((c, size))
            if ceiling:
                parts.append((c, ceiling["mib_per_second"],
                              ratio(r["mib_per_second"], ceiling["mib_per_second"])))
        a, e = r["append"], r["e2e"]
        flag = f" ({r['failed']} failed)" if r["failed"] else ""
        rows.append(
            f"| {size_name(size)} | {name}{flag} | {r['entries_per_second']:,.0f} | "
            f"{r['mib_per_second']:.1f} | "
            + "; ".join(f"{c} {m:.1f}" for c, m, _ in parts) + " | "
            + "; ".join(f"{q} ({c})" for c, _, q in parts) + " | "
            f"{ratio(r['entries_per_second'], peer and peer['entries_per_second'])} | "
            f"{ms(a['p50_us'])} / {ms(a['p99_us'])} / {ms(a['p999_us'])} / "
            f"{ms(a['max_us'])} | {ms(e['p50_us'])} / {ms(e['p99_us'])} / "
            f"{ms(e['p999_us'])} | {cores(r)} |")
    return rows


def paced_table(systems, ceilings, sizes):
    rows = ["| entry | system | offered /s | acked /s | append p50 / p99 / p99.9 / max ms | "
            "p99 to floor | p99 to NATS | e2e p50 / p99 / p99.9 / max ms | "
            "CPU cores: client / servers |",
            "|---|---|---|---|---|---|---|---|---|"]
    for size, name, r, peer in points(systems, sizes, False):
        a, e = r["append"], r["e2e"]
        floor = ceilings.get((LATENCY_FLOOR[name], size))
        floor_p99 = floor["latency"]["p99_us"] if floor and floor["latency"] else None
        rows.append(
            f"| {size_name(size)} | {name} | {r['rate_per_second']:.0f} | "
            f"{r['entries_per_second']:.0f} | {ms(a['p50_us'])} / {ms(a['p99_us'])} / "
            f"{ms(a['p999_us'])} / {ms(a['max_us'])} | "
            f"{ratio(a['p99_us'], floor_p99)} ({LATENCY_FLOOR[name]}) | "
            f"{ratio(a['p99_us'], peer and peer['append']['p99_us'])} | "
            f"{ms(e['p50_us'])} / {ms(e['p99_us'])} / {ms(e['p999_us'])} / "
            f"{ms(e['max_us'])} | {cores(r)} |")
    return rows


def ceiling_table(ceilings, sizes):
    rows = ["| entry | ceiling | bytes per write | at once | writes/s | entries/s | MiB/s | "
            "write p50 / p99 / max ms |", "|---|---|---|---|---|---|---|---|"]
    for size in sizes:
        for name in ["fio", "fdatasync-loop", "s3-put", "journal-group", "journal-single"]:
            c = ceilings.get((name, size))
            if c is None:
                continue
            lat = c["latency"]
            lat_text = f"{ms(lat['p50_us'])} / {ms(lat['p99_us'])} / {ms(lat['max_us'])}" \
                if lat else "–"
            rows.append(f"| {size_name(size)} | {name} | {c['write_bytes']:,} | "
                        f"{c['concurrency']} | {c['writes_per_second']:,.0f} | "
                        f"{c['entries_per_second']:,.0f} | {c['mib_per_second']:.1f} | "
                        f"{lat_text} |")
    return rows


def verdict(ok):
    return "met" if ok else "**missed**"


def targets(systems, ceilings):
    lines = []
    for size, goal in [(1 << 20, 0.9), (1024, 0.6)]:
        r = find(systems, "memorybuffer-local", size, True)
        c = ceilings.get(("fio", size)) or ceilings.get(("fdatasync-loop", size))
        if r and c:
            x = r["mib_per_second"] / c["mib_per_second"]
            lines.append(f"- MemoryBuffer local, {size_name(size)}: {x:.2f} of the device's "
                         f"write+fdatasync ceiling ({c['system']}); target >= {goal}: "
                         f"{verdict(x >= goal)}")
    q = find(systems, "quorumbuffer", 1024, True)
    n = find(systems, PEER, 1024, True)
    if q and n and n["entries_per_second"]:
        x = q["entries_per_second"] / n["entries_per_second"]
        lines.append(f"- QuorumBuffer 1 KiB at saturation: {x:.2f}x NATS JetStream R3's "
                     f"entries/s; target >= 3: {verdict(x >= 3)}")
    qp = find(systems, "quorumbuffer", 1024, False)
    np_ = find(systems, PEER, 1024, False)
    if qp and np_:
        lines.append(f"- QuorumBuffer 1 KiB at {qp['rate_per_second']:.0f}/s: append p99 "
                     f"{ms(qp['append']['p99_us'])} ms against NATS's "
                     f"{ms(np_['append']['p99_us'])} ms; target lower: "
                     f"{verdict(qp['append']['p99_us'] < np_['append']['p99_us'])}")
    if qp:
        lines.append(f"- QuorumBuffer end-to-end p99 at 1 KiB, {qp['rate_per_second']:.0f}/s: "
                     f"{ms(qp['e2e']['p99_us'])} ms; target <= 5 ms: "
                     f"{verdict(qp['e2e']['p99_us'] <= 5000)}")
    return lines


def notes(systems):
    lines = []
    for r in systems:
        if r["note"] or r["failed"]:
            lines.append(f"- {r['system']} {size_name(r['entry_bytes'])} "
                         f"{'saturated' if r['rate_per_second'] == 0 else 'paced'}: "
                         f"{r['note']} {r['failed']} failed {r['first_error']}".strip())
        elif r["received"] < r["acknowledged"] and r["e2e"]["count"] == 0:
            lines.append(f"- {r['system']} {size_name(r['entry_bytes'])}: no entry read back")
    return lines


def reader_counters(systems):
    """Where the WAL readers' time went: fetches per entry received."""
    lines = []
    for r in systems:
        counters = r.get("reader")
        if not counters or r["system"] == PEER:
            continue
        lines.append(f"- {r['system']} {size_name(r['entry_bytes'])} "
                     f"{'saturated' if r['rate_per_second'] == 0 else 'paced'}: "
                     f"{counters['blocks_read']:,} blocks read over the case (warm-up and "
                     f"drain included), {counters['manifest_reads']} manifest reads, "
                     f"{counters['metadata_reloads']} metadata reloads")
    return lines


def machine():
    load = open("/proc/loadavg").read().split()[:3]
    cpu = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return (f"{os.cpu_count()} vCPUs ({cpu}), Linux {platform.release()}, "
            f"load average at the end {' '.join(load)}")


def gnuplot(out, systems, ceilings, sizes):
    os.makedirs(os.path.join(out, "plot"), exist_ok=True)
    series = []
    for name in ORDER + ["fio", "fdatasync-loop", "s3-put", "journal-group"]:
        points = []
        for size in sizes:
            r = find(systems, name, size, True) or ceilings.get((name, size))
            if r:
                points.append((size / 1024, r["mib_per_second"]))
        if points:
            path = os.path.join(out, "plot", f"throughput-{name}.dat")
            with open(path, "w") as f:
                f.writelines(f"{x} {y}\n" for x, y in points)
            style = "lp lw 2" if name in ORDER else "lp dt 2"
            series.append(f"'{path}' using 1:2 with {style} title '{name}'")
    cdfs = []
    smallest = min(sizes)
    for name in ORDER:
        r = find(systems, name, smallest, False)
        if r:
            for kind in ["append", "e2e"]:
                path = os.path.join(out, r[f"cdf_{kind}"])
                if os.path.getsize(path) > 0:
                    cdfs.append(f"'{path}' using 1:2 with steps lw 2 title '{name} {kind}'")
    script = [
        "set terminal pngcairo size 1000,600 noenhanced" if has_cairo() else
        "set terminal png size 1000,600 noenhanced",
        f"set output '{os.path.join(out, 'throughput.png')}'",
        "set title 'Throughput at saturation (systems solid, ceilings dashed)'",
        "set logscale xy", "set xlabel 'entry size, KiB'", "set ylabel 'MiB/s of payload'",
        "set key outside right", "set grid",
        "plot " + ", ".join(series) if series else "",
        f"set output '{os.path.join(out, 'latency-cdf.png')}'",
        f"set title 'Latency CDF, {size_name(smallest)} entries at the paced rate'",
        "unset logscale", "set logscale x", "set xlabel 'latency, ms'",
        "set ylabel 'fraction of entries'", "set yrange [0:1]",
        "plot " + ", ".join(cdfs) if cdfs else ""]
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=True)


def has_cairo():
    probe = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    return "pngcairo" in probe.stdout + probe.stderr


def check(systems, ceilings, expected):
    """What makes a smoke run fail: failures, readers that fell short, missing results."""
    problems = []
    for r in systems:
        what = f"{r['system']} {size_name(r['entry_bytes'])} at {r['rate_per_second']:.0f}/s"
        if r["failed"]:
            problems.append(f"{what}: {r['failed']} appends failed ({r['first_error']})")
        if r["note"]:
            problems.append(f"{what}: {r['note']}")
        if r["acknowledged"] == 0:
            problems.append(f"{what}: nothing acknowledged in the window")
        if r["e2e"]["count"] == 0:
            problems.append(f"{what}: the reader received nothing of the window")
    present = {r["system"] for r in systems} | {name for name, _ in ceilings}
    problems += [f"no results for {name}" for name in expected if name not in present]
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out")
    parser.add_argument("--workload", default="")
    parser.add_argument("--commit", default="unknown")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if an append failed, a reader fell short or a system or "
                             "ceiling is missing (the smoke test)")
    parser.add_argument("--expect", default="",
                        help="with --check: comma-separated systems and ceilings that must "
                             "have results")
    args = parser.parse_args()
    systems, ceilings = load(args.out)
    if not systems:
        sys.exit("compare_report.py: no system results in " + args.out)
    sizes = sorted({r["entry_bytes"] for r in systems})
    workload = open(args.workload).read().strip() if args.workload else "(not given)"
    text = [f"Commit {args.commit}; {machine()}.", "", "Workload:", "", "```json", workload,
            "```", "", "### Saturation", ""] + saturation_table(systems, ceilings, sizes) + [
        "", "### Paced (an open loop; latency from each entry's scheduled time)", ""] + \
        paced_table(systems, ceilings, sizes) + ["", "### Ceilings", ""] + \
        ceiling_table(ceilings, sizes) + ["", "### Targets", ""] + targets(systems, ceilings)
    counters = reader_counters(systems)
    if counters:
        text += ["", "### The WAL readers' fetches (QuorumBuffer reads open segments from the "
                 "LogStores: no blocks)", ""] + counters
    extra = notes(systems)
    if extra:
        text += ["", "### Notes", ""] + extra
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write("\n".join(text) + "\n")
    gnuplot(args.out, systems, ceilings, sizes)
    print("\n".join(text))
    if args.check:
        problems = check(systems, ceilings, [x for x in args.expect.split(",") if x])
        if problems:
            sys.exit("compare_report.py: " + "; ".join(problems))


if __name__ == "__main__":
    main()
