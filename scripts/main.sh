#!/usr/bin/env bash
# The main job: installs what is missing, builds, then
#  1. runs the WAL for real on the embedded backends with `wp`: creates a log, appends 100,000
#     entries, reads them back, verifies every checksum, and prints the log's layout;
#  2. runs a deterministic-simulation sweep of the WAL under injected faults (`wp-sim`);
#  3. runs `wp` again with its metadata in a real etcd (scripts/etcd.sh, stopped by PID), two
#     processes at once: a `tail -f` follows the appends of another.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
mkdir -p "${BUILD_DIR:-$root/build}"
"$root/scripts/build.sh"
bin=${BUILD_DIR:-$root/build}
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

echo "== wp: the MemoryBuffer WAL on local-filesystem objects + SQLite metadata ($data)"
"$bin/wp" --data "$data" log create demo
"$bin/wp" --data "$data" append demo --count 100000 --size 200
"$bin/wp" --data "$data" read demo | wc -l | xargs echo "entries read back:"
"$bin/wp" --data "$data" verify demo
"$bin/wp" --data "$data" inspect demo

if [[ -x "$bin/wp-sim" ]]; then
  echo "== wp-sim: a swarm sweep of simulated runs with faults"
  "$bin/wp-sim" sweep --seeds 1..200 --mode memory --faults swarm
  echo "== wp-sim: QuorumBuffer (3-replica LogStores) under LogStore crashes, wipes, partitions"
  "$bin/wp-sim" sweep --seeds 1..100 --mode quorum --faults swarm
  echo "== wp-sim: idempotent appends re-sent after unknown outcomes (no entry twice)"
  "$bin/wp-sim" sweep --seeds 1..100 --mode keyed --faults swarm
fi

echo "== wp with etcd as the metadata store: a tail -f process follows another's appends"
etcd_dir=$(mktemp -d)
trap 'rm -rf "$data"; "$root/scripts/etcd.sh" stop "$etcd_dir/etcd"; rm -rf "$etcd_dir"' EXIT
endpoint=$("$root/scripts/etcd.sh" start "$etcd_dir/etcd" | tail -n 1)
printf '{"data_dir": "%s", "meta_store": {"type": "etcd", "endpoints": ["%s"]}}\n' \
  "$etcd_dir/data" "$endpoint" > "$etcd_dir/etcd.json"
"$bin/wp" --config "$etcd_dir/etcd.json" log create demo
"$bin/wp" --config "$etcd_dir/etcd.json" tail -f -n 0 demo > "$etcd_dir/tail.out" &
tail_pid=$!
sleep 0.5
"$bin/wp" --config "$etcd_dir/etcd.json" append demo --count 10000 --size 200
for _ in $(seq 1 100); do [[ $(wc -l < "$etcd_dir/tail.out") -ge 10000 ]] && break; sleep 0.1; done
kill "$tail_pid"
wc -l < "$etcd_dir/tail.out" | xargs echo "entries the tail -f process saw:"
"$bin/wp" --config "$etcd_dir/etcd.json" verify demo
