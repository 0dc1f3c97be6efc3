// Planted for the layering lint (lint_self_test.sh): the log module reaching into quorum.
#include "wal/log/log_reader.h"
#include "wal/quorum/protocol.h"  // VIOLATION 1
