#!/usr/bin/env bash
# Runs etcd (Debian etcd-server 3.4) on loopback for tests, benchmarks and trying `wp` out: one
# node or a 3-member cluster, on free ports picked at start, all state in one directory. Members
# are stopped by PID (the PIDs are in DIR), never by name.
#
#   scripts/etcd.sh start DIR [--members 1|3] [--tls CERTDIR] [--client-cert-auth] [--replace]
#       starts the members and waits until every one is healthy; prints the endpoints.
#       --replace: first stop what an earlier run left in DIR (a CTest fixture whose cleanup
#       did not run). --owner-pid PID: SIGKILL the members once process PID is gone (a test
#       that crashed does not leave its etcd running).
#       --tls: clients speak TLS, with CERTDIR/{ca,server,server-key}.pem (see `certs`).
#   scripts/etcd.sh stop DIR            SIGKILLs every member (etcd is crash-safe; SIGTERM on a
#                                       3.4 leader hands leadership over first, which hides
#                                       exactly the failures tests look for)
#   scripts/etcd.sh kill DIR N          SIGKILLs member N (1..3)
#   scripts/etcd.sh restart DIR N       starts member N again on its data and waits until healthy
#   scripts/etcd.sh leader DIR          prints the number of the member that is leader
#   scripts/etcd.sh endpoints DIR       prints the client endpoints, comma-separated
#   scripts/etcd.sh enable-auth DIR USER PASSWORD
#                                       creates USER (with the root role) and turns auth on
#   scripts/etcd.sh certs CERTDIR       makes a CA, a server certificate for 127.0.0.1 and
#                                       localhost, and a client certificate (openssl)
#
# Timing: etcd's defaults (100 ms heartbeat, 1 s election timeout), so leases have etcd's usual
# 2 s minimum TTL. ETCD_FAST=1 uses 10 ms / 100 ms: faster failover, but a 1 s minimum TTL and
# spurious elections on a loaded machine.
set -euo pipefail

die() { echo "etcd.sh: $*" >&2; exit 1; }
[[ $# -ge 2 || "${1:-}" == "--help" || "${1:-}" == "-h" ]] || { sed -n '2,25p' "$0"; exit 2; }
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then sed -n '2,25p' "$0"; exit 0; fi
command=$1
dir=$2
shift 2
if [[ -d "$dir" ]]; then dir=$(cd "$dir" && pwd); fi

timing=()
[[ "${ETCD_FAST:-0}" == 1 ]] && timing=(--heartbeat-interval 10 --election-timeout 100)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

scheme() { [[ -f "$dir/tls" ]] && echo https || echo http; }

etcdctl_args() {  # member number or "all"
  local endpoints
  if [[ "$1" == all ]]; then endpoints=$(cat "$dir/endpoints"); else
    endpoints="$(scheme)://127.0.0.1:$(cat "$dir/m$1.client_port")"; fi
  local args=(--endpoints "$endpoints" --command-timeout=2s --dial-timeout=1s)
  if [[ -f "$dir/tls" ]]; then
    local certs
    certs=$(cat "$dir/tls")
    args+=(--cacert "$certs/ca.pem")
    [[ -f "$certs/client.pem" ]] && args+=(--cert "$certs/client.pem" --key "$certs/client-key.pem")
  fi
  [[ -f "$dir/auth" ]] && args+=(--user "$(cat "$dir/auth")")
  printf '%s\n' "${args[@]}"
}

ctl() {  # member, then etcdctl arguments
  local member=$1
  shift
  local args
  mapfile -t args < <(etcdctl_args "$member")
  ETCDCTL_API=3 etcdctl "${args[@]}" "$@"
}

start_member() {  # number, new|existing
  local i=$1 state=$2
  local client_port peer_port
  client_port=$(cat "$dir/m$i.client_port")
  peer_port=$(cat "$dir/m$i.peer_port")
  local tls=()
  if [[ -f "$dir/tls" ]]; then
    local certs
    certs=$(cat "$dir/tls")
    tls=(--cert-file "$certs/server.pem" --key-file "$certs/server-key.pem"
         --trusted-ca-file "$certs/ca.pem")
    [[ -f "$dir/client-cert-auth" ]] && tls+=(--client-cert-auth)
  fi
  etcd --name "m$i" --data-dir "$dir/m$i" "${timing[@]}" "${tls[@]}" \
    --listen-client-urls "$(scheme)://127.0.0.1:$client_port" \
    --advertise-client-urls "$(scheme)://127.0.0.1:$client_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "$(cat "$dir/cluster")" --initial-cluster-state "$state" \
    --initial-cluster-token wal-test >> "$dir/m$i.log" 2>&1 &
  echo $! > "$dir/m$i.pid"
}

healthy() {  # member
  ctl "$1" endpoint health > /dev/null 2>&1
}

wait_healthy() {  # members...
  local deadline=$((SECONDS + 30))
  for i in "$@"; do
    until healthy "$i"; do
      if ! kill -0 "$(cat "$dir/m$i.pid")" 2> /dev/null; then
        tail -n 5 "$dir/m$i.log" >&2
        return 1
      fi
      (( SECONDS < deadline )) || { tail -n 5 "$dir/m$i.log" >&2; return 1; }
      sleep 0.05
    done
  done
}

kill_member() {  # number
  local pid_file="$dir/m$1.pid"
  [[ -f "$pid_file" ]] || return 0
  local pid
  pid=$(cat "$pid_file")
  # Only our member: after a reboot the recorded PID may belong to another process.
  if tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -q -- "--data-dir $dir/m$1 "; then
    kill -9 "$pid" 2> /dev/null || true
  fi
  # Wait until it is gone, so its ports are free for a restart.
  for _ in $(seq 1 200); do kill -0 "$pid" 2> /dev/null || break; sleep 0.01; done
  rm -f "$pid_file"
}

cmd_start() {
  local members=1 certs="" client_cert_auth=0 owner_pid=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --members) members=$2; shift 2 ;;
      --tls) certs=$(cd "$2" && pwd); shift 2 ;;
      --client-cert-auth) client_cert_auth=1; shift ;;
      --replace) [[ -d "$dir" ]] && { cmd_stop; rm -rf "$dir"; }; shift ;;
      --owner-pid) owner_pid=$2; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [[ "$members" == 1 || "$members" == 3 ]] || die "--members must be 1 or 3"
  command -v etcd > /dev/null || die "etcd is not installed (scripts/install-deps.sh)"
  [[ ! -e "$dir/members" ]] || die "$dir already holds a cluster; stop it first"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [[ -n "$certs" ]] && echo "$certs" > "$dir/tls"
  [[ "$client_cert_auth" == 1 ]] && touch "$dir/client-cert-auth"
  # Ports are asked of the kernel, then handed to etcd: another process may take one in
  # between, so a member that cannot bind is tried again on new ports.
  local attempt
  for attempt in 1 2 3 4 5; do
    local cluster="" endpoints=""
    for i in $(seq 1 "$members"); do
      free_port > "$dir/m$i.client_port"
      free_port > "$dir/m$i.peer_port"
      cluster+="${cluster:+,}m$i=http://127.0.0.1:$(cat "$dir/m$i.peer_port")"
      endpoints+="${endpoints:+,}$(scheme)://127.0.0.1:$(cat "$dir/m$i.client_port")"
    done
    echo "$cluster" > "$dir/cluster"
    echo "$endpoints" > "$dir/endpoints"
    echo "$members" > "$dir/members"
    for i in $(seq 1 "$members"); do rm -rf "$dir/m$i"; start_member "$i" new; done
    if wait_healthy $(seq 1 "$members"); then
      [[ -n "$owner_pid" ]] && start_watchdog "$owner_pid"
      echo "$endpoints"
      return 0
    fi
    for i in $(seq 1 "$members"); do kill_member "$i"; done
    grep -qs "address already in use" "$dir"/m*.log || break
    echo "etcd.sh: a port was taken, trying again (attempt $attempt)" >&2
  done
  rm -f "$dir/members"
  die "etcd did not become healthy (logs in $dir)"
}

