// The Seven Golden Rules checks, table-driven: every outcome of every check in
// both rule packs, and the edges named in issue 4.
#include "policy/policy_engine.h"

#include <functional>
#include <optional>
#include <set>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/policy/golden_rules_cases.h"
#include "tests/policy/policy_test_util.h"

namespace safeshare::policy {
namespace {

namespace v1 = safeshare::v1;
using ::safeshare::policy::testing::DevFederation;
using v1::FindingOutcome;

const absl::Time kNow =
    absl::FromCivil(absl::CivilSecond(2026, 11, 25, 10, 0, 0), absl::UTCTimeZone());
using cases::ADVICE;
using cases::ALLOW;
using cases::Base;
using cases::Case;
using cases::Cases;
using cases::DENY;
using cases::FAIL;
using cases::HOLD;
using cases::PASS;

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

// Police -> `recipient`: referrals and declines, for safeguarding referral,
// strategy discussion and early help, on public task or consent.
v1::InformationSharingAgreement PoliceIsa(const std::string& id, const std::string& recipient,
                                          absl::Time from, absl::Time until, bool extras) {
  v1::InformationSharingAgreement isa;
  isa.set_id(id);
  isa.set_title("Test agreement");
  isa.set_version("3");
  isa.add_parties()->set_agency_id("hiow-police");
  isa.add_parties()->set_agency_id(recipient);
  *isa.mutable_in_force_from() = Ts(from);
  *isa.mutable_review_by() = Ts(until);
  isa.set_content_retention_days(30);
  v1::IsaRule* rule = isa.add_rules();
  rule->add_senders()->set_agency_id("hiow-police");
  rule->add_recipients()->set_agency_id(recipient);
  rule->add_kinds(v1::MESSAGE_KIND_REFERRAL);
  rule->add_kinds(v1::MESSAGE_KIND_DECLINE_TO_SHARE);
  rule->add_purposes(v1::PURPOSE_SAFEGUARDING_REFERRAL);
  rule->add_purposes(v1::PURPOSE_STRATEGY_DISCUSSION);
  rule->add_purposes(v1::PURPOSE_EARLY_HELP);
  rule->add_lawful_bases(v1::LAWFUL_BASIS_PUBLIC_TASK);
  rule->add_lawful_bases(v1::LAWFUL_BASIS_CONSENT);
  for (auto c : {v1::DATA_CATEGORY_IDENTITY, v1::DATA_CATEGORY_CONTACT_DETAILS,
                 v1::DATA_CATEGORY_CONCERN_DETAILS, v1::DATA_CATEGORY_HEALTH,
                 v1::DATA_CATEGORY_CRIMINAL_OFFENCE}) {
    rule->add_data_categories(c);
  }
  // `extras`: the recipient may hold protected identities and a full record.
  if (extras) rule->add_data_categories(v1::DATA_CATEGORY_FULL_CASE_RECORD);
  rule->set_protected_identities_allowed(extras);
  return isa;
}

const PolicyEngine& Engine() {
  static const PolicyEngine* engine = [] {
    IsaSet set;
    const absl::Duration day = absl::Hours(24);
    set.agreements = {
        PoliceIsa("police-pm", "portsmouth-mash", kNow - 400 * day, kNow + 400 * day, false),
        PoliceIsa("police-crt", "hampshire-crt", kNow - 400 * day, kNow + 400 * day, true),
        // Expired yesterday.
        PoliceIsa("police-soton", "southampton-mash", kNow - 400 * day, kNow - day, true),
        PoliceIsa("police-iow", "iow-mash", kNow + 10 * day, kNow + 400 * day, true),
    };
    auto created = PolicyEngine::Create(std::move(set), DevFederation());
    EXPECT_TRUE(created.ok()) << created.status();
    return created->release();
  }();
  return *engine;
}

const char* PackName(RulePack p) { return p == RulePack::k2024 ? "2024" : "2018"; }

}  // namespace

void PrintTo(RulePack p, std::ostream* os) { *os << RulePackName(p); }

namespace {

std::vector<std::tuple<Case, RulePack>> Expanded() {
  std::vector<std::tuple<Case, RulePack>> out;
  for (const Case& c : Cases()) {
    for (RulePack p : {RulePack::k2018, RulePack::k2024}) {
      if (!c.only || *c.only == p) out.emplace_back(c, p);
    }
  }
  return out;
}

const v1::Finding& FindingFor(const v1::PolicyDecision& d, const std::string& check) {
  for (const auto& f : d.findings()) {
    if (f.check() == check) return f;
  }
  ADD_FAILURE() << "no finding for " << check;
  static const v1::Finding none;
  return none;
}

class CheckTest : public ::testing::TestWithParam<std::tuple<Case, RulePack>> {};

TEST_P(CheckTest, ReachesOutcome) {
  const auto& [c, pack] = GetParam();
  v1::Envelope e = Base();
  c.mutate(e, *e.mutable_declaration());
  const v1::PolicyDecision d = Engine().Decide(e, kNow, pack);
  const v1::Finding& f = FindingFor(d, c.check);
  EXPECT_EQ(f.outcome(), c.outcome) << f.reason();
  EXPECT_TRUE(absl::StrContains(f.reason(), c.reason))
      << "reason: " << f.reason() << "\nwanted: " << c.reason;
  EXPECT_EQ(d.decision(), c.decision) << d.DebugString();
  EXPECT_EQ(d.findings_size(), 7);
  EXPECT_EQ(NeedsReview(d), absl::StartsWith(f.reason(), kFlaggedForReview));
}

INSTANTIATE_TEST_SUITE_P(Table, CheckTest, ::testing::ValuesIn(Expanded()),
                         [](const ::testing::TestParamInfo<std::tuple<Case, RulePack>>& info) {
                           return absl::StrCat(std::get<0>(info.param).name, "_",
                                               PackName(std::get<1>(info.param)));
                         });

// The table reaches every outcome of every check in both packs (the 2018 pack
// records protected identities without checking them, so never holds on them).
TEST(CheckCoverage, EveryOutcomeOfEveryCheckInBothPacks) {
  std::set<std::tuple<RulePack, std::string, int>> reached;
  for (const auto& [c, pack] : Expanded()) reached.emplace(pack, c.check, c.outcome);
  for (RulePack pack : {RulePack::k2018, RulePack::k2024}) {
    for (const char* check : kChecks) {
      std::vector<FindingOutcome> possible = {PASS, FAIL, ADVICE};
      const std::string name = check;
      if (name == "lawful_basis" || name == "openness" || name == "record") possible = {PASS, FAIL};
      if (name == "protect_identities") {
        possible = pack == RulePack::k2024 ? std::vector<FindingOutcome>{PASS, ADVICE}
                                           : std::vector<FindingOutcome>{PASS};
      }
      for (FindingOutcome o : possible) {
        EXPECT_TRUE(reached.count({pack, name, o}))
            << PackName(pack) << " " << name << " " << v1::FindingOutcome_Name(o);
      }
    }
  }
}

TEST(Decision, BaseAllowsWithAllChecksPassingInOrder) {
  for (RulePack pack : {RulePack::k2018, RulePack::k2024}) {
    const v1::PolicyDecision d = Engine().Decide(Base(), kNow, pack);
    EXPECT_EQ(d.decision(), ALLOW);
    ASSERT_EQ(d.findings_size(), 7);
    for (int i = 0; i < 7; ++i) {
      EXPECT_EQ(d.findings(i).check(), kChecks[i]);
      EXPECT_EQ(d.findings(i).outcome(), PASS) << d.findings(i).reason();
    }
    EXPECT_EQ(d.isa_id(), "police-pm");
    EXPECT_EQ(d.isa_version(), "3");
    EXPECT_FALSE(NeedsReview(d));
  }
}

TEST(Decision, NamesPackVersionAndRules) {
  const v1::PolicyDecision d24 = Engine().Decide(Base(), kNow, RulePack::k2024);
  EXPECT_EQ(d24.rule_pack(), "golden-rules-2024");
  EXPECT_EQ(d24.rule_pack_version(), "2024.1");
  const std::vector<std::string> rules24 = {"2024 rules 1 & 3", "2024 rule 2", "2024 rule 3",
                                            "2024 rule 4",      "2024 rule 5", "2024 rule 6",
                                            "2024 rule 7"};
  const v1::PolicyDecision d18 = Engine().Decide(Base(), kNow, RulePack::k2018);
  EXPECT_EQ(d18.rule_pack(), "golden-rules-2018");
  EXPECT_EQ(d18.rule_pack_version(), "2018.1");
  const std::vector<std::string> rules18 = {"2018 rules 1 & 4", "2018 rule 2", "2018 rule 4",
                                            "2018 rule 3",      "2018 rule 5", "2018 rule 6",
                                            "2018 rule 7"};
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ(d24.findings(i).rule(), rules24[i]);
    EXPECT_EQ(d18.findings(i).rule(), rules18[i]);
  }
  // The default pack is 2026 (tests/policy/rule_pack_2026_test.cc).
  EXPECT_EQ(Engine().Decide(Base(), kNow).rule_pack(), "golden-rules-2026");
}

TEST(Decision, NoIsaNamedWhenNoneInForce) {
  v1::Envelope e = Base();
  e.set_recipient_agency_id("southampton-mash");  // its agreement expired yesterday
  const v1::PolicyDecision d = Engine().Decide(e, kNow);
  EXPECT_EQ(d.decision(), DENY);
  EXPECT_TRUE(d.isa_id().empty());
  // The same share the day before was covered.
  EXPECT_EQ(Engine().Decide(e, kNow - absl::Hours(25)).decision(), ALLOW);
}

// Whatever else is wrong or borderline, an immediate-urgency message is never
// held: it is allowed (flagged for review) or refused.
TEST(Decision, NeverHoldsAtImmediateUrgency) {
  int flagged = 0;
  for (const auto& [c, pack] : Expanded()) {
    v1::Envelope e = Base();
    c.mutate(e, *e.mutable_declaration());
    e.mutable_declaration()->set_urgency(v1::URGENCY_IMMEDIATE);
    const v1::PolicyDecision d = Engine().Decide(e, kNow, pack);
    EXPECT_NE(d.decision(), HOLD) << c.name << " " << PackName(pack);
    for (const auto& f : d.findings()) {
      EXPECT_NE(f.outcome(), ADVICE) << c.name << " " << f.check();
      flagged += absl::StartsWith(f.reason(), kFlaggedForReview);
    }
  }
  EXPECT_GT(flagged, 0);
}

TEST(RulePacks, ParseNames) {
  RulePack p = RulePack::k2024;
  EXPECT_TRUE(ParseRulePack("2018", &p));
  EXPECT_EQ(p, RulePack::k2018);
  EXPECT_TRUE(ParseRulePack("golden-rules-2024", &p));
  EXPECT_EQ(p, RulePack::k2024);
  EXPECT_FALSE(ParseRulePack("2020", &p));
  EXPECT_FALSE(ParseRulePack("", &p));
}

TEST(Engine, RefusesAgreementNamingUnknownAgency) {
  IsaSet set;
  set.agreements = {PoliceIsa("x", "atlantis-mash", kNow, kNow + absl::Hours(1), false)};
  auto engine = PolicyEngine::Create(std::move(set), DevFederation());
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(engine.status().message(),
                                "agreement 'x': parties[1]: agency 'atlantis-mash' is not in the "
                                "federation"))
      << engine.status();
}

