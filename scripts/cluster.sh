#!/usr/bin/env bash
# A QuorumBuffer deployment on this machine, as real processes on loopback: etcd, an S3 server
# (Ceph RGW) and 3-4 wp-logstore daemons, every one's data under one folder and its log in a
# file. Processes are stopped by the PIDs recorded in the folder, never by name.
#
#   scripts/cluster.sh up [DIR] [--logstores 3|4] [--objects rgw|local] [--s3-env FILE]
#                     [--bucket NAME] [--owner-pid PID] [--replace] [--etcd-members 1|3]
#                     [--cache-bytes N] [--advertise-ports P1,P2,...] [--s3-endpoint URL]
#       starts etcd (DIR/etcd, scripts/etcd.sh), the object store and the LogStores (DIR/lsN:
#       journals, lsN.json config, lsN.log, lsN.pid), on free ports; waits until every LogStore
#       is healthy (registered in etcd); writes DIR/cluster.json for `wp --config`.
#       DIR defaults to ./wp-cluster. The object store:
#         --objects rgw (default)  a Ceph RGW of its own under DIR/rgw (scripts/rgw.sh, objects
#                                  in memory)
#         --objects local          DIR/objects, a directory every process shares (one host only)
#         --s3-env FILE            an S3 server that runs already, described by a file of
#                                  scripts/rgw.sh's env format; --bucket NAME: a bucket of its
#                                  own there (created when missing)
#       --owner-pid PID: stop everything once process PID is gone (for tests).
#       --etcd-members 3: a 3-member etcd cluster (scripts/etcd.sh; DIR/etcd/mN.pid), so that
#       its leader can be killed (`scripts/etcd.sh leader|kill|restart DIR/etcd N`).
#       --replace: first stop and remove what an earlier run left in DIR (`up` refuses a DIR
#       with an earlier cluster's files otherwise: etcd and RGW always start afresh).
#       --cache-bytes N: the LogStores' entry cache budget (logstore.entry_cache_bytes_max;
#       default: wp-logstore's, 64 MiB).
#       --advertise-ports P1,...: LogStore N registers 127.0.0.1:PN as its address (it still
#       listens on a port of its own), and --s3-endpoint URL: every config names URL as the S3
#       endpoint. Both are for a proxy in between (wp-chaos's fault proxy, chaos/README.md).
#   scripts/cluster.sh down [DIR]       SIGTERM to every LogStore (they drain for up to 5 s),
#                                       SIGKILL to what is left, then etcd and RGW; leaves the
#                                       files (logs, journals) for a look
#   scripts/cluster.sh status [DIR]     each process: pid, alive or not, /health
#   scripts/cluster.sh kill DIR N       SIGKILL LogStore N
#   scripts/cluster.sh stop DIR N       SIGTERM LogStore N and wait for it to drain and exit
#   scripts/cluster.sh restart DIR N    start LogStore N again on its data and ports
#   scripts/cluster.sh wipe DIR N       SIGKILL LogStore N and delete its journals (it comes
#                                       back in limbo for the segments it held); DIR/lsN may be a
#                                       mount point (its contents go)
#   scripts/cluster.sh metrics DIR N    prints LogStore N's /metrics
#
# Binaries come from BUILD_DIR (default: build/ next to this script's folder).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BUILD_DIR:-$root/build}
die() { echo "cluster.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
[[ $# -ge 1 ]] || { usage; exit 2; }
case "$1" in -h|--help|help) usage; exit 0 ;; esac
command=$1
shift
dir=./wp-cluster
if [[ $# -gt 0 && "$1" != --* ]]; then dir=$1; shift; fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A pid file whose process runs (a zombie waiting to be reaped does not count).
alive() {
  [[ -f "$1" ]] || return 1
  local stat
  stat=$(ps -o stat= -p "$(cat "$1")" 2> /dev/null) || return 1
  [[ -n "$stat" && "$stat" != Z* ]]
}

health() {  # LogStore number -> the /health body, or nothing
  curl -s --max-time 2 "http://127.0.0.1:$(cat "$dir/ls$1.metrics_port")/health" 2> /dev/null ||
    true
}

write_logstore_config() {  # N [cache bytes] [advertised port]
  local n=$1 cache=${2:-} advertise=${3:-} listen metrics
  listen=$(free_port)
  metrics=$(free_port)
  echo "$listen" > "$dir/ls$n.listen_port"
  echo "$metrics" > "$dir/ls$n.metrics_port"
  python3 - "$dir" "$n" "$listen" "$metrics" "$(cat "$dir/etcd/endpoints")" "$cache" \
    "$advertise" << 'EOF'
import json, sys
d, n, listen, metrics, endpoints, cache, advertise = sys.argv[1:]
objects = json.load(open(f"{d}/objects.json"))
config = {
    "node": f"logstore-{n}", "zone": f"zone-{(int(n) - 1) % 3 + 1}",
    "listen": f"127.0.0.1:{listen}", "metrics_listen": f"127.0.0.1:{metrics}",
    "data_dir": f"{d}/ls{n}", "drain_timeout_ms": 5000,
    "meta_store": {"type": "etcd", "endpoints": endpoints.split(","), "prefix": "/wal/"},
    "object_store": objects,
    # A killed node leaves the registry within 5 s, so writers soon stop choosing it.
    "logstore": {"registration_ttl_ms": 5000, "upload_scan_interval_ms": 500},
}
if cache:
    config["logstore"]["entry_cache_bytes_max"] = int(cache)
if advertise:
    config["advertise"] = f"127.0.0.1:{advertise}"
json.dump(config, open(f"{d}/ls{n}.json", "w"), indent=2)
EOF
}

start_logstore() {  # N; does not wait
  local n=$1
  alive "$dir/ls$n.pid" && die "LogStore $n is running already (pid $(cat "$dir/ls$n.pid"))"
  "$bin/wp-logstore" --config "$dir/ls$n.json" < /dev/null >> "$dir/ls$n.log" 2>&1 &
  echo $! > "$dir/ls$n.pid"
}

wait_healthy() {  # N...
  local n deadline=$((SECONDS + 30))
  for n in "$@"; do
    until health "$n" | grep -q '"healthy":true'; do
      alive "$dir/ls$n.pid" || die "LogStore $n exited; its log: $dir/ls$n.log
$(tail -n 5 "$dir/ls$n.log")"
      (( SECONDS < deadline )) || die "LogStore $n is not healthy after 30 s ($dir/ls$n.log)"
      sleep 0.1
    done
  done
}

write_client_config() {
  python3 - "$dir" "$(cat "$dir/etcd/endpoints")" << 'EOF'
import json, sys
d, endpoints = sys.argv[1:]
config = {
    "mode": "quorum", "data_dir": d,
    "meta_store": {"type": "etcd", "endpoints": endpoints.split(","), "prefix": "/wal/"},
    "object_store": json.load(open(f"{d}/objects.json")),
    # A quiet log's segment is sealed and uploaded after a minute.
    "quorum": {"segment_age_max_ms": 60000, "rpc_timeout_ms": 2000},
}
json.dump(config, open(f"{d}/cluster.json", "w"), indent=2)
EOF
}

kill_logstore() {  # N, signal
  local n=$1 signal=$2 pid
  alive "$dir/ls$n.pid" || return 0
  pid=$(cat "$dir/ls$n.pid")
  kill "-$signal" "$pid" 2> /dev/null || true
  # Wait for the exit (a zombie of our own shell counts as gone).
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2> /dev/null || break
    [[ $(ps -o stat= -p "$pid" 2> /dev/null) == Z* ]] && break
    sleep 0.05
  done
}

start_watchdog() {  # owner pid
  local owner=$1
  (
    while kill -0 "$owner" 2> /dev/null && [[ -f "$dir/logstores" ]]; do sleep 1; done
    [[ -f "$dir/logstores" ]] && "$0" down "$dir" > /dev/null 2>&1
  ) < /dev/null > /dev/null 2>&1 &
  disown
}

# Writes DIR/objects.json (the object_store section of every config) and DIR/objects.kind;
# starts RGW for `rgw`. kind: rgw | local | s3-env; env_file and bucket for s3-env.
setup_objects() {
  local kind=$1 env_file=$2 bucket=$3
  case "$kind" in
    local)
      mkdir -p "$dir/objects"
      printf '{"type": "local", "dir": "%s"}\n' "$dir/objects" > "$dir/objects.json" ;;
    rgw)
      command -v radosgw > /dev/null ||
        die "no radosgw: scripts/install-deps.sh installs it (or up --objects local)"
      echo "starting Ceph RGW under $dir/rgw (scripts/rgw.sh)"
      "$root/scripts/rgw.sh" start "$dir/rgw" > "$dir/rgw.log" 2>&1 ||
        die "RGW did not start: $(tail -n 3 "$dir/rgw.log")"
      s3_section "$dir/rgw/env" "" ;;
    s3-env)
      [[ -f "$env_file" ]] || die "--s3-env: no file $env_file"
      s3_section "$env_file" "$bucket" ;;
  esac
  echo "$kind" > "$dir/objects.kind"
}

# Points objects.json at another S3 endpoint (a proxy in front of the server).
redirect_s3() {  # URL
  python3 - "$dir/objects.json" "$1" << 'EOF'
import json, sys
path, url = sys.argv[1:]
section = json.load(open(path))
if section["type"] != "s3":
    sys.exit("--s3-endpoint needs an S3 object store, not %s" % section["type"])
section["endpoint"] = url
json.dump(section, open(path, "w"))
EOF
}

s3_section() {  # env file, bucket (empty: the file's S3_BUCKET); creates a missing bucket
  python3 - "$1" "$2" "$dir/objects.json" << 'EOF'
import json, sys
import boto3
from botocore.config import Config
env_file, bucket, out = sys.argv[1:]
env = dict(line.strip().split("=", 1) for line in open(env_file) if "=" in line)
bucket = bucket or env["S3_BUCKET"]
region = env.get("S3_REGION", "us-east-1")
client = boto3.client("s3", endpoint_url=env["S3_ENDPOINT"], region_name=region,
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                      config=Config(s3={"addressing_style": "path"}))
if bucket not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
    client.create_bucket(Bucket=bucket)
section = {"type": "s3", "endpoint": env["S3_ENDPOINT"], "bucket": bucket, "region": region,
           "addressing": "path", "access_key_id": env["AWS_ACCESS_KEY_ID"],
           "secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}
json.dump(section, open(out, "w"))
EOF
}

objects_description() {
  python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))
print("S3 %s bucket %s" % (o["endpoint"], o["bucket"]) if o["type"] == "s3" else o["dir"])' \
    "$dir/objects.json"
}

