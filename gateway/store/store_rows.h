#ifndef SAFESHARE_GATEWAY_STORE_STORE_ROWS_H_
#define SAFESHARE_GATEWAY_STORE_STORE_ROWS_H_

// What both back-ends share: the column lists, how a row becomes a
// StoredMessage or AgencyKey (for any row type with Int/Text/IsNull), and the
// bytes an audit record is hashed as.

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gateway/store/store.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace safeshare::gateway::store_rows {

// The message columns ReadMessageRow reads, in its order; a column `read`
// skips is selected as an empty literal, so the positions never change.
inline std::string MessageColumns(MessageRead read) {
  const bool envelope = read == MessageRead::kAll || read == MessageRead::kContent;
  const bool receipt = read == MessageRead::kAll || read == MessageRead::kDecision;
  return absl::StrCat("sequence, message_id, sender, recipient, kind, ",
                      envelope ? "signed_envelope" : "'' AS signed_envelope", ", envelope_sha256, ",
                      receipt ? "receipt" : "'' AS receipt",
                      ", state, accepted_us, first_delivered_us, acknowledged_us, refusal_reason, "
                      "refusal_detail, urgency, ack_deadline_us, escalated_us, retention_us, "
                      "in_reply_to, declaration, answered_us");
}

inline constexpr int kMessageColumnCount = 21;

// The audit_text columns ReadTextRow reads, in its order.
inline constexpr const char* kTextColumns =
    "seq, field, salt, text, rectified_in, erased_us, erased_by";

inline constexpr const char* kKeyColumns =
    "agency_id, key_id, purpose, public_key, not_before_us, not_after_us, current, revoked_us";

inline absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }
inline int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }

inline google::protobuf::Timestamp Ts(int64_t us) {
  google::protobuf::Timestamp t;
  t.set_seconds(us / 1000000);
  t.set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  return t;
}
inline int64_t TsMicros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

template <typename Row>
StoredMessage ReadMessageRow(const Row& s) {
  StoredMessage m;
  m.sequence = static_cast<uint64_t>(s.Int(0));
  m.message_id = s.Text(1);
  m.sender_agency_id = s.Text(2);
  m.recipient_agency_id = s.Text(3);
  m.kind = static_cast<safeshare::v1::MessageKind>(s.Int(4));
  m.signed_envelope = s.Text(5);
  m.envelope_sha256 = s.Text(6);
  m.receipt = s.Text(7);
  m.state = static_cast<safeshare::v1::MessageState>(s.Int(8));
  m.accepted_time = FromMicros(s.Int(9));
  if (!s.IsNull(10)) m.first_delivered_time = FromMicros(s.Int(10));
  if (!s.IsNull(11)) m.acknowledged_time = FromMicros(s.Int(11));
  m.refusal_reason = static_cast<safeshare::v1::ContentRefusalReason>(s.Int(12));
  m.refusal_detail = s.Text(13);
  m.urgency = static_cast<safeshare::v1::Urgency>(s.Int(14));
  if (!s.IsNull(15)) m.acknowledge_deadline = FromMicros(s.Int(15));
  if (!s.IsNull(16)) m.escalated_time = FromMicros(s.Int(16));
  m.retention = absl::Microseconds(s.Int(17));
  m.in_reply_to = s.Text(18);
  m.declaration = s.Text(19);
  if (!s.IsNull(20)) m.answered_time = FromMicros(s.Int(20));
  return m;
}

template <typename Row>
AuditText ReadTextRow(const Row& s) {
  AuditText t;
  t.leaf_index = static_cast<uint64_t>(s.Int(0));
  t.field = s.Text(1);
  t.salt = s.Text(2);
  t.text = s.Text(3);
  t.rectified_in_leaf = static_cast<uint64_t>(s.Int(4));
  t.erased = !s.IsNull(5);
  if (t.erased) t.erased_time = FromMicros(s.Int(5));
  t.erased_by = s.Text(6);
  return t;
}

template <typename Row>
AgencyKey ReadKeyRow(const Row& s) {
  AgencyKey k;
  k.agency_id = s.Text(0);
  k.key.set_key_id(s.Text(1));
  k.key.set_purpose(static_cast<safeshare::v1::KeyPurpose>(s.Int(2)));
  k.key.set_public_key(s.Text(3));
  *k.key.mutable_not_before() = Ts(s.Int(4));
  if (!s.IsNull(5)) *k.key.mutable_not_after() = Ts(s.Int(5));
  k.key.set_current(s.Int(6) != 0);
  k.key.set_revoked(!s.IsNull(7));
  return k;
}

// Deterministic bytes: what the leaf hash covers, reproducible by verifiers.
inline std::string SerializeRecord(const safeshare::v1::AuditRecord& r) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  r.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// Checks that failed or asked for advice, as ",check,check," for LIKE queries.
inline std::string FlaggedChecks(const safeshare::v1::AuditRecord& r) {
  std::string out = ",";
  for (const auto& f : r.decision().findings()) {
    if (f.outcome() == safeshare::v1::FINDING_OUTCOME_FAIL ||
        f.outcome() == safeshare::v1::FINDING_OUTCOME_ADVICE) {
      absl::StrAppend(&out, f.check(), ",");
    }
  }
  return out;
}

// The state a reply moves the message it answers to.
inline safeshare::v1::MessageState AnsweredState(safeshare::v1::MessageKind answered_kind) {
  return answered_kind == safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST
             ? safeshare::v1::MESSAGE_STATE_ANSWERED
             : safeshare::v1::MESSAGE_STATE_OUTCOME_RECEIVED;
}

// Whether a message still waits on its recipient (a reply may move it on).
inline bool AwaitsAnswer(safeshare::v1::MessageState s) {
  return s == safeshare::v1::MESSAGE_STATE_SUBMITTED ||
         s == safeshare::v1::MESSAGE_STATE_DELIVERED ||
         s == safeshare::v1::MESSAGE_STATE_ACKNOWLEDGED ||
         s == safeshare::v1::MESSAGE_STATE_ESCALATED;
}

}  // namespace safeshare::gateway::store_rows

#endif  // SAFESHARE_GATEWAY_STORE_STORE_ROWS_H_
