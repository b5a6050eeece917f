// Typed content (envelope/content.h): the consistent child identifier, its
// check digit, its agreement with the declaration, and the subject reference
// agencies derive from it.

#include "envelope/content.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
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

// True when `message` repeats `number` whole, as given or without spaces, or
// any four consecutive digits of it: refusals name the field only.
bool EchoesNumber(absl::string_view message, const std::string& number) {
  std::string digits;
  for (char c : number) {
    if (c != ' ') digits += c;
  }
  if (absl::StrContains(message, number) || absl::StrContains(message, digits)) return true;
  for (size_t i = 0; i + 4 <= digits.size(); ++i) {
    if (absl::StrContains(message, digits.substr(i, 4))) return true;
  }
  return false;
}

// Spec 5.2 rule 1: a message field counts once present, even with nothing set.
TEST(ContentTest, APresentButEmptyCategorisedFieldStillCounts) {
  v1::SealedContent c;
  c.mutable_referral()->mutable_record();
  // An uncategorised container counts as nothing by itself.
  EXPECT_TRUE(CategoriesIn(c).empty());
  c.mutable_referral()->mutable_record()->mutable_contact();
  const std::set<v1::DataCategory> contact = {v1::DATA_CATEGORY_CONTACT_DETAILS};
  EXPECT_EQ(CategoriesIn(c), contact);
  // The recipient sees it too: an empty message field survives the wire.
  auto parsed = ParseContent(c.SerializeAsString());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(CategoriesIn(*parsed), contact);
  // So it must be declared.
  v1::SharingDeclaration d;
  absl::Status st = CheckContentAgainstDeclaration(c, v1::MESSAGE_KIND_REFERRAL, d);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(st.message(), "DATA_CATEGORY_CONTACT_DETAILS")) << st;
  d.add_data_categories(v1::DATA_CATEGORY_CONTACT_DETAILS);
  EXPECT_TRUE(CheckContentAgainstDeclaration(c, v1::MESSAGE_KIND_REFERRAL, d).ok());
}

// Spec 5.2 rule 1: the walk stops at a categorised field, so a family
// member's identity is FAMILY_COMPOSITION and never IDENTITY.
TEST(ContentTest, TheWalkDoesNotLookInsideACategorisedField) {
  v1::SealedContent c = Referral("", "4857773457");
  c.mutable_referral()->mutable_record()->clear_child();
  c.mutable_referral()->mutable_record()->mutable_family(0)->mutable_identity()->set_given_names(
      "Jo");
  const std::set<v1::DataCategory> family = {v1::DATA_CATEGORY_FAMILY_COMPOSITION};
  EXPECT_EQ(CategoriesIn(c), family);
  v1::SharingDeclaration d;
  d.add_data_categories(v1::DATA_CATEGORY_FAMILY_COMPOSITION);
  absl::Status st = CheckContentAgainstDeclaration(c, v1::MESSAGE_KIND_REFERRAL, d);
  EXPECT_TRUE(st.ok()) << st;
}

// Spec 5.1 / R13: exactly the kind's field, else FAILED_PRECONDITION.
TEST(ContentTest, ContentOfAnotherKindOrNoneIsAFailedPrecondition) {
  v1::SealedContent referral;
  referral.mutable_referral()->mutable_record()->set_concern_details("x");
  // Everything the content carries is declared, so only the kind rule refuses.
  v1::SharingDeclaration d;
  d.add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
  ASSERT_TRUE(CheckContentAgainstDeclaration(referral, v1::MESSAGE_KIND_REFERRAL, d).ok());
  for (v1::MessageKind kind :
       {v1::MESSAGE_KIND_INFORMATION_REQUEST, v1::MESSAGE_KIND_INFORMATION_RESPONSE,
        v1::MESSAGE_KIND_DECLINE_TO_SHARE, v1::MESSAGE_KIND_OUTCOME, v1::MESSAGE_KIND_ESCALATION,
        v1::MESSAGE_KIND_OPERATION_ENCOMPASS, v1::MESSAGE_KIND_UNSPECIFIED}) {
    absl::Status st = CheckContentAgainstDeclaration(referral, kind, d);
    EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << v1::MessageKind_Name(kind);
    EXPECT_EQ(st.message(),
              "payload content does not match the envelope kind " + v1::MessageKind_Name(kind));
  }
  // A response carries the same record; the oneof case still tells them apart.
  v1::SealedContent response;
  response.mutable_information_response()->mutable_record()->set_concern_details("x");
  EXPECT_EQ(CheckContentAgainstDeclaration(response, v1::MESSAGE_KIND_REFERRAL, d).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      CheckContentAgainstDeclaration(response, v1::MESSAGE_KIND_INFORMATION_RESPONSE, d).ok());
  // No field set: refused for every kind, including those with no content
  // field (ESCALATION, UNSPECIFIED), where "set case == kind's case" would hold.
  const v1::SealedContent none;
  for (v1::MessageKind kind :
       {v1::MESSAGE_KIND_REFERRAL, v1::MESSAGE_KIND_DECLINE_TO_SHARE, v1::MESSAGE_KIND_OUTCOME,
        v1::MESSAGE_KIND_ESCALATION, v1::MESSAGE_KIND_UNSPECIFIED}) {
    EXPECT_EQ(CheckContentAgainstDeclaration(none, kind, d).code(),
              absl::StatusCode::kFailedPrecondition)
        << v1::MessageKind_Name(kind);
  }
}

