#include "gateway/delivery/escalator.h"

#include <pthread.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/time.h"
#include "envelope/digest.h"
#include "envelope/envelope_shape.h"
#include "gateway/audit/audit_records.h"

namespace safeshare::gateway {
namespace {

safeshare::v1::EscalationReason ReasonFor(const StoredMessage& m) {
  if (m.state == safeshare::v1::MESSAGE_STATE_HELD) {
    return safeshare::v1::ESCALATION_REASON_HOLD_NOT_DECIDED;
  }
  return m.kind == safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST
             ? safeshare::v1::ESCALATION_REASON_NOT_ANSWERED
             : safeshare::v1::ESCALATION_REASON_NOT_ACKNOWLEDGED;
}

// Who is alerted: an undecided hold goes to the agencies of the federation's
// officers; anything else to the recipient's escalation contacts.
std::set<std::string> AlertedAgencies(const StoredMessage& m,
                                      safeshare::v1::EscalationReason reason,
                                      const FederationDirectory& directory) {
  std::set<std::string> out;
  if (reason == safeshare::v1::ESCALATION_REASON_HOLD_NOT_DECIDED) {
    for (const auto& officer : directory.federation().officers()) {
      if (officer.scope() == safeshare::v1::Officer::SCOPE_FEDERATION) {
        out.insert(officer.agency_id());
      }
    }
    return out;
  }
  const auto* recipient = directory.FindAgency(m.recipient_agency_id);
  if (recipient == nullptr) return out;
  out.insert(recipient->escalation_contact_agency_ids().begin(),
             recipient->escalation_contact_agency_ids().end());
  // A missed Operation Encompass notification: the local authority's front
  // door makes sure someone supports the child that morning.
  if (m.kind == safeshare::v1::MESSAGE_KIND_OPERATION_ENCOMPASS) {
    for (const auto& agency : directory.federation().agencies()) {
      const bool front_door =
          std::find(agency.roles().begin(), agency.roles().end(),
                    safeshare::v1::AGENCY_ROLE_FRONT_DOOR) != agency.roles().end();
      if (front_door && !agency.revoked() && agency.area_id() == recipient->area_id()) {
        out.insert(agency.id());
      }
    }
  }
  return out;
}

}  // namespace

Escalator::Escalator(MailboxStore* store, const FederationHolder* directory,
                     MailboxNotifier* notifier, absl::Duration interval)
    : store_(store), directory_(directory), notifier_(notifier), interval_(interval) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "escalator");
    while (!stop_.WaitForNotificationWithTimeout(interval_)) {
      if (absl::Status st = ScanOnce(absl::Now()); !st.ok()) {
        LogEvent("error", "escalation.scan_failed", {{"detail", std::string(st.message())}});
      }
    }
  });
}

Escalator::~Escalator() {
  stop_.Notify();
  thread_.join();
}

absl::Status Escalator::ScanOnce(absl::Time now) {
  // One directory for the whole scan, even if SIGHUP replaces it meanwhile.
  const std::shared_ptr<const FederationDirectory> directory = directory_->Current();
  auto contacts = std::make_shared<std::set<std::string>>();
  auto escalated = std::make_shared<std::vector<std::string>>();
  absl::Status st = store_->CommitAndWait([&](StoreTransaction& tx) -> absl::Status {
    auto expired = tx.PurgeExpired(now, 100);
    if (!expired.ok()) return expired.status();
    for (const StoredMessage& m : *expired) {
      auto index = tx.AppendAudit(MessageEventRecord(
          m, safeshare::v1::AUDIT_EVENT_TYPE_CONTENT_PURGED, "safeshare://gateway", *directory));
      if (!index.ok()) return index.status();
    }
    auto overdue = tx.EscalateOverdue(now, 100);
    if (!overdue.ok()) return overdue.status();
    for (const StoredMessage& m : *overdue) {
      const safeshare::v1::EscalationReason reason = ReasonFor(m);
      safeshare::v1::AuditRecord record = MessageEventRecord(
          m, safeshare::v1::AUDIT_EVENT_TYPE_ESCALATED, "safeshare://gateway", *directory);
      record.set_reason(safeshare::v1::EscalationReason_Name(reason));
      auto index = tx.AppendAudit(record);
      if (!index.ok()) return index.status();
      escalated->push_back(m.message_id);
      safeshare::v1::EscalationNotice notice;
      notice.set_reason(reason);
      notice.set_message_id(m.message_id);
      notice.set_kind(m.kind);
      notice.set_sender_agency_id(m.sender_agency_id);
      notice.set_recipient_agency_id(m.recipient_agency_id);
      notice.set_urgency(m.urgency);
      *notice.mutable_accepted_time() = ToTimestamp(m.accepted_time);
      if (m.acknowledge_deadline) {
        *notice.mutable_acknowledge_deadline() = ToTimestamp(*m.acknowledge_deadline);
      }
      for (const auto& contact : AlertedAgencies(m, reason, *directory)) {
        StoredMessage alert;
        // Fixed length (ids are at most 128 characters) and in a prefix no
        // sender may use.
        alert.message_id = absl::StrCat(
            envelope::kReservedMessageIdPrefix, "esc-",
            envelope::ToHex(
                envelope::Sha256(absl::StrCat(m.message_id, "\n", reason, "\n", contact)))
                .substr(0, 32));
        alert.sender_agency_id = "safeshare-gateway";
        alert.recipient_agency_id = contact;
        alert.kind = safeshare::v1::MESSAGE_KIND_ESCALATION;
        alert.signed_envelope = notice.SerializeAsString();
        alert.state = safeshare::v1::MESSAGE_STATE_SUBMITTED;
        alert.accepted_time = now;
        auto inserted = tx.InsertMessage(alert);
        if (!inserted.ok()) return inserted.status();
        if (!inserted->inserted) {
          return absl::InternalError(
              absl::StrCat("escalation id for ", m.message_id, " is already taken"));
        }
        contacts->insert(contact);
      }
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  for (const auto& id : *escalated) {
    LogEvent("warn", "message.escalated", {{"message_id", id}});
  }
  for (const auto& contact : *contacts) notifier_->Notify(contact);
  return absl::OkStatus();
}

}  // namespace safeshare::gateway
