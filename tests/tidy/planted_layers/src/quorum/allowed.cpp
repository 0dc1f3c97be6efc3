// Planted for the layering lint (lint_self_test.sh): quorum may include log (allowed).
#include "wal/log/segment_replicas.h"
#include "wal/quorum/protocol.h"
