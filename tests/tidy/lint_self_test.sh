#!/usr/bin/env bash
# Shows a lint can fail: runs LINT on PLANTED_DIR and requires exit 1, one report line (a line
# matching REPORT_PATTERN) per line marked VIOLATION in the planted files, and none naming
# SPARED (a planted file the lint must accept).
#
# Usage: lint_self_test.sh LINT PLANTED_DIR REPORT_PATTERN SPARED
set -uo pipefail
lint=${1:?usage: lint_self_test.sh LINT PLANTED_DIR REPORT_PATTERN SPARED}
planted=${2:?usage: lint_self_test.sh LINT PLANTED_DIR REPORT_PATTERN SPARED}
report=${3:?usage: lint_self_test.sh LINT PLANTED_DIR REPORT_PATTERN SPARED}
spared=${4:?usage: lint_self_test.sh LINT PLANTED_DIR REPORT_PATTERN SPARED}
output=$("$lint" "$planted")
status=$?
if [[ $status -ne 1 ]]; then
  echo "FAIL: $(basename "$lint") exited $status on planted violations (want 1)"
  echo "$output"
  exit 1
fi
want=$(grep -rhoE 'VIOLATION [0-9]+' "$planted" | wc -l)
got=$(grep -cE "$report" <<< "$output")
if [[ "$got" -ne "$want" ]]; then
  echo "FAIL: $(basename "$lint") reported $got violations, planted $want"; echo "$output"; exit 1
fi
if grep -q "$spared" <<< "$output"; then
  echo "FAIL: $(basename "$lint") reported $spared, which it must accept"; exit 1
fi
echo "PASS: $(basename "$lint") caught all $want planted violations and spared $spared"
