#!/usr/bin/env bash
# Every system this machine can run, under one workload, in one go, beside the ceilings and the
# peer; writes a markdown table and PNG plots (bench/README.md, "Side by side").
#
#   bench/run-all.sh [--out DIR] [--workload FILE] [--smoke] [--build DIR] [--rgw DIR]
#                    [--skip NAMES]
#
#   --out DIR        results: results.jsonl, fio-*.json, cdf/, table.md, *.png
#                    (default: bench/results in the source tree)
#   --workload FILE  default bench/workloads/default.json (--smoke: bench/workloads/smoke.json)
#   --smoke          seconds, 1 KiB only: proves everything works (the `bench` test label);
#                    fails on a failed append, a reader that fell short or a missing system
#   --build DIR      where compare_bench and wp-logstore are (default: build/ or $BUILD_DIR)
#   --rgw DIR        use the running Ceph RGW of `scripts/rgw.sh start DIR` instead of starting
#                    one (a fresh one uses a bluestore OSD: durable, as a real S3 server is)
#   --skip NAMES     comma-separated systems to leave out: memorybuffer-local,
#                    memorybuffer-s3, quorum, nats, fio
#
# It starts, in a temporary folder, and stops by PID when done: three nats-server processes
# clustered on loopback (JetStream, file storage), a QuorumBuffer cluster (scripts/cluster.sh:
# etcd and 3 wp-logstore daemons, objects in a local folder), and unless --rgw, an RGW
# (scripts/rgw.sh). Needs scripts/install-deps.sh's packages (nats-server, fio, gnuplot-nox).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
out=$root/bench/results
workload=""
smoke=false
rgw_dir=""
skip=","
die() { echo "run-all.sh: $*" >&2; exit 2; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --workload) workload=${2:?--workload needs a file}; shift 2 ;;
    --smoke) smoke=true; shift ;;
    --build) build=${2:?--build needs a folder}; shift 2 ;;
    --rgw) rgw_dir=${2:?--rgw needs a folder}; shift 2 ;;
    --skip) skip=",${2:?--skip needs names},"; shift 2 ;;
    *) die "unknown argument '$1' (run-all.sh --help)" ;;
  esac
done
if [[ -z "$workload" ]]; then
  workload=$root/bench/workloads/default.json
  $smoke && workload=$root/bench/workloads/smoke.json
fi
[[ -f "$workload" ]] || die "no workload file $workload"
bench=$build/bench/compare_bench
[[ -x "$bench" ]] || die "no $bench (build the compare_bench target)"
for tool in nats-server fio gnuplot python3; do
  command -v "$tool" > /dev/null || die "$tool is missing (scripts/install-deps.sh)"
done
wants() { [[ "$skip" != *",$1,"* ]]; }

