#include "envelope/envelope_shape.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "envelope/digest.h"
#include "gtest/gtest.h"

namespace safeshare::envelope {
namespace {

v1::Envelope Valid() {
  v1::Envelope e;
  e.set_message_id("4f1c2a7e-8d2b-4c1e-9f0a-1b2c3d4e5f60");
  e.set_kind(v1::MESSAGE_KIND_REFERRAL);
  e.set_sender_agency_id("hiow-police");
  e.set_recipient_agency_id("portsmouth-mash");
  e.mutable_sender_practitioner()->set_id("pc-1");
  e.mutable_sender_practitioner()->set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
  e.mutable_created_time()->set_seconds(1764000000);
  e.mutable_declaration()->set_purpose(v1::PURPOSE_SAFEGUARDING_REFERRAL);
  e.mutable_payload()->set_ciphertext("x");
  return e;
}

TEST(EnvelopeShapeTest, AcceptsAWellFormedReferral) {
  EXPECT_TRUE(ValidateEnvelopeShape(Valid()).ok());
}

TEST(EnvelopeShapeTest, RefusesEachMissingOrMalformedField) {
  struct Case {
    const char* field;
    void (*mutate)(v1::Envelope&);
  };
  const Case cases[] = {
      {"message_id", [](v1::Envelope& e) { e.clear_message_id(); }},
      {"message_id", [](v1::Envelope& e) { e.set_message_id("has space"); }},
      {"message_id", [](v1::Envelope& e) { e.set_message_id(std::string(129, 'a')); }},
      {"message_id", [](v1::Envelope& e) { e.set_message_id("gw-esc-0123"); }},
      {"kind", [](v1::Envelope& e) { e.clear_kind(); }},
      {"kind", [](v1::Envelope& e) { e.set_kind(static_cast<v1::MessageKind>(99)); }},
      {"kind", [](v1::Envelope& e) { e.set_kind(v1::MESSAGE_KIND_ESCALATION); }},
      {"sender_agency_id", [](v1::Envelope& e) { e.set_sender_agency_id("Police!"); }},
      {"recipient_agency_id", [](v1::Envelope& e) { e.clear_recipient_agency_id(); }},
      {"recipient_agency_id", [](v1::Envelope& e) { e.set_recipient_agency_id("hiow-police"); }},
      {"sender_practitioner.id",
       [](v1::Envelope& e) { e.mutable_sender_practitioner()->clear_id(); }},
      {"sender_practitioner.role",
       [](v1::Envelope& e) { e.mutable_sender_practitioner()->clear_role(); }},
      {"created_time", [](v1::Envelope& e) { e.clear_created_time(); }},
      {"in_reply_to", [](v1::Envelope& e) { e.set_in_reply_to("some-id"); }},
      {"in_reply_to", [](v1::Envelope& e) { e.set_kind(v1::MESSAGE_KIND_OUTCOME); }},
      {"declaration", [](v1::Envelope& e) { e.clear_declaration(); }},
      {"payload", [](v1::Envelope& e) { e.clear_payload(); }},
      {"payload", [](v1::Envelope& e) { e.mutable_payload()->clear_ciphertext(); }},
  };
  for (const Case& c : cases) {
    v1::Envelope e = Valid();
    c.mutate(e);
    absl::Status st = ValidateEnvelopeShape(e);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(st.message().find(c.field), std::string::npos) << st.message();
  }
}

TEST(EnvelopeShapeTest, RepliesNeedInReplyTo) {
  v1::Envelope e = Valid();
  e.set_kind(v1::MESSAGE_KIND_INFORMATION_RESPONSE);
  e.set_in_reply_to("req-1");
  EXPECT_TRUE(ValidateEnvelopeShape(e).ok());
}

TEST(EnvelopeShapeTest, OnlyRequestsAskForCategoriesAndTheyMust) {
  v1::Envelope e = Valid();
  e.set_kind(v1::MESSAGE_KIND_INFORMATION_REQUEST);
  EXPECT_EQ(ValidateEnvelopeShape(e).message(),
            "envelope.declaration.requested_categories: a request must name the categories it "
            "asks for");
  e.mutable_declaration()->add_requested_categories(v1::DATA_CATEGORY_HEALTH);
  EXPECT_TRUE(ValidateEnvelopeShape(e).ok());
  e.mutable_declaration()->add_requested_categories(static_cast<v1::DataCategory>(999));
  EXPECT_EQ(ValidateEnvelopeShape(e).code(), absl::StatusCode::kInvalidArgument);
  v1::Envelope referral = Valid();
  referral.mutable_declaration()->add_requested_categories(v1::DATA_CATEGORY_HEALTH);
  EXPECT_EQ(ValidateEnvelopeShape(referral).code(), absl::StatusCode::kInvalidArgument);
}

// Each limit: just under passes, just over is refused naming the field and
// the limit.
TEST(DeclarationLimitsTest, EachTextFieldIsBoundedJustOverIsRefused) {
  const DeclarationLimits limits;  // the gateway's defaults
  const size_t max = limits.max_text_field_bytes;
  // (The subject reference has one form, 64 hex characters: its own test.)
  for (const char* field : {"necessity_justification", "consent_rationale", "advice_reference"}) {
    v1::Envelope e = Valid();
    auto* d = e.mutable_declaration();
    const auto* f = d->GetDescriptor()->FindFieldByName(field);
    ASSERT_NE(f, nullptr) << field;
    d->GetReflection()->SetString(d, f, std::string(max, 'a'));
    EXPECT_TRUE(ValidateEnvelopeShape(e, limits).ok()) << field;
    d->GetReflection()->SetString(d, f, std::string(max + 1, 'a'));
    absl::Status st = ValidateEnvelopeShape(e, limits);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_EQ(st.message(), absl::StrCat("envelope.declaration.", field, ": is ", max + 1,
                                         " bytes; the limit (max_text_field_bytes) is ", max));
  }
}

TEST(DeclarationShapeTest, TheSubjectReferenceIsAKeyedHashNeverFreeText) {
  const std::string good(64, 'a');
  v1::Envelope e = Valid();
  e.mutable_declaration()->set_subject_reference(good);
  EXPECT_TRUE(ValidateEnvelopeShape(e).ok());
  e.mutable_declaration()->clear_subject_reference();
  EXPECT_TRUE(ValidateEnvelopeShape(e).ok()) << "optional";
  for (const std::string bad :
       {std::string("Jane Doe 2014-03-02"), std::string("943 476 5919"), std::string(63, 'a'),
        std::string(65, 'a'), std::string(64, 'A'), good.substr(0, 63) + "g"}) {
    e.mutable_declaration()->set_subject_reference(bad);
    absl::Status st = ValidateEnvelopeShape(e);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StrContains(st.message(), "envelope.declaration.subject_reference"))
        << st.message();
    EXPECT_TRUE(absl::StrContains(st.message(), "64 lowercase hex")) << st.message();
    // The value itself never comes back: it may be the identifier.
    EXPECT_FALSE(absl::StrContains(st.message(), bad)) << st.message();
  }
  EXPECT_TRUE(IsValidSubjectReference(good));
  EXPECT_FALSE(IsValidSubjectReference("Jane Doe"));
}

TEST(DeclarationLimitsTest, EveryStringFieldOfTheDeclarationIsWalked) {
  // Whatever text fields the declaration gains, none escapes the bound.
  DeclarationLimits limits;
  limits.max_text_field_bytes = 4;
  const auto* desc = v1::SharingDeclaration::descriptor();
  int walked = 0;
  for (int i = 0; i < desc->field_count(); ++i) {
    const auto* f = desc->field(i);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) continue;
    v1::SharingDeclaration d;
    if (f->is_repeated()) {
      d.GetReflection()->AddString(&d, f, "12345");
    } else {
      d.GetReflection()->SetString(&d, f, "12345");
    }
    absl::Status st = ValidateDeclaration(d, limits);
    EXPECT_NE(st.message().find("max_text_field_bytes"), std::string::npos) << f->name();
    ++walked;
  }
  EXPECT_GE(walked, 4);
}

