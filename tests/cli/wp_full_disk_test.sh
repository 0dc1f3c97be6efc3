#!/usr/bin/env bash
# A full disk under the data directory: `wp` says "no space" at once, for the metadata store as
# for the objects, never retries for minutes and never blames something else; what was
# acknowledged before stays readable, and once space is freed the log takes appends again.
# Needs a small file system of its own: a tmpfs mounted in a private mount namespace (as root,
# or as a user where unprivileged user namespaces are allowed). Exits 77 (skipped) otherwise.
set -euo pipefail
wp=${1:?usage: wp_full_disk_test.sh PATH_TO_WP}
wp=$(cd "$(dirname "$wp")" && pwd)/$(basename "$wp")
if [[ "${WP_FULL_DISK_INSIDE:-}" != 1 ]]; then
  namespace=(unshare --mount)
  [[ $(id -u) == 0 ]] || namespace=(unshare --user --map-root-user --mount)
  if ! "${namespace[@]}" true 2>/dev/null; then
    echo "SKIP: cannot make a private mount namespace for a small file system"
    exit 77
  fi
  exec env WP_FULL_DISK_INSIDE=1 "${namespace[@]}" "$0" "$wp"
fi

work=$(mktemp -d)
disk="$work/disk"
mkdir "$disk"
mount -t tmpfs -o size=4m tmpfs "$disk" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  umount "$disk" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
data="$disk/data"

"$wp" --data "$data" log create full 2>/dev/null
seq 1 10 | "$wp" --data "$data" append full 2>/dev/null
# A reader keeps the metadata store's shared-memory index in place, as a real deployment
# with a tail -f has; the second round below runs without it.
"$wp" --data "$data" tail -f full > /dev/null 2>&1 &
pids+=($!)
sleep 0.3

for round in "with a reader" "alone"; do
  cat /dev/zero > "$disk/filler" 2>/dev/null || true  # fills the disk
  for command in "append full" "log create more"; do
    start=$(date +%s)
    status=0
    seq 11 20 | timeout 60 "$wp" --data "$data" $command 2> "$work/err" || status=$?
    seconds=$(( $(date +%s) - start ))
    [[ "$status" == 1 ]] \
      || { cat "$work/err"; fail "$command on a full disk ($round): exit $status"; }
    grep -q "no_space" "$work/err" || { cat "$work/err"; fail "$command ($round): not 'no space'"; }
    (( seconds < 10 )) || fail "$command on a full disk ($round) took $seconds s"
    [[ $(wc -l < "$work/err") == 1 ]] || { cat "$work/err"; fail "not one line"; }
  done
  rm "$disk/filler"
  seq 1 10 | cmp -s - <("$wp" --data "$data" read full) || fail "acknowledged entries changed"
  if [[ "$round" == "with a reader" ]]; then
    kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()
  fi
  echo "ok: a full disk is reported at once as no space ($round)"
done
seq 11 20 | "$wp" --data "$data" append full 2>/dev/null || fail "no appends after space was freed"
seq 1 20 | cmp -s - <("$wp" --data "$data" read full) || fail "the log is not what was appended"
"$wp" --data "$data" verify full 2>/dev/null || fail "verify after the full disk"
echo "ok: after space is freed the log takes appends and verifies"
echo "PASS"
