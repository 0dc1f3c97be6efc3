#!/usr/bin/env bash
# scripts/repin-trace.py on a copy of a planted-bug trace: the trace it writes must replay to the
# same anomaly with the bug on (checked by `wp-sim replay`, not by the script), its description
# must name the new seed, and a real bug's trace (no "bug" field) must be refused with status 2.
set -euo pipefail
wp_sim=${1:?usage: repin_trace_test.sh PATH_TO_WP_SIM SOURCE_DIR}
source_dir=${2:?usage: repin_trace_test.sh PATH_TO_WP_SIM SOURCE_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"  # wp-sim writes its artifacts under the working directory
fail() { echo "FAIL: $*"; exit 1; }

# (Not ack_before_put: the ack audit, ack_not_in_store, names that bug before its trace's anomaly.)
planted="$source_dir/traces/planted-seal_one_short.json"
cp "$planted" "$work/trace.json"
python3 "$source_dir/scripts/repin-trace.py" --wp-sim "$wp_sim" --seeds 1..30 "$work/trace.json" \
  || fail "repin-trace.py exited $?"
anomaly=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["anomaly"])' "$planted")
token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$work/trace.json")
replayed=$("$wp_sim" replay "$token" 2>&1) || true
grep -q "result=fail anomaly=$anomaly" <<<"$replayed" \
  || fail "the re-pinned token does not fail with $anomaly: $replayed"
grep -q "matches the token" <<<"$replayed" || fail "the re-pinned token does not replay exactly"
grep -q "Caught at swarm seed [0-9]* (memory mode), shrunk to [0-9]* events." "$work/trace.json" \
  || fail "the description does not name the new seed: $(cat "$work/trace.json")"

status=0
python3 "$source_dir/scripts/repin-trace.py" --wp-sim "$wp_sim" \
  "$source_dir/traces/found-seed-2.json" --out "$work/refused.json" 2>"$work/refusal" || status=$?
[[ $status -eq 2 ]] || fail "a real bug's trace was not refused with status 2 (status $status)"
grep -q "pins a real bug's fix" "$work/refusal" || fail "unclear refusal: $(cat "$work/refusal")"
[[ ! -e "$work/refused.json" ]] || fail "a refused trace was written"
echo "repin-trace: re-pinned trace replays to $anomaly; real-bug trace refused"
