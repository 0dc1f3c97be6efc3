#!/usr/bin/env bash
# Configures and builds the project. BUILD_DIR (default build), BUILD_TYPE (default
# RelWithDebInfo) and WAL_SANITIZE (ON for ASan/UBSan) may be set in the environment.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DWAL_SANITIZE="${WAL_SANITIZE:-OFF}" > "$build_dir.configure.log" 2>&1 \
  || { cat "$build_dir.configure.log"; exit 1; }
ninja -C "$build_dir" -j "${JOBS:-$(nproc)}"
