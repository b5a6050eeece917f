// ISA files: the development set, bad files refused with file, field and
// reason, and reload keeping the previous policy in force.
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "policy/isa.h"
#include "policy/policy_engine.h"
#include "policy/policy_registry.h"
#include "tests/policy/policy_test_util.h"

namespace safeshare::policy {
namespace {

namespace v1 = safeshare::v1;
using namespace ::safeshare::policy::testing;  // NOLINT: test helpers

const std::string kDevIsaDir = SourcePath("deploy/isa");
// Decisions about the shipped agreements are taken at a fixed time inside
// their term, never at the clock's: they must not expire with the data.
const absl::Time kToday =
    absl::FromCivil(absl::CivilSecond(2026, 12, 1, 10, 0, 0), absl::UTCTimeZone());

// A small valid agreement; cases below break one thing at a time.
constexpr char kGood[] = R"json({
  "id": "good",
  "title": "Police and Portsmouth MASH",
  "version": "1.0",
  "parties": [{"agency_id": "hiow-police"}, {"area_id": "portsmouth"}],
  "in_force_from": "2024-04-01T00:00:00Z",
  "review_by": "2029-04-01T00:00:00Z",
  "rules": [{
    "senders": [{"agency_id": "hiow-police"}],
    "recipients": [{"agency_id": "portsmouth-mash"}],
    "kinds": ["MESSAGE_KIND_REFERRAL"],
    "purposes": ["PURPOSE_SAFEGUARDING_REFERRAL"],
    "lawful_bases": ["LAWFUL_BASIS_PUBLIC_TASK"],
    "data_categories": ["DATA_CATEGORY_IDENTITY", "DATA_CATEGORY_CONCERN_DETAILS"],
    "protected_identities_allowed": true
  }],
  "content_retention_days": 90
})json";

std::string Good(const std::string& from, const std::string& to) {
  return absl::StrReplaceAll(kGood, {{from, to}});
}

TEST(DevIsaSet, LoadsAgainstTheDevFederation) {
  const v1::Federation federation = DevFederation();
  auto set = LoadIsaDirectory(kDevIsaDir, &federation);
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->agreements.size(), 11u);
  auto engine = PolicyEngine::Create(*std::move(set), federation);
  ASSERT_TRUE(engine.ok()) << engine.status();
  for (const char* id : {"hips-police-front-doors", "hips-health-front-doors",
                         "portsmouth-hampshire-cross-border", "southampton-hampshire-cross-border",
                         "isle-of-wight-hampshire-cross-border", "portsmouth-schools-mash"}) {
    const auto* isa = (*engine)->FindIsa(id);
    ASSERT_NE(isa, nullptr) << id;
    // In force through at least 2028.
    EXPECT_GE(isa->review_by().seconds(), absl::ToUnixSeconds(absl::FromCivil(
                                              absl::CivilDay(2029, 1, 1), absl::UTCTimeZone())));
  }
}

std::shared_ptr<const PolicyEngine> DevEngine() {
  static auto* engine = [] {
    PolicyRegistry registry;
    EXPECT_TRUE(registry.Reload(kDevIsaDir, DevFederation()).ok());
    return new std::shared_ptr<const PolicyEngine>(registry.Current());
  }();
  return *engine;
}

// The three example declarations are allowed under the 2024 pack, today (a
// fixed date: the shipped agreements reach their review date in 2029) and at
// the end of 2028, under the agreement expected for each pair.
TEST(DevIsaSet, ExampleDeclarationsAreAllowed) {
  const char* expected_isa[] = {"hips-police-front-doors", "portsmouth-schools-mash",
                                "portsmouth-hampshire-cross-border"};
  const absl::Time end_2028 =
      absl::FromCivil(absl::CivilSecond(2028, 12, 31, 23, 0, 0), absl::UTCTimeZone());
  for (int i = 0; i < 3; ++i) {
    const v1::Envelope e = ExampleEnvelope(kExamples[i]);
    for (absl::Time at : {kToday, end_2028}) {
      const v1::PolicyDecision d = DevEngine()->Decide(e, at, RulePack::k2024);
      EXPECT_EQ(d.decision(), v1::DECISION_ALLOW) << kExamples[i].file << "\n" << d.DebugString();
      EXPECT_EQ(d.isa_id(), expected_isa[i]);
      EXPECT_FALSE(d.isa_version().empty());
    }
  }
}

