#ifndef SAFESHARE_GATEWAY_STORE_MAILBOX_TRANSACTION_H_
#define SAFESHARE_GATEWAY_STORE_MAILBOX_TRANSACTION_H_

// The StoreTransaction every back-end's batch hands its jobs, written once:
// the mailbox's state changes (message_rules.h says who may make them) over a
// back-end's MessageRows, and audit appends through the shared AuditAppender.
// A back-end supplies only the SQL: its MessageRows and AuditRowWriter.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/store/audit_appender.h"
#include "gateway/store/key_rules.h"
#include "gateway/store/store.h"
#include "transparency/merkle.h"

namespace safeshare::gateway {

// The messages and message_events rows, inside the batch's transaction. Each
// update names its message by sequence.
class MessageRows {
 public:
  virtual ~MessageRows() = default;
  virtual absl::StatusOr<std::optional<StoredMessage>> Load(const std::string& message_id,
                                                            MessageRead read) = 0;
  // The message at `sequence` if `recipient` receives it (metadata only; so
  // are FindOverdue and FindExpired).
  virtual absl::StatusOr<std::optional<StoredMessage>> LoadForRecipient(
      uint64_t sequence, const std::string& recipient) = 0;
  // Stores a new message with its open deadline, if any. Its sequence is not
  // read back: no caller needs it, and on PostgreSQL that would cost a round
  // trip under the replicas' write lock.
  virtual absl::Status Insert(const StoredMessage& m, std::optional<absl::Time> open_deadline) = 0;
  // Bytes of sealed content not yet acknowledged in `recipient`'s mailbox
  // (kept by the store's triggers).
  virtual absl::StatusOr<uint64_t> MailboxBytes(const std::string& recipient) = 0;
  struct MailboxRoom {
    uint64_t held_bytes = 0;
    std::optional<StoredMessage> stored;  // MessageRead::kDecision
  };
  // MailboxBytes and Load(message_id, kDecision), the two reads of a Submit;
  // PostgreSQL makes them one round trip under the replicas' write lock.
  virtual absl::StatusOr<MailboxRoom> Room(const std::string& recipient,
                                           const std::string& message_id) {
    auto held = MailboxBytes(recipient);
    if (!held.ok()) return held.status();
    auto stored = Load(message_id, MessageRead::kDecision);
    if (!stored.ok()) return stored.status();
    return MailboxRoom{*held, *std::move(stored)};
  }
  // Messages replying to `root_id`, not counting `except_id`.
  virtual absl::StatusOr<uint64_t> CountReplies(const std::string& root_id,
                                                const std::string& except_id) = 0;
  // One line of a message's state history.
  virtual absl::Status AddEvent(const std::string& message_id, safeshare::v1::MessageState state,
                                absl::Time t) = 0;
  // Wakes `recipient`'s subscribers on every replica once the batch commits;
  // a store with one process has nothing to do.
  virtual absl::Status NotifyMail(const std::string& recipient) = 0;

  // Answered (and so acknowledged) at `now` unless already; deadline closed.
  virtual absl::Status SetAnswered(uint64_t sequence, safeshare::v1::MessageState state,
                                   absl::Time now) = 0;
  // ACKNOWLEDGED; the deadline closes, except a request's (open until answered).
  virtual absl::Status SetAcknowledged(uint64_t sequence, absl::Time now) = 0;
  virtual absl::Status SetContentRefused(uint64_t sequence,
                                         safeshare::v1::ContentRefusalReason reason,
                                         const std::string& detail, absl::Time now) = 0;
  // A held message approved: SUBMITTED, with `deadline` as its open deadline,
  // and a new sequence after every message stored so far (returned): it
  // arrives in the mailbox now, so subscribers past its old one still see it.
  virtual absl::StatusOr<uint64_t> SetApproved(uint64_t sequence, absl::Time deadline) = 0;
  // A held message refused: REFUSED, its sealed content dropped.
  virtual absl::Status SetRefused(uint64_t sequence) = 0;
  // First handed over at `now`; a SUBMITTED message becomes DELIVERED.
  virtual absl::Status SetFirstDelivered(uint64_t sequence, absl::Time now) = 0;
  virtual absl::Status SetEscalated(uint64_t sequence, safeshare::v1::MessageState state,
                                    absl::Time now) = 0;
  // EXPIRED, its sealed content dropped.
  virtual absl::Status SetPurged(uint64_t sequence) = 0;
  virtual absl::Status SetReceipt(uint64_t sequence, const std::string& receipt) = 0;
  // The message's stored copies of committed text, after an erasure or
  // rectification: its serialized declaration and its refusal detail.
  virtual absl::Status SetTextCopies(uint64_t sequence, const std::string& declaration,
                                     const std::string& refusal_detail) = 0;

