#!/usr/bin/env bash
# Installs, with apt-get, every Debian package this project needs that is not installed yet.
# It is a no-op (no apt-get call at all) when everything is present.
#
#   scripts/install-deps.sh            build + test dependencies (compiler, libraries, etcd,
#                                      Ceph RGW)
#
# Why each package is here:
#   g++ cmake ninja-build          the build (C++20, g++ 12)
#   clang                          a syntax-only second compiler in the default suite: it warns
#                                  about a dropped [[nodiscard]] result under co_await, GCC 12
#                                  does not (tests/tidy/clang_syntax_check.py)
#   clang-format                   the layout of new and changed lines (.clang-format), checked
#                                  in the default suite with its git-clang-format
#                                  (tests/tidy/check_format.sh)
#   libgtest-dev libgmock-dev      unit tests;  librapidcheck-dev: property tests
#   libbenchmark-dev               bench/
#   libsqlite3-dev                 the embedded MetaStore (durable, atomic transactions)
#   libgrpc++-dev protobuf-*       LogStore transport and the etcd v3 client
#   libcurl4-openssl-dev libssl-dev  the S3 client (SigV4 over libcurl, CRC/SHA via OpenSSL)
#   libfmt-dev nlohmann-json3-dev  formatting; JSON config files and JSONL traces
#   libcli11-dev                   command-line parsing with --help on every subcommand (wp, wp-sim)
#   libxxhash-dev                  XXH64 content hashes (object etags, local object files)
#   libsimdjson-dev                wp-lincheck reads JSON-lines histories (7x less CPU than a
#                                  nlohmann DOM per line; the second checker runs on every seed)
#   etcd-server etcd-client        the real etcd the integration tests run against
#   libexpat1-dev                  the S3 client's XML parser (list and delete results, errors)
#   ceph-mon ceph-osd radosgw ceph-common uuid-runtime iproute2
#                                  Ceph RGW, the real S3 server the default test suite, the demo
#                                  and the benchmark run against (scripts/rgw.sh; no systemd)
#   libcpp-httplib-dev python3-yaml
#                                  the daemons' /metrics and /health endpoints (cpp-httplib);
#                                  the test that parses deploy/ (docker-compose.yml)
#   python3-boto3 python3-crc32c   an independent S3 client and CRC32C that cross-check what the
#                                  WAL wrote (tests/cli/s3_boto3_check.py)
#   nats-server libnats-dev        the peer in bench/run-all.sh: NATS JetStream R3 (three
#                                  servers on loopback) driven through libnats's C API
#   fio gnuplot-nox                bench/run-all.sh: the device's write+fdatasync ceiling as fio
#                                  measures it; the PNG plots of each run
# Then it unpacks etcd's .proto files into .deps/etcd-proto (scripts/fetch-etcd-protos.sh; a
# no-op when present): the etcd MetaStore's gRPC stubs are generated from them.
set -euo pipefail
fetch_etcd_protos() { "$(dirname "$0")/fetch-etcd-protos.sh"; }

packages=(g++ clang clang-format cmake ninja-build pkg-config libgtest-dev libgmock-dev
          librapidcheck-dev libbenchmark-dev libsqlite3-dev libgrpc++-dev protobuf-compiler-grpc
          libprotobuf-dev protobuf-compiler libcurl4-openssl-dev libssl-dev libfmt-dev
          nlohmann-json3-dev libcli11-dev libxxhash-dev libsimdjson-dev etcd-server etcd-client
          python3 curl)
packages+=(libexpat1-dev ceph-mon ceph-osd radosgw ceph-common uuid-runtime iproute2
           python3-boto3 python3-crc32c libcpp-httplib-dev python3-yaml)
packages+=(nats-server libnats-dev fio gnuplot-nox)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  fetch_etcd_protos
  exit 0
fi

echo "install-deps: installing ${#missing[@]} missing packages: ${missing[*]}"
sudo_prefix=()
[[ $(id -u) -eq 0 ]] || sudo_prefix=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_prefix[@]}" apt-get update -qq
"${sudo_prefix[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
fetch_etcd_protos
