#ifndef SAFESHARE_TESTS_GATEWAY_STORE_TEST_ROWS_H_
#define SAFESHARE_TESTS_GATEWAY_STORE_TEST_ROWS_H_

// Rows and steps the store tests share: a message, an audit record, and the
// escalator's and purger's transaction steps.

#include <string>
#include <vector>

#include "gateway/store/store.h"

namespace safeshare::gateway::store_test {

inline StoredMessage Message(const std::string& id, const std::string& to,
                             const std::string& from = "hiow-police") {
  StoredMessage m;
  m.message_id = id;
  m.sender_agency_id = from;
  m.recipient_agency_id = to;
  m.kind = v1::MESSAGE_KIND_REFERRAL;
  m.signed_envelope = "envelope-" + id;
  m.envelope_sha256 = std::string(32, 'h');
  m.receipt = "receipt-" + id;
  m.state = v1::MESSAGE_STATE_SUBMITTED;
  m.accepted_time = absl::FromUnixSeconds(1764000000);
  return m;
}

inline v1::AuditRecord Record(const std::string& id) {
  v1::AuditRecord r;
  r.set_event(v1::AUDIT_EVENT_TYPE_DECISION);
  r.set_message_id(id);
  r.set_kind(v1::MESSAGE_KIND_REFERRAL);
  r.set_sender_agency_id("hiow-police");
  r.set_recipient_agency_id(id.back() % 2 ? "portsmouth-mash" : "iow-mash");
  r.set_sender_area_id("hampshire");
  r.set_recipient_area_id(id.back() % 2 ? "portsmouth" : "isle-of-wight");
  r.mutable_decision()->set_decision(v1::DECISION_ALLOW);
  return r;
}

// The escalator's and purger's transaction steps, one batch each.
inline absl::StatusOr<std::vector<StoredMessage>> InOneBatch(
    Store& store,
    absl::StatusOr<std::vector<StoredMessage>> (StoreTransaction::*step)(absl::Time, int),
    absl::Time now) {
  std::vector<StoredMessage> out;
  absl::Status st = store.CommitAndWait([&](StoreTransaction& tx) {
    auto got = (tx.*step)(now, 10);
    if (got.ok()) out = std::move(*got);
    return got.status();
  });
  if (!st.ok()) return st;
  return out;
}

inline absl::StatusOr<std::vector<StoredMessage>> Escalate(Store& store, absl::Time now) {
  return InOneBatch(store, &StoreTransaction::EscalateOverdue, now);
}

inline absl::StatusOr<std::vector<StoredMessage>> Purge(Store& store, absl::Time now) {
  return InOneBatch(store, &StoreTransaction::PurgeExpired, now);
}

}  // namespace safeshare::gateway::store_test

#endif  // SAFESHARE_TESTS_GATEWAY_STORE_TEST_ROWS_H_