// Spec 5.3: INCLUDED applies to every kind, so a kind without a `child`
// (decline, outcome) cannot claim it.
TEST(ContentTest, IncludedIsRefusedOnContentWithoutAChild) {
  v1::SealedContent decline;
  decline.mutable_decline()->set_explanation("not proportionate");
  v1::SealedContent outcome;
  outcome.mutable_outcome()->set_summary("strategy discussion held");
  struct Case {
    const v1::SealedContent* content;
    v1::MessageKind kind;
    v1::DataCategory category;
  };
  for (const Case& c :
       {Case{&decline, v1::MESSAGE_KIND_DECLINE_TO_SHARE, v1::DATA_CATEGORY_CONCERN_DETAILS},
        Case{&outcome, v1::MESSAGE_KIND_OUTCOME, v1::DATA_CATEGORY_SOCIAL_CARE_HISTORY}}) {
    const std::string kind = v1::MessageKind_Name(c.kind);
    v1::SharingDeclaration d = Declared(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED);
    d.add_data_categories(c.category);
    EXPECT_EQ(CheckIdentifiers(*c.content, d).code(), absl::StatusCode::kInvalidArgument) << kind;
    // Through the full check too: categories pass, the identifier refuses.
    EXPECT_EQ(CheckContentAgainstDeclaration(*c.content, c.kind, d).code(),
              absl::StatusCode::kInvalidArgument)
        << kind;
    d.set_consistent_identifier(v1::CONSISTENT_IDENTIFIER_STATUS_UNSPECIFIED);
    EXPECT_TRUE(CheckContentAgainstDeclaration(*c.content, c.kind, d).ok()) << kind;
    d.set_consistent_identifier(v1::CONSISTENT_IDENTIFIER_STATUS_NOT_HELPFUL);
    EXPECT_TRUE(CheckContentAgainstDeclaration(*c.content, c.kind, d).ok()) << kind;
  }
}

// Only a path ending .child.nhs_number is the child's (spec 5.3).
TEST(ContentTest, AFamilyMembersNhsNumberIsNotTheChilds) {
  const std::string parent = "4857773457";
  absl::Status st =
      CheckIdentifiers(Referral("", parent), Declared(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(EchoesNumber(st.message(), parent)) << st;
  // Nor does a parent's number break a reason for leaving the child's out.
  st = CheckIdentifiers(Referral("", parent),
                        Declared(v1::CONSISTENT_IDENTIFIER_STATUS_NOT_HELPFUL));
  EXPECT_TRUE(st.ok()) << st;
  // A request's child is the child too.
  v1::SealedContent request;
  request.mutable_information_request()->mutable_child()->set_nhs_number("943 476 5919");
  EXPECT_TRUE(CheckIdentifiers(request, Declared(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED)).ok());
}

TEST(ContentTest, AnyReasonForLeavingTheNumberOutForbidsIt) {
  const std::string child = "943 476 5919";
  for (v1::ConsistentIdentifierStatus s :
       {v1::CONSISTENT_IDENTIFIER_STATUS_NOT_HELPFUL,
        v1::CONSISTENT_IDENTIFIER_STATUS_MORE_DETRIMENTAL,
        v1::CONSISTENT_IDENTIFIER_STATUS_UNKNOWN_UNREASONABLE_DELAY}) {
    const std::string name = v1::ConsistentIdentifierStatus_Name(s);
    absl::Status st = CheckIdentifiers(Referral(child), Declared(s));
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_TRUE(absl::StrContains(st.message(), name)) << st;
    EXPECT_FALSE(EchoesNumber(st.message(), child)) << st;
    EXPECT_TRUE(CheckIdentifiers(Referral(""), Declared(s)).ok()) << name;
  }
}

TEST(ContentTest, SpacesInTheWrongPlaceMakeAnNhsNumberInvalid) {
  // The same digits as the valid "943 476 5919", grouped otherwise.
  EXPECT_FALSE(IsValidNhsNumber("9434 765 919"));
  EXPECT_FALSE(IsValidNhsNumber("943 4765 919"));
  EXPECT_FALSE(IsValidNhsNumber("943 476 5919 "));
  EXPECT_FALSE(IsValidNhsNumber("943 476 591 9"));
  const std::string bad = "9434 765 919";
  absl::Status st =
      CheckIdentifiers(Referral(bad), Declared(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(st.message(), "referral.record.child.nhs_number ")) << st;
  EXPECT_FALSE(EchoesNumber(st.message(), bad)) << st;
  // The same for a family member's number, named by its own path.
  st = CheckIdentifiers(Referral("9434765919", bad),
                        Declared(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED));
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(st.message(), "referral.record.family[0].identity.nhs_number "))
      << st;
  EXPECT_FALSE(EchoesNumber(st.message(), bad)) << st;
}

}  // namespace
}  // namespace safeshare::envelope
