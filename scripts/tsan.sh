#!/usr/bin/env bash
# Builds the client library's tests (tests/client/*_test.cpp) with ThreadSanitizer in a build
# directory of their own and runs them; any data race, lock-order inversion or thread leaked at
# exit fails the run (TSAN_OPTIONS halt_on_error=1, exitcode 66).
#
#   scripts/tsan.sh [BUILD_DIR]     default: build-tsan next to the sources
#
# Only the test executables and the libraries they link are built (not the simulator or the
# other suites). The CTest test `client.tsan` (labels tsan and slow) runs this script.
set -euo pipefail
if [[ "${1:-}" == "--help" || "${1:-}" == "-h" ]]; then sed -n '2,10p' "$0"; exit 0; fi
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-$root/build-tsan}
mkdir -p "$build_dir"
launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
started=$(date +%s)
echo "tsan: configuring $build_dir"
cmake -S "$root" -B "$build_dir" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" > "$build_dir/configure.log" 2>&1 \
  || { cat "$build_dir/configure.log"; exit 1; }
tests=()
for source in "$root"/tests/client/*_test.cpp; do tests+=("$(basename "$source" .cpp)"); done
echo "tsan: building ${tests[*]}"
ninja -C "$build_dir" -j "${JOBS:-2}" "${tests[@]}"
echo "tsan: built in $(( $(date +%s) - started )) s; running"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
failed=0
for test in "${tests[@]}"; do
  if "$build_dir/$test" --gtest_brief=1; then
    echo "tsan: $test clean"
  else
    echo "tsan: $test FAILED (exit $?)"
    failed=1
  fi
done
echo "tsan: done in $(( $(date +%s) - started )) s"
exit "$failed"
