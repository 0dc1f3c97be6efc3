#!/usr/bin/env bash
# Shows the determinism lint can fail: run it on planted violations and require that it exits 1
# and reports exactly the lines marked VIOLATION (and nothing under real/).
set -uo pipefail
here=${1:?usage: check_determinism_self_test.sh TESTS_TIDY_DIR}
output=$("$here/check_determinism.sh" "$here/planted")
status=$?
if [[ $status -ne 1 ]]; then
  echo "FAIL: lint exited $status on planted violations (want 1)"; echo "$output"; exit 1
fi
want=$(grep -cE 'VIOLATION [0-9]+' "$here/planted/src/violations.cpp")
got=$(grep -c 'banned' <<< "$output")
if [[ "$got" -ne "$want" ]]; then
  echo "FAIL: lint reported $got violations, planted $want"; echo "$output"; exit 1
fi
if grep -q 'real/allowed.cpp' <<< "$output"; then
  echo "FAIL: lint reported a real adapter"; exit 1
fi
echo "PASS: lint caught all $want planted violations and spared real/"
