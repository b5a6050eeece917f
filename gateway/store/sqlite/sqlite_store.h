#ifndef SAFESHARE_GATEWAY_STORE_SQLITE_SQLITE_STORE_H_
#define SAFESHARE_GATEWAY_STORE_SQLITE_SQLITE_STORE_H_

// The embedded back-end. Its files, one concern each: open.cc (opening and
// migrations), batch.cc (the group commit), checkpointer.cc (the WAL),
// messages.cc, keys.cc, audit_log.cc and witnessing.cc; connection.h wraps
// SQLite.

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gateway/store/audit_appender.h"
#include "gateway/store/group_committer.h"
#include "gateway/store/mailbox_transaction.h"
#include "gateway/store/recent_subtrees.h"
#include "gateway/store/sqlite/backup.h"
#include "gateway/store/store.h"
#include "transparency/merkle.h"

struct sqlite3;
struct sqlite3_stmt;

namespace safeshare::gateway {

// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a
// commit is on disk before anyone is told. Writes go through one committer
// thread that runs every queued job in a single transaction (group commit):
// one fsync and one signed checkpoint per batch, however many Submits.
class SqliteStore final : public Store {
 public:
  // `max_pages` > 0 caps the database size (PRAGMA max_page_count).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                           int64_t max_pages = 0);
  // Finishes queued work, then closes the database.
  ~SqliteStore() override;

  void Commit(Work work, Done done) override;
  void SetCommitQueueLimit(size_t max_jobs) override { committer_->SetMaxQueue(max_jobs); }
  void SetCommitObserver(CommitObserver observer) override {
    committer_->SetObserver(std::move(observer));
  }
  size_t QueuedCommits() override { return committer_->queued(); }

  using MailboxStore::GetMessage;
  absl::StatusOr<StoredMessage> GetMessage(const std::string& message_id,
                                           MessageRead read) override;
  absl::StatusOr<std::vector<StoredMessage>> ListThread(const std::string& root_id, uint64_t after,
                                                        int limit) override;
  absl::StatusOr<std::vector<StoredMessage>> ListHeld(const std::vector<std::string>& senders,
                                                      uint64_t after_sequence, int limit) override;
  absl::StatusOr<std::vector<MailboxSummary>> Mailboxes(absl::Time now) override;
  absl::StatusOr<uint64_t> SizeBytes() override;
  void SetSyncObserver(SyncObserver observer) override;
  absl::StatusOr<std::vector<StoredMessage>> PendingForRecipient(const std::string& recipient,
                                                                 uint64_t after_sequence,
                                                                 int limit) override;
  absl::StatusOr<std::vector<AgencyKey>> ListKeys() override;
  absl::StatusOr<std::vector<KeyEventRow>> ListKeyEvents() override;

  void SetCheckpointSigner(CheckpointSigner signer) override;
  absl::StatusOr<CommitInfo> LatestCheckpoint() override;
  absl::StatusOr<std::vector<std::string>> Checkpoints() override;
  absl::StatusOr<std::vector<std::string>> InclusionProof(uint64_t leaf_index,
                                                          uint64_t tree_size) override;
  absl::StatusOr<std::vector<std::string>> ConsistencyProof(uint64_t first_size,
                                                            uint64_t second_size) override;
  absl::StatusOr<AuditLeaf> GetAuditLeaf(uint64_t leaf_index) override;
  absl::StatusOr<std::vector<std::string>> CompleteSubtrees(uint64_t level, uint64_t first,
                                                            uint64_t count) override;
  absl::Status ScanAudit(const AuditFilter& filter, uint64_t start, size_t limit,
                         const std::function<bool(const AuditLeaf&)>& visit) override;
  absl::StatusOr<std::vector<AuditText>> ReadAuditTexts(
      const std::vector<uint64_t>& leaves) override;

  absl::Status StoreCosignedCheckpoint(uint64_t tree_size, const std::string& note,
                                       int cosignatures) override;
  absl::StatusOr<std::optional<CommitInfo>> LatestCosignedCheckpoint() override;
  absl::StatusOr<WitnessedLog> GetWitnessedLog(const std::string& origin) override;
  absl::Status UpdateWitnessedLog(const std::string& origin, const WitnessedLog& before,
                                  const WitnessedLog& after) override;

  // Where the held list and the escalator's purge read (after "SELECT
  // columns "): each must plan on its partial index, messages_held and
  // messages_by_purge, or it reads the whole table.
  static const char kFindHeld[];
  static const char kFindExpired[];

