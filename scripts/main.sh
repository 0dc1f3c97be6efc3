#!/usr/bin/env bash
# The main job: installs what is missing, builds, then
#  1. runs the WAL for real on the embedded backends with `wp`: creates a log, appends 100,000
#     entries, reads them back, verifies every checksum, and prints the log's layout;
#  2. runs the same on a real S3 server: starts Ceph RGW (scripts/rgw.sh), then creates, appends,
#     reads, verifies, truncates and garbage-collects a log whose blocks live in an RGW bucket;
#  3. runs a deterministic-simulation sweep of the WAL under injected faults (`wp-sim`);
#  4. runs `wp` again with its metadata in a real etcd (scripts/etcd.sh, stopped by PID), two
#     processes at once: a `tail -f` follows the appends of another;
#  5. runs QuorumBuffer as a deployment: scripts/cluster.sh starts etcd, Ceph RGW and 4
#     wp-logstore daemons; `wp` in quorum mode appends 100,000 entries while the LogStore holding
#     the open segment is killed with `kill -9` and restarted; every entry reads back in order,
#     verify passes, and the LogStores' /metrics show the traffic.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
mkdir -p "${BUILD_DIR:-$root/build}"
"$root/scripts/build.sh"
bin=${BUILD_DIR:-$root/build}
data=$(mktemp -d)
rgw_dir=""
etcd_dir=""
cluster_dir=""
cleanup() {
  if [[ -n "$cluster_dir" ]]; then
    "$root/scripts/cluster.sh" down "$cluster_dir" > /dev/null
    rm -rf "$cluster_dir"
  fi
  [[ -z "$rgw_dir" ]] || { "$root/scripts/rgw.sh" stop "$rgw_dir" > /dev/null; rm -rf "$rgw_dir"; }
  [[ -z "$etcd_dir" ]] || { "$root/scripts/etcd.sh" stop "$etcd_dir/etcd"; rm -rf "$etcd_dir"; }
  rm -rf "$data"
}
trap cleanup EXIT

echo "== wp: the MemoryBuffer WAL on local-filesystem objects + SQLite metadata ($data)"
"$bin/wp" --data "$data" log create demo
"$bin/wp" --data "$data" append demo --count 100000 --size 200
"$bin/wp" --data "$data" read demo | wc -l | xargs echo "entries read back:"
"$bin/wp" --data "$data" verify demo
"$bin/wp" --data "$data" inspect demo

echo "== wp: the MemoryBuffer WAL on a real S3 server (Ceph RGW) + SQLite metadata"
rgw_dir=$(mktemp -d)
"$root/scripts/rgw.sh" start "$rgw_dir"
set -a; . "$rgw_dir/env"; set +a  # S3_ENDPOINT, S3_BUCKET and the AWS_* credentials
printf '{"object_store": {"type": "s3", "endpoint": "%s", "bucket": "%s"}}\n' \
  "$S3_ENDPOINT" "$S3_BUCKET" > "$rgw_dir/s3.json"
"$bin/wp" --data "$rgw_dir/wal" --config "$rgw_dir/s3.json" log create demo  # + the store's line
# The same command, without the store's capability line (printed by every run).
wps() {
  "$bin/wp" --data "$rgw_dir/wal" --config "$rgw_dir/s3.json" "$@" 2>&1 | sed '/^object store:/d'
}
wps append demo --count 100000 --size 200
"$bin/wp" --data "$rgw_dir/wal" --config "$rgw_dir/s3.json" read demo 2> /dev/null | wc -l \
  | xargs echo "entries read back from RGW:"
wps verify demo
wps append demo --count 10 --size 200
wps truncate demo 100000
wps gc demo
wps inspect demo
"$root/scripts/rgw.sh" stop "$rgw_dir" > /dev/null
rm -rf "$rgw_dir"
rgw_dir=""

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

echo "== QuorumBuffer as real processes: etcd, Ceph RGW, 4 wp-logstore daemons (scripts/cluster.sh)"
cluster_dir=$(mktemp -d)
BUILD_DIR=$bin "$root/scripts/cluster.sh" up "$cluster_dir" --logstores 4
wpq() {  # without the store's capability line (printed by every run)
  "$bin/wp" --config "$cluster_dir/cluster.json" "$@" 2> >(sed '/^object store:/d' >&2)
}
wpq log create demo
seq -f "quorum entry %g" 1 100000 > "$cluster_dir/input.txt"
# Paced (10,000 entries every 0.3 s), so the kill lands in the middle of the append.
python3 -c '
import sys, time
for i, line in enumerate(open(sys.argv[1]), 1):
    sys.stdout.write(line)
    if i % 10000 == 0:
        sys.stdout.flush()
        time.sleep(0.3)
' "$cluster_dir/input.txt" | wpq append demo &
append_pid=$!
victim=""
for _ in $(seq 1 100); do  # a member of the open segment's ensemble
  victim=$(wpq inspect demo 2> /dev/null | awk '$2 == "open"' |
           grep -oE 'logstore-[0-9]+' | head -n 1 || true)
  [[ -n "$victim" ]] && break
  sleep 0.05
done
sleep 0.5
echo "kill -9 $victim (pid $(cat "$cluster_dir/ls${victim#logstore-}.pid")) during the append"
"$root/scripts/cluster.sh" kill "$cluster_dir" "${victim#logstore-}"
sleep 1
"$root/scripts/cluster.sh" restart "$cluster_dir" "${victim#logstore-}"
wait "$append_pid"
wpq read demo > "$cluster_dir/read.txt"
wc -l < "$cluster_dir/read.txt" | xargs echo "entries read back from the quorum log:"
cmp "$cluster_dir/input.txt" "$cluster_dir/read.txt" && echo "every entry is back, in order"
wpq verify demo
wpq inspect demo
"$root/scripts/cluster.sh" status "$cluster_dir"
"$root/scripts/cluster.sh" metrics "$cluster_dir" 1 |
  grep -E '^woodpecker_(logstore_(entries_appended|fsyncs)|object_storage_operations)_total' \
  || true
"$root/scripts/cluster.sh" down "$cluster_dir"
rm -rf "$cluster_dir"
cluster_dir=""
