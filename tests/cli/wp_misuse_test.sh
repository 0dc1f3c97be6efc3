#!/usr/bin/env bash
# `wp` under misuse: each case is a wrong result or data loss that a user could once get with
# exit 0 (docs/cli.md). Every case checks the exit status, the one-line message, and that the
# data acknowledged before it is unchanged.
#  1. truncation beyond the end is refused, so later appends stay readable and gc keeps them;
#  2. an append stops at the first bad line and says which line and what is in the log;
#  3. --producer never reports lines as "already in the log" that are not;
#  4. objects whose metadata is gone are refused, and a new log never sees an old log's data;
#  5. verify says exactly which entries a reader can and cannot read;
#  and names, numbers and config values outside their range are usage errors (exit 2).
# WP_MISUSE_ONLY=N runs only section N (1-5, 6 = names/numbers/config), e.g. to show that
# each one fails against an older wp.
set -euo pipefail
wp=${1:?usage: wp_misuse_test.sh PATH_TO_WP}
want() { [[ -z "${WP_MISUSE_ONLY:-}" || "$WP_MISUSE_ONLY" == "$1" ]]; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/data"
fail() { echo "FAIL: $*"; exit 1; }

# Runs wp, capturing stderr in $work/err; sets $status.
run() {
  status=0
  "$wp" "$@" 2> "$work/err" > "$work/out" || status=$?
}
expect_status() {  # expected, then a description; a failure is one line on stderr
  [[ "$status" == "$1" ]] || { cat "$work/err"; fail "$2: exit $status, expected $1"; }
  if [[ "$1" != 0 ]]; then
    [[ $(wc -l < "$work/err") == 1 ]] || { cat "$work/err"; fail "$2: not one line on stderr"; }
  fi
}
expect_report() {  # as expect_status, for verify: a line per problem, then the verdict
  [[ "$status" == "$1" ]] || { cat "$work/err"; fail "$2: exit $status, expected $1"; }
}
expect_message() {  # a fixed string stderr must hold, then a description
  grep -qF -- "$1" "$work/err" || { cat "$work/err"; fail "$2: stderr lacks '$1'"; }
}
expect_entries() {  # log, expected file
  "$wp" --data "$data" read "$1" > "$work/read.out"
  cmp -s "$2" "$work/read.out" || { diff "$2" "$work/read.out" | head; fail "log $1 differs"; }
}

"$wp" --data "$data" log create t 2>/dev/null
seq 0 99 > "$work/t.txt"
"$wp" --data "$data" append t < "$work/t.txt" 2>/dev/null

# ---- 1. truncation beyond the end ----
if want 1; then
run --data "$data" truncate t 1000000
expect_status 1 "truncate beyond the end"
expect_message "ends at 100" "truncate beyond the end"
for bad in -1 18446744073709551616 " 5" 5x ""; do
  run --data "$data" truncate t "$bad"
  expect_status 2 "truncate '$bad'"
done
seq 100 104 >> "$work/t.txt"
seq 100 104 | "$wp" --data "$data" append t 2>/dev/null
"$wp" --data "$data" gc t 2>/dev/null
expect_entries t "$work/t.txt"
echo "ok: truncation beyond the end is refused; later appends stay readable after gc"
fi

# ---- 2. an error in the middle of the input ----
if want 2; then
"$wp" --data "$data" log create h 2>/dev/null
printf '00ff\n0a0b\nzz\n0c0d\n' > "$work/h.hex"
run --data "$data" append h --format hex < "$work/h.hex"
expect_status 1 "a bad hex line"
expect_message "line 3:" "a bad hex line"
expect_message "appended 2 entries (ids 0..1)" "a bad hex line"
"$wp" --data "$data" read h --format hex > "$work/h.out"
printf '00ff\n0a0b\n' | cmp -s - "$work/h.out" || fail "lines after the bad one were appended"
"$wp" --data "$data" log create big 2>/dev/null
{ echo first; head -c $((16 * 1024 * 1024 + 1)) /dev/zero | tr '\0' 'x'; echo; echo third; } \
  > "$work/big.txt"
run --data "$data" append big < "$work/big.txt"
expect_status 1 "an entry over the limit"
expect_message "line 2:" "an entry over the limit"
echo first | cmp -s - <("$wp" --data "$data" read big) || fail "the log is not the input's prefix"
echo "ok: append stops at the first bad line, names it and what was stored"
fi

# ---- 3. --producer ----
if want 3; then
"$wp" --data "$data" log create k 2>/dev/null
printf 'a\nb\nc\n' > "$work/k.txt"
run --data "$data" append k --producer 7 --sequence-start 18446744073709551615 < "$work/k.txt"
expect_status 1 "a sequence that wraps"
expect_message "line 2:" "a sequence that wraps"
echo a | cmp -s - <("$wp" --data "$data" read k) || fail "a wrapped sequence was appended"
"$wp" --data "$data" append k --producer 9 < "$work/k.txt" 2>/dev/null
printf 'x\ny\n' > "$work/other.txt"
run --data "$data" append k --producer 9 < "$work/other.txt"
expect_status 1 "a producer reused with a lower start"
expect_message "not a re-run" "a producer reused with a lower start"
printf 'a\nb\nc\n' > "$work/other.txt"
printf 'x\nb\nz\n' > "$work/changed.txt"
run --data "$data" append k --producer 9 < "$work/changed.txt"
expect_status 1 "other bytes under a sequence in the log"
expect_message "with other bytes" "other bytes under a sequence in the log"
printf 'a\na\nb\nc\n' | cmp -s - <("$wp" --data "$data" read k) \
  || fail "producer runs changed the log"
# A re-run after the failure in (2), with the bad line fixed: exactly the missing lines.
"$wp" --data "$data" log create r 2>/dev/null
printf '01\n02\nzz\n04\n' > "$work/r.hex"
run --data "$data" append r --format hex --producer 3 < "$work/r.hex"
expect_status 1 "a keyed run with a bad line"
printf '01\n02\n03\n04\n' > "$work/r.hex"
run --data "$data" append r --format hex --producer 3 < "$work/r.hex"
expect_status 0 "the keyed re-run"
expect_message "2 entries were in the log already" "the keyed re-run"
cmp -s "$work/r.hex" <("$wp" --data "$data" read r --format hex) || fail "the re-run is not exact"
echo "ok: --producer reports only what is in the log, and refuses other inputs"
fi

# ---- 5. verify (before 4, which takes the metadata away) ----
if want 5; then
echo '{"writer": {"block_size_bytes_max": 4096, "segment_size_bytes_max": 1048576}}' \
  > "$work/small.json"
"$wp" --data "$data" log create v 2>/dev/null
"$wp" --data "$data" --config "$work/small.json" append v --count 20000 --size 100 2>/dev/null
# After a clean close, inspect shows the log's real end (the tail record alone lags behind the
# sealed segment: a busy writer publishes it at most every 50 ms).
"$wp" --data "$data" inspect v > "$work/inspect.out"
grep -qE "^  end +20000 " "$work/inspect.out" \
  || { cat "$work/inspect.out"; fail "inspect shows a stale end after a clean close"; }
v_dir=$(printf '%020d.d' "$("$wp" --data "$data" log list | awk '$1 == "v" {print $2}')")
blocks=$("$wp" --data "$data" inspect v | awk '$1 == "0" && $2 == "sealed" {print $6}')
footer="$data/objects/wal.d/$v_dir/00000000000000000000.d/m$(printf '%020d' "$blocks").o"
[[ -f "$footer" ]] || fail "no footer manifest $footer to remove"
mv "$footer" "$work/footer"
run --data "$data" verify v
expect_report 1 "a missing footer"
expect_message "footer manifest is unusable" "a missing footer"
expect_message "every entry is readable from the start" "a missing footer"
[[ $("$wp" --data "$data" read v | wc -l) == 20000 ]] || fail "readers should read every entry"
mv "$work/footer" "$footer"
block="$data/objects/wal.d/$v_dir/00000000000000000000.d/b00000000000000000005.o"
mv "$block" "$work/block"
run --data "$data" verify v
expect_report 1 "a missing block"
stop=$("$wp" --data "$data" read v 2>/dev/null | wc -l || true)
expect_message "a reader from the start reads entries 0..$((stop - 1)) and fails at $stop" \
  "a missing block"
grep -q "entries $stop\.\.[0-9]* cannot be read" "$work/err" \
  || { cat "$work/err"; fail "verify did not name the lost entries"; }
mv "$work/block" "$block"
run --data "$data" verify v
expect_status 0 "the repaired log"
echo "ok: verify names the entries a reader cannot read, and no others"
fi

# ---- 4. lost metadata ----
if want 4; then
cp "$data/meta.sqlite" "$work/meta.backup"
rm "$data/meta.sqlite"*
for command in "log create payments" "log list" "verify t" "read t"; do
  run --data "$data" $command
  [[ "$status" != 0 ]] || fail "'$command' succeeded over objects without metadata"
  expect_message "the metadata was lost or replaced" "'$command' without metadata"
done
run --data "$data" read payments
[[ "$status" != 0 ]] || fail "a new log served data"
rm -f "$data/meta.sqlite"*  # the documented recovery: restore the metadata
cp "$work/meta.backup" "$data/meta.sqlite"
expect_entries t "$work/t.txt"
echo "ok: objects whose metadata is gone are refused; restoring it recovers the store"
fi

# ---- names, numbers, config ----
if want 6; then
for name in . .. a/b "$(printf 'a\tb')" "$(printf 'x%.0s' {1..201})"; do
  run --data "$data" log create "$name"
  expect_status 2 "log name '$name'"
done
for flags in "read t --limit 0" "read t --limit -1" "read t --from -1" "tail t -n 1e3" \
             "append t --count 0" "append t --count -1" "append t --size 0" \
             "append t --producer 0" "append t --count 4294967297"; do
  run --data "$data" $flags < /dev/null
  expect_status 2 "flags '$flags'"
done
for config in '{"writer": {"segment_age_max_ms": 1}}' \
              '{"writer": {"inflight_blocks_max": 4294967297}}' \
              '{"writer": null}' '{"writer": []}' '{"reader": {"prefetch_blocks": -1}}' \
              '{"writer": {"blocksize": 5}}' '{"writer": {"block_size_bytes_max": 1.5}}' \
              '{"writer": {"inflight_blocks_max": 100000}}' 'not json'; do
  echo "$config" > "$work/bad.json"
  run --data "$data" --config "$work/bad.json" append t < /dev/null
  expect_status 2 "config $config"
done
run --data "$work/nowhere" log list
expect_status 1 "a missing data directory"
[[ ! -e "$work/nowhere" ]] || fail "a read command created the data directory"
expect_entries t "$work/t.txt"
run --data "$data" verify t
expect_status 0 "verify after the misuse"
echo "ok: bad names, numbers and config values are usage errors; the data is unchanged"
fi

echo "PASS"
