#!/usr/bin/env bash
# End-to-end test of `wp` on a real S3 server (Ceph RGW, the CTest fixture `rgw`; WAL_RGW_DIR
# names its directory, scripts/rgw.sh):
#  1. 20,000 entries go in through an s3 config file and come back byte for byte; verify passes;
#  2. a writer process is killed with SIGKILL in the middle of an idempotent append; a second
#     run of the same input appends exactly what is missing (nothing lost, nothing twice);
#  3. truncate + gc delete the objects of a whole segment from the bucket;
#  4. an independent client (boto3, tests/cli/s3_boto3_check.py) lists and fetches the objects
#     and finds every entry `wp read` printed in the block that covers its id;
#  5. a wrong secret key, a missing bucket and an unreachable endpoint are one-line errors.
set -euo pipefail
wp=${1:?usage: s3_wp_test.sh PATH_TO_WP}
here=$(cd "$(dirname "$0")" && pwd)
: "${WAL_RGW_DIR:?WAL_RGW_DIR is not set: run this through ctest (fixture rgw)}"
set -a; . "$WAL_RGW_DIR/env"; set +a
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

bucket="wp-$(date +%s%N | tail -c 10)-$$"
/usr/bin/python3 - "$S3_ENDPOINT" "$bucket" <<'PY'
import sys, boto3
from botocore.config import Config
boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
             config=Config(s3={"addressing_style": "path"})).create_bucket(Bucket=sys.argv[2])
PY
config="$work/s3.json"
printf '{"object_store": {"type": "s3", "endpoint": "%s", "bucket": "%s"}}\n' \
  "$S3_ENDPOINT" "$bucket" > "$config"
data="$work/data"
wps() { "$wp" --data "$data" --config "$config" "$@"; }

wps log create rt 2> "$work/create.err"
grep -q "If-None-Match: \* enforced" "$work/create.err" \
  || { cat "$work/create.err"; fail "no capability line"; }
seq -f "entry %g of the s3 round trip" 1 20000 > "$work/in.txt"
wps append rt < "$work/in.txt" 2> /dev/null
wps read rt > "$work/out.txt" 2> /dev/null
cmp "$work/in.txt" "$work/out.txt" || fail "read-back differs from what was appended"
wps verify rt 2> /dev/null || fail "verify failed on an intact log"
echo "ok: 20000 entries round-trip through RGW; verify passes"

# A writer killed with SIGKILL mid-append, then the same input again: exactly the input.
wps log create killed 2> /dev/null
seq -f "keyed entry %g" 1 200000 > "$work/keyed.txt"
"$wp" --data "$data" --config "$config" append killed --producer 9 < "$work/keyed.txt" \
  2> /dev/null &
writer=$!  # the wp process itself (a function or subshell here would be killed instead)
sleep 0.7
kill -9 "$writer" 2> /dev/null || true
wait "$writer" 2> /dev/null || true
before=$(wps read killed 2> "$work/read-after-kill.err" | wc -l) \
  || { cat "$work/read-after-kill.err"; fail "read after the kill failed"; }
wps append killed --producer 9 < "$work/keyed.txt" 2> "$work/rerun.err"
wps read killed > "$work/keyed.out" 2> /dev/null
cmp "$work/keyed.txt" "$work/keyed.out" \
  || fail "after a SIGKILL and a re-run the log is not the input"
present=$(grep -o '[0-9]* entries were in the log already' "$work/rerun.err" || echo 'none present')
echo "ok: writer killed after $before of 200000 entries were readable; the re-run completed it" \
     "exactly ($present)"

wps append rt --count 10 --size 50 2> /dev/null
wps truncate rt 20000 2> /dev/null
wps gc rt 2> "$work/gc.txt"
grep -q "1 segments deleted" "$work/gc.txt" \
  || { cat "$work/gc.txt"; fail "gc did not free the segment"; }
first=$(wps read rt --ids --limit 1 2> /dev/null | cut -f1)
[[ "$first" == "20000" ]] || fail "after truncation the first entry should be 20000, got $first"
echo "ok: truncate + gc deleted a whole segment's objects from the bucket"

for log in rt killed; do
  wps read "$log" --ids --format hex > "$work/$log.hex" 2> /dev/null
  log_id=$(wps log list 2> /dev/null | awk -v name="$log" '$1 == name {print $2}')
  "$here/s3_boto3_check.py" --endpoint "$S3_ENDPOINT" --bucket "$bucket" \
    --prefix "wal/$(printf '%020d' "$log_id")/" --read-output "$work/$log.hex" \
    || fail "boto3 cross-check of log $log"
done

expect_one_line_error() {  # what, pattern, command...
  local what=$1 pattern=$2; shift 2
  if "$@" > /dev/null 2> "$work/err.txt"; then fail "$what: succeeded"; fi
  grep -q "$pattern" "$work/err.txt" || { cat "$work/err.txt"; fail "$what: no '$pattern'"; }
  [[ $(wc -l < "$work/err.txt") -eq 1 ]] || { cat "$work/err.txt"; fail "$what: not one line"; }
  grep -q "$AWS_SECRET_ACCESS_KEY" "$work/err.txt" && fail "$what: the secret key was printed"
  echo "ok: $what -> $(cat "$work/err.txt")"
}
expect_one_line_error "wrong secret key" "AWS_SECRET_ACCESS_KEY" \
  env AWS_SECRET_ACCESS_KEY=wrong-secret "$wp" --data "$data" --config "$config" inspect rt
printf '{"object_store": {"type": "s3", "endpoint": "%s", "bucket": "no-such-bucket"}}\n' \
  "$S3_ENDPOINT" > "$work/missing.json"
expect_one_line_error "missing bucket" "does not exist" \
  "$wp" --data "$data" --config "$work/missing.json" inspect rt
printf '{"object_store": {"type": "s3", "endpoint": "http://127.0.0.1:9", "bucket": "%s",
         "attempts_max": 2}}\n' "$bucket" > "$work/unreachable.json"
expect_one_line_error "unreachable endpoint" "cannot reach" \
  "$wp" --data "$data" --config "$work/unreachable.json" inspect rt
echo "PASS"