  // Up to `limit` messages whose open deadline passed before `now`, earliest
  // first.
  virtual absl::StatusOr<std::vector<StoredMessage>> FindOverdue(absl::Time now, int limit) = 0;
  // Up to `limit` settled messages whose retention ran out before `now`,
  // earliest first, content not yet purged.
  virtual absl::StatusOr<std::vector<StoredMessage>> FindExpired(absl::Time now, int limit) = 0;
};

class MailboxTransaction final : public StoreTransaction {
 public:
  // `completed`, if given, gains every subtree the batch's appends complete.
  MailboxTransaction(MessageRows* rows, KeyRows* keys, AuditAppender* appender,
                     AuditRowWriter* audit, std::vector<transparency::Subtree>* completed = nullptr)
      : rows_(rows), keys_(keys), appender_(appender), audit_(audit), completed_(completed) {}

  // Forgets what the last job read; the batch calls it before each job.
  void StartJob() { checked_.reset(); }

  absl::StatusOr<InsertResult> InsertMessage(const StoredMessage& m) override;
  absl::Status CheckReplyQuota(const StoredMessage& reply, uint32_t max_replies) override;
  absl::Status CheckMailboxQuota(const StoredMessage& m, uint64_t quota) override;
  absl::StatusOr<StoredMessage> Acknowledge(const std::string& recipient,
                                            const std::string& message_id, absl::Time now) override;
  absl::StatusOr<StoredMessage> RefuseContent(const std::string& recipient,
                                              const std::string& message_id,
                                              safeshare::v1::ContentRefusalReason reason,
                                              const std::string& detail, absl::Time now) override;
  absl::StatusOr<std::vector<StoredMessage>> MarkDelivered(const std::string& recipient,
                                                           const std::vector<uint64_t>& sequences,
                                                           absl::Time now) override;
  absl::StatusOr<StoredMessage> ResolveHeld(
      const std::string& message_id, const std::vector<std::string>& senders, bool approve,
      const std::function<absl::Time(const StoredMessage&)>& deadline_for, absl::Time now) override;
  absl::StatusOr<std::vector<StoredMessage>> EscalateOverdue(absl::Time now, int limit) override;
  absl::StatusOr<std::vector<StoredMessage>> PurgeExpired(absl::Time now, int limit) override;
  absl::Status ReplaceReceipt(const std::string& recipient, const std::string& message_id,
                              const std::string& receipt) override;
  absl::StatusOr<uint64_t> AppendAudit(safeshare::v1::AuditRecord record,
                                       std::string* hashed_bytes) override;
  absl::StatusOr<SeedResult> SeedKey(const AgencyKey& key, absl::Time now) override {
    return key_rules::Seed(*keys_, key, now);
  }
  absl::StatusOr<safeshare::v1::PublicKey> PublishKey(const AgencyKey& key,
                                                      absl::Time now) override {
    return key_rules::Publish(*keys_, key, now);
  }
  absl::StatusOr<safeshare::v1::PublicKey> RevokeKey(const std::string& agency_id,
                                                     const std::string& key_id,
                                                     absl::Time now) override {
    return key_rules::Revoke(*keys_, agency_id, key_id, now);
  }
  absl::StatusOr<std::optional<uint64_t>> LastKeyEvent(const std::string& agency_id) override {
    return keys_->LastEvent(agency_id);
  }
  absl::Status RecordKeyEvent(const KeyEventRow& event) override { return keys_->AddEvent(event); }
  absl::StatusOr<uint64_t> ChangeAuditText(const AuditTextChange& change) override;

 private:
  // Marks the message a reply answered (see StoreTransaction::InsertMessage).
  absl::Status Answer(const std::string& answered_id, absl::Time now);
  // Records `m`'s first hand-over at `now` unless it has one: a recipient can
  // settle a message whose hand-over record was lost (the gateway killed
  // between sending it on a stream and recording that).
  absl::Status HandedOver(StoredMessage& m, absl::Time now);
  // The message if it is in `recipient`'s mailbox (message_rules::InMailbox).
  absl::StatusOr<StoredMessage> InMailbox(const std::string& recipient,
                                          const std::string& message_id);
  // The message's own copies of `field` (declaration, refusal detail) set to
  // `text` ("" erases), if the message is stored.
  absl::Status ChangeMessageCopies(const safeshare::v1::AuditRecord& target,
                                   const std::string& field, const std::string& text);

  MessageRows* rows_;
  KeyRows* keys_;
  AuditAppender* appender_;
  AuditRowWriter* audit_;
  std::vector<transparency::Subtree>* completed_;
  // What this job's CheckMailboxQuota read of its message id, for its
  // InsertMessage (nothing between them writes a message).
  struct Checked {
    std::string message_id;
    std::optional<StoredMessage> stored;
  };
  std::optional<Checked> checked_;
};

}  // namespace safeshare::gateway

#endif  // SAFESHARE_GATEWAY_STORE_MAILBOX_TRANSACTION_H_
