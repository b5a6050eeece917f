#ifndef SAFESHARE_AGENTS_CONNECTOR_CONNECTOR_STORE_H_
#define SAFESHARE_AGENTS_CONNECTOR_CONNECTOR_STORE_H_

// The connector's own state, in one SQLite database under its data
// directory (0700, the file 0600): the opened inbox, the gateway's
// escalation notices, and the outbox of what this agency sent (with the
// sealed envelope, so a queued send is retried byte for byte under the same
// message id).

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "safeshare/v1/connector.pb.h"
#include "safeshare/v1/envelope.pb.h"

namespace safeshare::connector {

// One outbox row: what the API shows, and what a retry needs.
struct OutboxEntry {
  safeshare::v1::SentMessage sent;
  safeshare::v1::Draft draft;
  safeshare::v1::Practitioner practitioner;
  // Empty until sealed; once set, every retry submits exactly these bytes.
  std::string sealed_envelope;  // serialized SignedEnvelope
};

class ConnectorStore {
 public:
  // Opens (creating) `data_dir`/connector.db.
  static absl::StatusOr<std::unique_ptr<ConnectorStore>> Open(const std::string& data_dir);
  ~ConnectorStore();

  // Inbox. Put keeps the first copy of a message id (a redelivery changes
  // nothing) and says whether it was new.
  absl::StatusOr<bool> PutInbox(const safeshare::v1::InboxMessage& m);
  bool HasInbox(const std::string& message_id);
  absl::StatusOr<safeshare::v1::InboxMessage> GetInbox(const std::string& message_id);
  // Newest first, without content; `offset` from the previous page.
  absl::StatusOr<safeshare::v1::InboxPage> ListInbox(int offset, int limit);
  absl::Status MarkAcknowledged(const std::string& message_id, const std::string& user_id,
                                absl::Time at);
  // Clears the content of every message whose purge time has passed.
  absl::StatusOr<int> PurgeExpired(absl::Time now);

  absl::Status PutEscalation(const safeshare::v1::EscalationNotice& notice);
  absl::StatusOr<safeshare::v1::EscalationPage> ListEscalations();

  // Outbox. Insert refuses a message id already used (ALREADY_EXISTS).
  absl::Status InsertOutbox(const OutboxEntry& e);
  absl::Status UpdateOutbox(const OutboxEntry& e);
  absl::StatusOr<OutboxEntry> GetOutbox(const std::string& message_id);
  absl::StatusOr<safeshare::v1::SentPage> ListSent(int offset, int limit);
  // The ids of entries still QUEUED, oldest first.
  absl::StatusOr<std::vector<std::string>> Queued();

 private:
  explicit ConnectorStore(sqlite3* db) : db_(db) {}
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace safeshare::connector

#endif  // SAFESHARE_AGENTS_CONNECTOR_CONNECTOR_STORE_H_