cmd_up() {
  local count=4 owner="" replace=0 kind=rgw env_file="" bucket="" etcd_members=1 cache=""
  local advertise_ports="" s3_endpoint=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --logstores) count=${2:?}; shift 2 ;;
      --objects) kind=${2:?}; shift 2 ;;
      --s3-env) kind=s3-env; env_file=${2:?}; shift 2 ;;
      --bucket) bucket=${2:?}; shift 2 ;;
      --owner-pid) owner=${2:?}; shift 2 ;;
      --replace) replace=1; shift ;;
      --etcd-members) etcd_members=${2:?}; shift 2 ;;
      --cache-bytes) cache=${2:?}; shift 2 ;;
      --advertise-ports) advertise_ports=${2:?}; shift 2 ;;
      --s3-endpoint) s3_endpoint=${2:?}; shift 2 ;;
      *) die "unknown option $1 (cluster.sh --help)" ;;
    esac
  done
  [[ "$count" == 3 || "$count" == 4 ]] || die "--logstores takes 3 or 4"
  [[ "$etcd_members" == 1 || "$etcd_members" == 3 ]] || die "--etcd-members takes 1 or 3"
  [[ "$kind" == rgw || "$kind" == local || "$kind" == s3-env ]] ||
    die "--objects takes rgw or local (or --s3-env FILE)"
  [[ -z "$bucket" || "$kind" == s3-env ]] || die "--bucket goes with --s3-env"
  [[ -z "$cache" || "$cache" =~ ^[0-9]+$ ]] || die "--cache-bytes takes a number of bytes"
  local -a advertise=()
  if [[ -n "$advertise_ports" ]]; then
    IFS=, read -r -a advertise <<< "$advertise_ports"
    [[ ${#advertise[@]} == "$count" ]] ||
      die "--advertise-ports names ${#advertise[@]} ports for $count LogStores"
    local port
    for port in "${advertise[@]}"; do
      [[ "$port" =~ ^[0-9]+$ ]] || die "--advertise-ports takes port numbers, got '$port'"
    done
  fi
  [[ -z "$s3_endpoint" || "$kind" != local ]] || die "--s3-endpoint needs an S3 object store"
  [[ -x "$bin/wp-logstore" ]] || die "no $bin/wp-logstore: build first (scripts/build.sh)"
  if [[ -f "$dir/logstores" ]]; then
    [[ $replace == 1 ]] || die "a cluster is up in $dir (down first, or --replace)"
    cmd_down
  fi
  if [[ $replace == 1 ]]; then
    rm -rf "$dir"/ls* "$dir"/objects* "$dir/etcd" "$dir/rgw" "$dir/cluster.json"
  elif [[ -f "$dir/objects.kind" || -f "$dir/cluster.json" ]]; then
    die "$dir holds the files of an earlier cluster (etcd and RGW start afresh, so its" \
        "journals would not match): use --replace or another folder"
  fi
  "$root/scripts/etcd.sh" start "$dir/etcd" --members "$etcd_members" \
    ${owner:+--owner-pid "$owner"} > /dev/null
  echo "$count" > "$dir/logstores"
  [[ -n "$owner" ]] && start_watchdog "$owner"
  setup_objects "$kind" "$env_file" "$bucket"
  [[ -z "$s3_endpoint" ]] || redirect_s3 "$s3_endpoint"
  local n
  for n in $(seq 1 "$count"); do
    [[ -f "$dir/ls$n.json" ]] || write_logstore_config "$n" "$cache" "${advertise[n - 1]:-}"
    start_logstore "$n"
  done
  wait_healthy $(seq 1 "$count")
  write_client_config
  echo "cluster up in $dir: etcd $(cat "$dir/etcd/endpoints"), objects in $(objects_description)"
  for n in $(seq 1 "$count"); do
    echo "  logstore-$n pid $(cat "$dir/ls$n.pid") 127.0.0.1:$(cat "$dir/ls$n.listen_port")" \
         "metrics http://127.0.0.1:$(cat "$dir/ls$n.metrics_port")/metrics log $dir/ls$n.log"
  done
  echo "use: $bin/wp --config $dir/cluster.json log create NAME"
}

cmd_down() {
  [[ -f "$dir/logstores" ]] || { "$root/scripts/etcd.sh" stop "$dir/etcd" 2> /dev/null; return 0; }
  local n count
  count=$(cat "$dir/logstores")
  for n in $(seq 1 "$count"); do alive "$dir/ls$n.pid" && kill -TERM "$(cat "$dir/ls$n.pid")"; done
  for n in $(seq 1 "$count"); do kill_logstore "$n" 0; done  # waits up to 10 s each for drains
  for n in $(seq 1 "$count"); do kill_logstore "$n" KILL; done
  "$root/scripts/etcd.sh" stop "$dir/etcd"
  [[ ! -d "$dir/rgw/run" ]] || "$root/scripts/rgw.sh" stop "$dir/rgw" > /dev/null
  rm -f "$dir/logstores"
  echo "cluster in $dir is down (its files are kept; up --replace starts afresh)"
}

cmd_status() {
  [[ -f "$dir/logstores" ]] || { echo "no cluster is up in $dir"; return 1; }
  local n
  echo "etcd: $(cat "$dir/etcd/endpoints")"
  echo "objects: $(objects_description)"
  for n in $(seq 1 "$(cat "$dir/logstores")"); do
    if alive "$dir/ls$n.pid"; then
      echo "logstore-$n pid $(cat "$dir/ls$n.pid") running: $(health "$n")"
    else
      echo "logstore-$n not running (log: $dir/ls$n.log)"
    fi
  done
}

case "$command" in
  up) cmd_up "$@" ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kill) kill_logstore "${1:?logstore number}" KILL; echo "killed logstore-$1" ;;
  stop) kill_logstore "${1:?logstore number}" TERM; echo "stopped logstore-$1" ;;
  restart)
    start_logstore "${1:?logstore number}"
    wait_healthy "$1"
    echo "restarted logstore-$1" ;;
  wipe)
    kill_logstore "${1:?logstore number}" KILL
    if mountpoint -q "$dir/ls$1"; then
      find "$dir/ls$1" -mindepth 1 -delete
    else
      rm -rf "$dir/ls$1"
    fi
    echo "wiped logstore-$1 (restart it to bring it back in limbo)" ;;
  metrics) curl -s --max-time 2 "http://127.0.0.1:$(cat "$dir/ls${1:?}.metrics_port")/metrics" ;;
  *) usage; exit 2 ;;
esac
