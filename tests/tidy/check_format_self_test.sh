#!/usr/bin/env bash
# Shows the layout lint can fail: in a scratch repository with the project's .clang-format it must
# pass an untouched tree and a well-formatted change, fail a badly formatted new line (naming the
# file), and leave badly formatted lines older than the base commit alone.
set -uo pipefail
here=${1:?usage: check_format_self_test.sh TESTS_TIDY_DIR SOURCE_DIR}
source_dir=${2:?usage: check_format_self_test.sh TESTS_TIDY_DIR SOURCE_DIR}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
git_in() { git -C "$scratch" -c user.name=check -c user.email=check@localhost "$@"; }
git_in init -q
cp "$source_dir/.clang-format" "$scratch/"
printf 'int  old_layout( int x ){return x;}\n\nint kept(int x) { return x; }\n' > "$scratch/a.cpp"
git_in add .
git_in commit -qm base
base=$(git_in rev-parse HEAD)

expect() {  # expect STATUS WHAT
  output=$("$here/check_format.sh" "$scratch" "$base" 2>&1)
  status=$?
  if [[ $status -ne $1 ]]; then
    echo "FAIL: $2: exit $status, want $1"; echo "$output"; exit 1
  fi
}
expect 0 "untouched tree"
printf 'int  old_layout( int x ){return x;}\n\nint kept(int x) { return x + 1; }\n' \
  > "$scratch/a.cpp"
expect 0 "well-formatted change beside an old badly formatted line"
printf 'int  old_layout( int x ){return x;}\n\nint kept(int x) { return   x + 1; }\n' \
  > "$scratch/a.cpp"
expect 1 "badly formatted changed line"
grep -q 'a.cpp' <<< "$output" || { echo "FAIL: the report does not name a.cpp"; exit 1; }
printf 'int added( int x ){return x;}\n' > "$scratch/b.h"
git_in checkout -q a.cpp
git_in add b.h
expect 1 "badly formatted new file"
base=0000000000000000000000000000000000000000
expect 77 "a base commit the checkout does not hold"
echo "PASS: the layout lint flags new and changed lines only, and skips without a base"
