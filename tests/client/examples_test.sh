#!/usr/bin/env bash
# The examples (examples/) run as a user runs them, each in processes of its own:
#  1. --help, and a usage mistake is a one-line error (exit 2);
#  2. a tailing consumer started on an empty log prints, in order, every entry two producer
#     processes append after it started, and stops only when told to (--count). On the embedded
#     stores one process at a time owns the SQLite file (wal/real/sqlite_meta_db.cpp), so there
#     the consumer runs after the producers and reads what they appended;
#  3. an idempotent producer is killed with SIGKILL three times while appending (each time after
#     it acknowledged records beyond where the previous run started) and started again until it
#     finishes: the log holds "record 1" .. "record N" exactly once, in order, with ids 0..N-1.
#
#   examples_test.sh BIN_DIR                   the embedded stores, in a temporary directory
#   examples_test.sh BIN_DIR --config FILE     the stores FILE names (etcd + S3: package_test.sh)
#
# BIN_DIR holds example_producer, example_tailing_consumer and example_idempotent_producer.
set -euo pipefail
bin=${1:?usage: examples_test.sh BIN_DIR [--config FILE]}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
if [[ "${2:-}" == "--config" ]]; then
  stores=(--config "${3:?--config needs a file}")
  concurrent=1
  echo "stores: config file $3"
else
  stores=(--data "$work/data")
  mkdir -p "$work/data"
  concurrent=1  # several processes share the embedded SQLite file (docs/cli.md)
  echo "stores: embedded, in a temporary directory"
fi
producer=$bin/example_producer
consumer=$bin/example_tailing_consumer
idempotent=$bin/example_idempotent_producer

# 1. --help and usage errors.
for program in "$producer" "$consumer" "$idempotent"; do
  "$program" --help | grep -q "^usage: " || fail "$program --help prints no usage"
  if "$program" "${stores[@]}" --bogus 1 a > /dev/null 2> "$work/usage.err"; then
    fail "$program accepted --bogus"
  fi
  [[ $(head -n 1 "$work/usage.err") == "error: unknown option --bogus" ]] \
    || { cat "$work/usage.err"; fail "$program: no one-line error for --bogus"; }
done
if "$idempotent" "${stores[@]}" x --producer 0 --count 1 2> "$work/zero.err"; then
  fail "producer 0 accepted"
fi
grep -q "^error: --producer must be given and not 0$" "$work/zero.err" \
  || { cat "$work/zero.err"; fail "producer 0: no clear error"; }
echo "ok: --help and one-line usage errors"

# 2. A tailing consumer in one process, two producer runs in others.
entries=6000
start_consumer() {
  "$consumer" "${stores[@]}" orders --count "$entries" > "$work/tailed.txt" 2> "$work/tail.err" &
  consumer_pid=$!
  pids+=("$consumer_pid")
}
if [[ $concurrent == 1 ]]; then
  start_consumer
  sleep 1  # the consumer opened the log (created it) and waits at its end
fi
seq -f "order %g" 1 4000 | "$producer" "${stores[@]}" orders > "$work/produced-1.txt"
seq -f "order %g" 4001 "$entries" | "$producer" "${stores[@]}" orders > "$work/produced-2.txt"
grep -qx "appended 4000 entries, ids 0..3999" "$work/produced-1.txt" \
  || { cat "$work/produced-1.txt"; fail "first producer run"; }
grep -qx "appended 2000 entries, ids 4000..5999" "$work/produced-2.txt" \
  || { cat "$work/produced-2.txt"; fail "second producer run"; }
[[ $concurrent == 1 ]] || start_consumer
for _ in $(seq 1 600); do  # up to 60 s for the consumer to print the last entry and exit
  kill -0 "$consumer_pid" 2> /dev/null || break
  sleep 0.1
done
if kill -0 "$consumer_pid" 2> /dev/null; then
  fail "the consumer still runs after 60 s; it printed $(wc -l < "$work/tailed.txt") entries"
fi
wait "$consumer_pid" || { cat "$work/tail.err"; fail "the consumer failed"; }
seq 1 "$entries" | awk '{printf "%d\torder %d\n", $1 - 1, $1}' > "$work/expected-orders.txt"
cmp "$work/expected-orders.txt" "$work/tailed.txt" \
  || fail "the consumer did not print every entry once, in order"
if [[ $concurrent == 1 ]]; then
  echo "ok: a tailing consumer printed the $entries entries two later producer runs appended"
else
  echo "ok: the consumer printed the $entries entries two producer runs appended"
fi

# 3. An idempotent producer killed with SIGKILL three times, then run to the end.
records=150000
# Waits until the producer's standard error (file $1) shows an acknowledged record above $2.
wait_for_progress() {
  local log=$1 above=$2
  for _ in $(seq 1 1200); do
    local acked
    acked=$(sed -n 's/^acknowledged record \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
    if [[ -n "$acked" && "$acked" -gt "$above" ]]; then return 0; fi
    kill -0 "$3" 2> /dev/null || return 1
    sleep 0.05
  done
  return 1
}
held=0
for kill_round in 1 2 3; do
  run_log="$work/idempotent-$kill_round.err"
  "$idempotent" "${stores[@]}" payments --producer 7 --count "$records" 2> "$run_log" &
  pid=$!
  pids+=("$pid")
  wait_for_progress "$run_log" "$held" "$pid" \
    || { cat "$run_log"; fail "run $kill_round made no progress to kill in the middle of"; }
  kill -9 "$pid"
  wait "$pid" 2> /dev/null && fail "run $kill_round finished before it was killed"
  started=$(sed -n 's/.*the log holds records 1\.\.\([0-9]*\);.*/\1/p' "$run_log")
  [[ "$started" -ge "$held" ]] || fail "run $kill_round started at $started, below $held"
  held=$(sed -n 's/^acknowledged record \([0-9]*\) .*/\1/p' "$run_log" | tail -n 1)
  echo "ok: run $kill_round started after record $started, killed with SIGKILL after" \
       "record $held was acknowledged"
done
"$idempotent" "${stores[@]}" payments --producer 7 --count "$records" 2> "$work/final.err" \
  || { cat "$work/final.err"; fail "the last run failed"; }
started=$(sed -n 's/.*the log holds records 1\.\.\([0-9]*\);.*/\1/p' "$work/final.err")
[[ "$started" -ge "$held" ]] \
  || fail "an acknowledged record was lost: the last run found 1..$started, $held was acked"
"$consumer" "${stores[@]}" payments --idle-exit-ms 2000 > "$work/payments.txt" \
  || fail "reading the payments log failed"
seq 1 "$records" | awk '{printf "%d\trecord %d\n", $1 - 1, $1}' > "$work/expected-payments.txt"
cmp "$work/expected-payments.txt" "$work/payments.txt" \
  || fail "after three SIGKILLs the log is not records 1..$records exactly once, in order"
echo "ok: after three SIGKILLs the last run appended $((started + 1))..$records; the log holds" \
     "each of the $records records once, in order"
echo "PASS"
