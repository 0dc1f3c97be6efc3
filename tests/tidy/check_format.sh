#!/usr/bin/env bash
# The layout lint: every C++ line added or changed since BASE_COMMIT must be laid out as
# .clang-format says. Lines older than BASE_COMMIT are left alone: the tree predates the style
# file, and reformatting all of it would be a large diff with no change in behaviour.
#
# Usage: check_format.sh SOURCE_DIR BASE_COMMIT
#   exit 0   every new or changed line conforms (committed or not)
#   exit 1   prints the lines to change as a diff; `git clang-format BASE_COMMIT` fixes them
#   exit 77  skipped: SOURCE_DIR is not a git checkout holding BASE_COMMIT (a source tarball,
#            a shallow clone), so there is nothing to compare with
set -euo pipefail
root=${1:?usage: check_format.sh SOURCE_DIR BASE_COMMIT}
base=${2:?usage: check_format.sh SOURCE_DIR BASE_COMMIT}
if ! git -C "$root" rev-parse --verify --quiet "$base^{commit}" > /dev/null 2>&1; then
  echo "format check: skipped: $root is not a git checkout with commit $base"
  exit 77
fi
if ! command -v git-clang-format > /dev/null; then
  echo "format check: git-clang-format not found (scripts/install-deps.sh installs clang-format)"
  exit 1
fi
cd "$root"
# git-clang-format exits 0 whether or not it finds something: the diff is the verdict.
output=$(git clang-format --diff --extensions c,cc,cpp,h,hpp "$base" 2>&1)
if grep -q '^diff --git' <<< "$output"; then
  echo "$output"
  echo "format check: the lines above differ from .clang-format; fix: git clang-format $base"
  exit 1
fi
echo "format check: every line changed since ${base:0:12} conforms"
