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

}  // namespace safeshare::gateway
