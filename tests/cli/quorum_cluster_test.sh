#!/usr/bin/env bash
# QuorumBuffer as real processes (scripts/cluster.sh: etcd, a bucket of its own on the real S3
# server of the CTest fixture `rgw` (WAL_RGW_DIR), 4 wp-logstore daemons on loopback), driven by
# `wp` in quorum mode:
#  1. appends flow while a LogStore of the open segment's ensemble is SIGKILLed and restarted:
#     the append finishes (the writer rolls past the dead replica) and every acknowledged entry
#     reads back, in order, with its bytes; verify passes; read and tail work;
#  2. the LogStores' /metrics show the traffic (entries appended, journal fsyncs, add requests,
#     PUTs to S3) and /health answers;
#  2b. a writer SIGKILLed mid-append leaves its segment open; a member of it is wiped and
#     restarted: it is in limbo for the segment, the next writer recovers from the other two,
#     and what was readable before the crash is still there, in order;
#  3. SIGTERM drains a LogStore: it deregisters, exits 0, and the log stays readable;
#  4. bad input to wp-logstore is a one-line error (exit 1).
# Stops every process by PID (cluster.sh down; its watchdog if this script dies).
set -euo pipefail
build=${1:?usage: quorum_cluster_test.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
cluster_sh=$root/scripts/cluster.sh
: "${WAL_RGW_DIR:?WAL_RGW_DIR is not set: run this through ctest (fixture rgw)}"
work=$(mktemp -d)
export BUILD_DIR=$build
cleanup() { "$cluster_sh" down "$work/c" > /dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for log in "$work"/c/ls*.log; do echo "--- $log"; tail -n 15 "$log"; done
  exit 1
}

"$cluster_sh" up "$work/c" --logstores 4 --owner-pid $$ --s3-env "$WAL_RGW_DIR/env" \
  --bucket "cluster-$(date +%s%N | tail -c 10)-$$" > "$work/up.out" || fail "cluster up"
config=$work/c/cluster.json
wp() { "$build/wp" --config "$config" "$@"; }
ensemble_of_open_segment() {  # prints the open segment's ensemble, comma-separated
  wp inspect q 2> /dev/null | awk '$2 == "open"' |
    grep -oE '[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+){2};' | head -n 1 | tr -d ';'
}

# 1. Appends paced over about 4 s; a member of the open segment's ensemble dies and comes back.
wp log create q 2> /dev/null
total=60000
python3 -c '
import sys
for i in range(1, int(sys.argv[1]) + 1):
    print(f"entry-{i}-" + "x" * (i % 97))
' "$total" > "$work/input.txt"
# Paced: 1,000 entries every 60 ms, so the append lasts about 4 s.
python3 -c '
import sys, time
with open(sys.argv[1]) as f:
    for i, line in enumerate(f, 1):
        sys.stdout.write(line)
        if i % 1000 == 0:
            sys.stdout.flush()
            time.sleep(0.06)
' "$work/input.txt" 2> /dev/null | wp append q > "$work/append.out" 2>&1 &
append_pid=$!
victim=""
for _ in $(seq 1 100); do
  ensemble=$(ensemble_of_open_segment || true)
  [[ -n "$ensemble" ]] && { victim=${ensemble%%,*}; break; }
  sleep 0.05
done
[[ -n "$victim" ]] || fail "no open segment appeared"
victim_number=${victim#logstore-}
sleep 0.5
"$cluster_sh" kill "$work/c" "$victim_number" > /dev/null
kill -0 "$append_pid" 2> /dev/null || fail "the append finished before the kill: no test"
sleep 1
"$cluster_sh" restart "$work/c" "$victim_number" > /dev/null || fail "restart of $victim"
if ! wait "$append_pid"; then
  fail "wp append failed with a replica killed: $(cat "$work/append.out")"
fi
grep -q "appended $total entries (ids 0..$((total - 1)))" "$work/append.out" ||
  fail "append summary: $(cat "$work/append.out")"
wp read q > "$work/read.out"
cmp -s "$work/input.txt" "$work/read.out" ||
  fail "read back differs from the acknowledged input ($(wc -l < "$work/read.out") lines)"
segments=$(wp inspect q | awk '$2 == "sealed" || $2 == "open"' | wc -l)
(( segments >= 2 )) || fail "the writer never rolled past the killed replica ($segments segment)"
wp verify q 2> "$work/verify.out" || fail "verify: $(cat "$work/verify.out")"
[[ $(wp tail -n 1 --ids q) == "$((total - 1))"$'\t'"entry-$total-"* ]] || fail "tail -n 1"
[[ $(wp read q --from 59990 | wc -l) == 10 ]] || fail "read --from"
grep -q "segment q/1#.*held: journal opened" "$work/c/ls$victim_number.log" ||
  fail "the victim's log has no segment line"

# 2. Metrics and health.
appended=0
puts=0
for n in 1 2 3 4; do
  metrics=$("$cluster_sh" metrics "$work/c" "$n")
  put=$(awk '$1 ~ /^woodpecker_object_storage_operations_total\{operation="put",status="ok"\}$/ {
    print $2 }' <<< "$metrics")
  puts=$((puts + ${put:-0}))
  value=$(awk '$1 == "woodpecker_logstore_entries_appended_total" { print $2 }' <<< "$metrics")
  appended=$((appended + ${value%.*}))
  grep -q '^woodpecker_file_flush_latency_seconds_count [1-9]' <<< "$metrics" ||
    [[ ${value%.*} == 0 ]] || fail "logstore-$n appended without fsync metrics"
done
# Each acknowledged entry is on at least 2 replicas (the restarted node's counter restarted).
(( appended >= total )) || fail "metrics count $appended entries appended, fewer than $total"
(( puts > 0 )) || fail "no LogStore counts a successful PUT to S3"
"$cluster_sh" status "$work/c" | grep -c '"healthy":true' | grep -qx 4 || fail "health"

# 2b. A crashed writer leaves its segment open; a member of it loses its disk and restarts: it
#     is in limbo for that segment (answers unknown), the next writer recovers from the other
#     two, and nothing read before the crash is lost.
wp log create w 2> /dev/null
mkfifo "$work/w-input.fifo"
python3 -c '
import sys, time
for i in range(1, 200001):
    sys.stdout.write(f"w-{i}\n")
    if i % 1000 == 0:
        sys.stdout.flush()
        time.sleep(0.05)
' 2> /dev/null > "$work/w-input.fifo" &
"$build/wp" --config "$config" append w < "$work/w-input.fifo" > /dev/null 2>&1 &
writer_pid=$!
sleep 1.5
before_crash=$(wp read w 2> /dev/null | wc -l)
(( before_crash > 0 )) || fail "the writer to be crashed acknowledged nothing in 1.5 s"
kill -9 "$writer_pid"
wait "$writer_pid" 2> /dev/null || true
wiped=$(wp inspect w 2> /dev/null | awk '$2 == "open"' | grep -oE 'logstore-[0-9]+' | head -n 1)
[[ -n "$wiped" ]] || fail "no open segment after the writer's crash: $(wp inspect w 2>&1)"
"$cluster_sh" wipe "$work/c" "${wiped#logstore-}" > /dev/null
"$cluster_sh" restart "$work/c" "${wiped#logstore-}" > /dev/null || fail "restart of $wiped"
wp inspect w 2> /dev/null | grep -qE "^ +$wiped +IN LIMBO" ||
  fail "$wiped is not in limbo after its wipe: $(wp inspect w 2>&1)"
grep -q "segment w/.*IN LIMBO" "$work/c/ls${wiped#logstore-}.log" ||
  fail "$wiped did not log its limbo"
printf 'after-%s\n' 1 2 3 | wp append w 2> /dev/null || fail "append after the wipe"
wp read w > "$work/w.out" 2> /dev/null
after=$(wc -l < "$work/w.out")
(( after >= before_crash + 3 )) || fail "$after entries after the wipe, $before_crash before it"
head -n $((after - 3)) "$work/w.out" | cmp -s - <(seq -f "w-%g" 1 $((after - 3))) ||
  fail "the crashed writer's entries are not a prefix of its input, in order"
[[ $(tail -n 3 "$work/w.out" | tr '\n' ' ') == "after-1 after-2 after-3 " ]] ||
  fail "the new writer's entries are not at the end"
wp verify w 2> /dev/null || fail "verify after the wipe"
echo "ok: $wiped wiped under an open segment came back in limbo; $before_crash entries read" \
     "before the writer's crash, $((after - 3)) after the recovery"

# 3. A drained LogStore deregisters and exits 0; the log stays readable without it.
pid=$(cat "$work/c/ls1.pid")
kill -TERM "$pid"
for _ in $(seq 1 200); do kill -0 "$pid" 2> /dev/null || break; sleep 0.05; done
kill -0 "$pid" 2> /dev/null && fail "logstore-1 did not exit after SIGTERM"
grep -q "deregistered" "$work/c/ls1.log" || fail "logstore-1 did not deregister"
grep -q "stopped$" "$work/c/ls1.log" || fail "logstore-1 did not log its stop"
wp inspect q | grep -q "logstore-1 .*address" && fail "logstore-1 is still registered"
[[ $(wp read q | wc -l) == "$total" ]] || fail "read after the drain"

# 4. Bad input to the daemon: one line, exit 1.
expect_error() {  # expected text, args...: a configuration error, one line
  local expected=$1 out
  shift
  if out=$("$build/wp-logstore" "$@" 2>&1); then fail "wp-logstore $* succeeded"; fi
  [[ $(wc -l <<< "$out") == 1 ]] || fail "more than one line: $out"
  grep -q "error: .*$expected" <<< "$out" || fail "expected '$expected', got: $out"
}
expect_start_error() {  # expected text, args...: start-up logs its steps, then one error line
  local expected=$1 out
  shift
  if out=$("$build/wp-logstore" "$@" 2>&1); then fail "wp-logstore $* succeeded"; fi
  grep "error: " <<< "$out" | grep -q "$expected" || fail "expected '$expected', got: $out"
  [[ $(grep -c "error: " <<< "$out") == 1 ]] || fail "not one error line: $out"
}
etcd=$(cat "$work/c/etcd/endpoints")
expect_error "no node id" --data-dir "$work/x" --etcd "$etcd" --objects "$work/o"
expect_error "must be etcd" --node n1 --data-dir "$work/x" --objects "$work/o"
expect_error "not dialable" --node n1 --listen 0.0.0.0:7777 --data-dir "$work/x" --etcd "$etcd" \
  --objects "$work/o"
expect_start_error "belongs to node 'logstore-1'" --node other --data-dir "$work/c/ls1" \
  --etcd "$etcd" --objects "$work/o" --listen 127.0.0.1:1 --metrics ""
expect_start_error "in use by another process" --node logstore-3 --data-dir "$work/c/ls3" \
  --etcd "$etcd" --objects "$work/o" --listen 127.0.0.1:1 --metrics ""
echo '{"node": "n1", "lisen": "x"}' > "$work/bad.json"
expect_error "unknown key 'lisen'" --config "$work/bad.json"
echo "PASS: $total entries acknowledged through a SIGKILL and restart of $victim, all read back"
