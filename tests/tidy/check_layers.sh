#!/usr/bin/env bash
# The layering lint: includes between the WAL's modules go one way (docs/architecture.md).
#   wal/src/log/, wal/include/wal/log/  must not include wal/quorum/ (a reader reaches LogStores
#                                       through SegmentReplicas, which quorum implements)
#   wal/real/, wal/include/wal/real/    must not include wal/mem/ (the shared etcd rules are in
#                                       wal/env/meta_rules.h, part of wal_core)
#
# Usage: check_layers.sh WAL_DIR     exit 0 clean, 1 with one line per violation.
set -euo pipefail
root=${1:?usage: check_layers.sh WAL_DIR}

# directory (relative to WAL_DIR) <TAB> include pattern it must not use <TAB> what to use instead
rules=$(cat <<'RULES'
src/log	#include\s*[<"](wal/quorum/|wal/src/quorum/)	SegmentReplicas (wal/log/segment_replicas.h)
include/wal/log	#include\s*[<"](wal/quorum/|wal/src/quorum/)	SegmentReplicas (wal/log/segment_replicas.h)
real	#include\s*[<"]wal/mem/	wal/env/meta_rules.h and the other wal_core headers
include/wal/real	#include\s*[<"]wal/mem/	wal/env/meta_rules.h and the other wal_core headers
RULES
)

violations=0
while IFS=$'\t' read -r dir pattern advice; do
  [[ -d "$root/$dir" ]] || continue
  while IFS= read -r file; do
    if matches=$(grep -nE "$pattern" "$file"); then
      while IFS= read -r match; do
        echo "${file#$root/}:${match%%:*}: ${dir}/ must not include that; use: ${advice}"
        violations=$((violations + 1))
      done <<< "$matches"
    fi
  done < <(find "$root/$dir" -type f \( -name '*.h' -o -name '*.cpp' \) | sort)
done <<< "$rules"

if [[ $violations -gt 0 ]]; then
  echo "layering lint: $violations violation(s) under $root"
  exit 1
fi
echo "layering lint: clean ($root)"
