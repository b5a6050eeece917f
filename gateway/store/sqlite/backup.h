#ifndef SAFESHARE_GATEWAY_STORE_SQLITE_BACKUP_H_
#define SAFESHARE_GATEWAY_STORE_SQLITE_BACKUP_H_

// The embedded store's file as a whole: the lock a running gateway holds on
// it, an online backup of it, and the checks a copy must pass before a
// gateway may start on it. What the copy's audit log proves is checked above
// the store (gateway/backup_restore.cc), against the federation's key.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace safeshare::gateway {

// An exclusive advisory lock (flock) on a store file, held for as long as a
// gateway has the file open: a second gateway on the same file would keep
// its own view of the log's frontier and corrupt it, and a restore must not
// replace a file in use. FAILED_PRECONDITION when another process holds it.
// Within one process the lock is shared: handles there share the file's
// SQLite locks too (tests open a second, lagging reader that way).
class StoreFileLock {
 public:
  static absl::StatusOr<StoreFileLock> Acquire(const std::string& path);
  struct Held;  // the open, locked file (backup.cc)

 private:
  explicit StoreFileLock(std::shared_ptr<Held> held) : held_(std::move(held)) {}
  std::shared_ptr<Held> held_;
};

// Copies the store at `live_path` to `out_path` while a gateway may be
// writing to it: one read transaction, so the copy is the store as of one
// commit. The copy is a single self-contained file (no -wal), mode 0600,
// written under a temporary name, synced and then renamed, so `out_path` is
// either a complete copy or absent. Whether the copy is good is
// CheckSqliteFile's question (and the audit log's, above the store).
absl::Status BackUpSqliteFile(const std::string& live_path, const std::string& out_path);

// What a copy of the store holds, read after SQLite's integrity check passes
// and its schema is one this gateway understands.
struct SqliteFileFacts {
  int64_t schema_version = 0;
  uint64_t messages = 0;
  uint64_t acknowledged = 0;
  uint64_t audit_records = 0;
};
// DATA_LOSS when the file is damaged; FAILED_PRECONDITION when it is not a
// store, or newer than this gateway understands.
absl::StatusOr<SqliteFileFacts> CheckSqliteFile(const std::string& path);

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_SQLITE_BACKUP_H_
