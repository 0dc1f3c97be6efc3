// wal::client::library_version (the generated wal/client/version.h).
#include "wal/client/version.h"

namespace wal::client {

const char* library_version() { return WOODPECKER_WAL_VERSION; }

}  // namespace wal::client
