#!/usr/bin/env bash
# A real S3 server for tests, the demo and the benchmark: a single-host Ceph cluster (one
# monitor, one OSD, RADOS Gateways) on 127.0.0.1, started by hand (no systemd, no cephadm).
# Packages: ceph-mon ceph-osd radosgw ceph-common (scripts/install-deps.sh installs them).
#
#   scripts/rgw.sh start DIR              a fresh cluster under DIR, waits until S3 answers,
#                                         creates the bucket, writes DIR/env (below)
#   scripts/rgw.sh stop DIR               kills every daemon by the PIDs recorded in DIR/run
#   scripts/rgw.sh start-gateway DIR NAME [--tls]
#                                         another radosgw (on a free port) on the same cluster;
#                                         prints its endpoint and writes DIR/env.NAME. --tls:
#                                         HTTPS with a self-signed certificate for 127.0.0.1 and
#                                         *.localhost (S3_CA_FILE in the env file names it)
#   scripts/rgw.sh kill-gateway DIR NAME  SIGKILLs that gateway (as a crash would)
#   scripts/rgw.sh restart-gateway DIR NAME  starts it again on the same port
#   scripts/rgw.sh status DIR             the cluster's health
#
# DIR/env holds KEY=value lines: S3_ENDPOINT S3_REGION S3_BUCKET AWS_ACCESS_KEY_ID
# AWS_SECRET_ACCESS_KEY RGW_DIR. The gateway of `start` is named "main".
#
# Environment: OSD_STORE=memstore|bluestore (memstore: in memory, fastest start; it keeps data
# while the OSD runs, which is all the tests need: they crash gateways, never the OSD.
# bluestore: a sparse file in DIR, survives OSD crashes), OSD_SIZE_GB (4), S3_BUCKET (wal),
# S3_REGION (us-east-1), PORT_BASE (a free range is searched from here, default 30000 + PID-based
# offset, so two runs on one machine do not collide).
#
# Quirks of this server (Ceph 16.2 RGW) and how the project handles them: docs/object-stores.md.
set -Eeuo pipefail

die() { echo "rgw.sh: $*" >&2; exit 1; }
usage() {
  sed -n '2,/^set -Eeuo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit "${1:-2}"
}

cmd=${1:-}
case "$cmd" in -h|--help|help) usage 0 ;; "") usage 2 ;; esac
dir=${2:-}
[[ -n "$dir" ]] || die "$cmd needs a directory (scripts/rgw.sh --help)"
conf="$dir/ceph.conf"
export CEPH_CONF="$conf"
started_ns=$(date +%s%N)
elapsed() { echo "$(( ($(date +%s%N) - started_ns) / 1000000 )) ms"; }
ceph_cli() { ceph -c "$conf" --connect-timeout 15 "$@"; }

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

# A port for a gateway: the first one from $1 upwards that is free and not kept by a gateway of
# this cluster that is down (killed, to be restarted on its port).
free_port_from() {
  local port=$1
  while ! port_free "$port" || grep -qx "$port" "$dir"/run/rgw.*.port 2> /dev/null; do
    port=$((port + 1))
  done
  echo "$port"
}

# Runs a daemon in the foreground of a background job and records its PID.
start_daemon() {
  local name=$1; shift
  "$@" > "$dir/log/$name.stdout" 2>&1 &
  echo $! > "$dir/run/$name.pid"
}

wait_for() {  # description, seconds, command...
  local what=$1 seconds=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@" > /dev/null 2>&1; do
    [[ $(date +%s) -lt $deadline ]] || { echo "rgw.sh: timed out waiting for $what" >&2; return 1; }
    sleep 0.1
  done
}

# SIGKILLs the daemon whose PID is in `file` and waits until it is gone (its port is then free
# for a restart). A daemon already reaped by nobody stays a zombie: 5 s at most.
stop_pid_file() {
  local file=$1 pid
  [[ -e "$file" ]] || return 0
  pid=$(cat "$file")
  kill -9 "$pid" 2> /dev/null || true
  for _ in $(seq 1 50); do
    [[ -d /proc/$pid && $(awk '{print $3}' "/proc/$pid/stat" 2> /dev/null) != Z ]] || break
    sleep 0.1
  done
  rm -f "$file"
}

stop() {
  [[ -d "$dir/run" ]] || return 0
  local file
  # SIGKILL for every daemon: a cluster of this script is never restarted on its data (a new
  # `start` makes a fresh one), and radosgw ignores SIGTERM for many seconds.
  for file in "$dir"/run/rgw.*.pid "$dir/run/osd.0.pid" "$dir/run/mon.a.pid"; do
    stop_pid_file "$file"
  done
}

