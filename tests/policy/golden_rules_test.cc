// The table of checks: the seven golden rules, named in rule order, and
// Decide's findings follow it one for one.
#include "policy/golden_rules.h"

#include <string>

#include "gtest/gtest.h"
#include "policy/isa.h"
#include "policy/policy_engine.h"
#include "tests/policy/policy_test_util.h"

namespace safeshare::policy {
namespace {

namespace v1 = safeshare::v1;
using ::safeshare::policy::testing::DevFederation;
using ::safeshare::policy::testing::ExampleEnvelope;
using ::safeshare::policy::testing::kExamples;
using ::safeshare::policy::testing::SourcePath;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 11, 25, 10, 0, 0), absl::UTCTimeZone());

TEST(GoldenRules, NameTheSevenChecksInRuleOrder) {
  const char* const names[] = {"lawful_basis", "openness",           "consent",
                               "advice",       "protect_identities", "necessity_proportionality",
                               "record"};
  ASSERT_EQ(GoldenRules().size(), 7u);
  for (size_t i = 0; i < GoldenRules().size(); ++i) {
    EXPECT_EQ(std::string(GoldenRules()[i].check), names[i]);
    EXPECT_EQ(std::string(GoldenRules()[i].check), kChecks[i]);
    EXPECT_NE(GoldenRules()[i].run, nullptr);
  }
}

TEST(GoldenRules, LabelEachRuleUnderBothPacks) {
  const char* const rules_2018[] = {"2018 rules 1 & 4", "2018 rule 2", "2018 rule 4", "2018 rule 3",
                                    "2018 rule 5",      "2018 rule 6", "2018 rule 7"};
  const char* const rules_2024[] = {"2024 rules 1 & 3", "2024 rule 2", "2024 rule 3", "2024 rule 4",
                                    "2024 rule 5",      "2024 rule 6", "2024 rule 7"};
  for (size_t i = 0; i < GoldenRules().size(); ++i) {
    EXPECT_EQ(std::string(RuleLabel(GoldenRules()[i], RulePack::k2018)), rules_2018[i]);
    EXPECT_EQ(std::string(RuleLabel(GoldenRules()[i], RulePack::k2024)), rules_2024[i]);
  }
}

// Each finding of Decide is its row's function over the one decision input.
TEST(GoldenRules, DecideFollowsTheTable) {
  const v1::Federation federation = DevFederation();
  absl::StatusOr<IsaSet> isas = LoadIsaDirectory(SourcePath("deploy/isa"), &federation);
  ASSERT_TRUE(isas.ok()) << isas.status();
  const AgreementIndex index(isas->agreements, federation);
  auto engine = PolicyEngine::Create(*std::move(isas), federation);
  ASSERT_TRUE(engine.ok()) << engine.status();
  for (const auto& example : kExamples) {
    v1::Envelope envelopes[2] = {ExampleEnvelope(example), ExampleEnvelope(example)};
    // And one that fails and holds: no practitioner, advice requested.
    envelopes[1].clear_sender_practitioner();
    envelopes[1].mutable_declaration()->set_advice_status(v1::ADVICE_STATUS_REQUESTED);
    for (const v1::Envelope& e : envelopes) {
      for (RulePack pack : {RulePack::k2018, RulePack::k2024}) {
        const v1::PolicyDecision d = (*engine)->Decide(e, kNow, pack);
        const DecisionInput in = MakeDecisionInput(e, kNow, pack, nullptr, index);
        ASSERT_EQ(d.findings_size(), static_cast<int>(GoldenRules().size()));
        for (size_t i = 0; i < GoldenRules().size(); ++i) {
          const GoldenRule& rule = GoldenRules()[i];
          const v1::Finding expected = rule.run(in);
          const v1::Finding& f = d.findings(static_cast<int>(i));
          EXPECT_EQ(f.check(), rule.check);
          EXPECT_EQ(f.rule(), RuleLabel(rule, pack));
          EXPECT_EQ(f.outcome(), expected.outcome()) << example.file << " " << rule.check;
          EXPECT_EQ(f.reason(), expected.reason()) << example.file << " " << rule.check;
        }
      }
    }
  }
}

}  // namespace
}  // namespace safeshare::policy