TEST(Engine, RefusesDuplicateIds) {
  IsaSet set;
  set.agreements = {PoliceIsa("x", "iow-mash", kNow, kNow + absl::Hours(1), false),
                    PoliceIsa("x", "hampshire-crt", kNow, kNow + absl::Hours(1), false)};
  auto engine = PolicyEngine::Create(std::move(set), DevFederation());
  ASSERT_FALSE(engine.ok());
  EXPECT_TRUE(absl::StrContains(engine.status().message(), "duplicate")) << engine.status();
}

// Area parties: an agreement for a whole area covers each agency in it, and a
// more specific agreement is preferred when both allow the share.
TEST(Engine, AreaPartiesAndSpecificity) {
  v1::InformationSharingAgreement area =
      PoliceIsa("area", "portsmouth-mash", kNow - absl::Hours(1), kNow + absl::Hours(1), false);
  area.clear_parties();
  area.add_parties()->set_area_id("hampshire");
  area.add_parties()->set_area_id("portsmouth");
  area.mutable_rules(0)->mutable_senders(0)->set_area_id("hampshire");
  area.mutable_rules(0)->mutable_recipients(0)->set_area_id("portsmouth");
  v1::InformationSharingAgreement specific =
      PoliceIsa("specific", "portsmouth-mash", kNow - absl::Hours(1), kNow + absl::Hours(1), false);
  IsaSet set;
  set.agreements = {area, specific};
  auto engine = PolicyEngine::Create(std::move(set), DevFederation());
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_EQ((*engine)->Decide(Base(), kNow).isa_id(), "specific");
  v1::Envelope school = Base();
  school.set_recipient_agency_id("southsea-academy");  // in Portsmouth: only the area agreement
  school.set_sender_agency_id("hiow-icb");             // in Hampshire
  const v1::PolicyDecision d = (*engine)->Decide(school, kNow);
  EXPECT_EQ(d.isa_id(), "area");
  EXPECT_EQ(d.decision(), ALLOW);
  EXPECT_EQ((*engine)->FindIsa("area")->content_retention_days(), 30u);
  EXPECT_EQ((*engine)->FindIsa("nope"), nullptr);
}

