#!/usr/bin/env bash
# A wp-chaos run as a test (chaos/README.md): passes when the run's verdict is the expected one
# and the run did what it claims (faults of every requested kind injected, acknowledged entries
# checked, every one of them in the final read).
#
#   chaos_run_test.sh BUILD_DIR pass SEED DURATION_S FAULTS MIN_PER_KIND [WP_CHAOS_OPTION...]
#       the run must pass, with at least MIN_PER_KIND faults injected of each kind in FAULTS
#   chaos_run_test.sh BUILD_DIR catch SEED DURATION_S FAULTS BUG [WP_CHAOS_OPTION...]
#       with BUG planted the run must fail with a wp-lincheck violation (exit 1); the same
#       schedule without it must pass
#
# Exit 77 (skipped) without etcd. Every process is stopped by PID (wp-chaos, cluster.sh).
set -euo pipefail
build=${1:?usage: chaos_run_test.sh BUILD_DIR pass|catch SEED DURATION_S FAULTS ARG}
mode=${2:?} seed=${3:?} duration=${4:?} faults=${5:?} arg=${6:?}
shift 6
extra=("$@")  # further wp-chaos options (--mode memory)
if ! command -v etcd > /dev/null; then
  echo "SKIP: no etcd (scripts/install-deps.sh installs it)"
  exit 77
fi
if [[ ",$faults," == *,disk_full,* && $(id -u) != 0 ]]; then
  echo "SKIP: disk_full mounts a small tmpfs, which needs root"
  exit 77
fi
if [[ ",$faults," =~ ,(net_[a-z]+|s3_kill), ]] && ! command -v radosgw > /dev/null; then
  echo "SKIP: no radosgw for the S3 faults (scripts/install-deps.sh installs it)"
  exit 77
fi
work=$(mktemp -d)
# A run cut short may leave logstore-4's tmpfs mounted under $work.
trap '{ findmnt -rn -o TARGET | grep "^$work/" | xargs -r umount -l; } || true; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

run() {  # OUT [extra options]; prints wp-chaos's output, returns its exit status
  local out=$1
  shift
  "$build/wp-chaos" run --seed "$seed" --duration-s "$duration" --faults "$faults" \
    --out "$out" ${extra[@]+"${extra[@]}"} "$@"
}

check_verdict() {  # OUT MIN_PER_KIND: faults by kind, acknowledged entries all read back
  python3 - "$1/verdict.json" "$faults" "$2" << 'EOF_PY'
import json, sys
verdict = json.load(open(sys.argv[1]))
kinds, least = sys.argv[2].split(","), int(sys.argv[3])
for kind in kinds:
    got = verdict["faults_injected"].get(kind, 0)
    assert got >= least, "only %d faults of kind %s (wanted %d)" % (got, kind, least)
acknowledged = verdict["acknowledged_entries_checked"]
assert acknowledged > 100, "only %d acknowledged entries" % acknowledged
assert verdict["history"]["final_entries"] >= acknowledged, "final read shorter than acks"
assert verdict["history"]["reads"] > 0, "the tailing readers read nothing"
faults = [json.loads(line) for line in open(sys.argv[1].replace("verdict.json", "faults.jsonl"))]
full = [f for f in faults if f["fault"] == "disk_full" and "skipped" not in f]
errors = sum(f.get("journal_write_errors", 0) for f in full)
print("ok: faults %s, %d acknowledged entries checked, appends %s, %d reads%s" % (
    verdict["faults_injected"], acknowledged, verdict["history"]["appends"],
    verdict["history"]["reads"],
    ", %d journal write errors on the full disk" % errors if full else ""))
EOF_PY
}

case "$mode" in
  pass)
    run "$work/run" || fail "the run did not pass (exit $?)"
    check_verdict "$work/run" "$arg" || fail "the run's verdict is short of what it claims" ;;
  catch)
    status=0
    run "$work/planted" --plant-bug "$arg" > "$work/planted.out" 2>&1 || status=$?
    cat "$work/planted.out"
    [[ $status == 1 ]] || fail "with $arg planted the run exited $status, not 1 (failed)"
    grep -q '"lincheck_exit": 1' "$work/planted/verdict.json" ||
      fail "with $arg planted wp-lincheck found no violation"
    grep -q "PLANTED BUG $arg" "$work"/planted/processes/*.log "$work"/planted/cluster/ls*.log ||
      fail "no process says $arg was planted"
    grep -q "repeat its schedule with: wp-chaos run --seed $seed" "$work/planted.out" ||
      fail "the failing run did not print the command that repeats it"
    run "$work/clean" > "$work/clean.out" 2>&1 ||
      { cat "$work/clean.out"; fail "the same schedule without $arg did not pass"; }
    echo "ok: $arg planted fails the run, the same schedule without it passes" ;;
  *) fail "mode must be pass or catch" ;;
esac
