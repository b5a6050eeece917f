// Typed content (envelope/content.h): the consistent child identifier, its
// check digit, its agreement with the declaration, and the subject reference
// agencies derive from it.

#include "envelope/content.h"

#include "gtest/gtest.h"

namespace safeshare::envelope {
namespace {

namespace v1 = safeshare::v1;

TEST(ContentTest, NhsNumbersNeedTenDigitsAndTheirCheckDigit) {
  EXPECT_TRUE(IsValidNhsNumber("9434765919"));
  EXPECT_TRUE(IsValidNhsNumber("943 476 5919"));
  EXPECT_TRUE(IsValidNhsNumber("485 777 3457"));
  EXPECT_FALSE(IsValidNhsNumber("943 476 5918"));  // one digit off
  EXPECT_FALSE(IsValidNhsNumber("485 777 3456"));
  EXPECT_FALSE(IsValidNhsNumber("943476591"));     // nine digits
  EXPECT_FALSE(IsValidNhsNumber("94347659190"));   // eleven
  EXPECT_FALSE(IsValidNhsNumber("943-476-5919"));  // only spaces between groups
  EXPECT_FALSE(IsValidNhsNumber(""));
  // A check digit that works out to 10 makes the number invalid whatever follows.
  EXPECT_FALSE(IsValidNhsNumber("1000000010"));
  EXPECT_FALSE(IsValidNhsNumber("1000000011"));
  EXPECT_TRUE(IsValidNhsNumber("1000000060"));  // a check digit of 11 reads as 0
}

TEST(ContentTest, SpacesOnlyBetweenTheThreeGroups) {
  EXPECT_FALSE(IsValidNhsNumber("94 34765919"));
  EXPECT_FALSE(IsValidNhsNumber("943  476 5919"));
  EXPECT_FALSE(IsValidNhsNumber(" 9434765919"));
}

v1::SealedContent Referral(const std::string& child_nhs, const std::string& parent_nhs = "") {
  v1::SealedContent c;
  auto* r = c.mutable_referral()->mutable_record();
  r->mutable_child()->set_given_names("Amelia");
  if (!child_nhs.empty()) r->mutable_child()->set_nhs_number(child_nhs);
  if (!parent_nhs.empty()) {
    auto* p = r->add_family();
    p->mutable_identity()->set_nhs_number(parent_nhs);
  }
  return c;
}

v1::SharingDeclaration Declared(v1::ConsistentIdentifierStatus s) {
  v1::SharingDeclaration d;
  d.set_consistent_identifier(s);
  return d;
}

TEST(ContentTest, TheIdentifierAgreesWithTheDeclaration) {
  EXPECT_TRUE(CheckIdentifiers(Referral("943 476 5919"),
                               Declared(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED))
                  .ok());
  EXPECT_TRUE(
      CheckIdentifiers(Referral(""), Declared(v1::CONSISTENT_IDENTIFIER_STATUS_MORE_DETRIMENTAL))
          .ok());
  // Saying nothing claims nothing (2024-era senders).
  EXPECT_TRUE(CheckIdentifiers(Referral("9434765919"),
                               Declared(v1::CONSISTENT_IDENTIFIER_STATUS_UNSPECIFIED))
                  .ok());
  auto missing =
      CheckIdentifiers(Referral(""), Declared(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED));
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  auto present = CheckIdentifiers(Referral("9434765919"),
                                  Declared(v1::CONSISTENT_IDENTIFIER_STATUS_NOT_HELPFUL));
  EXPECT_EQ(present.code(), absl::StatusCode::kInvalidArgument);
  auto bad =
      CheckIdentifiers(Referral("9434765918"), Declared(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED));
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  // The error names the field, never the number.
  EXPECT_NE(bad.message().find("referral.record.child.nhs_number"), std::string::npos) << bad;
  EXPECT_EQ(bad.message().find("9434765918"), std::string::npos) << bad;
}

TEST(ContentTest, EveryPersonsNhsNumberIsChecked) {
  auto st = CheckIdentifiers(Referral("9434765919", "4857773456"),
                             Declared(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_TRUE(CheckIdentifiers(Referral("9434765919", "4857773457"),
                               Declared(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED))
                  .ok());
}

TEST(ContentTest, TwoAgenciesDeriveTheSameSubjectReference) {
  const std::string key(32, 'k');
  auto a = SubjectReferenceFor("943 476 5919", key);
  auto b = SubjectReferenceFor("9434765919", key);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 64u);
  EXPECT_NE(*SubjectReferenceFor("9434765919", std::string(32, 'x')), *a);  // another federation
  EXPECT_NE(*SubjectReferenceFor("4857773457", key), *a);
  EXPECT_EQ(SubjectReferenceFor("9434765918", key).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SubjectReferenceFor("9434765919", "short").status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace safeshare::envelope
