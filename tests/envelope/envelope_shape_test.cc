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

// The refusal's reason and the field its metadata names; "(none)" if absent.
std::string ReasonName(const absl::Status& st) {
  auto info = ReasonOf(st);
  return info.has_value() ? info->reason() : std::string("(none)");
}
std::string ReasonMetadata(const absl::Status& st, const std::string& key) {
  auto info = ReasonOf(st);
  if (!info.has_value() || info->metadata().count(key) == 0) return "(none)";
  return info->metadata().at(key);
}

// A copy of a team message as the agent makes it (spec 3.1): its id is
// <team_message_id>:<recipient_agency_id>.
v1::Envelope TeamCopy() {
  v1::Envelope e = Valid();
  e.set_team_id("hiow-strategy");
  e.set_team_message_id("4f1c2a7e-8d2b-4c1e-9f0a-1b2c3d4e5f60");
  e.set_message_id("4f1c2a7e-8d2b-4c1e-9f0a-1b2c3d4e5f60:portsmouth-mash");
  return e;
}

TEST(EnvelopeShapeTest, AWellFormedTeamCopyOfAReferralOrRequestIsAccepted) {
  // The positive case, so the refusals below are the rule and not the helper.
  absl::Status referral = ValidateEnvelopeShape(TeamCopy());
  EXPECT_TRUE(referral.ok()) << referral;
  v1::Envelope request = TeamCopy();
  request.set_kind(v1::MESSAGE_KIND_INFORMATION_REQUEST);
  request.mutable_declaration()->add_requested_categories(v1::DATA_CATEGORY_HEALTH);
  absl::Status st = ValidateEnvelopeShape(request);
  EXPECT_TRUE(st.ok()) << st;
}

TEST(EnvelopeShapeTest, TeamCopiesAreRefusedNamingTheTeamField) {
  struct Case {
    const char* field;
    void (*mutate)(v1::Envelope&);
  };
  const Case cases[] = {
      {"team_id", [](v1::Envelope& e) { e.set_team_id("Strategy Team"); }},
      {"team_id", [](v1::Envelope& e) { e.set_team_id("hiow-strategy-"); }},
      {"team_id", [](v1::Envelope& e) { e.set_team_id(std::string(65, 't')); }},
      {"team_id", [](v1::Envelope& e) { e.clear_team_id(); }},  // team_message_id alone
      {"team_message_id", [](v1::Envelope& e) { e.set_team_message_id("team/1"); }},
      {"team_message_id", [](v1::Envelope& e) { e.clear_team_message_id(); }},  // team_id alone
      // The message_id stays valid, so only the reserved-prefix rule can name
      // team_message_id here (without it the id-match rule names message_id).
      {"team_message_id", [](v1::Envelope& e) { e.set_team_message_id("gw-esc-0123"); }},
      {"message_id",
       [](v1::Envelope& e) {
         e.set_message_id("4f1c2a7e-8d2b-4c1e-9f0a-1b2c3d4e5f60:iow-mash");  // another member
       }},
      {"message_id",
       [](v1::Envelope& e) { e.set_message_id("4f1c2a7e-8d2b-4c1e-9f0a-1b2c3d4e5f60"); }},
      // Replies and Operation Encompass are never sent to a team.
      {"kind",
       [](v1::Envelope& e) {
         e.set_kind(v1::MESSAGE_KIND_OUTCOME);
         e.set_in_reply_to("ref-1");
       }},
      {"kind",
       [](v1::Envelope& e) {
         e.set_kind(v1::MESSAGE_KIND_DECLINE_TO_SHARE);
         e.set_in_reply_to("req-1");
       }},
      {"kind",
       [](v1::Envelope& e) {
         e.set_kind(v1::MESSAGE_KIND_INFORMATION_RESPONSE);
         e.set_in_reply_to("req-1");
       }},
      {"kind", [](v1::Envelope& e) { e.set_kind(v1::MESSAGE_KIND_OPERATION_ENCOMPASS); }},
  };
  for (const Case& c : cases) {
    v1::Envelope e = TeamCopy();
    c.mutate(e);
    absl::Status st = ValidateEnvelopeShape(e);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.field << ": " << st;
    // Starts with the field: the message_id refusal's text also mentions team_message_id.
    EXPECT_TRUE(absl::StartsWith(st.message(), absl::StrCat("envelope.", c.field, ": ")))
        << c.field << ": " << st.message();
    EXPECT_EQ(ReasonName(st), "ENVELOPE_MALFORMED") << c.field;
    EXPECT_EQ(ReasonMetadata(st, "field"), absl::StrCat("envelope.", c.field)) << c.field;
  }
}

TEST(EnvelopeShapeTest, PractitionerIdIsAtMost128Bytes) {
  v1::Envelope e = Valid();
  e.mutable_sender_practitioner()->set_id(std::string(128, 'p'));
  EXPECT_TRUE(ValidateEnvelopeShape(e).ok());
  e.mutable_sender_practitioner()->set_id(std::string(129, 'p'));
  absl::Status st = ValidateEnvelopeShape(e);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(st.message(), "envelope.sender_practitioner.id: ")) << st;
  EXPECT_EQ(ReasonName(st), "ENVELOPE_MALFORMED");
  EXPECT_EQ(ReasonMetadata(st, "field"), "envelope.sender_practitioner.id");
  // Bytes, not characters: 65 two-byte characters are 130 bytes.
  std::string wide;
  for (int i = 0; i < 65; ++i) wide += "\xc3\xa9";
  e.mutable_sender_practitioner()->set_id(wide);
  EXPECT_EQ(ValidateEnvelopeShape(e).code(), absl::StatusCode::kInvalidArgument);
}