TEST(DeclarationLimitsTest, RepeatedFieldsAreBounded) {
  const DeclarationLimits limits;
  v1::Envelope e = Valid();
  auto* d = e.mutable_declaration();
  for (size_t i = 0; i < limits.max_repeated_entries; ++i) {
    d->add_concern_categories(v1::CONCERN_CATEGORY_PHYSICAL_ABUSE);
  }
  EXPECT_TRUE(ValidateEnvelopeShape(e, limits).ok());
  d->add_concern_categories(v1::CONCERN_CATEGORY_PHYSICAL_ABUSE);
  absl::Status st = ValidateEnvelopeShape(e, limits);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      st.message(),
      absl::StrCat("envelope.declaration.concern_categories: has ", limits.max_repeated_entries + 1,
                   " entries; the limit (max_repeated_entries) is ", limits.max_repeated_entries));
}

TEST(DeclarationLimitsTest, TheSerializedDeclarationIsBounded) {
  DeclarationLimits limits;
  limits.max_text_field_bytes = 1 << 20;  // only the total is tested here
  v1::Envelope e = Valid();
  const size_t base = e.declaration().ByteSizeLong();
  // necessity_justification: tag (1 byte) + 2-byte length + text.
  e.mutable_declaration()->set_necessity_justification(
      std::string(limits.max_declaration_bytes - base - 3, 'j'));
  ASSERT_EQ(e.declaration().ByteSizeLong(), limits.max_declaration_bytes);
  EXPECT_TRUE(ValidateEnvelopeShape(e, limits).ok());
  e.mutable_declaration()->mutable_necessity_justification()->push_back('j');
  absl::Status st = ValidateEnvelopeShape(e, limits);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("envelope.declaration: is"), std::string::npos) << st;
  EXPECT_NE(st.message().find("max_declaration_bytes"), std::string::npos) << st;
}

