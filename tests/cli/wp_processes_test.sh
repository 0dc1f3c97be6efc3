#!/usr/bin/env bash
# Several `wp` processes on one data directory (docs/cli.md, "Several processes"):
#  1. the README's `wp tail -f` in one process sees `wp append` of others, as they happen;
#  2. `read` and `inspect` run beside a writer that is appending;
#  3. a second writer fences the first through the protocol: the first stops with "fenced"
#     and the log holds exactly what each acknowledged;
#  4. a read-only copy of a data directory can be read, inspected and verified.
# Every process this test starts is stopped by its PID.
set -euo pipefail
wp=${1:?usage: wp_processes_test.sh PATH_TO_WP}
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
data="$work/data"
fail() { echo "FAIL: $*"; exit 1; }
# Waits up to 10 s for `condition` (a command) to hold.
wait_for() {
  for _ in $(seq 1 100); do
    if eval "$1"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# ---- 1. tail -f across processes ----
"$wp" --data "$data" log create orders 2>/dev/null
"$wp" --data "$data" tail -f orders > "$work/tail.out" 2> "$work/tail.err" &
tail_pid=$!
pids+=("$tail_pid")
sleep 0.5  # let it reach the tail and wait there
seq 1 5 | "$wp" --data "$data" append orders 2>/dev/null || fail "append beside tail -f failed"
wait_for '[[ $(wc -l < "$work/tail.out") == 5 ]]' \
  || { cat "$work/tail.err"; fail "tail -f did not show the first append of another process"; }
seq 6 8 | "$wp" --data "$data" append orders 2>/dev/null || fail "append beside tail -f failed"
wait_for '[[ $(wc -l < "$work/tail.out") == 8 ]]' \
  || fail "tail -f did not show the second append"
seq 1 8 | cmp -s - "$work/tail.out" || fail "tail -f printed something else"
kill "$tail_pid"
wait "$tail_pid" 2>/dev/null || true
echo "ok: tail -f follows appends of other processes"

# ---- 2. readers beside a writer ----
"$wp" --data "$data" log create busy 2>/dev/null
"$wp" --data "$data" append busy --count 20000000 --size 64 2> "$work/busy.err" &
writer_pid=$!
pids+=("$writer_pid")
wait_for '[[ $("$wp" --data "$data" read busy --limit 1000 2>/dev/null | wc -l) == 1000 ]]' \
  || { cat "$work/busy.err"; fail "no entries became readable while the writer runs"; }
for _ in 1 2 3; do
  "$wp" --data "$data" read busy --limit 1000 > "$work/busy.out" \
    || fail "read beside a writer failed"
  [[ $(wc -l < "$work/busy.out") == 1000 ]] || fail "read beside a writer returned too little"
  "$wp" --data "$data" inspect busy > "$work/inspect.out" || fail "inspect beside a writer failed"
  grep -q "open" "$work/inspect.out" || fail "inspect did not show the open segment"
done
echo "ok: read and inspect run beside a writer"

# ---- 3. a second writer fences the first ----
seq 1 10 > "$work/second.txt"
"$wp" --data "$data" append busy < "$work/second.txt" 2> "$work/second.err" \
  || { cat "$work/second.err"; fail "the second writer failed"; }
status=0
wait "$writer_pid" || status=$?
[[ "$status" == 1 ]] || fail "the first writer exited $status, expected 1 (fenced)"
grep -q "fenced" "$work/busy.err" \
  || { cat "$work/busy.err"; fail "the first writer was not fenced"; }
first_end=$(sed -n 's/.*appended [0-9]* entries (ids 0\.\.\([0-9]*\)).*/\1/p' "$work/busy.err")
[[ -n "$first_end" ]] \
  || { cat "$work/busy.err"; fail "the fenced writer did not say what it stored"; }
second_first=$(sed -n 's/.*(ids \([0-9]*\)\.\.[0-9]*).*/\1/p' "$work/second.err")
[[ "$second_first" == $((first_end + 1)) ]] \
  || fail "the second writer started at $second_first, the first ended at $first_end"
"$wp" --data "$data" read busy --from "$second_first" > "$work/after.out"
cmp -s "$work/second.txt" "$work/after.out" || fail "the log does not end with the second input"
"$wp" --data "$data" verify busy 2>/dev/null || fail "verify after the takeover"
echo "ok: a second writer fences the first; each one's acknowledged entries are in the log"

# ---- 4. a read-only copy ----
cp -a "$data" "$work/copy"
chmod -R a-w "$work/copy"
chmod -R a+rX "$work"
as_reader=()
if [[ $(id -u) == 0 ]]; then
  # root ignores permissions; read as nobody, for whom the copy really is read-only.
  command -v setpriv > /dev/null || { echo "SKIP: read-only copy needs setpriv as root"; exit 0; }
  as_reader=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
"${as_reader[@]}" "$wp" --data "$work/copy" read orders > "$work/copy.out" \
  || fail "a read-only copy cannot be read"
seq 1 8 | cmp -s - "$work/copy.out" || fail "the read-only copy reads wrong"
"${as_reader[@]}" "$wp" --data "$work/copy" verify busy 2>/dev/null \
  || fail "a read-only copy cannot be verified"
"${as_reader[@]}" "$wp" --data "$work/copy" inspect orders > /dev/null \
  || fail "a read-only copy cannot be inspected"
status=0
seq 1 2 | "${as_reader[@]}" "$wp" --data "$work/copy" append orders 2> "$work/ro.err" || status=$?
[[ "$status" == 1 ]] || fail "appending to a read-only copy exited $status"
grep -q "Permission denied" "$work/ro.err" \
  || { cat "$work/ro.err"; fail "unclear read-only error"; }
echo "ok: a read-only copy is read, verified and inspected; writing to it is refused"
echo "PASS"