// Of two agreements in force, the one under which the share is allowed wins.
TEST(Engine, PrefersAgreementThatAllowsTheShare) {
  v1::InformationSharingAgreement narrow =
      PoliceIsa("a-narrow", "hampshire-crt", kNow - absl::Hours(1), kNow + absl::Hours(1), false);
  v1::InformationSharingAgreement wide =
      PoliceIsa("b-wide", "hampshire-crt", kNow - absl::Hours(1), kNow + absl::Hours(1), true);
  IsaSet set;
  set.agreements = {narrow, wide};
  auto engine = PolicyEngine::Create(std::move(set), DevFederation());
  ASSERT_TRUE(engine.ok());
  v1::Envelope e = Base();
  e.set_recipient_agency_id("hampshire-crt");
  EXPECT_EQ((*engine)->Decide(e, kNow).isa_id(), "a-narrow");  // tie: smaller id
  e.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_FULL_CASE_RECORD);
  const v1::PolicyDecision d = (*engine)->Decide(e, kNow);
  EXPECT_EQ(d.isa_id(), "b-wide");
  EXPECT_EQ(d.decision(), ALLOW);
}

}  // namespace
}  // namespace safeshare::policy

namespace safeshare::policy {
namespace {

// Replies: a response is checked against what its request asked for, an
// outcome must name the decision.
TEST(Replies, AResponseBeyondTheAskIsHeldAndWithinItPasses) {
  auto isa = PoliceIsa("police-pm", "portsmouth-mash", kNow - absl::Hours(24),
                       kNow + absl::Hours(24), false);
  isa.mutable_rules(0)->add_kinds(v1::MESSAGE_KIND_INFORMATION_RESPONSE);
  isa.mutable_rules(0)->add_kinds(v1::MESSAGE_KIND_OUTCOME);
  IsaSet set;
  set.agreements = {isa};
  auto engine = PolicyEngine::Create(std::move(set), DevFederation());
  ASSERT_TRUE(engine.ok()) << engine.status();

  v1::Envelope response = Base();
  response.set_kind(v1::MESSAGE_KIND_INFORMATION_RESPONSE);
  v1::SharingDeclaration request;
  request.add_requested_categories(v1::DATA_CATEGORY_IDENTITY);
  request.add_requested_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
  request.add_requested_categories(v1::DATA_CATEGORY_HEALTH);
  EXPECT_EQ((*engine)->Decide(response, kNow, RulePack::k2024, &request).decision(), ALLOW)
      << "fewer categories than asked";

  request.clear_requested_categories();
  request.add_requested_categories(v1::DATA_CATEGORY_IDENTITY);
  const v1::PolicyDecision held = (*engine)->Decide(response, kNow, RulePack::k2024, &request);
  EXPECT_EQ(held.decision(), HOLD);
  EXPECT_EQ(held.findings(5).outcome(), ADVICE);
  EXPECT_NE(held.findings(5).reason().find("concern details, which the request did not ask for"),
            std::string::npos)
      << held.findings(5).reason();
  // Without the request (e.g. policy check offline) only the ISA applies.
  EXPECT_EQ((*engine)->Decide(response, kNow).decision(), ALLOW);
  // At immediate urgency it goes ahead, flagged.
  response.mutable_declaration()->set_urgency(v1::URGENCY_IMMEDIATE);
  const v1::PolicyDecision now = (*engine)->Decide(response, kNow, RulePack::k2024, &request);
  EXPECT_EQ(now.decision(), ALLOW);
  EXPECT_TRUE(NeedsReview(now));

  v1::Envelope outcome = Base();
  outcome.set_kind(v1::MESSAGE_KIND_OUTCOME);
  const v1::PolicyDecision unnamed = (*engine)->Decide(outcome, kNow);
  EXPECT_EQ(unnamed.decision(), DENY);
  EXPECT_NE(unnamed.findings(6).reason().find("outcome_decision"), std::string::npos);
  outcome.mutable_declaration()->set_outcome_decision(v1::OUTCOME_DECISION_EARLY_HELP);
  EXPECT_EQ((*engine)->Decide(outcome, kNow).decision(), ALLOW);
}

}  // namespace
}  // namespace safeshare::policy
