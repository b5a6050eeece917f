// The embedded store's group commit: every queued job in one transaction,
// each in a savepoint of its own, then one signed checkpoint and one fsync.

#include <sqlite3.h>

#include <utility>

#include "absl/time/clock.h"
#include "common/log.h"
#include "gateway/store/mailbox_transaction.h"
#include "gateway/store/sqlite/connection.h"
#include "gateway/store/sqlite/sqlite_store.h"

namespace safeshare::gateway {

using sqlite_db::SqliteError;

void SqliteStore::Commit(Work work, Done done) {
  committer_->Commit(std::move(work), std::move(done));
}

absl::Status SqliteStore::RunBatch(const std::vector<Work>& jobs,
                                   std::vector<absl::Status>& results, CommitInfo& info) {
  absl::MutexLock lock(&mu_);
  const transparency::Frontier before_batch = appender_.frontier();
  batch_subtrees_.clear();
  if (int rc = StepCachedLocked("BEGIN IMMEDIATE"); rc != SQLITE_OK) {
    return SqliteError(db_, rc, "begin transaction");
  }
  scrub_wal_ = false;
  absl::Status status = RunJobsLocked(jobs, results);
  if (status.ok()) {
    status = SealAndCommitLocked(before_batch.size(), info);
  } else {
    appender_.Describe(info);
  }
  if (!status.ok()) {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    appender_.Reset(before_batch);
    return status;
  }
  if (scrub_wal_) ScrubWalLocked();
  recent_.Add(batch_subtrees_);  // before proofs may ask for them
  committed_size_.store(appender_.size());
  if (info.checkpoint_note.empty() && info.tree_size > 0) {
    auto latest = LatestCheckpointLocked();
    if (latest.ok()) info.checkpoint_note = latest->checkpoint_note;
  }
  return status;
}

absl::Status SqliteStore::RunJobsLocked(const std::vector<Work>& jobs,
                                        std::vector<absl::Status>& results) {
  auto rows = MessageRowsLocked();
  auto audit = AuditRowsLocked();
  auto keys = KeyRowsLocked();
  MailboxTransaction tx(rows.get(), keys.get(), &appender_, audit.get(), &batch_subtrees_);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const transparency::Frontier before_job = appender_.frontier();
    const size_t subtrees_before_job = batch_subtrees_.size();
    if (int src = StepCachedLocked("SAVEPOINT job"); src != SQLITE_OK) {
      return SqliteError(db_, src, "savepoint");
    }
    tx.StartJob();
    results[i] = jobs[i](tx);
    if (sqlite3_get_autocommit(db_)) {
      // SQLite rolled the whole transaction back (disk full, I/O error):
      // nothing of this batch is written, and no later job may run outside a
      // transaction.
      return results[i].ok() ? absl::UnavailableError("store: the transaction was rolled back")
                             : results[i];
    }
    int src;
    if (results[i].ok()) {
      src = StepCachedLocked("RELEASE job");
    } else {
      // This job alone is undone; the rest of the batch goes ahead.
      src = StepCachedLocked("ROLLBACK TO job");
      if (src == SQLITE_OK) src = StepCachedLocked("RELEASE job");
      appender_.Reset(before_job);
      batch_subtrees_.resize(subtrees_before_job);
    }
    if (src != SQLITE_OK) {
      // Cannot tell what of this job is written: give up the whole batch.
      return SqliteError(db_, src, "savepoint");
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::SealAndCommitLocked(uint64_t before_size, CommitInfo& info) {
  auto sealed = appender_.Seal(before_size, info);
  if (!sealed.ok()) return sealed.status();
  if (*sealed) {
    if (auto st = StoreCheckpointLocked(info); !st.ok()) return st;
  }
  int rc = StepCachedLocked("COMMIT");
  return rc == SQLITE_OK ? absl::OkStatus() : SqliteError(db_, rc, "commit");
}

sqlite3_stmt* SqliteStore::CachedLocked(const std::string& sql) {
  return sqlite_db::Prepared(db_, statements_, sql);
}

int SqliteStore::StepCachedLocked(const char* sql) {
  sqlite3_stmt* stmt = CachedLocked(sql);
  if (stmt == nullptr) return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

void SqliteStore::ScrubWalLocked() {
  scrub_wal_ = false;
  // TRUNCATE waits (busy timeout) for readers of older frames, copies every
  // frame into the database and truncates the -wal file to zero bytes. A
  // reader holding an old snapshot can make it return early: try again a few
  // times, then leave it to the checkpointer (the text is already gone from
  // the tables; only the WAL's old page images remain until then).
  for (int attempt = 0; attempt < 5; ++attempt) {
    int log_frames = -1, checkpointed = -1;
    int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                       &checkpointed);
    if (rc == SQLITE_OK && log_frames == 0) return;
    absl::SleepFor(absl::Milliseconds(20));
  }
  LogEvent(
      "warning", "store.wal_scrub_deferred",
      {{"detail", "the WAL could not be truncated after a text change; the checkpointer will"}});
}

}  // namespace safeshare::gateway
