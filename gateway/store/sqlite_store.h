#ifndef SAFESHARE_GATEWAY_STORE_SQLITE_STORE_H_
#define SAFESHARE_GATEWAY_STORE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gateway/store/store.h"

struct sqlite3;

namespace safeshare::gateway {

// The embedded store: one SQLite file in WAL mode with synchronous=FULL, so a
// commit is on disk before the call returns. One connection, serialized.
class SqliteStore final : public Store {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore() override;

  absl::StatusOr<InsertResult> InsertMessage(const StoredMessage& m) override;
  absl::StatusOr<std::vector<StoredMessage>> FetchForRecipient(const std::string& recipient,
                                                               uint64_t after_sequence,
                                                               int limit,
                                                               absl::Time now) override;
  absl::StatusOr<StoredMessage> Acknowledge(const std::string& recipient,
                                            const std::string& message_id,
                                            absl::Time now) override;
  absl::StatusOr<StoredMessage> GetMessage(const std::string& message_id) override;
  absl::StatusOr<StoredMessage> RefuseContent(const std::string& recipient,
                                              const std::string& message_id,
                                              safeshare::v1::ContentRefusalReason reason,
                                              const std::string& detail, absl::Time now) override;
  absl::StatusOr<std::vector<AgencyKey>> ListKeys() override;
  absl::Status SeedKey(const AgencyKey& key, absl::Time now) override;
  absl::StatusOr<safeshare::v1::PublicKey> PublishKey(const AgencyKey& key,
                                                      absl::Time now) override;
  absl::StatusOr<safeshare::v1::PublicKey> RevokeKey(const std::string& agency_id,
                                                     const std::string& key_id,
                                                     absl::Time now) override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::optional<StoredMessage>> LoadLocked(const std::string& message_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::optional<AgencyKey>> LoadKeyLocked(const std::string& key_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertKeyLocked(const AgencyKey& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status DemoteCurrentLocked(const std::string& agency_id,
                                   safeshare::v1::KeyPurpose purpose)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<StoredMessage> RecipientMessageLocked(const std::string& recipient,
                                                       const std::string& message_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AddEventLocked(const std::string& message_id,
                              safeshare::v1::MessageState state, absl::Time t)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_SQLITE_STORE_H_
