// Planted for the layering lint (lint_self_test.sh): a real adapter including wal/mem/.
#include "wal/env/meta_rules.h"
#include "wal/mem/mem_meta_store.h"  // VIOLATION 2
