#pragma once
// Env: everything a node touches outside its own memory, handed to it at construction. There are
// no globals: two nodes in one process (the simulator runs dozens) each get their own Env.
// Pointers may be null when a component does not need that service (a writer has no Disk).

#include "wal/async/executor.h"
#include "wal/env/clock.h"
#include "wal/env/disk.h"
#include "wal/env/fault_points.h"
#include "wal/env/meta_store.h"
#include "wal/env/network.h"
#include "wal/env/object_store.h"
#include "wal/env/random.h"

namespace wal {

struct Env {
  Executor& executor;
  Clock& clock;
  Random& random;
  const FaultPoints& faults;
  ObjectStore* object_store = nullptr;
  MetaStore* meta_store = nullptr;
  Disk* disk = nullptr;
  Network* network = nullptr;
};

}  // namespace wal
