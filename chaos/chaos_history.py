"""Merges the event files of a run's client processes into one history (docs/history.md).

Input: the process table (number -> role, events file, how it ended) and each process's
JSON-lines events (chaos/README.md, "Client events"). A malformed line can only be the last
one of a process killed while writing it; it is dropped (and counted). Writers are numbered
by the time their open returned; appends by invocation time.
"""
import json


def read_events(path):
    """(events, dropped lines): every whole JSON line of `path`."""
    events, dropped = [], 0
    try:
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
    except FileNotFoundError:
        return [], 0
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        try:
            events.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            if number != len(lines):  # only a torn last line is expected
                raise ValueError("%s:%d: not a JSON line: %r" % (path, number, line[:80]))
            dropped += 1
    return events, dropped


def unanswered(proc, invoke):
    """The outcome of an append the process never answered: its end decides."""
    if proc["end"] == "killed":
        return {"outcome": "abandoned", "completed_ns": max(proc["end_ns"], invoke["at_ns"])}
    return {"outcome": "pending"}


def writer_records(procs, events_of, log):
    opens = []
    for number, proc in procs.items():
        if proc["role"] != "writer":
            continue
        for e in events_of[number]:
            if e["type"] == "open":
                opens.append((e["at_ns"], number, e["writer"], e["epoch"]))
    opens.sort()
    writer_of, records = {}, []
    for writer, (at_ns, number, local, epoch) in enumerate(opens, 1):
        writer_of[(number, local)] = (writer, epoch)
        records.append({"type": "open", "log": log, "writer": writer, "node": number,
                        "epoch": epoch, "opened_ns": at_ns})
    appends = []
    for number, proc in procs.items():
        if proc["role"] != "writer":
            continue
        answers = {(e["writer"], e["index"]): e for e in events_of[number]
                   if e["type"] == "answer"}
        for e in events_of[number]:
            if e["type"] != "invoke":
                continue
            writer, epoch = writer_of[(number, e["writer"])]
            record = {"type": "append", "log": log, "node": number, "writer": writer,
                      "epoch": epoch, "payload_hash": e["payload_hash"],
                      "payload_size": e["payload_size"], "invoked_ns": e["at_ns"]}
            answer = answers.get((e["writer"], e["index"]))
            if answer is None:
                record.update(unanswered(proc, e))
            else:
                record["completed_ns"] = answer["at_ns"]
                record["outcome"] = answer["outcome"]
                if "id" in answer:
                    record["id"] = answer["id"]
                if answer.get("error"):
                    record["error"] = answer["error"]
            appends.append(record)
    appends.sort(key=lambda r: (r["invoked_ns"], r["node"]))
    for index, record in enumerate(appends):
        record["index"] = index
    return records + appends


def reader_records(procs, events_of, log):
    records = []
    for number, proc in procs.items():
        for e in events_of[number]:
            if proc["role"] == "reader" and e["type"] == "read":
                records.append({"type": "read", "log": log, "node": number,
                                "session": e["session"], "id": e["id"],
                                "payload_hash": e["payload_hash"], "at_ns": e["at_ns"],
                                "invoked_ns": e["invoked_ns"]})
            elif proc["role"] == "final" and e["type"] in ("final", "final_entry"):
                record = dict(e, log=log)
                record.pop("process", None)
                records.append(record)
    return records


def merge(procs, header_run, log):
    """(history records, stats) for the processes of one run."""
    events_of, dropped = {}, 0
    for number, proc in procs.items():
        events_of[number], torn = read_events(proc["events"])
        dropped += torn
    header = {"type": "header", "format": "woodpecker-wal-history", "version": 1,
              "source": "wp-chaos", "run": header_run}
    records = [header] + writer_records(procs, events_of, log) + \
        reader_records(procs, events_of, log)
    stats = {"torn_lines_dropped": dropped, "appends": {}, "reads": 0, "final_entries": 0,
             "writers_opened": 0}
    for r in records:
        if r["type"] == "append":
            stats["appends"][r["outcome"]] = stats["appends"].get(r["outcome"], 0) + 1
        elif r["type"] == "read":
            stats["reads"] += 1
        elif r["type"] == "final_entry":
            stats["final_entries"] += 1
        elif r["type"] == "open":
            stats["writers_opened"] += 1
    return records, stats


def write_history(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, separators=(",", ":")) + "\n")