// Cross-border pairs allow different categories.
TEST(DevIsaSet, CrossBorderPairsDiffer) {
  struct Flow {
    const char* sender;
    const char* recipient;
    v1::DataCategory category;
    v1::Decision decision;
  };
  const Flow flows[] = {
      {"portsmouth-mash", "hampshire-crt", v1::DATA_CATEGORY_CRIMINAL_OFFENCE, v1::DECISION_ALLOW},
      {"hampshire-crt", "southampton-mash", v1::DATA_CATEGORY_CRIMINAL_OFFENCE, v1::DECISION_DENY},
      {"southampton-mash", "hampshire-crt", v1::DATA_CATEGORY_HEALTH, v1::DECISION_ALLOW},
      {"iow-mash", "hampshire-crt", v1::DATA_CATEGORY_HEALTH, v1::DECISION_DENY},
      {"hampshire-crt", "iow-mash", v1::DATA_CATEGORY_CHILDS_VOICE, v1::DECISION_ALLOW},
      {"portsmouth-mash", "hampshire-crt", v1::DATA_CATEGORY_FULL_CASE_RECORD, v1::DECISION_ALLOW},
      {"southampton-mash", "hampshire-crt", v1::DATA_CATEGORY_FULL_CASE_RECORD,
       v1::DECISION_HOLD_FOR_ADVICE},
      {"portsmouth-mash", "southampton-mash", v1::DATA_CATEGORY_IDENTITY, v1::DECISION_DENY},
  };
  for (const Flow& f : flows) {
    v1::Envelope e = ExampleEnvelope(kExamples[2]);
    e.set_sender_agency_id(f.sender);
    e.set_recipient_agency_id(f.recipient);
    auto& d = *e.mutable_declaration();
    d.set_urgency(v1::URGENCY_URGENT);
    d.clear_protected_identities();
    d.clear_data_categories();
    d.add_data_categories(v1::DATA_CATEGORY_IDENTITY);
    d.add_data_categories(f.category);
    d.set_criminal_offence_condition(v1::CRIMINAL_OFFENCE_CONDITION_SAFEGUARDING_SCH1_PARA18);
    EXPECT_EQ(DevEngine()->Decide(e, kToday).decision(), f.decision)
        << f.sender << " -> " << f.recipient << " " << v1::DataCategory_Name(f.category);
  }
}

struct BadFile {
  const char* name;
  std::string json;
  std::string field;   // expected in the message after the file name
  std::string reason;  // expected in the message
};

void PrintTo(const BadFile& bad, std::ostream* os) { *os << bad.name; }

class BadIsaFileTest : public ::testing::TestWithParam<BadFile> {};

