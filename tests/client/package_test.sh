#!/usr/bin/env bash
# The library as another project gets it: `cmake --install` of the build into a temporary
# prefix, then a copy of examples/ (outside this tree) configured with find_package against only
# that prefix, built, and run by examples_test.sh
#  1. on the embedded stores (local objects + SQLite), and
#  2. on etcd (its own, scripts/etcd.sh, stopped by PID) + S3 (Ceph RGW, the CTest fixture
#     `rgw`: WAL_RGW_DIR names its directory) in a fresh bucket.
# Also checks that the installed headers are the public ones only, each compiles on its own,
# that no installed text file points back into the source or build tree, and that the program
# printed in docs/api.md builds against the prefix and runs.
#
#   package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "${1:?usage: package_test.sh BUILD_DIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
cleanup() {
  [[ -d "$work/etcd" ]] && "$root/scripts/etcd.sh" stop "$work/etcd"
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" > "$work/install.log" \
  || { cat "$work/install.log"; fail "cmake --install"; }
echo "ok: cmake --install into a temporary prefix ($(grep -c Installing "$work/install.log") files)"

# Only the public headers (docs/api.md, "Public headers"), and each compiles on its own.
(cd "$prefix/include" && find . -type f | sort) > "$work/headers.txt"
cat > "$work/public.txt" <<'EOF'
./wal/client/client.h
./wal/client/reader.h
./wal/client/types.h
./wal/client/version.h
./wal/client/writer.h
./wal/core/assert.h
./wal/core/bytes.h
./wal/core/result.h
./wal/format/append_key.h
EOF
diff "$work/public.txt" "$work/headers.txt" || fail "the installed headers are not the public set"
while read -r header; do
  echo "#include \"${header#./}\"" > "$work/one_header.cpp"
  g++ -std=c++20 -fsyntax-only -I "$prefix/include" "$work/one_header.cpp" \
    || fail "$header does not compile on its own against the prefix"
done < "$work/headers.txt"
# Text files only: the libraries' debug information names the sources, as it should.
if grep -rlI -e "$root" -e "$build" "$prefix" > "$work/leaks.txt"; then
  cat "$work/leaks.txt"
  fail "installed text files name the source or build tree"
fi
echo "ok: the $(wc -l < "$work/headers.txt") public headers, each self-contained; no path" \
     "into the source tree"

# A consumer project outside this tree: examples/ copied away, so only the prefix can serve
# woodpecker_wal::client.
cp -r "$root/examples" "$work/consumer"
launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$work/consumer" -B "$work/consumer-build" -G Ninja "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_PREFIX_PATH="$prefix" > "$work/configure.log" 2>&1 \
  || { cat "$work/configure.log"; fail "configuring the consumer against the prefix"; }
grep -q "woodpecker_wal" "$work/consumer-build/CMakeCache.txt" || fail "package not found"
ninja -C "$work/consumer-build" -j "${JOBS:-2}" > "$work/consumer-build.log" 2>&1 \
  || { cat "$work/consumer-build.log"; fail "building the consumer against the prefix"; }
echo "ok: examples/ built out of tree with find_package(woodpecker_wal CONFIG)"

# The twenty-line program of docs/api.md ("Embedding"), as printed there, with its data
# directory moved into this test's.
mkdir -p "$work/doc-app"
sed -n '/^```cmake$/,/^```$/p' "$root/docs/api.md" | sed '1d;$d' > "$work/doc-app/CMakeLists.txt"
sed -n '/^```cpp$/,/^```$/p' "$root/docs/api.md" | sed '1d;$d' \
  | sed "s|/tmp/app-wal|$work/app-wal|" > "$work/doc-app/app.cpp"
grep -q "woodpecker_wal::client" "$work/doc-app/CMakeLists.txt" || fail "no CMake snippet in api.md"
cmake -S "$work/doc-app" -B "$work/doc-app/build" -G Ninja "${launcher[@]}" \
  -DCMAKE_PREFIX_PATH="$prefix" > "$work/doc-app.log" 2>&1 \
  && ninja -C "$work/doc-app/build" >> "$work/doc-app.log" 2>&1 \
  || { cat "$work/doc-app.log"; fail "the program of docs/api.md does not build"; }
"$work/doc-app/build/app" > /dev/null || fail "the program of docs/api.md failed"
[[ $("$work/doc-app/build/app") == $'2 hello\n3 world' ]] \
  || fail "the program of docs/api.md printed something else on its second run"
echo "ok: the program of docs/api.md builds against the prefix and runs"

# 1. Embedded stores.
"$here/examples_test.sh" "$work/consumer-build" || fail "the examples on the embedded stores"

# 2. etcd + S3.
: "${WAL_RGW_DIR:?WAL_RGW_DIR is not set: run this through ctest (fixture rgw)}"
set -a; . "$WAL_RGW_DIR/env"; set +a
endpoint=$("$root/scripts/etcd.sh" start "$work/etcd" --owner-pid $$ | tail -n 1)
bucket="client-$(date +%s%N | tail -c 10)-$$"
/usr/bin/python3 - "$S3_ENDPOINT" "$bucket" <<'PY'
import sys, boto3
from botocore.config import Config
boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
             config=Config(s3={"addressing_style": "path"})).create_bucket(Bucket=sys.argv[2])
PY
cat > "$work/etcd-s3.json" <<EOF
{"object_store": {"type": "s3", "endpoint": "$S3_ENDPOINT", "bucket": "$bucket"},
 "meta_store": {"type": "etcd", "endpoints": ["$endpoint"], "prefix": "/client-test/"}}
EOF
"$here/examples_test.sh" "$work/consumer-build" --config "$work/etcd-s3.json" \
  || fail "the examples on etcd + S3"
keys=$(ETCDCTL_API=3 etcdctl --endpoints "$endpoint" get --prefix /client-test/ --keys-only \
       | grep -c . || true)
[[ "$keys" -gt 0 ]] || fail "no metadata under /client-test/ in etcd"
objects=$(/usr/bin/python3 - "$S3_ENDPOINT" "$bucket" <<'PY'
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  config=Config(s3={"addressing_style": "path"}))
print(sum(page.get("KeyCount", 0)
          for page in s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[2])))
PY
)
[[ "$objects" -gt 0 ]] || fail "no objects in bucket $bucket"
echo "ok: on etcd + S3 the logs' metadata is in etcd ($keys keys) and their data in the bucket" \
     "($objects objects)"
echo "PASS"
