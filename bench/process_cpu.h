#pragma once
// CPU time of processes on this machine, for the benchmarks' "where the time goes".

#include <sys/types.h>

namespace wal::bench {

// CPU seconds (user + system) process `pid` has used so far (/proc/<pid>/stat, its own threads,
// not its children); 0 if it cannot be read (the process is gone, or not ours to read).
[[nodiscard]] double cpu_seconds_of(pid_t pid);

}  // namespace wal::bench
