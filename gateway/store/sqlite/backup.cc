// The store's file as a whole: the lock, the online backup, the checks on a
// copy.

#include "gateway/store/sqlite/backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/files.h"
#include "gateway/store/sqlite/connection.h"
#include "gateway/store/sqlite/migrations.h"

namespace safeshare::gateway {
namespace {

using sqlite_db::SqliteError;
using sqlite_db::Statement;

// Closes the connection when it goes out of scope.
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close_v2(db); }
};

absl::Status Open(const std::string& path, int flags, Connection& c) {
  const int rc = sqlite3_open_v2(path.c_str(), &c.db, flags, nullptr);
  if (rc != SQLITE_OK) return SqliteError(c.db, rc, absl::StrCat("cannot open ", path));
  sqlite3_extended_result_codes(c.db, 1);
  sqlite3_busy_timeout(c.db, 5000);
  return absl::OkStatus();
}

// The one-row, one-column answer of `sql`, as text.
absl::StatusOr<std::string> Scalar(sqlite3* db, const char* sql) {
  Statement s(db, sql);
  if (auto st = s.status(sql); !st.ok()) return st;
  const int rc = s.Step();
  if (rc != SQLITE_ROW) return SqliteError(db, rc, sql);
  return s.Text(0);
}

// SQLite's own check of every page and index; the first problem it names.
absl::Status CheckIntegrity(sqlite3* db, const std::string& path) {
  auto result = Scalar(db, "PRAGMA integrity_check");
  if (!result.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, " cannot be read as a safeshare store: ", result.status().message()));
  }
  if (*result != "ok") {
    return absl::DataLossError(absl::StrCat(path, " is damaged: ", *result));
  }
  return absl::OkStatus();
}

}  // namespace

// The file's lock, open once per process; the last handle closes it.
struct StoreFileLock::Held {
  int fd = -1;
  std::pair<dev_t, ino_t> file;
  ~Held();
};

namespace {
absl::Mutex held_mu;
std::map<std::pair<dev_t, ino_t>, std::weak_ptr<StoreFileLock::Held>>& HeldLocks() {
  static auto* held = new std::map<std::pair<dev_t, ino_t>, std::weak_ptr<StoreFileLock::Held>>;
  return *held;
}
}  // namespace

StoreFileLock::Held::~Held() {
  absl::MutexLock lock(&held_mu);
  if (auto it = HeldLocks().find(file); it != HeldLocks().end() && it->second.expired()) {
    HeldLocks().erase(it);
  }
  close(fd);  // releases the flock
}

absl::StatusOr<StoreFileLock> StoreFileLock::Acquire(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    if (fd >= 0) close(fd);
    return absl::UnavailableError(absl::StrCat("store: cannot open ", path, " to lock it"));
  }
  absl::MutexLock lock(&held_mu);
  auto& held = HeldLocks()[{st.st_dev, st.st_ino}];
  if (auto shared = held.lock()) {
    close(fd);
    return StoreFileLock(std::move(shared));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    close(fd);
    if (err == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store: ", path,
          " is in use by another safeshare-gateway; stop it first (two gateways on one SQLite "
          "file would each extend the audit log on their own; run replicas on PostgreSQL)"));
    }
    return absl::UnavailableError(absl::StrCat("store: cannot lock ", path));
  }
  auto shared = std::make_shared<Held>();
  shared->fd = fd;
  shared->file = {st.st_dev, st.st_ino};
  held = shared;
  return StoreFileLock(std::move(shared));
}

absl::Status BackUpSqliteFile(const std::string& live_path, const std::string& out_path) {
  if (!std::filesystem::exists(live_path)) {
    return absl::NotFoundError(absl::StrCat("store: there is no store at ", live_path));
  }
  const std::string partial = out_path + ".partial";
  std::remove(partial.c_str());
  {
    const int fd =
        open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("backup: cannot create ", partial, " (does its directory exist?)"));
    }
    close(fd);
  }
  auto fail = [&](absl::Status st) {
    std::remove(partial.c_str());
    return st;
  };
  {
    Connection src, dst;
    if (auto st = Open(live_path, SQLITE_OPEN_READONLY, src); !st.ok()) return fail(st);
    if (auto st = Open(partial, SQLITE_OPEN_READWRITE, dst); !st.ok()) return fail(st);
    sqlite3_backup* backup = sqlite3_backup_init(dst.db, "main", src.db, "main");
    if (backup == nullptr) return fail(SqliteError(dst.db, sqlite3_errcode(dst.db), "backup"));
    // All pages in one step: one read transaction, so one commit's state.
    // Readers never block the gateway's writer (WAL); a reader may wait on
    // a checkpoint's brief lock, hence the retries.
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < 100; ++attempt) {
      rc = sqlite3_backup_step(backup, -1);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    sqlite3_backup_finish(backup);
    if (rc != SQLITE_DONE) {
      return fail(SqliteError(dst.db, rc, absl::StrCat("copying ", live_path)));
    }
  }
  {
    // A single file: out of WAL mode, so the copy needs no -wal or -shm.
    Connection dst;
    if (auto st = Open(partial, SQLITE_OPEN_READWRITE, dst); !st.ok()) return fail(st);
    auto mode = Scalar(dst.db, "PRAGMA journal_mode=DELETE");
    if (!mode.ok()) return fail(mode.status());
    if (*mode != "delete") {
      return fail(absl::InternalError("backup: the copy could not leave WAL mode"));
    }
  }
  if (auto st = SyncFile(partial); !st.ok()) return fail(st);
  if (std::rename(partial.c_str(), out_path.c_str()) != 0) {
    return fail(absl::FailedPreconditionError(absl::StrCat("backup: cannot rename to ", out_path)));
  }
  return SyncDirectory(DirectoryOf(out_path));
}

absl::StatusOr<SqliteFileFacts> CheckSqliteFile(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) {
    return absl::NotFoundError(absl::StrCat("there is no file ", path));
  }
  Connection c;
  if (auto st = Open(path, SQLITE_OPEN_READONLY, c); !st.ok()) return st;
  if (auto st = CheckIntegrity(c.db, path); !st.ok()) return st;
  auto tables = Scalar(c.db,
                       "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                       "('messages', 'audit_log', 'audit_checkpoints')");
  if (!tables.ok() || *tables != "3") {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not a safeshare store"));
  }
  SqliteFileFacts facts;
  {
    Statement v(c.db, "PRAGMA user_version");
    facts.schema_version = v.Step() == SQLITE_ROW ? v.Int(0) : 0;
  }
  const int latest = kSqliteMigrations[kSqliteMigrationCount - 1].version;
  if (facts.schema_version > latest) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " has schema version ", facts.schema_version,
                     ", newer than this gateway understands (", latest,
                     "); restore it with the release that took it, or a later one"));
  }
  Statement counts(c.db,
                   "SELECT (SELECT COUNT(*) FROM messages), "
                   "(SELECT COUNT(*) FROM messages WHERE acknowledged_us IS NOT NULL), "
                   "(SELECT COUNT(*) FROM audit_log)");
  if (auto st = counts.status("count"); !st.ok()) return st;
  if (const int rc = counts.Step(); rc != SQLITE_ROW) return SqliteError(c.db, rc, "count");
  facts.messages = static_cast<uint64_t>(counts.Int(0));
  facts.acknowledged = static_cast<uint64_t>(counts.Int(1));
  facts.audit_records = static_cast<uint64_t>(counts.Int(2));
  return facts;
}

}  // namespace safeshare::gateway
