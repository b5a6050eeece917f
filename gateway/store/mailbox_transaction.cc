#include "gateway/store/mailbox_transaction.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/store/audit_text.h"
#include "gateway/store/message_rules.h"
#include "gateway/store/store_rows.h"

namespace safeshare::gateway {

using safeshare::v1::MessageState;

absl::StatusOr<InsertResult> MailboxTransaction::InsertMessage(const StoredMessage& m) {
  // A duplicate's receipt answers a retry; its sealed envelope is not needed.
  std::optional<StoredMessage> existing;
  if (checked_.has_value() && checked_->message_id == m.message_id) {
    existing = std::move(checked_->stored);  // read with the mailbox's usage
    checked_.reset();
  } else {
    auto loaded = rows_->Load(m.message_id, MessageRead::kDecision);
    if (!loaded.ok()) return loaded.status();
    existing = *std::move(loaded);
  }
  if (existing.has_value()) return InsertResult{false, *std::move(existing)};
  const std::optional<absl::Time> open =
      message_rules::OpensDeadline(m) ? m.acknowledge_deadline : std::nullopt;
  // No copy of the message (its envelope can be a megabyte) on the Submit path.
  if (auto st = rows_->Insert(m, open); !st.ok()) return st;
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
  // On the Submit path one read: the mailbox's usage and the message id's
  // stored copy, which InsertMessage then uses (a retry of a stored message
  // passes; InsertMessage answers it).
  auto room = rows_->Room(m.recipient_agency_id, m.message_id);
  if (!room.ok()) return room.status();
  const bool stored = room->stored.has_value();
  checked_ = Checked{m.message_id, std::move(room->stored)};
  absl::Status over = message_rules::MailboxQuota(room->held_bytes, m.signed_envelope.size(), quota,
                                                  m.recipient_agency_id);
  return over.ok() || stored ? absl::OkStatus() : over;
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
  if (auto st = HandedOver(m, now); !st.ok()) return st;
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
  if (auto st = HandedOver(m, now); !st.ok()) return st;
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

absl::Status MailboxTransaction::ReplaceReceipt(const std::string& recipient,
                                                const std::string& message_id,
                                                const std::string& receipt) {
  auto m = InMailbox(recipient, message_id);
  if (!m.ok()) return m.status();
  return rows_->SetReceipt(m->sequence, receipt);
}

absl::Status MailboxTransaction::HandedOver(StoredMessage& m, absl::Time now) {
  if (m.first_delivered_time) return absl::OkStatus();
  if (auto st = rows_->SetFirstDelivered(m.sequence, now); !st.ok()) return st;
  if (auto st = rows_->AddEvent(m.message_id, safeshare::v1::MESSAGE_STATE_DELIVERED, now);
      !st.ok()) {
    return st;
  }
  m.first_delivered_time = now;
  return absl::OkStatus();
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
    const std::function<absl::Time(const StoredMessage&)>& deadline_for, absl::Time now) {
  auto loaded = rows_->Load(message_id, MessageRead::kMetadata);
  if (!loaded.ok()) return loaded.status();
  auto held = message_rules::HeldForDecision(*std::move(loaded), message_id, senders);
  if (!held.ok()) return held.status();
  StoredMessage m = *std::move(held);
  const auto next =
      approve ? safeshare::v1::MESSAGE_STATE_SUBMITTED : safeshare::v1::MESSAGE_STATE_REFUSED;
  const absl::Time deadline = deadline_for(m);
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

absl::Status MailboxTransaction::ChangeMessageCopies(const safeshare::v1::AuditRecord& target,
                                                     const std::string& field,
                                                     const std::string& text) {
  if (target.message_id().empty()) return absl::OkStatus();
  const bool declared = absl::StartsWith(field, "declaration.");
  const bool refusal =
      field == "reason" &&
      target.event() == safeshare::v1::AUDIT_EVENT_TYPE_CONTENT_REFUSED_BY_RECIPIENT;
  if (!declared && !refusal) return absl::OkStatus();
  auto loaded = rows_->Load(target.message_id(), MessageRead::kMetadata);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return absl::OkStatus();  // a refused Submit stores none
  const StoredMessage& m = **loaded;
  std::string declaration = m.declaration;
  std::string detail = m.refusal_detail;
  if (declared && !m.declaration.empty()) {
    safeshare::v1::AuditRecord holder;
    if (!holder.mutable_declaration()->ParseFromString(m.declaration)) {
      return absl::DataLossError(
          absl::StrCat("store: the stored declaration of ", m.message_id, " is corrupt"));
    }
    audit_text::Set(holder, field, text);
    declaration = holder.declaration().SerializeAsString();
  }
  if (refusal) detail = text;
  if (declaration == m.declaration && detail == m.refusal_detail) return absl::OkStatus();
  return rows_->SetTextCopies(m.sequence, declaration, detail);
}

absl::StatusOr<uint64_t> MailboxTransaction::ChangeAuditText(const AuditTextChange& change) {
  const bool erase = !change.new_text.has_value();
  if (!audit_text::IsCommittedField(change.field)) {
    return absl::InvalidArgumentError(
        absl::StrCat("field must be one of the committed texts: ",
                     absl::StrJoin(audit_text::CommittedFields(), ", ")));
  }
  if (change.reason.empty()) {
    return absl::InvalidArgumentError("reason is required: why the text is changed");
  }
  if (!erase && change.new_text->empty()) {
    return absl::InvalidArgumentError("new text is empty: erase the text instead");
  }
  auto stored = audit_->ReadLeafRecord(change.leaf_index);
  if (!stored.ok()) return stored.status();
  auto text = audit_->ReadText(change.leaf_index, change.field);
  if (!text.ok()) return text.status();
  if (!stored->has_value() || !text->has_value()) {
    return absl::NotFoundError(absl::StrCat("audit record ", change.leaf_index, " has no ",
                                            change.field, " text (or none that can be erased)"));
  }
  AuditText row = **std::move(text);
  if (row.erased) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ", change.field, " text of audit record ", change.leaf_index, " is already erased"));
  }
  safeshare::v1::AuditRecord target;
  if (!target.ParseFromString(**stored)) {
    return absl::DataLossError(
        absl::StrCat("store: audit record ", change.leaf_index, " does not parse"));
  }
  // The change is a record of the same flow: it shows in that flow's queries
  // and in the scope of the officers who see it.
  safeshare::v1::AuditRecord record;
  record.set_event(erase ? safeshare::v1::AUDIT_EVENT_TYPE_TEXT_ERASED
                         : safeshare::v1::AUDIT_EVENT_TYPE_TEXT_RECTIFIED);
  *record.mutable_time() = store_rows::Ts(store_rows::ToMicros(change.now));
  record.set_message_id(target.message_id());
  record.set_kind(target.kind());
  record.set_sender_agency_id(target.sender_agency_id());
  record.set_recipient_agency_id(target.recipient_agency_id());
  record.set_sender_area_id(target.sender_area_id());
  record.set_recipient_area_id(target.recipient_area_id());
  record.set_in_reply_to(target.in_reply_to());
  record.set_actor(change.officer_uri);
  record.set_reason(change.reason);  // committed by the appender
  record.set_target_leaf_index(change.leaf_index);
  record.set_target_field(change.field);
  const uint64_t change_leaf = appender_->size();
  AuditText updated = row;
  if (erase) {
    updated.salt.clear();
    updated.text.clear();
    updated.erased = true;
    updated.erased_time = change.now;
    updated.erased_by = change.officer_uri;
  } else {
    AuditText fresh;
    auto c =
        audit_text::NewText(change_leaf, audit_text::kRectifiedTextField, *change.new_text, fresh);
    if (!c.ok()) return c.status();
    *record.add_text_commitments() = *std::move(c);
    updated.salt = std::move(fresh.salt);
    updated.text = std::move(fresh.text);
    updated.rectified_in_leaf = change_leaf;
  }
  auto index = AppendAudit(std::move(record), nullptr);
  if (!index.ok()) return index.status();
  if (*index != change_leaf)
    return absl::InternalError("store: the audit log moved under a change");
  if (auto st = audit_->UpdateText(updated); !st.ok()) return st;
  if (change.field == "declaration.subject_reference" ||
      change.field == "read_query.subject_reference") {
    if (auto st = audit_->SetSubjectColumn(change.leaf_index, updated.text); !st.ok()) return st;
  }
  if (auto st = ChangeMessageCopies(target, change.field, updated.text); !st.ok()) return st;
  return *index;
}

}  // namespace safeshare::gateway
