#ifndef SAFESHARE_GATEWAY_STORE_POSTGRES_POSTGRES_STORE_H_
#define SAFESHARE_GATEWAY_STORE_POSTGRES_POSTGRES_STORE_H_

// The scale-out back-end. Its files, one concern each: open.cc (connecting
// and migrations), batch.cc (the group commit), listener.cc (other replicas'
// changes), messages.cc, keys.cc and audit_log.cc; connection.h wraps libpq.

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gateway/store/audit_appender.h"
#include "gateway/store/group_committer.h"
#include "gateway/store/mailbox_transaction.h"
#include "gateway/store/postgres/connection.h"
#include "gateway/store/store.h"

namespace safeshare::gateway {

// The scale-out store: one PostgreSQL database shared by any number of
// gateway replicas. Each replica group-commits like the embedded store (one
// committer thread, one transaction and one signed checkpoint per batch), and
// every batch holds a transaction-scoped advisory lock, so the replicas'
// batches are serialized: the audit log stays one linear Merkle log (sequence
// numbers assigned inside the transaction, no gaps, no forks) and mailbox
// sequences commit in order. Mail and key changes are announced with
// NOTIFY; every replica LISTENs and wakes its own subscribers.
class PostgresStore final : public Store {
 public:
  // Connects (libpq `conninfo`, a postgresql:// URI) and applies the schema
  // migrations in gateway/store/postgres/migrations that the database lacks.
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const std::string& conninfo);
  // Finishes queued work, then disconnects.
  ~PostgresStore() override;

  void Commit(Work work, Done done) override;
  void SetCommitQueueLimit(size_t max_jobs) override { committer_->SetMaxQueue(max_jobs); }
  void SetCommitObserver(CommitObserver observer) override {
    committer_->SetObserver(std::move(observer));
  }
  size_t QueuedCommits() override { return committer_->queued(); }
  void SetEventListener(StoreEvents events) override;

  using MailboxStore::GetMessage;
  absl::StatusOr<StoredMessage> GetMessage(const std::string& message_id,
                                           MessageRead read) override;
  absl::StatusOr<std::vector<StoredMessage>> ListThread(const std::string& root_id, uint64_t after,
                                                        int limit) override;
  absl::StatusOr<std::vector<StoredMessage>> ListHeld(const std::vector<std::string>& senders,
                                                      uint64_t after_sequence, int limit) override;
  absl::StatusOr<std::vector<MailboxSummary>> Mailboxes(absl::Time now) override;
  absl::StatusOr<uint64_t> SizeBytes() override;
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

 private:
  class Subtrees;
  class Prefetched;
  class Keys;
  class Messages;
  class AuditRows;
  using PgSession = pg::PgSession;

  PostgresStore() = default;
  // The group committer's batch: every job in one transaction.
  absl::Status RunBatch(const std::vector<Work>& jobs, std::vector<absl::Status>& results,
                        CommitInfo& info);
  // Runs the jobs in savepoints; the batch's first error, if it must stop.
  absl::Status RunJobsLocked(const std::vector<Work>& jobs, std::vector<absl::Status>& results)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Signs and stores the batch's checkpoint, then commits.
  absl::Status SealAndCommitLocked(uint64_t before_size, CommitInfo& info)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ListenerLoop();
  absl::Status BeginBatchLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The log as other replicas left it: reloads the frontier if it grew.
  absl::Status SyncLogLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The SQL a batch's MailboxTransaction runs (messages.cc, audit_log.cc).
  std::unique_ptr<MessageRows> MessageRowsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<AuditRowWriter> AuditRowsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::unique_ptr<KeyRows> KeyRowsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status StoreCheckpointLocked(const CommitInfo& info) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Reads on the read connection.
  absl::StatusOr<std::vector<StoredMessage>> ReadMessages(const std::string& sql,
                                                          const std::vector<std::string>& params,
                                                          bool with_history);
  absl::StatusOr<uint64_t> ReadTreeSize() ABSL_EXCLUSIVE_LOCKS_REQUIRED(read_mu_);

  std::string conninfo_;

  absl::Mutex mu_;  // the write connection and the tree state
  PgSession write_ ABSL_GUARDED_BY(mu_);
  AuditAppender appender_ ABSL_GUARDED_BY(mu_);

  absl::Mutex read_mu_;
  PgSession read_ ABSL_GUARDED_BY(read_mu_);

  absl::Mutex events_mu_;
  StoreEvents events_ ABSL_GUARDED_BY(events_mu_);
  absl::Notification stop_listening_;
  std::thread listener_;

  // Last, so it is built after what batches use; destroyed explicitly first.
  std::unique_ptr<GroupCommitter> committer_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_POSTGRES_POSTGRES_STORE_H_