started_at=$(date +%s)
step() { echo "run-all: [$(( $(date +%s) - started_at )) s] $*"; }
work=$(mktemp -d /tmp/run-all-XXXXXX)
nats_pids=()
own_rgw=""
cleanup() {
  for pid in "${nats_pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${nats_pids[@]}"; do wait "$pid" 2> /dev/null || true; done
  [[ -f "$work/cluster/cluster.json" ]] &&
    BUILD_DIR=$build "$root/scripts/cluster.sh" down "$work/cluster" > /dev/null 2>&1 || true
  [[ -n "$own_rgw" ]] && "$root/scripts/rgw.sh" stop "$own_rgw" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$out"
rm -rf "$out/cdf" "$out/results.jsonl" "$out"/fio-*.json
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
run_bench() { "$bench" "$@" --workload "$workload" --out "$out"; }
pids_of() {  # PID files -> "pid,pid,..." (their CPU time is reported per case)
  local file pids=""
  for file in "$@"; do [[ -f "$file" ]] && pids+="$(cat "$file"),"; done
  echo "${pids%,}"
}

# ---- NATS JetStream: three servers clustered on loopback -------------------------------------
start_nats() {
  local i client_ports=() route_ports=() monitor_ports=() routes=""
  for i in 1 2 3; do
    client_ports+=("$(free_port)"); route_ports+=("$(free_port)"); monitor_ports+=("$(free_port)")
  done
  for i in 0 1 2; do routes+="nats-route://127.0.0.1:${route_ports[$i]} "; done
  for i in 0 1 2; do
    mkdir -p "$work/nats$i"
    cat > "$work/nats$i/nats.conf" << CONF
server_name: n$i
listen: 127.0.0.1:${client_ports[$i]}
http: 127.0.0.1:${monitor_ports[$i]}
max_payload: 8MB
jetstream { store_dir: "$work/nats$i/js" }
cluster { name: bench, listen: 127.0.0.1:${route_ports[$i]}, routes: [ ${routes// /, } ] }
CONF
    sed -i 's/, \]/ ]/' "$work/nats$i/nats.conf"
    nats-server -c "$work/nats$i/nats.conf" > "$work/nats$i/log" 2>&1 &
    nats_pids+=("$!")
  done
  nats_urls=""
  for i in 0 1 2; do nats_urls+="nats://127.0.0.1:${client_ports[$i]},"; done
  local deadline=$(( $(date +%s) + 60 ))
  for i in 0 1 2; do
    until curl -sf "http://127.0.0.1:${monitor_ports[$i]}/healthz" > /dev/null 2>&1; do
      (( $(date +%s) < deadline )) || die "nats-server $i not healthy (log: $work/nats$i/log)"
      sleep 0.5
    done
  done
}

# ---- the S3 server (Ceph RGW) -------------------------------------------------------------------
s3_config() {  # writes $work/mb-s3.json from the RGW's env file
  local env_file=$1/env
  [[ -f "$env_file" ]] || die "no $env_file (is the RGW started?)"
  python3 - "$env_file" "$work" << 'PY'
import json, sys
env = dict(l.strip().split("=", 1) for l in open(sys.argv[1]) if "=" in l)
work = sys.argv[2]
json.dump({"data_dir": f"{work}/mb-s3",
           "object_store": {"type": "s3", "bucket": env["S3_BUCKET"],
                            "endpoint": env["S3_ENDPOINT"], "region": env["S3_REGION"],
                            "access_key_id": env["AWS_ACCESS_KEY_ID"],
                            "secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}},
          open(f"{work}/mb-s3.json", "w"))
PY
}

step "workload $(basename "$workload"), results in $out, scratch in $work"
echo "{\"data_dir\": \"$work/mb-local\"}" > "$work/mb-local.json"
mkdir -p "$work/ceilings"

step "ceilings: fdatasync loop, journal group and single fsync rates"
run_bench fdatasync-loop --dir "$work/ceilings" --config "$work/mb-local.json"
run_bench journal-group --dir "$work/ceilings"
run_bench journal-single --dir "$work/ceilings"
if wants fio; then
  step "ceiling: fio sequential write + fdatasync at the WAL's block size and concurrency"
  python3 - "$out/results.jsonl" << 'PY' > "$work/fio-jobs"
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["system"] == "fdatasync-loop":
        print(r["entry_bytes"], r["write_bytes"], r["concurrency"])
PY
  seconds=$(python3 -c "import json,sys; w=json.load(open(sys.argv[1])); \
print(max(1, round(w.get('warmup_seconds', 1) + w.get('duration_seconds', 5))))" "$workload")
  while read -r entry_bytes block_bytes jobs; do
    fio --name=seqwrite --directory="$work/ceilings" --rw=write --bs="$block_bytes" \
        --numjobs="$jobs" --fdatasync=1 --size=1G --time_based --runtime="$seconds" \
        --fallocate=none --ioengine=psync --group_reporting --output-format=json \
        --output="$out/fio-$entry_bytes.json" > /dev/null
    rm -f "$work/ceilings"/seqwrite.*
    python3 - "$out/fio-$entry_bytes.json" "$entry_bytes" "$block_bytes" "$jobs" << 'PY'
import json, sys
path, entry_bytes, block_bytes, jobs = sys.argv[1:]
write = json.load(open(path))["jobs"][0]["write"]
print(f"fio for {entry_bytes} B: {write['bw_bytes'] / 2**20:.1f} MiB/s, "
      f"{write['iops']:.0f} writes/s of {block_bytes} B, {jobs} jobs")
PY
  done < "$work/fio-jobs"
fi

if wants memorybuffer-local; then
  step "MemoryBuffer on local files"
  run_bench memorybuffer --name memorybuffer-local --config "$work/mb-local.json"
fi

if wants memorybuffer-s3; then
  if [[ -z "$rgw_dir" ]]; then
    step "starting an RGW (bluestore OSD)"
    own_rgw=$work/rgw
    OSD_STORE=bluestore "$root/scripts/rgw.sh" start "$own_rgw" > "$work/rgw.log" 2>&1 ||
      { cat "$work/rgw.log" >&2; die "the RGW did not start"; }
    rgw_dir=$own_rgw
  fi
  s3_config "$rgw_dir"
  step "ceiling: the S3 server's raw PUT rate"
  run_bench s3-put --dir "$work/s3-put" --config "$work/mb-s3.json"
  step "MemoryBuffer on the S3 server (RGW)"
  run_bench memorybuffer --name memorybuffer-s3 --config "$work/mb-s3.json" \
    --server-pids "$(pids_of "$rgw_dir"/run/*.pid)"
  if [[ -n "$own_rgw" ]]; then "$root/scripts/rgw.sh" stop "$own_rgw" > /dev/null 2>&1; fi
  own_rgw=""  # stopped: its CPU is not taken from the systems after it
fi

if wants quorum; then
  step "starting 3 LogStores (scripts/cluster.sh, objects in a local folder)"
  BUILD_DIR=$build "$root/scripts/cluster.sh" up "$work/cluster" --objects local \
    --logstores 3 > "$work/cluster-up.log" 2>&1 ||
    { cat "$work/cluster-up.log" >&2; die "the LogStore cluster did not start"; }
  step "QuorumBuffer, 3 LogStores over gRPC on loopback"
  run_bench quorum --name quorumbuffer --config "$work/cluster/cluster.json" \
    --server-pids "$(pids_of "$work"/cluster/ls*.pid "$work"/cluster/etcd/m*.pid)"
  BUILD_DIR=$build "$root/scripts/cluster.sh" down "$work/cluster" > /dev/null 2>&1 || true
fi

if wants nats; then
  step "starting 3 nats-server (JetStream, file storage) on loopback"
  start_nats
  step "NATS JetStream R3"
  run_bench nats --name nats-jetstream-r3 --nats "$nats_urls" --replicas 3 \
    --server-pids "$(IFS=,; echo "${nats_pids[*]}")"
fi

step "table and plots"
check=()
if $smoke; then  # the smoke test fails on a failed append, a short reader, a missing system
  expect=fdatasync-loop,journal-group,journal-single
  wants fio && expect+=,fio
  wants memorybuffer-local && expect+=,memorybuffer-local
  wants memorybuffer-s3 && expect+=,memorybuffer-s3,s3-put
  wants quorum && expect+=,quorumbuffer
  wants nats && expect+=,nats-jetstream-r3
  check=(--check --expect "$expect")
fi
python3 "$root/bench/compare_report.py" "$out" --workload "$workload" "${check[@]}" \
  --commit "$(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo unknown)"
step "done: $out/table.md, $out/throughput.png, $out/latency-cdf.png"
