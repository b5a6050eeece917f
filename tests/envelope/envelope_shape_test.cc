#include "envelope/envelope_shape.h"

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

}  // namespace
}  // namespace safeshare::envelope
