#!/usr/bin/env bash
# End-to-end test of `wp` with etcd as the metadata store (objects in a local directory shared
# by every process), against a real etcd started here (scripts/etcd.sh, stopped by PID):
#  1. every command works with --config etcd.json, and the keys land under the configured prefix;
#  2. several processes at once: `tail -f` in one process sees entries appended by another;
#  3. a second `wp append` fences a running one: the first stops with a clear "fenced" error,
#     and every entry it acknowledged is in the log, in order, with its bytes;
#  4. a wrong endpoint, a wrong password and TLS mistakes are one-line errors (exit 1), and
#     authentication and TLS with a client certificate work.
set -euo pipefail
wp=${1:?usage: wp_etcd_test.sh PATH_TO_WP}
root=$(cd "$(dirname "$0")/../.." && pwd)
etcd_sh=$root/scripts/etcd.sh
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for cluster in "$work"/etcd-*; do [[ -d "$cluster" ]] && "$etcd_sh" stop "$cluster"; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

endpoint=$("$etcd_sh" start "$work/etcd-plain" | tail -n 1)
write_config() {  # file, extra JSON members of meta_store
  cat > "$1" <<EOF
{"data_dir": "$work/data", "meta_store": {"type": "etcd", "endpoints": ["$endpoint"],
 "prefix": "/wal-test/"$2}}
EOF
}
write_config "$work/etcd.json" ""
run() { "$wp" --config "$work/etcd.json" "$@"; }

# 1. Every command.
run log create orders 2> /dev/null
run log create scratch 2> /dev/null
[[ $(run log list | cut -f1 | tr '\n' ' ') == "orders scratch " ]] || fail "log list"
seq 1 5000 | run append orders 2> /dev/null
[[ $(run read orders | wc -l) == 5000 ]] || fail "read returned the wrong count"
[[ $(run tail -n 1 --ids orders) == $'4999\t5000' ]] || fail "tail -n 1"
grep -q "sealed" <<< "$(run inspect orders)" || fail "inspect shows no sealed segment"
run verify orders 2> /dev/null || fail "verify"
seq 5001 5010 | run append orders 2> /dev/null
run truncate orders 5000 2> /dev/null
run gc orders 2> "$work/gc.err"
grep -q "1 segments deleted" "$work/gc.err" || { cat "$work/gc.err"; fail "gc"; }
[[ $(run read orders --ids --limit 1 | cut -f1) == 5000 ]] || fail "read after truncate"
run log delete scratch 2> /dev/null
[[ $(run log list | cut -f1) == orders ]] || fail "log delete"
keys=$(ETCDCTL_API=3 etcdctl --endpoints "$endpoint" get --prefix /wal-test/ --keys-only)
grep -q "^/wal-test/logs/orders/epoch$" <<< "$keys" || fail "no epoch key under the prefix"
echo "ok: every command runs with etcd as the metadata store"

# 2. tail -f in one process sees appends made by others.
run log create live 2> /dev/null
# "$wp" itself, not the run function: $! must be wp's PID for the cleanup to stop it.
"$wp" --config "$work/etcd.json" tail -f -n 0 live > "$work/tail.out" 2> "$work/tail.err" &
pids+=($!)
sleep 0.5
for batch in 1 2 3; do seq "${batch}01" "${batch}05" | run append live 2> /dev/null; done
for _ in $(seq 1 100); do [[ $(wc -l < "$work/tail.out") -ge 15 ]] && break; sleep 0.1; done
expected=$(for batch in 1 2 3; do seq "${batch}01" "${batch}05"; done)
[[ "$(cat "$work/tail.out")" == "$expected" ]] || {
  cat "$work/tail.out" "$work/tail.err"; fail "tail -f did not see the other processes' appends"; }
echo "ok: tail -f in one process sees the appends of three others"

# 3. A second writer fences the first; nothing the first acknowledged is lost.
run log create fenced 2> /dev/null
"$wp" --config "$work/etcd.json" append fenced --count 5000000 --size 100 2> "$work/first.err" &
first=$!
pids+=("$first")
for _ in $(seq 1 200); do
  [[ -n "$(run tail -n 1 --ids fenced 2> /dev/null || true)" ]] && break
  sleep 0.05