TEST_P(BadIsaFileTest, RefusedWithFileFieldAndReason) {
  const BadFile& bad = GetParam();
  const std::string dir = MakeTempDir(bad.name);
  WriteFile(dir, "a-good.json", kGood);
  const std::string path = WriteFile(dir, std::string(bad.name) + ".json", bad.json);
  const v1::Federation federation = DevFederation();
  auto set = LoadIsaDirectory(dir, &federation);
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(set.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(set.status().message());
  EXPECT_TRUE(absl::StrContains(message, absl::StrCat(path, ": ", bad.field)))
      << message << "\nwanted field: " << bad.field;
  EXPECT_TRUE(absl::StrContains(message, bad.reason)) << message;
  EXPECT_FALSE(absl::StrContains(message, "a-good.json: ")) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadIsaFileTest,
    ::testing::Values(
        BadFile{"unknown_enum_value", Good("DATA_CATEGORY_CONCERN_DETAILS", "DATA_CATEGORY_DIARY"),
                "rules[0].data_categories[1]", "DATA_CATEGORY_DIARY"},
        BadFile{"unknown_enum_number", Good("\"DATA_CATEGORY_CONCERN_DETAILS\"", "99"),
                "rules[0].data_categories[1]", "unspecified or unknown"},
        BadFile{"unknown_field", Good("\"title\"", "\"colour\": \"red\", \"title\""), "", "colour"},
        BadFile{"not_json", "{ \"id\": ", "", "Unexpected"},
        BadFile{"bad_timestamp", Good("2029-04-01T00:00:00Z", "2029-13-01T00:00:00Z"), "review_by",
                "2029-13-01"},
        BadFile{"no_id", Good("\"id\": \"good\",", ""), "id", "required"},
        BadFile{"bad_id", Good("\"id\": \"good\"", "\"id\": \"Good Id\""), "id", "required"},
        BadFile{"no_title", Good("Police and Portsmouth MASH", " "), "title", "required"},
        BadFile{"no_version", Good("\"1.0\"", "\"\""), "version", "required"},
        BadFile{"no_parties",
                Good("[{\"agency_id\": \"hiow-police\"}, {\"area_id\": \"portsmouth\"}]", "[]"),
                "parties", "at least one party"},
        BadFile{"empty_party", Good("{\"area_id\": \"portsmouth\"}", "{}"), "parties[1]",
                "exactly one of agency_id or area_id"},
        BadFile{"duplicate_party",
                Good("{\"area_id\": \"portsmouth\"}", "{\"agency_id\": \"hiow-police\"}"),
                "parties[1]", "listed twice"},
        BadFile{
            "unknown_agency",
            Good("{\"agency_id\": \"hiow-police\"}, {", "{\"agency_id\": \"atlantis-police\"}, {"),
            "parties[0]", "agency 'atlantis-police' is not in the federation"},
        BadFile{"unknown_area", Good("\"portsmouth\"}]", "\"gotham\"}]"), "parties[1]",
                "area 'gotham' is not in the federation"},
        BadFile{"from_after_review", Good("2024-04-01T00:00:00Z", "2030-04-01T00:00:00Z"),
                "in_force_from", "must be before review_by (2029-04-01T00:00:00Z)"},
        BadFile{"no_review_by", Good("\"review_by\": \"2029-04-01T00:00:00Z\",", ""), "review_by",
                "required"},
        BadFile{"sender_not_party",
                Good("\"senders\": [{\"agency_id\": \"hiow-police\"}]",
                     "\"senders\": [{\"agency_id\": \"hiow-icb\"}]"),
                "rules[0].senders[0]", "agency 'hiow-icb' is not a party"},
        BadFile{
            "no_recipients",
            Good("\"recipients\": [{\"agency_id\": \"portsmouth-mash\"}]", "\"recipients\": []"),
            "rules[0].recipients", "at least one party"},
        BadFile{"no_kinds", Good("[\"MESSAGE_KIND_REFERRAL\"]", "[]"), "rules[0].kinds",
                "at least one value"},
        BadFile{"unspecified_purpose", Good("PURPOSE_SAFEGUARDING_REFERRAL", "PURPOSE_UNSPECIFIED"),
                "rules[0].purposes[0]", "unspecified"},
        BadFile{"no_bases", Good("[\"LAWFUL_BASIS_PUBLIC_TASK\"]", "[]"), "rules[0].lawful_bases",
                "at least one value"},
        BadFile{"no_retention", Good(",\n  \"content_retention_days\": 90", ""),
                "content_retention_days", "required"},
        BadFile{"duplicate_id", kGood, "id", "duplicate agreement id 'good' (also in "}),
    [](const ::testing::TestParamInfo<BadFile>& info) { return std::string(info.param.name); });

TEST(ValidateIsa, AgreementWithoutRulesIsRefused) {
  v1::InformationSharingAgreement isa = *ParseIsaJson(kGood);
  isa.clear_rules();
  EXPECT_EQ(ValidateIsa(isa, nullptr).message(), "rules: at least one rule is required");
}

TEST(LoadIsaDirectory, ReportsEveryBadFile) {
  const std::string dir = MakeTempDir("two_bad");
  WriteFile(dir, "one.json", Good("\"1.0\"", "\"\""));
  WriteFile(dir, "two.json", Good("\"good\"", "\"two\"").substr(5));
  WriteFile(dir, "README.md", "not an agreement");
  auto set = LoadIsaDirectory(dir);
  ASSERT_FALSE(set.ok());
  const std::string message(set.status().message());
  EXPECT_TRUE(absl::StrContains(message, dir + "/one.json: version: required")) << message;
  EXPECT_TRUE(absl::StrContains(message, dir + "/two.json: ")) << message;
  EXPECT_FALSE(absl::StrContains(message, "README")) << message;
}

TEST(LoadIsaDirectory, IgnoresOtherFilesAndChecksAgenciesOnlyWithAFederation) {
  const std::string dir = MakeTempDir("no_federation");
  WriteFile(dir, "x.json", Good("portsmouth-mash", "elsewhere-mash"));
  WriteFile(dir, "notes.txt", "{ not json");
  auto set = LoadIsaDirectory(dir);
  ASSERT_FALSE(set.ok());  // elsewhere-mash is neither a party nor placeable in an area
  EXPECT_TRUE(absl::StrContains(set.status().message(), "rules[0].recipients[0]"));
  WriteFile(dir, "x.json", kGood);
  // Without a federation, an agency in a party area cannot be placed: the
  // recipient must be listed as a party itself.
  EXPECT_FALSE(LoadIsaDirectory(dir).ok());
  const v1::Federation federation = DevFederation();
  auto with = LoadIsaDirectory(dir, &federation);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_EQ(with->agreements.size(), 1u);
}

TEST(LoadIsaDirectory, MissingAndEmptyDirectories) {
  auto missing = LoadIsaDirectory(::testing::TempDir() + "/safeshare-policy-does-not-exist");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  auto empty = LoadIsaDirectory(MakeTempDir("empty"));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(empty.status().message(), "no agreements"));
}

