#!/usr/bin/env bash
# The default test run (what .ci/run calls): installs what is missing, builds, and runs every
# CTest suite except those labelled `slow`. Pass extra ctest arguments after the script name,
# e.g. `scripts/test.sh -L sim` or `scripts/test.sh -L slow` for the long sweeps.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
mkdir -p "${BUILD_DIR:-$root/build}"
"$root/scripts/build.sh"
ctest_args=("$@")
[[ ${#ctest_args[@]} -gt 0 ]] || ctest_args=(-LE slow)
ctest --test-dir "${BUILD_DIR:-$root/build}" --output-on-failure -j "${JOBS:-$(nproc)}" \
  --timeout 900 "${ctest_args[@]}"
