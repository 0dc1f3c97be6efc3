#pragma once
// `wp inspect` and `wp verify` in QuorumBuffer mode (the other commands are the same code in
// both modes: LogClient, LogReader and the writer chosen by wp_append_target.h). Exit codes as
// in wp_commands.h: 0 ok, 1 a problem (printed).
#include <string>

#include "wp_runtime.h"

namespace wal::cli {

// The log's epoch and truncation point, the registered LogStores, and per segment its state,
// ids, ensemble, upload and checkpoint; for segments not uploaded yet, what each LogStore of
// the ensemble reports (known or in limbo, durable and confirmed ends) or why it did not answer.
Task<int> cmd_quorum_inspect(WpRuntime& runtime, std::string name);
// Reads every entry from the truncation point to the acknowledged end, as a reader does (object
// storage for uploaded segments and checkpoints, LogStores for the rest; blocks checked by their
// CRC32C), and checks that ids are dense and in order and that segments join up.
Task<int> cmd_quorum_verify(WpRuntime& runtime, std::string name);

}  // namespace wal::cli
