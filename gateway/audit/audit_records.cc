#include "gateway/audit/audit_records.h"

#include "envelope/digest.h"

namespace safeshare::gateway {
namespace {

std::string AreaOf(const FederationDirectory& directory, const std::string& agency_id) {
  const auto* agency = directory.FindAnyAgency(agency_id);
  return agency == nullptr ? std::string() : agency->area_id();
}

void SetParties(safeshare::v1::AuditRecord& r, const std::string& sender,
                const std::string& recipient, const FederationDirectory& directory) {
  r.set_sender_agency_id(sender);
  r.set_recipient_agency_id(recipient);
  r.set_sender_area_id(AreaOf(directory, sender));
  r.set_recipient_area_id(AreaOf(directory, recipient));
}

}  // namespace

safeshare::v1::AuditRecord DecisionRecord(const safeshare::v1::Envelope& envelope,
                                          const safeshare::v1::PolicyDecision& decision,
                                          safeshare::v1::MessageState state,
                                          const std::string& caller_uri,
                                          const FederationDirectory& directory) {
  safeshare::v1::AuditRecord r;
  r.set_event(safeshare::v1::AUDIT_EVENT_TYPE_DECISION);
  r.set_message_id(envelope.message_id());
  r.set_kind(envelope.kind());
  SetParties(r, envelope.sender_agency_id(), envelope.recipient_agency_id(), directory);
  *r.mutable_sender_practitioner() = envelope.sender_practitioner();
  r.set_in_reply_to(envelope.in_reply_to());
  *r.mutable_declaration() = envelope.declaration();
  *r.mutable_decision() = decision;
  r.set_payload_sha256(envelope::Sha256(envelope.payload().ciphertext()));
  r.set_payload_size(envelope.payload().ciphertext().size());
  r.set_actor(caller_uri);
  r.set_state(state);
  return r;
}

safeshare::v1::AuditRecord SubmitRefusedRecord(const std::string& caller_agency_id,
                                               const std::string& caller_uri,
                                               absl::string_view envelope_bytes,
                                               const safeshare::v1::Envelope* envelope,
                                               RefusedAt at, const absl::Status& status,
                                               const FederationDirectory& directory) {
  safeshare::v1::AuditRecord r;
  r.set_event(safeshare::v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED);
  r.set_actor(caller_uri);
  r.set_status_code(absl::StatusCodeToString(status.code()));
  r.set_reason(std::string(status.message()));
  r.set_state(safeshare::v1::MESSAGE_STATE_REFUSED);
  r.set_submitted_sha256(envelope::Sha256(envelope_bytes));
  r.set_submitted_size(envelope_bytes.size());
  if (envelope == nullptr || at == RefusedAt::kBeforeShape) {
    SetParties(r, caller_agency_id, "", directory);
    return r;
  }
  // Bounded tokens of a fixed alphabet once the shape check passed.
  r.set_message_id(envelope->message_id());
  r.set_kind(envelope->kind());
  r.set_in_reply_to(envelope->in_reply_to());
  SetParties(r, caller_agency_id, envelope->recipient_agency_id(), directory);
  if (at == RefusedAt::kAfterSignature) {
    *r.mutable_sender_practitioner() = envelope->sender_practitioner();
    *r.mutable_declaration() = envelope->declaration();
    r.set_payload_sha256(envelope::Sha256(envelope->payload().ciphertext()));
    r.set_payload_size(envelope->payload().ciphertext().size());
  }
  return r;
}

safeshare::v1::AuditRecord MessageEventRecord(const StoredMessage& m,
                                              safeshare::v1::AuditEventType event,
                                              const std::string& actor_uri,
                                              const FederationDirectory& directory) {
  safeshare::v1::AuditRecord r;
  r.set_event(event);
  r.set_message_id(m.message_id);
  r.set_kind(m.kind);
  r.set_in_reply_to(m.in_reply_to);
  SetParties(r, m.sender_agency_id, m.recipient_agency_id, directory);
  r.set_actor(actor_uri);
  r.set_state(m.state);
  if (event == safeshare::v1::AUDIT_EVENT_TYPE_CONTENT_REFUSED_BY_RECIPIENT) {
    r.set_content_refusal_reason(m.refusal_reason);
    r.set_reason(m.refusal_detail);
  }
  return r;
}

safeshare::v1::AuditRecord KeyEventRecord(safeshare::v1::AuditEventType event,
                                          safeshare::v1::KeyEvent key_event,
                                          const std::string& actor_uri,
                                          const FederationDirectory& directory) {
  safeshare::v1::AuditRecord r;
  r.set_event(event);
  r.set_sender_agency_id(key_event.agency_id());
  r.set_sender_area_id(AreaOf(directory, key_event.agency_id()));
  r.set_actor(actor_uri);
  *r.mutable_key_event() = std::move(key_event);
  return r;
}

}  // namespace safeshare::gateway
