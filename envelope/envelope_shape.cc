#include "envelope/envelope_shape.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/refusal_reasons.h"
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
  return WithReason(absl::InvalidArgumentError(absl::StrCat("envelope.", field, ": ", why)),
                    reason::kEnvelopeMalformed, {{"field", absl::StrCat("envelope.", field)}});
}

// Within the form but over one of the gateway's declaration limits.
absl::Status OverLimit(absl::string_view field, absl::string_view why, absl::string_view limit) {
  return WithReason(Invalid(field, why), reason::kDeclarationOverLimit,
                    {{"field", absl::StrCat("envelope.", field)}, {"limit", std::string(limit)}});
}

using google::protobuf::FieldDescriptor;

absl::Status UnknownEnum(absl::string_view field, const FieldDescriptor* f, int value) {
  return Invalid(field, absl::StrCat(value, " is not a known ", f->enum_type()->full_name(),
                                     " value (this gateway decides only on values it knows)"));
}

// One value of field `f` (element `i` if repeated): a known enum value, text
// within the limit, a nested message within it too.
absl::Status CheckValue(const google::protobuf::Message& m, const FieldDescriptor* f, int i,
                        const std::string& field, const DeclarationLimits* limits);

// Every set field of `m`, at any depth: enum values known and, when `limits`
// is given, text and repeated fields within them. `path` names `m` in errors
// (relative to the envelope).
absl::Status CheckFields(const google::protobuf::Message& m, const std::string& path,
                         const DeclarationLimits* limits) {
  const auto* reflection = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(m, &fields);
  for (const FieldDescriptor* f : fields) {
    const std::string field =
        path.empty() ? std::string(f->name()) : absl::StrCat(path, ".", f->name());
    if (!f->is_repeated()) {
      if (auto st = CheckValue(m, f, -1, field, limits); !st.ok()) return st;
      continue;
    }
    const int n = reflection->FieldSize(m, f);
    if (limits != nullptr && static_cast<size_t>(n) > limits->max_repeated_entries) {
      return OverLimit(field,
                       absl::StrCat("has ", n, " entries; the limit (max_repeated_entries) is ",
                                    limits->max_repeated_entries),
                       "max_repeated_entries");
    }
    for (int i = 0; i < n; ++i) {
      if (auto st = CheckValue(m, f, i, absl::StrCat(field, "[", i, "]"), limits); !st.ok()) {
        return st;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckValue(const google::protobuf::Message& m, const FieldDescriptor* f, int i,
                        const std::string& field, const DeclarationLimits* limits) {
  const auto* r = m.GetReflection();
  const bool one = i < 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int v = one ? r->GetEnumValue(m, f) : r->GetRepeatedEnumValue(m, f, i);
      if (f->enum_type()->FindValueByNumber(v) == nullptr) return UnknownEnum(field, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      if (limits == nullptr) return absl::OkStatus();
      std::string scratch;
      const std::string& text = one ? r->GetStringReference(m, f, &scratch)
                                    : r->GetRepeatedStringReference(m, f, i, &scratch);
      if (text.size() > limits->max_text_field_bytes) {
        return OverLimit(
            field,
            absl::StrCat("is ", text.size(), " bytes; the limit (max_text_field_bytes) is ",
                         limits->max_text_field_bytes),
            "max_text_field_bytes");
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return CheckFields(one ? r->GetMessage(m, f) : r->GetRepeatedMessage(m, f, i), field, limits);
    default:
      return absl::OkStatus();
  }
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
  auto unreadable = [](absl::string_view why) {
    return WithReason(
        absl::InvalidArgumentError(absl::StrCat("signed_envelope.envelope_bytes ", why)),
        reason::kEnvelopeMalformed, {{"field", "signed_envelope.envelope_bytes"}});
  };
  if (bytes.empty()) return unreadable("is empty");
  Envelope envelope;
  if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return unreadable("is not a serialized safeshare.v1.Envelope");
  }
  if (HasUnknownFields(envelope)) {
    return unreadable(
        "carries fields unknown to safeshare.v1; the gateway only routes what it can check");
  }
  return envelope;
}

bool IsValidSubjectReference(absl::string_view reference) {
  return reference.size() == 64 &&
         reference.find_first_not_of("0123456789abcdef") == absl::string_view::npos;
}

absl::Status ValidateDeclaration(const safeshare::v1::SharingDeclaration& d,
                                 const DeclarationLimits& limits) {
  const size_t size = d.ByteSizeLong();
  if (size > limits.max_declaration_bytes) {
    return OverLimit(
        "declaration",
        absl::StrCat("is ", size, " bytes serialized; the limit (max_declaration_bytes) is ",
                     limits.max_declaration_bytes),
        "max_declaration_bytes");
  }
  if (absl::Status st = CheckFields(d, "declaration", &limits); !st.ok()) return st;
  // Never echoes the value: it may be the identifier it must not be.
  if (!d.subject_reference().empty() && !IsValidSubjectReference(d.subject_reference())) {
    return Invalid("declaration.subject_reference",
                   absl::StrCat("is ", d.subject_reference().size(),
                                " characters but must be 64 lowercase hex characters: the "
                                "HMAC-SHA256 of the child's identifier under the federation's "
                                "subject key, never the identifier itself"));
  }
  return absl::OkStatus();
}

absl::Status ValidateEnvelopeShape(const Envelope& e, const DeclarationLimits& limits) {
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
  if (!e.team_id().empty() || !e.team_message_id().empty()) {
    if (!IsValidAgencyId(e.team_id())) {
      return Invalid("team_id", "a team message copy names its team ([a-z0-9-], 1-64 characters)");
    }
    if (!IsValidMessageId(e.team_message_id()) ||
        absl::StartsWith(e.team_message_id(), kReservedMessageIdPrefix)) {
      return Invalid("team_message_id",
                     "a team message copy carries the id its copies share (1-128 characters of "
                     "[A-Za-z0-9._:-], not the gateway's prefix)");
    }
    if (e.message_id() != absl::StrCat(e.team_message_id(), ":", e.recipient_agency_id())) {
      return Invalid("message_id",
                     "a team message copy's id is <team_message_id>:<recipient_agency_id>");
    }
    if (e.kind() != safeshare::v1::MESSAGE_KIND_REFERRAL &&
        e.kind() != safeshare::v1::MESSAGE_KIND_INFORMATION_REQUEST) {
      return Invalid("kind", "only referrals and information requests are sent to teams");
    }
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
  if (absl::Status st = ValidateDeclaration(e.declaration(), limits); !st.ok()) return st;
  // The rest of the header: an unknown practitioner role, say.
  return CheckFields(e, "", nullptr);
}

absl::Status CheckCreatedTime(const safeshare::v1::Envelope& envelope, absl::Time now,
                              const CreatedTimeWindow& window, absl::string_view clock) {
  const auto& t = envelope.created_time();
  // google.protobuf.Timestamp's own range: 0001-01-01 to 9999-12-31.
  constexpr int64_t kMinSeconds = -62135596800, kMaxSeconds = 253402300799;
  if (t.seconds() < kMinSeconds || t.seconds() > kMaxSeconds || t.nanos() < 0 ||
      t.nanos() > 999999999) {
    return WithReason(Invalid("created_time", "is not a valid timestamp"),
                      reason::kCreatedTimeInvalid);
  }
  const absl::Time created = absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
  if (created - now > window.max_ahead) {
    return WithReason(
        Invalid(
            "created_time",
            absl::StrCat("is ", absl::FormatDuration(absl::Trunc(created - now, absl::Seconds(1))),
                         " ahead of ", clock, " (at most ", absl::FormatDuration(window.max_ahead),
                         "); check the sending system's clock and seal again")),
        reason::kCreatedTimeInFuture,
        {{"maxAheadSeconds", absl::StrCat(absl::ToInt64Seconds(window.max_ahead))}});
  }
  if (now - created > window.max_age) {
    return WithReason(
        Invalid(
            "created_time",
            absl::StrCat("is ", absl::FormatDuration(absl::Trunc(now - created, absl::Seconds(1))),
                         " behind ", clock, " (at most ", absl::FormatDuration(window.max_age),
                         "); seal the message again")),
        reason::kCreatedTimeTooOld,
        {{"maxAgeSeconds", absl::StrCat(absl::ToInt64Seconds(window.max_age))}});
  }
  return absl::OkStatus();
}

}  // namespace safeshare::envelope
