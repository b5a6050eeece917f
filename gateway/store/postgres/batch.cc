// The PostgreSQL store's group commit: every queued job in one transaction
// under the replicas' shared write lock, each in a savepoint of its own, then
// one signed checkpoint. The lock serialises the replicas' batches, so it is
// held for as few round trips as possible: writes are pipelined (pg::Queue)
// and a job costs one round trip per read it makes, plus one to learn whether
// its writes held.

#include <utility>

#include "gateway/store/mailbox_transaction.h"
#include "gateway/store/postgres/postgres_store.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using pg::Bytes;
using pg::Flush;
using pg::P;
using pg::Queue;
using pg::Run;
using pg::Script;

void PostgresStore::Commit(Work work, Done done) {
  committer_->Commit(std::move(work), std::move(done));
}

// BEGIN, the write lock, then the log as other replicas left it.
absl::Status PostgresStore::BeginBatchLocked() {
  if (auto st = pg::Ready(write_); !st.ok()) return st;
  if (auto st = Queue(write_, "BEGIN", {}, "begin transaction"); !st.ok()) return st;
  if (auto r = Run(write_, "SELECT pg_advisory_xact_lock($1)", {P(pg::kWriteLock)}, "lock the log");
      !r.ok()) {
    return r.status();
  }
  return SyncLogLocked();
}

absl::Status PostgresStore::RunBatch(const std::vector<Work>& jobs,
                                     std::vector<absl::Status>& results, CommitInfo& info) {
  absl::MutexLock lock(&mu_);
  absl::Status status = BeginBatchLocked();
  const transparency::Frontier before_batch = appender_.frontier();
  if (status.ok()) {
    status = RunJobsLocked(jobs, results);
    if (status.ok()) {
      status = SealAndCommitLocked(before_batch.size(), info);
    } else {
      appender_.Describe(info);
    }
  }
  if (!status.ok()) {
    (void)Flush(write_);
    if (PQstatus(write_.conn) == CONNECTION_OK) (void)Script(write_.conn, "ROLLBACK", "roll back");
    appender_.Reset(before_batch);
  } else if (info.checkpoint_note.empty() && info.tree_size > 0) {
    auto latest = Run(write_, "SELECT note FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1",
                      {}, "read checkpoint");
    if (latest.ok() && latest->rows() > 0) info.checkpoint_note = latest->row(0).Text(0);
  }
  return status;
}

absl::Status PostgresStore::RunJobsLocked(const std::vector<Work>& jobs,
                                          std::vector<absl::Status>& results) {
  auto rows = MessageRowsLocked();
  auto audit = AuditRowsLocked();
  auto keys = KeyRowsLocked();
  MailboxTransaction tx(rows.get(), keys.get(), &appender_, audit.get());
  for (size_t i = 0; i < jobs.size(); ++i) {
    const transparency::Frontier before_job = appender_.frontier();
    if (auto st = Queue(write_, "SAVEPOINT job", {}, "savepoint"); !st.ok()) return st;
    tx.StartJob();
    results[i] = jobs[i](tx);
    // A queued write that failed fails its job (the job's results are read
    // only once it succeeded).
    if (results[i].ok()) {
      results[i] = Queue(write_, "RELEASE SAVEPOINT job", {}, "savepoint");
      if (results[i].ok()) results[i] = Flush(write_);
    }
    if (!results[i].ok()) {
      (void)Flush(write_);  // what is left of the job's writes no longer matters
      absl::Status undone =
          Script(write_.conn, "ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job", "savepoint");
      appender_.Reset(before_job);  // this job alone is undone
      // Cannot tell what of this job is written: give up the whole batch.
      if (!undone.ok()) return undone;
    }
  }
  return absl::OkStatus();
}

absl::Status PostgresStore::SealAndCommitLocked(uint64_t before_size, CommitInfo& info) {
  auto sealed = appender_.Seal(before_size, info);
  if (!sealed.ok()) return sealed.status();
  if (*sealed) {
    if (auto st = StoreCheckpointLocked(info); !st.ok()) return st;
  }
  if (auto st = Queue(write_, "COMMIT", {}, "commit"); !st.ok()) return st;
  return Flush(write_);
}

}  // namespace safeshare::gateway
