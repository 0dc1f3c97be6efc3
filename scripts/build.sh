#!/usr/bin/env bash
# Configures and builds the project. BUILD_DIR (default build), BUILD_TYPE (default
# RelWithDebInfo) and WAL_SANITIZE (ON for ASan/UBSan) may be set in the environment.
# When ccache is installed it is used as the compiler launcher (several checkouts of the tree
# then share compiled objects; ccache's base_dir setting makes paths relative).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
launcher=()
if command -v ccache > /dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$root" -B "$build_dir" -G Ninja "${launcher[@]}" \
  -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DWAL_SANITIZE="${WAL_SANITIZE:-OFF}" > "$build_dir.configure.log" 2>&1 \
  || { cat "$build_dir.configure.log"; exit 1; }
ninja -C "$build_dir" -j "${JOBS:-$(nproc)}"