write_conf() {
  local fsid=$1 mon2=$2 mon1=$3 size_bytes=$(( ${OSD_SIZE_GB:-4} * 1024 * 1024 * 1024 ))
  cat > "$conf" <<EOF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/\$name.keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
pid file = $dir/run/\$name.daemon-pid
crash dir = $dir/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
auth allow insecure global id reclaim = false
[mon]
mon data = $dir/mon.a
mon cluster log file = $dir/log/cluster.log
# Every osdmap change waits for one proposal interval: the 1 s default makes start-up take 13 s.
paxos propose interval = 0.05
paxos min wait = 0.01
[osd]
osd data = $dir/osd.0
osd objectstore = ${OSD_STORE:-memstore}
osd memory target = 1073741824
osd fast shutdown = false
memstore device bytes = $size_bytes
bluestore block path = $dir/osd.0/block.file
bluestore block create = true
bluestore block size = $size_bytes
bluestore block db create = false
bluestore block wal create = false
bluestore fsck on mkfs = false
[client]
rgw data = $dir/rgw
rgw dns name = localhost
rgw enable usage log = false
# A gateway killed with SIGKILL leaves its cache watch on the control objects, and every
# bucket create or delete then waits 20 s for it to answer a cache-invalidation notify
# (RGWSI_Notify::robust_notify) until the OSD drops the watch. Without the metadata cache
# there is nothing to notify, so the crash tests do not stall the tests running beside them.
rgw cache enabled = false
EOF
}

# A self-signed certificate for 127.0.0.1, localhost and *.localhost, made once per cluster.
tls_certificate() {
  if [[ ! -e "$dir/tls/gateway.pem" ]]; then
    mkdir -p "$dir/tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,DNS:*.localhost,IP:127.0.0.1" \
      -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" > /dev/null 2>&1 \
      || die "openssl could not make a certificate"
    cat "$dir/tls/key.pem" "$dir/tls/cert.pem" > "$dir/tls/gateway.pem"
  fi
  echo "$dir/tls/gateway.pem"
}

# Starts gateway NAME on PORT (a client.rgw.NAME key is created the first time); TLS=1: HTTPS.
run_gateway() {
  local name=$1 port=$2 frontend scheme=http
  if [[ ! -e "$dir/client.rgw.$name.keyring" ]]; then
    ceph_cli auth get-or-create "client.rgw.$name" mon 'allow rw' osd 'allow rwx' \
      -o "$dir/client.rgw.$name.keyring" > /dev/null
  fi
  port_free "$port" || die "port $port (gateway $name) is in use"
  echo "$port" > "$dir/run/rgw.$name.port"
  frontend="beast endpoint=127.0.0.1:$port"
  if [[ -e "$dir/run/rgw.$name.tls" ]]; then
    frontend="beast ssl_endpoint=127.0.0.1:$port ssl_certificate=$(tls_certificate)"
    scheme=https
  fi
  start_daemon "rgw.$name" radosgw -c "$conf" -n "client.rgw.$name" -f --rgw-frontends "$frontend"
  wait_for "gateway $name on port $port" 60 \
    curl -sf --cacert "$dir/tls/cert.pem" -o /dev/null "$scheme://127.0.0.1:$port/"
}

write_env() {  # file, port, scheme
  [[ "${3:-http}" == https ]] && echo "S3_CA_FILE=$dir/tls/cert.pem" > "$1" || : > "$1"
  cat >> "$1" <<EOF
S3_ENDPOINT=${3:-http}://127.0.0.1:$2
S3_REGION=${S3_REGION:-us-east-1}
S3_BUCKET=${S3_BUCKET:-wal}
AWS_ACCESS_KEY_ID=$access_key
AWS_SECRET_ACCESS_KEY=$secret_key
RGW_DIR=$dir
EOF
}

