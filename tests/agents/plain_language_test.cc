// What practitioners read (agents/web/plain_language.h): labels, form
// choices, the golden rules' titles, and the NHS number's check digit.

#include "agents/web/plain_language.h"

#include <gtest/gtest.h>

#include "safeshare/v1/enums.pb.h"

namespace safeshare::web {
namespace {

namespace v1 = safeshare::v1;

TEST(PlainLanguageTest, ValuesReadAsWordsNotEnumNames) {
  EXPECT_EQ(Label(v1::LAWFUL_BASIS_PUBLIC_TASK),
            "Public task: your organisation's statutory functions (UK GDPR Art 6(1)(e))");
  EXPECT_EQ(Label(v1::MESSAGE_KIND_DECLINE_TO_SHARE), "Decline to share");
  EXPECT_EQ(Label(v1::NOT_INFORMED_REASON_NOT_PRACTICABLE), "Not practicable");  // from its name
  EXPECT_EQ(Label(static_cast<v1::LawfulBasis>(99)), "Not recognised");
}

TEST(PlainLanguageTest, ChoicesOfferEveryValueButUnspecified) {
  auto choices = Choices<v1::Urgency>();
  ASSERT_EQ(choices.size(), 3u);
  EXPECT_EQ(choices[0].first, "URGENCY_IMMEDIATE");
  EXPECT_EQ(choices[0].second, "Immediate: a child is at risk now");
  for (const auto& [value, label] : Choices<v1::DataCategory>()) {
    EXPECT_NE(value, "DATA_CATEGORY_UNSPECIFIED");
    EXPECT_FALSE(label.empty());
  }
}

TEST(PlainLanguageTest, EveryGoldenRuleHasATitleAndWording) {
  for (const char* check : {"lawful_basis", "openness", "consent", "advice", "protect_identities",
                            "necessity_proportionality", "record"}) {
    EXPECT_NE(CheckTitle(check), check);
    EXPECT_FALSE(CheckWording(check).empty()) << check;
  }
  EXPECT_EQ(CheckTitle("a_new_check"), "a_new_check");
}

}  // namespace
}  // namespace safeshare::web
