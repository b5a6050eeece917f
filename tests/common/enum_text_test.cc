// Enum values as text: the prefix is cut once, in one place, for every enum.
#include "common/enum_text.h"

#include <vector>

#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "safeshare/v1/enums.pb.h"
#include "safeshare/v1/policy.pb.h"

namespace safeshare {
namespace {

namespace v1 = safeshare::v1;

TEST(EnumText, ReadsAsASentence) {
  EXPECT_EQ(EnumText(v1::CONSENT_STATUS_NOT_SOUGHT), "not sought");
  EXPECT_EQ(EnumText(v1::DATA_CATEGORY_CRIMINAL_OFFENCE), "criminal offence");
  EXPECT_EQ(EnumText(v1::PURPOSE_S47_ENQUIRY), "s47 enquiry");
  EXPECT_EQ(EnumText(v1::MESSAGE_KIND_INFORMATION_RESPONSE), "information response");
  EXPECT_EQ(EnumText(v1::ConsentStatus_descriptor(), v1::CONSENT_STATUS_GIVEN), "given");
}

TEST(EnumText, UnnamedNumbersAreUnrecognised) {
  EXPECT_EQ(EnumText(v1::DataCategory_descriptor(), 99), "unrecognised value");
  EXPECT_EQ(EnumText(v1::DataCategory_descriptor(), -1), "unrecognised value");
  EXPECT_EQ(EnumText(static_cast<v1::MessageKind>(42)), "unrecognised value");
  EXPECT_EQ(EnumShortName(v1::DataCategory_descriptor(), 99), "");
}

TEST(EnumShortName, CutsOnlyThePrefix) {
  EXPECT_EQ(EnumShortName(v1::FINDING_OUTCOME_FAIL), "FAIL");
  EXPECT_EQ(EnumShortName(v1::FINDING_OUTCOME_ADVICE), "ADVICE");
  EXPECT_EQ(EnumShortName(v1::DECISION_HOLD_FOR_ADVICE), "HOLD_FOR_ADVICE");
  EXPECT_EQ(EnumShortName(v1::AGENCY_ROLE_FRONT_DOOR), "FRONT_DOOR");
}

TEST(EnumPrefix, FollowsTheTypeName) {
  EXPECT_EQ(EnumPrefix(v1::DataCategory_descriptor()), "DATA_CATEGORY_");
  EXPECT_EQ(EnumPrefix(v1::SpecialCategoryCondition_descriptor()), "SPECIAL_CATEGORY_CONDITION_");
  EXPECT_EQ(EnumPrefix(v1::FindingOutcome_descriptor()), "FINDING_OUTCOME_");
}

// Every value of every safeshare.v1 enum carries its type's prefix, so that
// no text keeps a prefix because an enum is named differently.
TEST(EnumPrefix, EveryValueOfTheWireContractCarriesIt) {
  const std::vector<const google::protobuf::FileDescriptor*> files = {
      v1::DataCategory_descriptor()->file(), v1::FindingOutcome_descriptor()->file()};
  int enums = 0;
  for (const auto* file : files) {
    for (int e = 0; e < file->enum_type_count(); ++e) {
      const auto* type = file->enum_type(e);
      ++enums;
      for (int v = 0; v < type->value_count(); ++v) {
        EXPECT_EQ(type->value(v)->name().rfind(EnumPrefix(type), 0), 0u)
            << type->full_name() << " " << type->value(v)->name();
        EXPECT_FALSE(EnumShortName(type, type->value(v)->number()).empty());
      }
    }
  }
  EXPECT_GT(enums, 20);
}

}  // namespace
}  // namespace safeshare
