#include "gateway/store/mailbox_transaction.h"

#include <utility>

#include "gateway/store/message_rules.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using safeshare::v1::MessageState;

absl::StatusOr<InsertResult> MailboxTransaction::InsertMessage(const StoredMessage& m) {
  // A duplicate's receipt answers a retry; its sealed envelope is not needed.
  auto existing = rows_->Load(m.message_id, MessageRead::kDecision);
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) return InsertResult{false, std::move(**existing)};
  const std::optional<absl::Time> open =
      message_rules::OpensDeadline(m) ? m.acknowledge_deadline : std::nullopt;
  // The new row's sequence is not needed by any caller; no copy of the
  // message (its envelope can be a megabyte) on the Submit path.
  if (auto sequence = rows_->Insert(m, open); !sequence.ok()) return sequence.status();
  if (auto st = rows_->AddEvent(m.message_id, m.state, m.accepted_time); !st.ok()) return st;
  if (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED) {
    if (auto st = rows_->NotifyMail(m.recipient_agency_id); !st.ok()) return st;
    if (!m.in_reply_to.empty()) {
      if (auto st = Answer(m.in_reply_to, m.accepted_time); !st.ok()) return st;
    }
  }
  return InsertResult{true, {}};
}

absl::Status MailboxTransaction::CheckReplyQuota(const StoredMessage& reply, uint32_t max_replies) {
  auto count = rows_->CountReplies(reply.in_reply_to, reply.message_id);
  if (!count.ok()) return count.status();
  return message_rules::ReplyQuota(*count, max_replies, reply.in_reply_to);
}

absl::Status MailboxTransaction::CheckMailboxQuota(const StoredMessage& m, uint64_t quota) {
  if (m.signed_envelope.empty()) return absl::OkStatus();  // nothing kept
  // On the Submit path: one keyed read, and the message itself is looked up
  // only when over quota (a retry of a stored message passes; InsertMessage
  // answers it).
  auto held = rows_->MailboxBytes(m.recipient_agency_id);
  if (!held.ok()) return held.status();
  absl::Status over =
      message_rules::MailboxQuota(*held, m.signed_envelope.size(), quota, m.recipient_agency_id);
  if (over.ok()) return over;
  auto stored = rows_->Load(m.message_id, MessageRead::kMetadata);
  if (!stored.ok()) return stored.status();
  return stored->has_value() ? absl::OkStatus() : over;
}

absl::Status MailboxTransaction::Answer(const std::string& answered_id, absl::Time now) {
  auto loaded = rows_->Load(answered_id, MessageRead::kMetadata);
  if (!loaded.ok()) return loaded.status();
  if (auto st = message_rules::AnsweredIsStored(*loaded, answered_id); !st.ok()) return st;
  const StoredMessage& m = **loaded;
  // Answering is acknowledging; a thread's later replies change nothing more.
  const bool waiting = store_rows::AwaitsAnswer(m.state);
  const MessageState next = store_rows::AnsweredState(m.kind);
  if (auto st = rows_->SetAnswered(m.sequence, waiting ? next : m.state, now); !st.ok()) {
    return st;
  }
  return waiting ? rows_->AddEvent(answered_id, next, now) : absl::OkStatus();
}

absl::StatusOr<StoredMessage> MailboxTransaction::InMailbox(const std::string& recipient,
                                                            const std::string& message_id) {
  auto loaded = rows_->Load(message_id, MessageRead::kMetadata);
  if (!loaded.ok()) return loaded.status();
  return message_rules::InMailbox(*std::move(loaded), recipient, message_id);
}

absl::StatusOr<StoredMessage> MailboxTransaction::Acknowledge(const std::string& recipient,
                                                              const std::string& message_id,
                                                              absl::Time now) {
  auto loaded = InMailbox(recipient, message_id);
  if (!loaded.ok()) return loaded.status();
  StoredMessage m = *std::move(loaded);
  if (m.acknowledged_time.has_value()) return m;  // idempotent
  if (auto st = rows_->SetAcknowledged(m.sequence, now); !st.ok()) return st;
  if (auto st = rows_->AddEvent(message_id, safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED, now);
      !st.ok()) {
    return st;
  }
  m.acknowledged_time = now;
  m.state = safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED;
  return m;
}

absl::StatusOr<StoredMessage> MailboxTransaction::RefuseContent(
    const std::string& recipient, const std::string& message_id,
    safeshare::v1::ContentRefusalReason reason, const std::string& detail, absl::Time now) {
  auto loaded = InMailbox(recipient, message_id);
  if (!loaded.ok()) return loaded.status();
  StoredMessage m = *std::move(loaded);
  if (m.acknowledged_time.has_value()) return m;  // already settled
  if (auto st = rows_->SetContentRefused(m.sequence, reason, detail, now); !st.ok()) return st;
  if (auto st = rows_->AddEvent(message_id, safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED, now);
      !st.ok()) {
    return st;
  }
  m.acknowledged_time = now;
  m.state = safeshare::v1::MESSAGE_STATE_CONTENT_REFUSED;
  m.refusal_reason = reason;
  m.refusal_detail = detail;
  return m;
}

