// Opening the embedded store: the connections, the schema migrations, and
// the log's frontier; and closing it.

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/store/sqlite/connection.h"
#include "gateway/store/sqlite/migrations.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway/store/sqlite/timed_vfs.h"

namespace safeshare::gateway {

using sqlite_db::InTransaction;
using sqlite_db::SqliteError;
using sqlite_db::Statement;
using sqlite_db::TimedVfs;

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               int64_t max_pages) {
  // Created 0600 (SQLite gives its -wal and -shm files the same mode); an
  // existing file is narrowed to it.
  if (int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600); fd >= 0) {
    (void)fchmod(fd, 0600);
    close(fd);
  }
  auto file_lock = StoreFileLock::Acquire(path);
  if (!file_lock.ok()) return file_lock.status();
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           TimedVfs());
  if (rc != SQLITE_OK) {
    absl::Status st = SqliteError(db, rc, absl::StrCat("cannot open database ", path));
    sqlite3_close(db);
    return st;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, *std::move(file_lock)));
  absl::MutexLock lock(&store->mu_);
  // WAL + FULL: each commit is fsynced before it returns. temp_store=MEMORY
  // keeps each job's savepoint journal off the disk, where its writes queued
  // behind the checkpoint's and stalled the commit.
  // secure_delete: purged content is overwritten with zeros in the file, not
  // left in free pages.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON",
        "PRAGMA temp_store=MEMORY", "PRAGMA secure_delete=ON"}) {
    if (absl::Status st = store->Exec(pragma); !st.ok()) return st;
  }
  {
    Statement mode(db, "PRAGMA journal_mode");
    if (mode.Step() != SQLITE_ROW || mode.Text(0) != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("store: ", path, " could not be switched to WAL mode"));
    }
  }
  if (auto st = store->MigrateLocked(path); !st.ok()) return st;
  if (max_pages > 0) {
    if (auto st = store->Exec(absl::StrCat("PRAGMA max_page_count=", max_pages).c_str());
        !st.ok()) {
      return st;
    }
  }
  if (auto st = store->LoadLogLocked(path); !st.ok()) return st;
  {
    absl::MutexLock read_lock(&store->read_mu_);
    if (sqlite3_open_v2(path.c_str(), &store->read_db_,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
      return absl::UnavailableError(absl::StrCat("store: cannot open a reader on ", path));
    }
    sqlite3_busy_timeout(store->read_db_, 5000);
  }
  store->committed_size_.store(store->appender_.size());
  store->path_ = path;
  store->StartCheckpointer();
  store->committer_ = std::make_unique<GroupCommitter>(
      [s = store.get()](const std::vector<Work>& jobs, std::vector<absl::Status>& results,
                        CommitInfo& info) { return s->RunBatch(jobs, results, info); });
  return store;
}

absl::Status SqliteStore::MigrateLocked(const std::string& path) {
  int64_t version = 0;
  {
    Statement v(db_, "PRAGMA user_version");
    version = v.Step() == SQLITE_ROW ? v.Int(0) : 0;
  }
  const int latest = kSqliteMigrations[kSqliteMigrationCount - 1].version;
  if (version > latest) {
    return absl::FailedPreconditionError(
        absl::StrCat("store: ", path, " has schema version ", version,
                     ", newer than this gateway understands (", latest, ")"));
  }
  if (version == latest) return absl::OkStatus();
  // One transaction: a crash leaves the old version intact.
  auto migrated = InTransaction(db_, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS -> absl::StatusOr<bool> {
    for (size_t i = 0; i < kSqliteMigrationCount; ++i) {
      const EmbeddedMigration& m = kSqliteMigrations[i];
      // 0001 also runs on a version-1 file: it adds the tables version 1
      // lacked (IF NOT EXISTS).
      if (m.version <= version && !(m.version == 1 && version < 2)) continue;
      if (auto st = Exec(m.sql); !st.ok()) return st;
    }
    if (auto st = Exec(absl::StrCat("PRAGMA user_version=", latest).c_str()); !st.ok()) return st;
    return true;
  });
  return migrated.status();
}

void SqliteStore::SetSyncObserver(SyncObserver observer) {
  sqlite_db::SetSyncObserver(std::move(observer));
  observing_ = true;
}

SqliteStore::~SqliteStore() {
  // Whoever observes may be gone once this store is (the gateway's metrics).
  if (observing_) sqlite_db::SetSyncObserver(nullptr);
  committer_.reset();  // commits what is queued and runs every callback: they may read the store
  StopCheckpointer();
  {
    absl::MutexLock read_lock(&read_mu_);
    for (auto& [sql, stmt] : read_statements_) sqlite3_finalize(stmt);
    sqlite3_close_v2(read_db_);
  }
  absl::MutexLock lock(&mu_);
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::Status SqliteStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  sqlite3_free(err);
  return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, rc, "statement");
}

}  // namespace safeshare::gateway
