#include "envelope/envelope_shape.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"

namespace safeshare::envelope {
namespace {

using safeshare::v1::Envelope;
using safeshare::v1::MessageKind;

bool HasUnknownFields(const google::protobuf::Message& m) {
  const auto* reflection = m.GetReflection();
  if (!reflection->GetUnknownFields(m).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(m, f); ++i) {
        if (HasUnknownFields(reflection->GetRepeatedMessage(m, f, i))) return true;
      }
    } else if (HasUnknownFields(reflection->GetMessage(m, f))) {
      return true;
    }
  }
  return false;
}

bool IsReplyKind(MessageKind kind) {
  return kind == safeshare::v1::MESSAGE_KIND_INFORMATION_RESPONSE ||
         kind == safeshare::v1::MESSAGE_KIND_DECLINE_TO_SHARE ||
         kind == safeshare::v1::MESSAGE_KIND_OUTCOME;
}

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("envelope.", field, ": ", why));
}

}  // namespace

bool IsValidMessageId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

bool IsValidAgencyId(absl::string_view id) {
  if (id.empty() || id.size() > 64 || id.front() == '-' || id.back() == '-') return false;
  for (char c : id) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<Envelope> ParseEnvelope(absl::string_view bytes) {
  if (bytes.empty()) {
    return absl::InvalidArgumentError("signed_envelope.envelope_bytes is empty");
  }
  Envelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(
        "signed_envelope.envelope_bytes is not a serialized safeshare.v1.Envelope");
  }
  if (HasUnknownFields(envelope)) {
    return absl::InvalidArgumentError(
        "signed_envelope.envelope_bytes carries fields unknown to safeshare.v1; "
        "the gateway only routes what it can check");
  }
  return envelope;
}

absl::Status ValidateEnvelopeShape(const Envelope& e) {
  if (!IsValidMessageId(e.message_id())) {
    return Invalid("message_id", "must be 1-128 characters of [A-Za-z0-9._:-]");
  }
  if (absl::StartsWith(e.message_id(), kReservedMessageIdPrefix)) {
    return Invalid("message_id", absl::StrCat("ids beginning \"", kReservedMessageIdPrefix,
                                              "\" are reserved for the gateway"));
  }
  if (e.kind() == safeshare::v1::MESSAGE_KIND_UNSPECIFIED ||
      !safeshare::v1::MessageKind_IsValid(e.kind())) {
    return Invalid("kind", "must be set to a known message kind");
  }
  if (e.kind() == safeshare::v1::MESSAGE_KIND_ESCALATION) {
    return Invalid("kind", "ESCALATION messages are raised by the gateway only");
  }
  if (!IsValidAgencyId(e.sender_agency_id())) {
    return Invalid("sender_agency_id", "must be an agency id ([a-z0-9-], 1-64 characters)");
  }
  if (!IsValidAgencyId(e.recipient_agency_id())) {
    return Invalid("recipient_agency_id", "must be an agency id ([a-z0-9-], 1-64 characters)");
  }
  if (e.sender_agency_id() == e.recipient_agency_id()) {
    return Invalid("recipient_agency_id", "must differ from the sender agency");
  }
  if (e.sender_practitioner().id().empty() || e.sender_practitioner().id().size() > 128) {
    return Invalid("sender_practitioner.id", "must be 1-128 characters");
  }
  if (e.sender_practitioner().role() == safeshare::v1::PRACTITIONER_ROLE_UNSPECIFIED) {
    return Invalid("sender_practitioner.role", "must be set");
  }
  if (!e.has_created_time()) return Invalid("created_time", "must be set");
  if (IsReplyKind(e.kind())) {
    if (!IsValidMessageId(e.in_reply_to())) {
      return Invalid("in_reply_to", "a reply must name the message it answers");
    }
  } else if (!e.in_reply_to().empty()) {
    return Invalid("in_reply_to", "only responses, declines and outcomes are replies");
  }
  if (!e.has_declaration()) return Invalid("declaration", "must be present");
  const auto& asked = e.declaration().requested_categories();
  if (e.kind() == safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST) {
    if (asked.empty()) {
      return Invalid("declaration.requested_categories",
                     "a request must name the categories it asks for");
    }
    for (int c : asked) {
      if (c == safeshare::v1::DATA_CATEGORY_UNSPECIFIED ||
          !safeshare::v1::DataCategory_IsValid(c)) {
        return Invalid("declaration.requested_categories", "must hold known data categories");
      }
    }
  } else if (!asked.empty()) {
    return Invalid("declaration.requested_categories", "only requests ask for categories");
  }
  if (!e.has_payload() || e.payload().ciphertext().empty()) {
    return Invalid("payload.ciphertext", "must not be empty");
  }
  return absl::OkStatus();
}

}  // namespace safeshare::envelope
