#ifndef SAFESHARE_GATEWAY_STORE_SQLITE_TIMED_VFS_H_
#define SAFESHARE_GATEWAY_STORE_SQLITE_TIMED_VFS_H_

// The operating system's SQLite VFS with each fsync timed, for the
// safeshare_store_fsync_seconds metric: the part of a commit's time that is
// the disk's. Every call but xSync goes straight through.

#include <functional>

#include "absl/time/time.h"

namespace safeshare::gateway::sqlite_db {

// The VFS name to open a connection with (registered on first use).
const char* TimedVfs();

// Called after every fsync through the timed VFS, with its duration. One
// observer per process (the store sets it); null for none.
void SetSyncObserver(std::function<void(absl::Duration)> observer);

}  // namespace safeshare::gateway::sqlite_db

#endif  // SAFESHARE_GATEWAY_STORE_SQLITE_TIMED_VFS_H_