# Polls the owner once a second; when it is gone, stops the members (by PID, see kill_member).
# Detached from our stdout, so a caller reading it (popen) is not kept waiting.
start_watchdog() {
  local owner=$1
  (
    while kill -0 "$owner" 2> /dev/null && [[ -f "$dir/members" ]]; do sleep 1; done
    cmd_stop
  ) < /dev/null > /dev/null 2>&1 &
  disown
}

cmd_stop() {
  [[ -f "$dir/members" ]] || return 0
  for i in $(seq 1 "$(cat "$dir/members")"); do kill_member "$i"; done
  rm -f "$dir/members"
}

cmd_leader() {  # waits up to 10 s for an election in progress
  local i deadline=$((SECONDS + 10))
  while (( SECONDS < deadline )); do
    for i in $(seq 1 "$(cat "$dir/members")"); do
      [[ -f "$dir/m$i.pid" ]] || continue
      local status
      status=$(ctl "$i" endpoint status -w json 2> /dev/null) || continue
      if python3 -c 'import json,sys; s=json.loads(sys.argv[1])[0]["Status"]
sys.exit(0 if s["leader"] == s["header"]["member_id"] else 1)' "$status"; then
        echo "$i"
        return 0
      fi
    done
    sleep 0.1
  done
  die "no member is leader"
}

cmd_enable_auth() {
  local user=${1:?user} password=${2:?password}
  # etcd needs a root user with the root role before auth can be turned on.
  ctl 1 user add root --new-user-password "$password" > /dev/null
  ctl 1 user grant-role root root > /dev/null
  if [[ "$user" != root ]]; then
    ctl 1 user add "$user" --new-user-password "$password" > /dev/null
    ctl 1 user grant-role "$user" root > /dev/null
  fi
  ctl 1 auth enable > /dev/null
  echo "$user:$password" > "$dir/auth"
}

cmd_certs() {
  mkdir -p "$dir"
  cd "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=wal-test-ca" \
    -keyout ca-key.pem -out ca.pem 2> /dev/null
  make_cert() {  # name, subject, extensions
    openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$1-key.pem" -out "$1.csr" \
      2> /dev/null
    printf '%s\n' "$3" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 \
      -extfile "$1.ext" -out "$1.pem" 2> /dev/null
    rm -f "$1.csr" "$1.ext"
  }
  make_cert server "/CN=127.0.0.1" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
  make_cert client "/CN=wal-client" "extendedKeyUsage=clientAuth"
  # A CA nobody trusts, for tests that a foreign certificate is refused.
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=other-ca" \
    -keyout other-ca-key.pem -out other-ca.pem 2> /dev/null
  echo "certificates in $(pwd)"
}

case "$command" in
  start) cmd_start "$@" ;;
  stop) cmd_stop ;;
  kill) kill_member "${1:?member}" ; echo "killed m$1" ;;
  restart)
    start_member "${1:?member}" existing
    wait_healthy "$1" || die "m$1 did not come back"
    echo "m$1 back" ;;
  leader) cmd_leader ;;
  endpoints) cat "$dir/endpoints" ;;
  enable-auth) cmd_enable_auth "$@" ;;
  certs) cmd_certs ;;
  *) die "unknown command '$command' (try --help)" ;;
esac