TEST(DeclarationLimitsTest, UnknownEnumValuesAreRefusedAnywhere) {
  struct Case {
    const char* field;
    void (*mutate)(v1::Envelope&);
  };
  const Case cases[] = {
      {"declaration.purpose",
       [](v1::Envelope& e) {
         e.mutable_declaration()->set_purpose(static_cast<v1::Purpose>(999));
       }},
      {"declaration.data_categories[1]",
       [](v1::Envelope& e) {
         e.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_HEALTH);
         e.mutable_declaration()->add_data_categories(static_cast<v1::DataCategory>(999));
       }},
      {"declaration.urgency",
       [](v1::Envelope& e) { e.mutable_declaration()->set_urgency(static_cast<v1::Urgency>(77)); }},
      {"sender_practitioner.role",
       [](v1::Envelope& e) {
         e.mutable_sender_practitioner()->set_role(static_cast<v1::PractitionerRole>(555));
       }},
  };
  for (const Case& c : cases) {
    v1::Envelope e = Valid();
    c.mutate(e);
    absl::Status st = ValidateEnvelopeShape(e);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_TRUE(absl::StartsWith(st.message(), absl::StrCat("envelope.", c.field, ": ")))
        << st.message();
    EXPECT_NE(st.message().find("is not a known"), std::string::npos) << st.message();
  }
}

