#!/usr/bin/env python3
"""chaos_history.merge on hand-written client events: what an unanswered append becomes (by
how its process ended), writer numbering by open time, indices by invocation time, a torn last
line dropped and a damaged middle line refused, the final read passed through."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import chaos_history  # noqa: E402


def write(path, events, tail=""):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
        f.write(tail)


class MergeTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def procs(self, **ends):
        return {n: {"role": role, "events": os.path.join(self.dir, "p%d" % n), "end": end,
                    "end_ns": 900}
                for n, (role, end) in ((int(k[1:]), v) for k, v in ends.items())}

    def test_unanswered_append_outcome_follows_the_process_end(self):
        procs = self.procs(p1=("writer", "killed"), p2=("writer", "running"))
        for n, epoch, opened in ((1, 1, 100), (2, 2, 50)):
            write(procs[n]["events"], [
                {"type": "open", "writer": 1, "epoch": epoch, "at_ns": opened},
                {"type": "invoke", "writer": 1, "index": 0, "payload_hash": "%016x" % n,
                 "payload_size": 8, "at_ns": opened + 10 * n},
            ], tail='{"type":"answer","wri')  # torn by the kill
        records, stats = chaos_history.merge(procs, {}, "chaos")
        appends = {r["node"]: r for r in records if r["type"] == "append"}
        self.assertEqual(appends[1]["outcome"], "abandoned")
        self.assertEqual(appends[1]["completed_ns"], 900)
        self.assertEqual(appends[2]["outcome"], "pending")
        self.assertNotIn("completed_ns", appends[2])
        opens = {r["node"]: r["writer"] for r in records if r["type"] == "open"}
        self.assertEqual(opens, {2: 1, 1: 2})  # numbered by open time
        self.assertEqual((appends[2]["index"], appends[1]["index"]), (0, 1))
        self.assertEqual(stats["torn_lines_dropped"], 2)

    def test_answers_reads_and_final(self):
        procs = self.procs(p1=("writer", "exited 0"), p2=("reader", "stopped"),
                           p3=("final", "exited 0"))
        write(procs[1]["events"], [
            {"type": "open", "writer": 1, "epoch": 4, "at_ns": 1},
            {"type": "invoke", "writer": 1, "index": 0, "payload_hash": "a" * 16,
             "payload_size": 3, "at_ns": 2},
            {"type": "answer", "writer": 1, "index": 0, "outcome": "ok", "id": 0, "at_ns": 3},
            {"type": "invoke", "writer": 1, "index": 1, "payload_hash": "b" * 16,
             "payload_size": 3, "at_ns": 4},
            {"type": "answer", "writer": 1, "index": 1, "outcome": "failed_unknown",
             "error": "timeout", "at_ns": 5}])
        write(procs[2]["events"], [{"type": "read", "session": 1, "id": 0,
                                    "payload_hash": "a" * 16, "invoked_ns": 2, "at_ns": 6}])
        write(procs[3]["events"], [{"type": "final_entry", "id": 0, "payload_hash": "a" * 16},
                                   {"type": "final", "outcome": "ok", "first_kept": 0, "end": 1,
                                    "at_ns": 7}])
        records, stats = chaos_history.merge(procs, {"seed": 1}, "chaos")
        self.assertEqual(records[0]["source"], "wp-chaos")
        appends = [r for r in records if r["type"] == "append"]
        self.assertEqual([(a["outcome"], a.get("id"), a["epoch"]) for a in appends],
                         [("ok", 0, 4), ("failed_unknown", None, 4)])
        self.assertEqual(appends[1]["error"], "timeout")
        self.assertEqual(stats["appends"], {"ok": 1, "failed_unknown": 1})
        final = [r for r in records if r["type"] in ("final", "final_entry")]
        self.assertTrue(all(r["log"] == "chaos" and "process" not in r for r in final))
        self.assertEqual((stats["reads"], stats["final_entries"]), (1, 1))

    def test_a_damaged_line_before_the_last_is_refused(self):
        procs = self.procs(p1=("reader", "stopped"))
        with open(procs[1]["events"], "w") as f:
            f.write('{"type":"read"\n{"type":"read_error","error":"x","at_ns":1}\n')
        with self.assertRaises(ValueError):
            chaos_history.merge(procs, {}, "chaos")


if __name__ == "__main__":
    unittest.main()