start() {
  for tool in ceph ceph-mon ceph-osd radosgw radosgw-admin ceph-authtool monmaptool uuidgen ss \
              curl openssl flock; do
    command -v "$tool" > /dev/null || die "$tool not found; run scripts/install-deps.sh"
  done
  stop
  local base=${PORT_BASE:-$((30000 + ($$ % 1000) * 20))}
  local mon2 mon1
  mon2=$(free_port_from "$base"); mon1=$(free_port_from $((mon2 + 1)))
  trap 'echo "rgw.sh: start failed; logs in $dir/log; stopping daemons" >&2; stop' ERR
  rm -rf "$dir"
  mkdir -p "$dir"/{run,log,mon.a,osd.0,rgw,crash}
  local fsid; fsid=$(uuidgen)
  write_conf "$fsid" "$mon2" "$mon1"
  ceph-authtool --create-keyring "$dir/mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' \
    > /dev/null
  ceph-authtool --create-keyring "$dir/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' > /dev/null
  ceph-authtool "$dir/mon.a.keyring" --import-keyring "$dir/client.admin.keyring" > /dev/null
  monmaptool --create --addv a "[v2:127.0.0.1:$mon2,v1:127.0.0.1:$mon1]" --fsid "$fsid" \
    "$dir/monmap" > /dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.a.keyring" \
    > "$dir/log/mon-mkfs.log" 2>&1
  start_daemon mon.a ceph-mon -c "$conf" -i a -f
  wait_for "the monitor" 60 ceph_cli -s
  echo "rgw.sh: monitor up on 127.0.0.1:$mon2 ($(elapsed))"

  local uuid secret id
  uuid=$(uuidgen); secret=$(ceph-authtool --gen-print-key)
  id=$(echo "{\"cephx_secret\": \"$secret\"}" | ceph_cli osd new "$uuid" -i -)
  [[ "$id" == 0 ]] || die "expected OSD id 0, got '$id'"
  ceph-authtool --create-keyring "$dir/osd.0.keyring" --name osd.0 --add-key "$secret" \
    > /dev/null
  ceph-osd -c "$conf" -i 0 --mkfs --osd-uuid "$uuid" > "$dir/log/osd-mkfs.log" 2>&1
  start_daemon osd.0 ceph-osd -c "$conf" -i 0 -f
  wait_for "the OSD" 120 sh -c "ceph -c '$conf' osd stat -f json | grep -q '\"num_up_osds\":1'"
  echo "rgw.sh: OSD up, ${OSD_STORE:-memstore} ($(elapsed))"

  run_gateway main "$(free_port_from $((mon1 + 1)))"
  local port; port=$(cat "$dir/run/rgw.main.port")
  echo "rgw.sh: gateway answering on 127.0.0.1:$port ($(elapsed))"
  access_key=wal$(uuidgen | tr -d - | cut -c1-17)
  secret_key=$(uuidgen | tr -d -)$(uuidgen | tr -d - | cut -c1-8)
  radosgw-admin -c "$conf" user create --uid=wal --display-name=wal \
    --access-key="$access_key" --secret-key="$secret_key" > "$dir/log/user.json"
  write_env "$dir/env" "$port"
  # The bucket, with curl's SigV4 (it signs x-amz-content-sha256 only when given the header).
  curl -sf -X PUT --aws-sigv4 "aws:amz:${S3_REGION:-us-east-1}:s3" \
    --user "$access_key:$secret_key" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    "http://127.0.0.1:$port/${S3_BUCKET:-wal}" > /dev/null \
    || die "could not create bucket ${S3_BUCKET:-wal}"
  trap - ERR
  echo "rgw.sh: ready ($(elapsed)); endpoint http://127.0.0.1:$port, bucket" \
       "${S3_BUCKET:-wal}, settings in $dir/env"
}

load_keys() {
  [[ -e "$dir/env" ]] || die "no cluster in $dir (scripts/rgw.sh start $dir first)"
  access_key=$(sed -n 's/^AWS_ACCESS_KEY_ID=//p' "$dir/env")
  secret_key=$(sed -n 's/^AWS_SECRET_ACCESS_KEY=//p' "$dir/env")
}

gateway_name() {
  local name=${1:-}
  [[ "$name" =~ ^[a-z0-9]+$ ]] || die "gateway name must be lower-case letters and digits"
  echo "$name"
}

case "$cmd" in
  start) start ;;
  stop) stop; echo "rgw.sh: stopped ($dir)" ;;
  status) ceph_cli -s ;;
  start-gateway)
    load_keys
    name=$(gateway_name "${3:-}")
    scheme=http
    if [[ "${4:-}" == --tls ]]; then
      touch "$dir/run/rgw.$name.tls"
      scheme=https
    fi
    mon1=$(sed -n 's/^mon host = .*v1:127.0.0.1:\([0-9]*\)\]$/\1/p' "$conf")
    # One gateway start at a time: between finding a free port and the gateway listening on
    # it, another start (a test running in parallel) would find the same port.
    exec 9> "$dir/run/start-gateway.lock"
    flock 9
    run_gateway "$name" "$(free_port_from $((mon1 + 10)))"
    port=$(cat "$dir/run/rgw.$name.port")
    write_env "$dir/env.$name" "$port" "$scheme"
    echo "S3_ENDPOINT=$scheme://127.0.0.1:$port"
    ;;
  kill-gateway)
    name=$(gateway_name "${3:-}")
    [[ -e "$dir/run/rgw.$name.pid" ]] || die "gateway $name is not running"
    stop_pid_file "$dir/run/rgw.$name.pid"
    echo "rgw.sh: gateway $name killed ($(elapsed))"
    ;;
  restart-gateway)
    name=$(gateway_name "${3:-}")
    [[ -e "$dir/run/rgw.$name.port" ]] || die "gateway $name was never started"
    [[ ! -e "$dir/run/rgw.$name.pid" ]] || stop_pid_file "$dir/run/rgw.$name.pid"
    run_gateway "$name" "$(cat "$dir/run/rgw.$name.port")"
    echo "rgw.sh: gateway $name back on port $(cat "$dir/run/rgw.$name.port") ($(elapsed))"
    ;;
  *) echo "rgw.sh: unknown command '$cmd'" >&2; usage 2 ;;
esac
