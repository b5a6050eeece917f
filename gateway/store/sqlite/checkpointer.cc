// The WAL checkpointer: folds the write-ahead log back into the database on a
// thread and connection of its own, never inside a commit.

#include <pthread.h>
#include <sqlite3.h>

#include "common/log.h"
#include "gateway/store/sqlite/sqlite_store.h"
#include "gateway/store/sqlite/timed_vfs.h"

namespace safeshare::gateway {
namespace {

// WAL size (pages) at which the checkpointer runs, and restarts the WAL.
constexpr int kCheckpointPages = 1000;

}  // namespace

void SqliteStore::StartCheckpointer() {
  // Checkpoints leave the commit path: the writer only signals when the WAL
  // has grown (SQLite's own auto-checkpoint would run inside a COMMIT).
  sqlite3_wal_hook(
      db_,
      +[](void* arg, sqlite3*, const char*, int pages) -> int {
        auto* s = static_cast<SqliteStore*>(arg);
        if (pages >= kCheckpointPages) {
          absl::MutexLock lock(&s->checkpoint_mu_);
          s->checkpoint_wanted_ = true;
        }
        return SQLITE_OK;
      },
      this);
  checkpointer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "wal-checkpoint");
    CheckpointerLoop();
  });
}

void SqliteStore::StopCheckpointer() {
  {
    absl::MutexLock lock(&checkpoint_mu_);
    checkpoint_stop_ = true;
  }
  if (checkpointer_.joinable()) checkpointer_.join();
}

void SqliteStore::CheckpointerLoop() {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX,
                      sqlite_db::TimedVfs()) != SQLITE_OK) {
    LogEvent("error", "store.checkpointer_failed", {{"detail", "cannot open the database"}});
    sqlite3_close_v2(db);
    return;
  }
  sqlite3_busy_timeout(db, 20);  // only a RESTART waits, and it holds the writer
  (void)sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  for (;;) {
    {
      absl::MutexLock lock(&checkpoint_mu_);
      // Also every few seconds, so a quiet gateway's WAL is folded back too.
      checkpoint_mu_.AwaitWithTimeout(absl::Condition(
                                          +[](SqliteStore* s) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                            return s->checkpoint_wanted_ || s->checkpoint_stop_;
                                          },
                                          this),
                                      absl::Seconds(5));
      if (checkpoint_stop_) break;
      checkpoint_wanted_ = false;
    }
    // PASSIVE: copies what no reader still needs, never blocks the writer.
    int log = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
    if (rc == SQLITE_OK && log >= kCheckpointPages) {
      // Under steady commits a PASSIVE checkpoint never catches up with the
      // writer, so the WAL is never restarted: it grows without bound and every
      // read searches more of it. Pause the writer for the frames still left and
      // restart the WAL; a reader that holds on past the short timeout makes
      // this round give up, and the next one tries again.
      absl::MutexLock writer(&mu_);
      rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_RESTART, &log, &copied);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
      LogEvent("warn", "store.checkpoint_failed", {{"detail", sqlite3_errmsg(db)}});
    }
  }
  sqlite3_close_v2(db);
}

}  // namespace safeshare::gateway
