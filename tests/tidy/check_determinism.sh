#!/usr/bin/env bash
# The determinism lint. Code under wal/ must reach time, threads, randomness, files, sockets and
# the environment only through the Env interfaces, so that the same code runs in the simulator
# and replays exactly. Only the real adapters (wal/real/ and wal/include/wal/real/) and the
# binaries' entry points (wal/cli/) may touch the OS.
#
# Usage: check_determinism.sh WAL_DIR     exit 0 clean, 1 with one line per violation.
set -euo pipefail
root=${1:?usage: check_determinism.sh WAL_DIR}

# pattern <TAB> what to use instead
rules=$(cat <<'RULES'
std::thread\b|std::jthread\b	run work on the Executor; blocking I/O belongs in wal/real/
std::async\b	spawn a Task on a Scope
std::this_thread	co_await sleep_for(env.clock, ...)
(system_clock|steady_clock|high_resolution_clock)\b	Clock::now() / Clock::unix_time_ms()
\btime\(\s*(NULL|nullptr|0)?\s*\)|gettimeofday|clock_gettime	Clock::now()
std::random_device|\brand\(|\bsrand\(|\brandom\(\)|getrandom|/dev/u?random	env.random (Random)
std::(mt19937|default_random_engine|minstd_rand)	env.random (Random); a std engine seeded elsewhere hides a seed
\bgetenv\(|\bsetenv\(|\benviron\b	take configuration as a parameter
\bfopen\(|std::(i|o)?fstream|\bopen\(\s*"|<fstream>|<filesystem>|std::filesystem	the Disk or ObjectStore interface
\bsocket\(|\bconnect\(\s*[a-z_]+\s*,|<sys/socket\.h>|<netinet/	the Network interface
#include\s*[<"](sim|faults)/	wal/ must not know the simulator
std::unordered_(map|set)<\s*[A-Za-z_:<>]*\s*\*	key by a stable id, not a pointer (iteration order would follow addresses)
\bis_simulated\b|#\s*if(def)?\s+.*SIM	inject behaviour through FaultPoints, never ask "am I simulated?"
RULES
)

violations=0
while IFS= read -r file; do
  case "$file" in
    "$root"/real/*|"$root"/include/wal/real/*|"$root"/cli/*) continue ;;
  esac
  while IFS=$'\t' read -r pattern advice; do
    [[ -z "$pattern" ]] && continue
    # Strip // comments before matching so prose may name a banned call.
    if matches=$(sed -E 's#//.*$##' "$file" | grep -nE "$pattern"); then
      while IFS= read -r match; do
        echo "${file#$root/}:${match%%:*}: banned (${pattern}); use: ${advice}"
        violations=$((violations + 1))
      done <<< "$matches"
    fi
  done <<< "$rules"
done < <(find "$root" -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.cc' \) | sort)

if [[ $violations -gt 0 ]]; then
  echo "determinism lint: $violations violation(s) under $root"
  exit 1
fi
echo "determinism lint: clean ($root)"
