// Rule pack 2026: the 2024 advice plus the law since, each change on both
// sides of its commencement date (docs/domain.md, "Rule pack 2026"). Before
// a date the pack decides as 2024 does for that rule; every case of the
// 2024 table decides the same under 2026.
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "policy/policy_engine.h"
#include "tests/policy/golden_rules_cases.h"
#include "tests/policy/policy_test_util.h"

namespace safeshare::policy {
namespace {

namespace v1 = safeshare::v1;
using ::safeshare::policy::testing::DevFederation;

absl::Time Day(int y, int m, int d) {
  return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
}
const absl::Time kNow = Day(2026, 12, 4) + absl::Hours(10);

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

// The development federation with a youth club (a charity) in Portsmouth.
v1::Federation Federation() {
  v1::Federation f = DevFederation();
  auto* club = f.add_agencies();
  club->set_id("fratton-youth-club");
  club->set_display_name("Fratton Youth Club (charity)");
  club->set_area_id("portsmouth");
  club->add_roles(v1::AGENCY_ROLE_OTHER);
  club->set_sector(v1::AGENCY_SECTOR_VOLUNTARY);
  return f;
}

// `sender` -> Portsmouth MASH: referrals and responses under public task or
// a recognised legitimate interest.
v1::InformationSharingAgreement Isa(const std::string& sender) {
  v1::InformationSharingAgreement isa;
  isa.set_id(sender + "-pm");
  isa.set_title("Test agreement");
  isa.set_version("1");
  isa.add_parties()->set_agency_id(sender);
  isa.add_parties()->set_agency_id("portsmouth-mash");
  *isa.mutable_in_force_from() = Ts(Day(2025, 1, 1));
  *isa.mutable_review_by() = Ts(Day(2028, 1, 1));
  isa.set_content_retention_days(30);
  v1::IsaRule* rule = isa.add_rules();
  rule->add_senders()->set_agency_id(sender);
  rule->add_recipients()->set_agency_id("portsmouth-mash");
  rule->add_kinds(v1::MESSAGE_KIND_REFERRAL);
  rule->add_kinds(v1::MESSAGE_KIND_INFORMATION_RESPONSE);
  rule->add_purposes(v1::PURPOSE_SAFEGUARDING_REFERRAL);
  rule->add_purposes(v1::PURPOSE_EARLY_HELP);
  rule->add_purposes(v1::PURPOSE_RESPONSE_TO_REQUEST);
  rule->add_lawful_bases(v1::LAWFUL_BASIS_PUBLIC_TASK);
  rule->add_lawful_bases(v1::LAWFUL_BASIS_RECOGNISED_LEGITIMATE_INTEREST);
  for (auto c : {v1::DATA_CATEGORY_IDENTITY, v1::DATA_CATEGORY_CONCERN_DETAILS}) {
    rule->add_data_categories(c);
  }
  return isa;
}

// Operation Encompass: police -> the school, and -> the local authority for a
// child in elective home education.
v1::InformationSharingAgreement EncompassIsa() {
  v1::InformationSharingAgreement isa;
  isa.set_id("encompass");
  isa.set_title("Operation Encompass");
  isa.set_version("1");
  for (const char* party : {"hiow-police", "hiow-icb", "southsea-academy", "portsmouth-mash"}) {
    isa.add_parties()->set_agency_id(party);
  }
  *isa.mutable_in_force_from() = Ts(Day(2025, 1, 1));
  *isa.mutable_review_by() = Ts(Day(2028, 1, 1));
  isa.set_content_retention_days(30);
  v1::IsaRule* rule = isa.add_rules();
  for (const char* sender : {"hiow-police", "hiow-icb"}) rule->add_senders()->set_agency_id(sender);
  rule->add_recipients()->set_agency_id("southsea-academy");
  rule->add_recipients()->set_agency_id("portsmouth-mash");
  rule->add_kinds(v1::MESSAGE_KIND_OPERATION_ENCOMPASS);
  rule->add_purposes(v1::PURPOSE_OPERATION_ENCOMPASS);
  rule->add_lawful_bases(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
  for (auto c : {v1::DATA_CATEGORY_IDENTITY, v1::DATA_CATEGORY_DOMESTIC_ABUSE}) {
    rule->add_data_categories(c);
  }
  return isa;
}

std::unique_ptr<PolicyEngine> Engine(const v1::RuleCommencement& commencement = {}) {
  IsaSet set;
  set.agreements = {Isa("hiow-police"), Isa("fratton-youth-club"), EncompassIsa()};
  auto engine = PolicyEngine::Create(std::move(set), Federation(), commencement);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? std::move(*engine) : nullptr;
}

const v1::Finding& Finding(const v1::PolicyDecision& d, const std::string& check) {
  for (const auto& f : d.findings()) {
    if (f.check() == check) return f;
  }
  static const v1::Finding none;
  ADD_FAILURE() << "no " << check;
  return none;
}

v1::Envelope FromClub() {
  v1::Envelope e = cases::Base();
  e.set_sender_agency_id("fratton-youth-club");
  e.mutable_sender_practitioner()->set_role(v1::PRACTITIONER_ROLE_OTHER);
  auto& d = *e.mutable_declaration();
  d.set_lawful_basis(v1::LAWFUL_BASIS_RECOGNISED_LEGITIMATE_INTEREST);
  d.set_legitimate_interest_condition(
      v1::RECOGNISED_LEGITIMATE_INTEREST_CONDITION_SAFEGUARDING_VULNERABLE_INDIVIDUALS);
  d.set_statutory_gateway(v1::STATUTORY_GATEWAY_NONE);
  return e;
}

TEST(RulePack2026, NamesItselfAndTheDatedRulesInForce) {
  auto engine = Engine();
  const v1::PolicyDecision d = engine->Decide(cases::Base(), kNow, RulePack::k2026);
  EXPECT_EQ(d.rule_pack(), "golden-rules-2026");
  EXPECT_EQ(d.rule_pack_version(), "2026.1");
  EXPECT_EQ(d.findings(0).rule(), "2024 rules 1 & 3");  // the 2024 advice's rules
  // By default the identifier awaits regulations.
  EXPECT_EQ(std::vector<std::string>(d.rules_in_force().begin(), d.rules_in_force().end()),
            (std::vector<std::string>{"recognised_legitimate_interest (from 2026-02-05)",
                                      "duty_to_share (from 2026-09-30)",
                                      "operation_encompass_duty (from 2025-11-01)"}));
  EXPECT_TRUE(
      engine->Decide(cases::Base(), Day(2025, 10, 1), RulePack::k2026).rules_in_force().empty());
  EXPECT_TRUE(engine->Decide(cases::Base(), kNow, RulePack::k2024).rules_in_force().empty());
}

// With nothing new declared, 2026 decides every case of the 2024 table as
// 2024 does, whatever is in force.
TEST(RulePack2026, DecidesThe2024TableAs2024Does) {
  v1::RuleCommencement all;
  *all.mutable_consistent_identifier() = Ts(Day(2026, 1, 1));
  IsaSet set;
  auto engine = Engine(all);
  int compared = 0;
  for (const cases::Case& c : cases::Cases()) {
    if (c.only && *c.only != RulePack::k2024) continue;
    v1::Envelope e = cases::Base();
    c.mutate(e, *e.mutable_declaration());
    if (e.kind() == v1::MESSAGE_KIND_REFERRAL) {
      // The identifier rule is new: say it is included, as 2024 cannot ask.
      e.mutable_declaration()->set_consistent_identifier(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED);
    }
    const v1::PolicyDecision a = engine->Decide(e, kNow, RulePack::k2024);
    const v1::PolicyDecision b = engine->Decide(e, kNow, RulePack::k2026);
    EXPECT_EQ(a.decision(), b.decision()) << c.name;
    for (int i = 0; i < a.findings_size(); ++i) {
      EXPECT_EQ(a.findings(i).outcome(), b.findings(i).outcome())
          << c.name << " " << a.findings(i).check();
    }
    ++compared;
  }
  EXPECT_GT(compared, 20);
}

TEST(RulePack2026, RecognisedLegitimateInterestFromItsCommencement) {
  auto engine = Engine();
  EXPECT_EQ(engine->Decide(FromClub(), kNow, RulePack::k2026).decision(), v1::DECISION_ALLOW)
      << Finding(engine->Decide(FromClub(), kNow, RulePack::k2026), "lawful_basis").reason();
  // Before 5 February 2026, and under the 2024 pack, there is no such basis.
  const v1::PolicyDecision before = engine->Decide(FromClub(), Day(2026, 2, 4), RulePack::k2026);
  EXPECT_EQ(before.decision(), v1::DECISION_DENY);
  EXPECT_TRUE(absl::StrContains(Finding(before, "lawful_basis").reason(), "not in force"));
  EXPECT_EQ(engine->Decide(FromClub(), kNow, RulePack::k2024).decision(), v1::DECISION_DENY);
  // A configured date moves it.
  v1::RuleCommencement later;
  *later.mutable_recognised_legitimate_interest() = Ts(Day(2027, 1, 1));
  EXPECT_EQ(Engine(later)->Decide(FromClub(), kNow, RulePack::k2026).decision(), v1::DECISION_DENY);
}

TEST(RulePack2026, APublicAuthorityCannotRelyOnARecognisedLegitimateInterest) {
  v1::Envelope e = FromClub();
  e.set_sender_agency_id("hiow-police");
  const v1::PolicyDecision d = Engine()->Decide(e, kNow, RulePack::k2026);
  EXPECT_EQ(d.decision(), v1::DECISION_DENY);
  EXPECT_TRUE(absl::StrContains(Finding(d, "lawful_basis").reason(), "public authority"))
      << Finding(d, "lawful_basis").reason();
}

TEST(RulePack2026, TheAnnex1ConditionAndAPublicBodysStatement) {
  auto engine = Engine();
  v1::Envelope e = FromClub();
  e.mutable_declaration()->clear_legitimate_interest_condition();
  EXPECT_EQ(engine->Decide(e, kNow, RulePack::k2026).decision(), v1::DECISION_DENY);

  e.mutable_declaration()->set_legitimate_interest_condition(
      v1::RECOGNISED_LEGITIMATE_INTEREST_CONDITION_PUBLIC_BODY_REQUEST);
  const v1::PolicyDecision unstated = engine->Decide(e, kNow, RulePack::k2026);
  EXPECT_EQ(unstated.decision(), v1::DECISION_DENY);
  EXPECT_TRUE(absl::StrContains(Finding(unstated, "lawful_basis").reason(), "statement"));
  // The statement on the request it answers travels with it.
  e.set_kind(v1::MESSAGE_KIND_INFORMATION_RESPONSE);
  e.mutable_declaration()->set_purpose(v1::PURPOSE_RESPONSE_TO_REQUEST);
  v1::SharingDeclaration request;
  request.add_requested_categories(v1::DATA_CATEGORY_IDENTITY);
  request.add_requested_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
  request.set_public_body_statement("Portsmouth MASH needs this for its s17 assessment.");
  EXPECT_EQ(engine->Decide(e, kNow, RulePack::k2026, &request).decision(), v1::DECISION_ALLOW);
  request.clear_public_body_statement();
  EXPECT_EQ(engine->Decide(e, kNow, RulePack::k2026, &request).decision(), v1::DECISION_DENY);
}

// Without consent and without declared risk a share is held; under the duty
// to share (once in force) consent is not needed, as under s47.
TEST(RulePack2026, TheDutyToSharePassesConsentFromItsCommencement) {
  auto engine = Engine();
  v1::Envelope e = cases::Base();
  auto& d = *e.mutable_declaration();
  d.set_threshold_level(v1::THRESHOLD_LEVEL_2_EARLY_HELP);
  d.set_purpose(v1::PURPOSE_EARLY_HELP);
  d.set_statutory_gateway(v1::STATUTORY_GATEWAY_CHILDREN_ACT_2004_S16LA_DUTY_TO_SHARE);
  const v1::PolicyDecision in_force = engine->Decide(e, kNow, RulePack::k2026);
  EXPECT_EQ(Finding(in_force, "consent").outcome(), v1::FINDING_OUTCOME_PASS);
  EXPECT_TRUE(absl::StrContains(Finding(in_force, "consent").reason(), "s16LA"));
  EXPECT_EQ(Finding(engine->Decide(e, Day(2026, 9, 29), RulePack::k2026), "consent").outcome(),
            v1::FINDING_OUTCOME_ADVICE);
  EXPECT_EQ(Finding(engine->Decide(e, kNow, RulePack::k2024), "consent").outcome(),
            v1::FINDING_OUTCOME_ADVICE);
}

TEST(RulePack2026, AReferralWithoutTheIdentifierOrAReasonIsHeldOnceInForce) {
  v1::RuleCommencement regulations;
  *regulations.mutable_consistent_identifier() = Ts(Day(2027, 4, 1));
  auto engine = Engine(regulations);
  v1::Envelope e = cases::Base();
  // Before the regulations: as 2024.
  EXPECT_EQ(engine->Decide(e, Day(2027, 3, 31), RulePack::k2026).decision(), v1::DECISION_ALLOW);
  const v1::PolicyDecision after = engine->Decide(e, Day(2027, 4, 1), RulePack::k2026);
  EXPECT_EQ(after.decision(), v1::DECISION_HOLD_FOR_ADVICE);
  EXPECT_EQ(Finding(after, "necessity_proportionality").outcome(), v1::FINDING_OUTCOME_ADVICE);
  for (auto s :
       {v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED, v1::CONSISTENT_IDENTIFIER_STATUS_NOT_HELPFUL,
        v1::CONSISTENT_IDENTIFIER_STATUS_MORE_DETRIMENTAL,
        v1::CONSISTENT_IDENTIFIER_STATUS_UNKNOWN_UNREASONABLE_DELAY}) {
    e.mutable_declaration()->set_consistent_identifier(s);
    EXPECT_EQ(engine->Decide(e, Day(2027, 4, 1), RulePack::k2026).decision(), v1::DECISION_ALLOW)
        << v1::ConsistentIdentifierStatus_Name(s);
  }
  // At immediate urgency nothing is held: shared, flagged for review.
  e.mutable_declaration()->clear_consistent_identifier();
  e.mutable_declaration()->set_urgency(v1::URGENCY_IMMEDIATE);
  const v1::PolicyDecision immediate = engine->Decide(e, Day(2027, 4, 1), RulePack::k2026);
  EXPECT_EQ(immediate.decision(), v1::DECISION_ALLOW);
  EXPECT_TRUE(NeedsReview(immediate));
}

// The shipped example: a youth club (a charity) refers on a recognised
// legitimate interest under the development agreements.
TEST(RulePack2026, TheYouthClubExampleIsAllowedUnder2026Only) {
  const v1::Federation federation = DevFederation();
  auto isas = LoadIsaDirectory(testing::SourcePath("deploy/isa"), &federation);
  ASSERT_TRUE(isas.ok()) << isas.status();
  auto engine = PolicyEngine::Create(*std::move(isas), federation);
  ASSERT_TRUE(engine.ok()) << engine.status();
  v1::Envelope e;
  e.set_kind(v1::MESSAGE_KIND_REFERRAL);
  e.set_sender_agency_id("fratton-youth-club");
  e.set_recipient_agency_id("portsmouth-mash");
  e.mutable_sender_practitioner()->set_id("yw-3");
  e.mutable_sender_practitioner()->set_role(v1::PRACTITIONER_ROLE_OTHER);
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  testing::ReadText(testing::SourcePath(
                      "deploy/examples/youth-club-to-portsmouth-referral.json")),
                  e.mutable_declaration())
                  .ok());
  const v1::PolicyDecision d = (*engine)->Decide(e, kNow, RulePack::k2026);
  EXPECT_EQ(d.decision(), v1::DECISION_ALLOW) << Finding(d, "lawful_basis").reason();
  EXPECT_EQ(d.isa_id(), "portsmouth-voluntary-sector-mash");
  EXPECT_EQ((*engine)->Decide(e, kNow, RulePack::k2024).decision(), v1::DECISION_DENY);
}

TEST(RulePack2026, ParsesAndIsTheDefault) {
  RulePack p = RulePack::k2018;
  EXPECT_TRUE(ParseRulePack("2026", &p));
  EXPECT_EQ(p, RulePack::k2026);
  EXPECT_TRUE(ParseRulePack("golden-rules-2026", &p));
  EXPECT_EQ(kDefaultRulePack, RulePack::k2026);
}

v1::Envelope Encompass() {
  v1::Envelope e = cases::Base();
  e.set_kind(v1::MESSAGE_KIND_OPERATION_ENCOMPASS);
  e.set_recipient_agency_id("southsea-academy");
  auto& d = *e.mutable_declaration();
  d.set_purpose(v1::PURPOSE_OPERATION_ENCOMPASS);
  d.set_lawful_basis(v1::LAWFUL_BASIS_LEGAL_OBLIGATION);
  d.set_statutory_gateway(v1::STATUTORY_GATEWAY_DOMESTIC_ABUSE_ACT_2021_S49A);
  d.set_consent_status(v1::CONSENT_STATUS_NOT_REQUIRED);
  d.set_threshold_level(v1::THRESHOLD_LEVEL_2_EARLY_HELP);
  d.set_urgency(v1::URGENCY_URGENT);
  d.clear_data_categories();
  d.add_data_categories(v1::DATA_CATEGORY_IDENTITY);
  d.add_data_categories(v1::DATA_CATEGORY_DOMESTIC_ABUSE);
  d.clear_special_category_condition();
  return e;
}

TEST(RulePack2026, OperationEncompassGoesFromPoliceToTheSchool) {
  auto engine = Engine();
  const v1::PolicyDecision d = engine->Decide(Encompass(), kNow, RulePack::k2026);
  EXPECT_EQ(d.decision(), v1::DECISION_ALLOW)
      << Finding(d, "necessity_proportionality").reason() << Finding(d, "consent").reason();
  EXPECT_TRUE(absl::StrContains(Finding(d, "necessity_proportionality").reason(), "school"));
  // From anyone but the police: refused, even with an agreement.
  v1::Envelope health = Encompass();
  health.set_sender_agency_id("hiow-icb");
  const v1::PolicyDecision not_police = engine->Decide(health, kNow, RulePack::k2026);
  EXPECT_EQ(not_police.decision(), v1::DECISION_DENY);
  EXPECT_TRUE(absl::StrContains(Finding(not_police, "necessity_proportionality").reason(),
                                "not a police force"));
  // To the front door without elective home education: send it to the school.
  v1::Envelope to_la = Encompass();
  to_la.set_recipient_agency_id("portsmouth-mash");
  const v1::PolicyDecision la = engine->Decide(to_la, kNow, RulePack::k2026);
  EXPECT_EQ(la.decision(), v1::DECISION_DENY);
  EXPECT_TRUE(
      absl::StrContains(Finding(la, "necessity_proportionality").reason(), "is not a school"));
  // Its purpose and the s49A gateway belong to this kind only.
  v1::Envelope referral = cases::Base();
  referral.mutable_declaration()->set_statutory_gateway(
      v1::STATUTORY_GATEWAY_DOMESTIC_ABUSE_ACT_2021_S49A);
  EXPECT_EQ(engine->Decide(referral, kNow, RulePack::k2026).decision(), v1::DECISION_DENY);
}

TEST(RulePack2026, AChildInElectiveHomeEducationIsNotifiedToTheLocalAuthority) {
  auto engine = Engine();
  v1::Envelope e = Encompass();
  e.mutable_declaration()->set_elective_home_education(true);
  const v1::PolicyDecision school = engine->Decide(e, kNow, RulePack::k2026);
  EXPECT_EQ(school.decision(), v1::DECISION_DENY);
  EXPECT_TRUE(absl::StrContains(Finding(school, "necessity_proportionality").reason(),
                                "is not a local authority"));
  e.set_recipient_agency_id("portsmouth-mash");
  const v1::PolicyDecision la = engine->Decide(e, kNow, RulePack::k2026);
  EXPECT_EQ(la.decision(), v1::DECISION_ALLOW) << Finding(la, "necessity_proportionality").reason();
  EXPECT_TRUE(absl::StrContains(Finding(la, "necessity_proportionality").reason(),
                                "elective home education"));
}

// Without consent and declared risk an Operation Encompass notification is
// held, as any share; under the s49A duty, once in force, it is not.
TEST(RulePack2026, TheOperationEncompassDutyPassesConsentFromItsCommencement) {
  auto engine = Engine();
  const v1::PolicyDecision in_force = engine->Decide(Encompass(), kNow, RulePack::k2026);
  EXPECT_EQ(Finding(in_force, "consent").outcome(), v1::FINDING_OUTCOME_PASS);
  EXPECT_TRUE(absl::StrContains(Finding(in_force, "consent").reason(), "s49A"));
  EXPECT_EQ(
      Finding(engine->Decide(Encompass(), Day(2025, 10, 31), RulePack::k2026), "consent").outcome(),
      v1::FINDING_OUTCOME_ADVICE);
  EXPECT_EQ(Finding(engine->Decide(Encompass(), kNow, RulePack::k2024), "consent").outcome(),
            v1::FINDING_OUTCOME_ADVICE);
  v1::RuleCommencement later;
  *later.mutable_operation_encompass_duty() = Ts(Day(2027, 4, 1));
  EXPECT_EQ(Finding(Engine(later)->Decide(Encompass(), kNow, RulePack::k2026), "consent").outcome(),
            v1::FINDING_OUTCOME_ADVICE);
}

}  // namespace
}  // namespace safeshare::policy