TEST(EnvelopeShapeTest, AgencyIdsAreAtMost64LowercaseCharactersWithoutEdgeHyphens) {
  EXPECT_TRUE(IsValidAgencyId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidAgencyId(std::string(65, 'a')));
  EXPECT_TRUE(IsValidAgencyId("a"));
  EXPECT_TRUE(IsValidAgencyId("0-9"));
  EXPECT_FALSE(IsValidAgencyId("-"));
  EXPECT_FALSE(IsValidAgencyId("portsmouth_mash"));
  EXPECT_TRUE(IsValidMessageId(std::string(128, 'a')));
  EXPECT_FALSE(IsValidMessageId(std::string(129, 'a')));

  v1::Envelope longest = Valid();
  longest.set_sender_agency_id(std::string(64, 's'));
  longest.set_recipient_agency_id(std::string(64, 'r'));
  EXPECT_TRUE(ValidateEnvelopeShape(longest).ok());
  for (const std::string bad :
       {std::string(65, 'a'), std::string("-hiow-police"), std::string("hiow-police-"),
        std::string("HIOW-police"), std::string("Hiow-police")}) {
    v1::Envelope s = Valid();
    s.set_sender_agency_id(bad);
    absl::Status st = ValidateEnvelopeShape(s);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(ReasonMetadata(st, "field"), "envelope.sender_agency_id") << bad << ": " << st;
    v1::Envelope r = Valid();
    r.set_recipient_agency_id(bad);
    st = ValidateEnvelopeShape(r);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(ReasonMetadata(st, "field"), "envelope.recipient_agency_id") << bad << ": " << st;
  }
}

TEST(EnvelopeShapeTest, RequestedCategoriesAreKnownOnRequestsAndAbsentElsewhere) {
  v1::Envelope request = Valid();
  request.set_kind(v1::MESSAGE_KIND_INFORMATION_REQUEST);
  request.mutable_declaration()->add_requested_categories(v1::DATA_CATEGORY_HEALTH);
  ASSERT_TRUE(ValidateEnvelopeShape(request).ok());
  // UNSPECIFIED is a known enum value, so only this rule refuses it.
  request.mutable_declaration()->add_requested_categories(v1::DATA_CATEGORY_UNSPECIFIED);
  absl::Status st = ValidateEnvelopeShape(request);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "envelope.declaration.requested_categories: must hold known data categories");
  EXPECT_EQ(ReasonName(st), "ENVELOPE_MALFORMED");
  EXPECT_EQ(ReasonMetadata(st, "field"), "envelope.declaration.requested_categories");
  request.mutable_declaration()->clear_requested_categories();
  request.mutable_declaration()->add_requested_categories(v1::DATA_CATEGORY_UNSPECIFIED);
  EXPECT_EQ(ValidateEnvelopeShape(request).code(), absl::StatusCode::kInvalidArgument);

  v1::Envelope referral = Valid();
  referral.mutable_declaration()->add_requested_categories(v1::DATA_CATEGORY_HEALTH);
  st = ValidateEnvelopeShape(referral);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "envelope.declaration.requested_categories: only requests ask for categories");
  EXPECT_EQ(ReasonMetadata(st, "field"), "envelope.declaration.requested_categories");
  v1::Envelope response = Valid();
  response.set_kind(v1::MESSAGE_KIND_INFORMATION_RESPONSE);
  response.set_in_reply_to("req-1");
  ASSERT_TRUE(ValidateEnvelopeShape(response).ok());
  response.mutable_declaration()->add_requested_categories(v1::DATA_CATEGORY_HEALTH);
  EXPECT_EQ(ValidateEnvelopeShape(response).message(),
            "envelope.declaration.requested_categories: only requests ask for categories");
}

// Clients branch on the reason, not the text (spec 8.1).
TEST(DeclarationLimitsTest, ATextFieldOverTheLimitCarriesItsReasonAndLimit) {
  const DeclarationLimits limits;
  ASSERT_EQ(limits.max_text_field_bytes, 2048u);  // the documented default
  v1::Envelope e = Valid();
  e.mutable_declaration()->set_necessity_justification(std::string(2049, 'j'));
  absl::Status st = ValidateEnvelopeShape(e, limits);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonName(st), "DECLARATION_OVER_LIMIT");
  EXPECT_EQ(ReasonMetadata(st, "limit"), "max_text_field_bytes");
  EXPECT_EQ(ReasonMetadata(st, "field"), "envelope.declaration.necessity_justification");
  EXPECT_EQ(ReasonOf(st)->domain(), "safeshare.uk");

  // The same from ValidateDeclaration alone.
  v1::SharingDeclaration d;
  d.set_consent_rationale(std::string(2049, 'c'));
  st = ValidateDeclaration(d);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonName(st), "DECLARATION_OVER_LIMIT");
  EXPECT_EQ(ReasonMetadata(st, "limit"), "max_text_field_bytes");
  EXPECT_EQ(ReasonMetadata(st, "field"), "envelope.declaration.consent_rationale");
  d.set_consent_rationale(std::string(2048, 'c'));
  EXPECT_TRUE(ValidateDeclaration(d).ok());
}

}  // namespace
}  // namespace safeshare::envelope