absl::StatusOr<std::vector<StoredMessage>> MailboxTransaction::MarkDelivered(
    const std::string& recipient, const std::vector<uint64_t>& sequences, absl::Time now) {
  std::vector<StoredMessage> marked;
  for (uint64_t sequence : sequences) {
    auto loaded = rows_->LoadForRecipient(sequence, recipient);
    if (!loaded.ok()) return loaded.status();
    if (!loaded->has_value() || (*loaded)->first_delivered_time) continue;
    StoredMessage m = **std::move(loaded);
    // Only a message still waiting changes state; an acknowledged or
    // escalated one keeps its state and just gains its hand-over time.
    if (auto st = rows_->SetFirstDelivered(sequence, now); !st.ok()) return st;
    if (auto st = rows_->AddEvent(m.message_id, safeshare::v1::MESSAGE_STATE_DELIVERED, now);
        !st.ok()) {
      return st;
    }
    if (m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED) {
      m.state = safeshare::v1::MESSAGE_STATE_DELIVERED;
    }
    m.first_delivered_time = now;
    marked.push_back(std::move(m));
  }
  return marked;
}

absl::StatusOr<StoredMessage> MailboxTransaction::ResolveHeld(
    const std::string& message_id, const std::vector<std::string>& senders, bool approve,
    const std::function<absl::Time(safeshare::v1::Urgency)>& deadline_for, absl::Time now) {
  auto loaded = rows_->Load(message_id, MessageRead::kMetadata);
  if (!loaded.ok()) return loaded.status();
  auto held = message_rules::HeldForDecision(*std::move(loaded), message_id, senders);
  if (!held.ok()) return held.status();
  StoredMessage m = *std::move(held);
  const auto next =
      approve ? safeshare::v1::MESSAGE_STATE_SUBMITTED : safeshare::v1::MESSAGE_STATE_REFUSED;
  const absl::Time deadline = deadline_for(m.urgency);
  if (!approve) {
    if (auto st = rows_->SetRefused(m.sequence); !st.ok()) return st;
    if (auto st = rows_->AddEvent(message_id, next, now); !st.ok()) return st;
    m.state = next;
    m.signed_envelope.clear();
    return m;
  }
  auto sequence = rows_->SetApproved(m.sequence, deadline);
  if (!sequence.ok()) return sequence.status();
  if (auto st = rows_->AddEvent(message_id, next, now); !st.ok()) return st;
  m.state = next;
  m.sequence = *sequence;
  m.acknowledge_deadline = deadline;
  if (auto st = rows_->NotifyMail(m.recipient_agency_id); !st.ok()) return st;
  if (!m.in_reply_to.empty()) {
    if (auto st = Answer(m.in_reply_to, now); !st.ok()) return st;
  }
  return m;
}

absl::StatusOr<std::vector<StoredMessage>> MailboxTransaction::EscalateOverdue(absl::Time now,
                                                                               int limit) {
  auto found = rows_->FindOverdue(now, limit);
  if (!found.ok()) return found.status();
  std::vector<StoredMessage> out = *std::move(found);
  for (StoredMessage& m : out) {
    // A hold stays HELD: only an officer's decision moves it on.
    const MessageState next = m.state == safeshare::v1::MESSAGE_STATE_HELD
                                  ? m.state
                                  : safeshare::v1::MESSAGE_STATE_ESCALATED;
    if (auto st = rows_->SetEscalated(m.sequence, next, now); !st.ok()) return st;
    if (auto st = rows_->AddEvent(m.message_id, safeshare::v1::MESSAGE_STATE_ESCALATED, now);
        !st.ok()) {
      return st;
    }
    m.state = next;
    m.escalated_time = now;
  }
  return out;
}

absl::StatusOr<std::vector<StoredMessage>> MailboxTransaction::PurgeExpired(absl::Time now,
                                                                            int limit) {
  auto found = rows_->FindExpired(now, limit);
  if (!found.ok()) return found.status();
  std::vector<StoredMessage> out = *std::move(found);
  for (StoredMessage& m : out) {
    if (auto st = rows_->SetPurged(m.sequence); !st.ok()) return st;
    if (auto st = rows_->AddEvent(m.message_id, safeshare::v1::MESSAGE_STATE_EXPIRED, now);
        !st.ok()) {
      return st;
    }
    m.state = safeshare::v1::MESSAGE_STATE_EXPIRED;
    m.signed_envelope.clear();
  }
  return out;
}

absl::StatusOr<uint64_t> MailboxTransaction::AppendAudit(safeshare::v1::AuditRecord record,
                                                         std::string* hashed_bytes) {
  return appender_->Append(std::move(record), *audit_, hashed_bytes, completed_);
}

}  // namespace safeshare::gateway
