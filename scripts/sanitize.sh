#!/usr/bin/env bash
# Builds the tests with AddressSanitizer + UndefinedBehaviorSanitizer (WAL_SANITIZE=ON, a build
# directory of its own, default build-asan) and runs the unit and contract suites and a sample of
# the simulation tests under them. Any sanitizer report aborts its test (-fno-sanitize-recover),
# so a report is a failing test. Extra arguments go to ctest (e.g. -R log_recovery).
#
#   scripts/sanitize.sh                      build + run (CTest: `ctest -L sanitize`)
#   SANITIZE_BUILD_DIR=DIR scripts/sanitize.sh
#
# The simulation sample: the sim suite with its sweeps cut to WAL_SIM_SEEDS seeds per test
# (default 20; ASan makes a run 2-4 times slower). Only the test executables are built, not the
# benchmarks or command-line tools. The real-S3 instance of the ObjectStore contract is left
# out: it needs a Ceph RGW cluster, and the S3 client is covered by its unit tests here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${SANITIZE_BUILD_DIR:-$root/build-asan}
mkdir -p "$build_dir"
launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
echo "sanitize: configuring $build_dir (ASan + UBSan)"
cmake -S "$root" -B "$build_dir" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DWAL_SANITIZE=ON > "$build_dir.configure.log" 2>&1 \
  || { cat "$build_dir.configure.log"; exit 1; }
# The test executables of the suites run below (one per tests/<suite>/*_test.cpp).
targets=()
for suite in unit contract sim; do
  for source in "$root"/tests/$suite/*_test.cpp; do
    name=$(basename "$source" .cpp)
    [[ $name == *_slow_test ]] || targets+=("$name")
  done
done
echo "sanitize: building ${#targets[@]} test executables"
ninja -C "$build_dir" -j "${JOBS:-$(nproc)}" "${targets[@]}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export WAL_SIM_SEEDS=${WAL_SIM_SEEDS:-20}
echo "sanitize: running unit, contract and sim (WAL_SIM_SEEDS=$WAL_SIM_SEEDS)"
ctest --test-dir "$build_dir" --output-on-failure -j "${JOBS:-$(nproc)}" --timeout 1800 \
  -L '^(unit|contract|sim)$' -LE slow -E '/s3$' "$@"