 private:
  class Subtrees;
  class Keys;
  class Messages;
  class AuditRows;
  using StatementCache = std::map<std::string, sqlite3_stmt*>;
  using NodeCache = std::map<std::pair<uint64_t, uint64_t>, std::string>;

  SqliteStore(sqlite3* db, StoreFileLock lock) : db_(db), lock_(std::move(lock)) {}
  // Applies the migrations the file lacks, in one transaction.
  absl::Status MigrateLocked(const std::string& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Checks the stored log has no gaps and loads its frontier.
  absl::Status LoadLogLocked(const std::string& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts the checkpointer thread and the WAL hook that wakes it.
  void StartCheckpointer() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StopCheckpointer();
  // The group committer's batch: every job in one transaction.
  absl::Status RunBatch(const std::vector<Work>& jobs, std::vector<absl::Status>& results,
                        CommitInfo& info);
  // Runs the jobs in savepoints; the batch's first error, if it must stop.
  absl::Status RunJobsLocked(const std::vector<Work>& jobs, std::vector<absl::Status>& results)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Signs and stores the batch's checkpoint, then commits.
  absl::Status SealAndCommitLocked(uint64_t before_size, CommitInfo& info)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Steps a cached statement without results (BEGIN, SAVEPOINT, COMMIT...):
  // SQLITE_OK or the error code.
  int StepCachedLocked(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The WAL is checkpointed here, on a connection of its own, when it grows,
  // never inside a commit.
  void CheckpointerLoop();
  // A prepared statement kept for the connection's life (re-preparing was
  // half the cost of a tree read); null if it does not prepare.
  sqlite3_stmt* CachedLocked(const std::string& sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Up to `limit` messages after sequence `after` matching `where` (its
  // parameter ?1 bound to `id`) on the read connection, with their histories.
  absl::StatusOr<std::vector<StoredMessage>> ReadMessagesWithHistory(const char* where,
                                                                     const std::string& id,
                                                                     MessageRead read,
                                                                     uint64_t after, int limit);

  // The SQL a batch's MailboxTransaction runs (messages.cc, audit_log.cc).
  std::unique_ptr<MessageRows> MessageRowsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<AuditRowWriter> AuditRowsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<KeyRows> KeyRowsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StoreCheckpointLocked(const CommitInfo& info) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<CommitInfo> LatestCheckpointLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;  // the connection and the tree state
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
  AuditAppender appender_ ABSL_GUARDED_BY(mu_);
  StatementCache statements_ ABSL_GUARDED_BY(mu_);
  // Upper tree levels (each node covers >= 256 records), which every proof
  // reads: about 300 KiB per million records, capped at 100,000 nodes. The
  // levels below are recent_'s.
  static constexpr uint64_t kCachedLevel = 8;
  NodeCache node_cache_ ABSL_GUARDED_BY(mu_);
  // The batch's new subtrees, handed to recent_ once it commits.
  std::vector<transparency::Subtree> batch_subtrees_ ABSL_GUARDED_BY(mu_);
  // The batch changed audit text: once it commits, the WAL is checkpointed
  // and truncated, so the old page images (the erased text) leave the -wal
  // file as secure_delete has them leave the database.
  bool scrub_wal_ ABSL_GUARDED_BY(mu_) = false;
  // Checkpoints and truncates the WAL on the write connection.
  void ScrubWalLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  RecentSubtrees recent_{/*leaves=*/8192, /*levels=*/kCachedLevel};

  // A second, read-only connection: WAL lets it read committed data while the
  // committer holds the write connection through a batch and its fsync.
  absl::Mutex read_mu_;
  sqlite3* read_db_ ABSL_GUARDED_BY(read_mu_) = nullptr;
  StatementCache read_statements_ ABSL_GUARDED_BY(read_mu_);
  NodeCache read_node_cache_ ABSL_GUARDED_BY(read_mu_);
  // The audit log's size as last committed: what proofs may be asked about.
  std::atomic<uint64_t> committed_size_{0};
  // OUT_OF_RANGE unless `tree_size` is within the committed log.
  absl::Status CheckCommittedLocked(uint64_t tree_size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);

  std::string path_;
  StoreFileLock lock_;
  bool observing_ = false;  // set the process's fsync observer  // released once the destructor has
                            // closed the connections
  absl::Mutex checkpoint_mu_;
  bool checkpoint_wanted_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  bool checkpoint_stop_ ABSL_GUARDED_BY(checkpoint_mu_) = false;
  std::thread checkpointer_;

  // Last, so it is built after what batches use; destroyed explicitly first.
  std::unique_ptr<GroupCommitter> committer_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_SQLITE_SQLITE_STORE_H_