TEST(PolicyRegistry, EmptyUntilFirstReload) {
  PolicyRegistry registry;
  EXPECT_EQ(registry.Current(), nullptr);
  EXPECT_FALSE(registry.Reload(MakeTempDir("registry-empty"), DevFederation()).ok());
  EXPECT_EQ(registry.Current(), nullptr);
}

TEST(PolicyRegistry, BadReloadKeepsThePreviousPolicy) {
  const v1::Federation federation = DevFederation();
  PolicyRegistry registry;
  ASSERT_TRUE(registry.Reload(kDevIsaDir, federation).ok());
  const std::shared_ptr<const PolicyEngine> first = registry.Current();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->isa_count(), 11u);

  const std::string dir = MakeTempDir("registry-bad");
  WriteFile(dir, "good.json", kGood);
  WriteFile(dir, "bad.json", Good("\"good\"", "\"bad\"").replace(0, 1, "["));
  absl::Status st = registry.Reload(dir, federation);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(st.message(), dir + "/bad.json")) << st;
  EXPECT_EQ(registry.Current(), first);
  EXPECT_EQ(registry.Current()->Decide(ExampleEnvelope(kExamples[0]), kToday).decision(),
            v1::DECISION_ALLOW);

  // A good set replaces it.
  WriteFile(dir, "bad.json", Good("\"good\"", "\"bad\""));
  ASSERT_TRUE(registry.Reload(dir, federation).ok());
  EXPECT_NE(registry.Current(), first);
  EXPECT_EQ(registry.Current()->isa_count(), 2u);
  // The old engine stays usable by whoever still holds it.
  EXPECT_EQ(first->isa_count(), 11u);
}

TEST(PolicyRegistry, DecisionsContinueDuringReloads) {
  const v1::Federation federation = DevFederation();
  PolicyRegistry registry;
  ASSERT_TRUE(registry.Reload(kDevIsaDir, federation).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> allowed{0};
  std::thread decider([&] {
    const v1::Envelope e = ExampleEnvelope(kExamples[1]);
    while (!stop) allowed += registry.Current()->Decide(e, kToday).decision() == v1::DECISION_ALLOW;
  });
  // Start reloading only once the decider is deciding (it may be scheduled late).
  for (auto t = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       allowed.load() == 0 && std::chrono::steady_clock::now() < t;) {
    std::this_thread::yield();
  }
  const int before = allowed.load();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(registry.Reload(kDevIsaDir, federation).ok());
  // Still deciding, still ALLOW (bounded, so a regression fails rather than hangs).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (allowed.load() <= before && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  stop = true;
  decider.join();
  EXPECT_GT(allowed.load(), before);
}

TEST(ParseIsaJson, UnknownEnumNameNamesFieldAndValue) {
  auto isa = ParseIsaJson(Good("\"MESSAGE_KIND_REFERRAL\"", "\"MESSAGE_KIND_GOSSIP\""));
  ASSERT_FALSE(isa.ok());
  EXPECT_EQ(isa.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(isa.status().message(), "rules[0].kinds[0]: ")) << isa.status();
  EXPECT_TRUE(absl::StrContains(isa.status().message(), "MESSAGE_KIND_GOSSIP"));
}

}  // namespace
}  // namespace safeshare::policy
