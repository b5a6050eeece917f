#include "gateway/delivery/hand_over.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/time.h"
#include "gateway/audit/audit_records.h"

namespace safeshare::gateway {

MailboxStore::Work RecordHandOvers(std::string recipient, std::vector<uint64_t> sequences,
                                   std::string actor_uri,
                                   std::shared_ptr<const FederationDirectory> directory,
                                   std::shared_ptr<std::vector<StoredMessage>> marked) {
  return [recipient = std::move(recipient), sequences = std::move(sequences),
          actor_uri = std::move(actor_uri), directory = std::move(directory),
          marked = std::move(marked)](StoreTransaction& tx) -> absl::Status {
    auto done = tx.MarkDelivered(recipient, sequences, absl::Now());
    if (!done.ok()) return done.status();
    for (const auto& m : *done) {
      auto index = tx.AppendAudit(
          MessageEventRecord(m, safeshare::v1::AUDIT_EVENT_TYPE_DELIVERED, actor_uri, *directory));
      if (!index.ok()) return index.status();
    }
    if (marked) *marked = std::move(*done);
    return absl::OkStatus();
  };
}

absl::Status ToMailboxMessage(const StoredMessage& m, safeshare::v1::MailboxMessage* out) {
  out->set_sequence(m.sequence);
  out->set_message_id(m.message_id);
  const bool parsed = m.kind == safeshare::v1::MESSAGE_KIND_ESCALATION
                          ? out->mutable_escalation()->ParseFromString(m.signed_envelope)
                          : out->mutable_signed_envelope()->ParseFromString(m.signed_envelope);
  if (!parsed) {
    return absl::DataLossError(absl::StrCat("stored message ", m.message_id, " is corrupt"));
  }
  *out->mutable_accepted_time() = ToTimestamp(m.accepted_time);
  if (m.first_delivered_time) {
    *out->mutable_first_delivered_time() = ToTimestamp(*m.first_delivered_time);
  }
  return absl::OkStatus();
}

absl::Status AuditLateHandOver(StoreTransaction& tx, const StoredMessage& m, absl::Time now,
                               const std::string& uri, const FederationDirectory& directory) {
  if (m.first_delivered_time != now) return absl::OkStatus();
  StoredMessage delivered = m;
  delivered.state = safeshare::v1::MESSAGE_STATE_DELIVERED;
  return tx
      .AppendAudit(
          MessageEventRecord(delivered, safeshare::v1::AUDIT_EVENT_TYPE_DELIVERED, uri, directory))
      .status();
}

safeshare::v1::MessageState ForwardingOrState(const FederationDirectory& directory,
                                              const StoredMessage& m) {
  return m.state == safeshare::v1::MESSAGE_STATE_SUBMITTED &&
                 directory.PeerServing(m.recipient_agency_id) != nullptr
             ? safeshare::v1::MESSAGE_STATE_FORWARDING
             : m.state;
}

void ToMessageStatus(const StoredMessage& m, safeshare::v1::GetStatusResponse* out) {
  out->set_message_id(m.message_id);
  out->set_kind(m.kind);
  out->set_sender_agency_id(m.sender_agency_id);
  out->set_recipient_agency_id(m.recipient_agency_id);
  out->set_in_reply_to(m.in_reply_to);
  out->set_state(m.state);
  *out->mutable_accepted_time() = ToTimestamp(m.accepted_time);
  if (m.acknowledge_deadline) {
    *out->mutable_acknowledge_deadline() = ToTimestamp(*m.acknowledge_deadline);
  }
  out->set_content_refusal_reason(m.refusal_reason);
  out->set_content_refusal_detail(m.refusal_detail);
  out->mutable_declaration()->ParseFromString(m.declaration);
  for (const auto& change : m.history) {
    auto* h = out->add_history();
    h->set_state(change.state);
    *h->mutable_time() = ToTimestamp(change.time);
  }
}

}  // namespace safeshare::gateway