TEST(EnvelopeShapeTest, ParseRefusesEmptyGarbageAndUnknownFields) {
  EXPECT_EQ(ParseEnvelope("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEnvelope("\xff\xff\xff").status().code(), absl::StatusCode::kInvalidArgument);
  std::string bytes = Valid().SerializeAsString();
  EXPECT_TRUE(ParseEnvelope(bytes).ok());
  // Unknown field inside the nested declaration (field 100, varint).
  v1::Envelope e = Valid();
  e.mutable_declaration()
      ->GetReflection()
      ->MutableUnknownFields(e.mutable_declaration())
      ->AddVarint(100, 1);
  EXPECT_EQ(ParseEnvelope(e.SerializeAsString()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EnvelopeShapeTest, IdsFollowTheirAlphabets) {
  EXPECT_TRUE(IsValidAgencyId("isle-of-wight"));
  EXPECT_FALSE(IsValidAgencyId("-leading"));
  EXPECT_FALSE(IsValidAgencyId("trailing-"));
  EXPECT_FALSE(IsValidAgencyId("UPPER"));
  EXPECT_FALSE(IsValidAgencyId(""));
  EXPECT_TRUE(IsValidMessageId("a.b_c:d-e"));
  EXPECT_FALSE(IsValidMessageId("a/b"));
}

TEST(DigestTest, Sha256MatchesTheKnownVector) {
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// The created time is judged against the clock, within the window: ahead by
// clock skew at most, behind by a sender's queued retries at most.
TEST(CreatedTimeTest, AcceptsTheWindowAndRefusesBeyondItWithAReason) {
  const absl::Time now = absl::FromUnixSeconds(1780000000);
  const CreatedTimeWindow window;  // 5 minutes ahead, 24 hours back
  auto at = [&](absl::Time t) {
    v1::Envelope e = Valid();
    e.mutable_created_time()->set_seconds(absl::ToUnixSeconds(t));
    e.mutable_created_time()->set_nanos(0);
    return CheckCreatedTime(e, now, window);
  };
  auto reason = [](const absl::Status& st) {
    auto info = ReasonOf(st);
    return info.has_value() ? info->reason() : std::string("(none)");
  };
  EXPECT_TRUE(at(now).ok());
  EXPECT_TRUE(at(now + absl::Minutes(5)).ok());
  EXPECT_TRUE(at(now - absl::Hours(24)).ok());

  absl::Status ahead = at(now + absl::Minutes(5) + absl::Seconds(1));
  EXPECT_EQ(ahead.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reason(ahead), "CREATED_TIME_IN_FUTURE");
  EXPECT_TRUE(absl::StrContains(ahead.message(), "envelope.created_time")) << ahead;
  EXPECT_EQ(ReasonOf(ahead)->domain(), "safeshare.uk");

  absl::Status old = at(now - absl::Hours(24) - absl::Seconds(1));
  EXPECT_EQ(old.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reason(old), "CREATED_TIME_TOO_OLD");
  EXPECT_EQ(ReasonOf(old)->metadata().at("maxAgeSeconds"), "86400");

  // What the issue found accepted: the first and last days a Timestamp holds.
  EXPECT_EQ(reason(at(absl::FromUnixSeconds(0))), "CREATED_TIME_TOO_OLD");
  EXPECT_EQ(reason(at(absl::FromUnixSeconds(253402300799))), "CREATED_TIME_IN_FUTURE");

  v1::Envelope bad = Valid();
  bad.mutable_created_time()->set_nanos(-1);
  EXPECT_EQ(reason(CheckCreatedTime(bad, now, window)), "CREATED_TIME_INVALID");
  bad.mutable_created_time()->set_nanos(0);
  bad.mutable_created_time()->set_seconds(253402300800);
  EXPECT_EQ(reason(CheckCreatedTime(bad, now, window)), "CREATED_TIME_INVALID");

  // A wider window is the operator's to choose.
  EXPECT_TRUE(CheckCreatedTime(Valid(), absl::FromUnixSeconds(1764000000) + absl::Hours(70),
                               CreatedTimeWindow{absl::Minutes(5), absl::Hours(72)})
                  .ok());
}

}  // namespace
}  // namespace safeshare::envelope