done
printf 'second-%d\n' 1 2 3 | run append fenced 2> "$work/second.err"
if wait "$first"; then fail "the fenced writer exited 0"; fi
grep -q "error: .*: fenced" "$work/first.err" || { cat "$work/first.err"; fail "no fenced error"; }
acked=$(sed -n 's/.*appended [0-9]* entries (ids 0\.\.\([0-9]*\)).*/\1/p' "$work/first.err")
[[ -n "$acked" ]] || { cat "$work/first.err"; fail "the first writer acknowledged nothing"; }
run read fenced --ids > "$work/fenced.out"
python3 - "$work/fenced.out" "$acked" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")[:-1]
acked = int(sys.argv[2])
ids = [int(line.split("\t", 1)[0]) for line in lines]
payloads = [line.split("\t", 1)[1] for line in lines]
assert ids == list(range(len(ids))), "ids are not 0..n-1"
assert payloads[-3:] == ["second-1", "second-2", "second-3"], payloads[-3:]
first = payloads[:-3]
assert len(first) > acked, f"{len(first)} entries of the first writer, {acked + 1} acknowledged"
for i, payload in enumerate(first):  # acknowledged ones, and durable unacknowledged ones
    assert payload.startswith(f"wp-{i}-"), f"entry {i} is {payload[:20]!r}"
print(f"ok: {acked + 1} acknowledged entries of the fenced writer all read back "
      f"({len(first)} of its entries in the log), then the second writer's 3")
PY
run verify fenced 2> /dev/null || fail "verify after fencing"

# 4. Mistakes are one-line errors; auth and TLS work.
one_line_error() {  # file with stderr, expected text
  [[ $(wc -l < "$1") == 1 ]] || { cat "$1"; fail "error is not one line"; }
  grep -q "$2" "$1" || { cat "$1"; fail "error does not say '$2'"; }
}
cat > "$work/dead.json" <<EOF
{"data_dir": "$work/data", "meta_store": {"type": "etcd", "endpoints": ["127.0.0.1:1"],
 "operation_timeout_ms": 1500}}
EOF
if "$wp" --config "$work/dead.json" log list 2> "$work/dead.err"; then fail "dead endpoint"; fi
one_line_error "$work/dead.err" "unavailable"
echo "ok: an endpoint nobody listens on: $(cat "$work/dead.err")"

"$etcd_sh" enable-auth "$work/etcd-plain" wal "s3cret" > /dev/null
write_config "$work/auth.json" ', "username": "wal", "password": "s3cret"'
write_config "$work/wrong.json" ', "username": "wal", "password": "wrong"'
listed=$("$wp" --config "$work/auth.json" log list | cut -f1 | tr '\n' ' ')
[[ "$listed" == "fenced live orders " ]] || fail "log list with auth"
if "$wp" --config "$work/wrong.json" log list 2> "$work/wrong.err"; then fail "wrong password"; fi
one_line_error "$work/wrong.err" "permission_denied"
if run log list 2> "$work/noauth.err"; then fail "no credentials accepted with auth on"; fi
one_line_error "$work/noauth.err" "permission_denied"
echo "ok: auth works; a wrong password: $(cat "$work/wrong.err")"

"$etcd_sh" certs "$work/certs" > /dev/null
tls_endpoint=$("$etcd_sh" start "$work/etcd-tls" --tls "$work/certs" --client-cert-auth | tail -n 1)
tls_config() {  # file, tls members
  cat > "$1" <<EOF
{"data_dir": "$work/tls-data", "meta_store": {"type": "etcd", "endpoints": ["$tls_endpoint"],
 "operation_timeout_ms": 2000, "tls": {$2}}}
EOF
}
tls_config "$work/tls.json" "\"ca_file\": \"$work/certs/ca.pem\",
  \"cert_file\": \"$work/certs/client.pem\", \"key_file\": \"$work/certs/client-key.pem\""
"$wp" --config "$work/tls.json" log create secure 2> /dev/null
seq 1 10 | "$wp" --config "$work/tls.json" append secure 2> /dev/null
[[ $("$wp" --config "$work/tls.json" read secure | wc -l) == 10 ]] || fail "read over TLS"
tls_config "$work/nocert.json" "\"ca_file\": \"$work/certs/ca.pem\""
if "$wp" --config "$work/nocert.json" log list 2> "$work/nocert.err"; then
  fail "a server that wants a client certificate accepted none"
fi
one_line_error "$work/nocert.err" "error"
tls_config "$work/otherca.json" "\"ca_file\": \"$work/certs/other-ca.pem\",
  \"cert_file\": \"$work/certs/client.pem\", \"key_file\": \"$work/certs/client-key.pem\""
if "$wp" --config "$work/otherca.json" log list 2> "$work/otherca.err"; then
  fail "a server certificate from an unknown CA was accepted"
fi
one_line_error "$work/otherca.err" "error"
echo "ok: TLS with a client certificate works; without one: $(cat "$work/nocert.err")"
echo "ok: a server certificate from another CA: $(cat "$work/otherca.err")"
echo "PASS"
