// `safeshare policy check` and `safeshare policy lint`: output and exit codes.
#include <algorithm>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "agents/cli/command.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/policy/policy_test_util.h"

namespace safeshare::cli {
namespace {

namespace v1 = safeshare::v1;
using namespace ::safeshare::policy::testing;  // NOLINT: test helpers

struct Result {
  int code;
  std::string out, err;
};

Result Policy(std::vector<std::string> args) {
  args.insert(args.begin(), {"safeshare", "policy"});
  std::ostringstream out, err;
  const int code = safeshare::cli::Run(args, out, err);
  return {code, out.str(), err.str()};
}

std::vector<std::string> Check(const std::string& envelope, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"check",
                                   "--envelope",
                                   envelope,
                                   "--isa_dir",
                                   SourcePath("deploy/isa"),
                                   "--federation=" + SourcePath("deploy/dev-federation.textproto")};
  args.insert(args.end(), more.begin(), more.end());
  // A fixed time inside the shipped agreements' term unless the test names
  // one: `policy check` decides at the clock's time otherwise.
  const bool timed = std::any_of(more.begin(), more.end(),
                                 [](const std::string& a) { return a.rfind("--at", 0) == 0; });
  if (!timed) args.push_back("--at=2026-12-01T10:00:00Z");
  return args;
}

std::string EnvelopeJson(const v1::Envelope& e) {
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(e, &json).ok());
  return json;
}

std::string WriteEnvelope(const std::string& name, const v1::Envelope& e) {
  return WriteFile(MakeTempDir(name), "envelope.json", EnvelopeJson(e));
}

google::protobuf::Struct ParseOutput(const std::string& out) {
  google::protobuf::Struct s;
  auto st = google::protobuf::util::JsonStringToMessage(out, &s);
  EXPECT_TRUE(st.ok()) << st.ToString() << "\n" << out;
  return s;
}

TEST(PolicyCheck, ExamplesAreAllowed) {
  for (const Example& example : kExamples) {
    const Result r = Policy(Check(WriteEnvelope("example", ExampleEnvelope(example))));
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    const google::protobuf::Struct s = ParseOutput(r.out);
    const auto& f = s.fields();
    EXPECT_EQ(f.at("decision").string_value(), "ALLOW");
    EXPECT_EQ(f.at("pack").string_value(), "golden-rules-2026");  // the default
    EXPECT_EQ(f.at("pack_version").string_value(), "2026.1");
    EXPECT_GE(f.at("rules_in_force").list_value().values_size(), 2);
    EXPECT_FALSE(f.at("isa").string_value().empty());
    const auto& findings = f.at("findings").list_value().values();
    ASSERT_EQ(findings.size(), 7);
    for (const auto& finding : findings) {
      const auto& ff = finding.struct_value().fields();
      EXPECT_EQ(ff.at("outcome").string_value(), "PASS") << ff.at("reason").string_value();
      EXPECT_FALSE(ff.at("check").string_value().empty());
      EXPECT_TRUE(absl::StartsWith(ff.at("rule").string_value(), "2024 rule"));
    }
  }
}

TEST(PolicyCheck, DenyHoldAndPackExitCodes) {
  v1::Envelope deny = ExampleEnvelope(kExamples[1]);
  deny.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_CRIMINAL_OFFENCE);
  Result r = Policy(Check(WriteEnvelope("deny", deny)));
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "\"decision\": \"DENY\""));
  EXPECT_TRUE(absl::StrContains(r.out, "Categories beyond ISA portsmouth-schools-mash"));

  v1::Envelope hold = ExampleEnvelope(kExamples[1]);
  hold.mutable_declaration()->set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  const std::string hold_path = WriteEnvelope("hold", hold);
  r = Policy(Check(hold_path));
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_EQ(ParseOutput(r.out).fields().at("decision").string_value(), "HOLD_FOR_ADVICE");

  r = Policy(Check(hold_path, {"--pack", "2018"}));
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(ParseOutput(r.out).fields().at("pack").string_value(), "golden-rules-2018");
}

// The Operation Encompass example, checked with the gateway's own config:
// its commencement dates decide, as they do in the gateway.
TEST(PolicyCheck, TheGatewaysConfigGivesThePackAndCommencementDates) {
  v1::Envelope e = ExampleEnvelope({"police-operation-encompass-to-school.json", "hiow-police",
                                    "southsea-academy", v1::PRACTITIONER_ROLE_POLICE_OFFICER});
  e.set_kind(v1::MESSAGE_KIND_OPERATION_ENCOMPASS);
  const std::string path = WriteEnvelope("encompass", e);
  Result r = Policy(Check(path));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "operation_encompass_duty (from 2025-11-01)")) << r.out;

  // A partnership whose legal advice dates the duty later: held for advice.
  const std::string dir = MakeTempDir("encompass-config");
  const std::string later = WriteFile(dir, "gateway.textproto",
                                      "rule_pack: \"2026\"\n"
                                      "rule_commencement { operation_encompass_duty { seconds: "
                                      "1798761600 } }\n");  // 2027-01-01
  r = Policy(Check(path, {"--config", later}));
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_FALSE(absl::StrContains(r.out, "operation_encompass_duty")) << r.out;
  // Its rule pack applies unless --pack says otherwise.
  const std::string pack2018 = WriteFile(dir, "gateway-2018.textproto", "rule_pack: \"2018\"\n");
  r = Policy(Check(path, {"--config", pack2018}));
  EXPECT_EQ(ParseOutput(r.out).fields().at("pack").string_value(), "golden-rules-2018") << r.err;
  r = Policy(Check(path, {"--config", WriteFile(dir, "bad.textproto", "no_such_field: 1\n")}));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "is not a gateway config")) << r.err;
}

TEST(PolicyCheck, AtTimeAfterReviewDateDenies) {
  const std::string path = WriteEnvelope("at", ExampleEnvelope(kExamples[0]));
  Result r = Policy(Check(path, {"--at", "2028-12-31T09:00:00Z"}));
  EXPECT_EQ(r.code, 0) << r.out;
  r = Policy(Check(path, {"--at=2030-01-01T09:00:00+01:00"}));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "reached its review date on 2029-04-01")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\"isa\": null")) << r.out;
}

TEST(PolicyCheck, BadInputExitsTwo) {
  const std::string good = WriteEnvelope("good", ExampleEnvelope(kExamples[0]));
  const std::string unknown_enum =
      WriteFile(MakeTempDir("unknown-enum"), "e.json",
                absl::StrReplaceAll(EnvelopeJson(ExampleEnvelope(kExamples[0])),
                                    {{"DATA_CATEGORY_IDENTITY", "DATA_CATEGORY_SHOE_SIZE"}}));
  struct Bad {
    std::vector<std::string> args;
    std::string err;
  };
  const Bad cases[] = {
      {Check(unknown_enum), "DATA_CATEGORY_SHOE_SIZE"},
      {Check(unknown_enum), "e.json: declaration.data_categories[0]: invalid value"},
      {{"check"}, "--envelope FILE is required"},
      {Check(good, {"--pack", "2020"}), "--pack must be 2018, 2024 or 2026"},
      {Check(good, {"--at", "tomorrow"}), "--at must be an RFC 3339 time"},
      {Check(good, {"--colour", "red"}),
       "unknown flag --colour (see 'safeshare help policy check')"},
      {Check(good, {"--at"}), "--at needs a value"},
      {Check("/nonexistent/envelope.json"),
       "/nonexistent/envelope.json: No such file or directory"},
      {Check(good, {"--isa_dir", "/nonexistent/isa"}), "cannot list ISA directory"},
      {Check(good, {"unexpected"}), "unexpected argument 'unexpected'"},
      {Check(good, {"--federation", good}), "envelope.json:"},
      {{"frobnicate"}, "unknown subcommand 'frobnicate'; expected one of check, lint"},
      {{}, "expected one of check, lint"},
  };
  for (const Bad& bad : cases) {
    const Result r = Policy(bad.args);
    EXPECT_EQ(r.code, 2) << bad.err << "\n" << r.out;
    EXPECT_TRUE(absl::StrContains(r.err, bad.err)) << r.err << "\nwanted: " << bad.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
}

// --isa-dir was the only hyphenated flag; it still works for one release.
TEST(PolicyCheck, DeprecatedIsaDirSpellingWorksAndWarns) {
  std::vector<std::string> args = Check(WriteEnvelope("old", ExampleEnvelope(kExamples[0])));
  std::replace(args.begin(), args.end(), std::string("--isa_dir"), std::string("--isa-dir"));
  const Result r = Policy(args);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "--isa-dir is deprecated; use --isa_dir")) << r.err;
  EXPECT_EQ(ParseOutput(r.out).fields().at("decision").string_value(), "ALLOW");
}

TEST(PolicyLint, ValidAndInvalidSets) {
  const std::string federation = "--federation=" + SourcePath("deploy/dev-federation.textproto");
  Result r = Policy({"lint", SourcePath("deploy/isa"), federation});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "11 agreements valid")) << r.out;
  EXPECT_TRUE(
      absl::StrContains(r.out, "ok  portsmouth-hampshire-cross-border v1.2  review by 2029-04-01"))
      << r.out;

  const std::string dir = MakeTempDir("lint-bad");
  WriteFile(dir, "x.json", ReadText(SourcePath("deploy/isa/portsmouth-schools-mash.json")));
  std::string y =
      absl::StrReplaceAll(ReadText(SourcePath("deploy/isa/portsmouth-schools-mash.json")),
                          {{"\"portsmouth-schools-mash\"", "\"y\""}});
  y.replace(y.find("DATA_CATEGORY_EDUCATION"), 23, "DATA_CATEGORY_GOSSIP");  // first rule only
  WriteFile(dir, "y.json", y);
  r = Policy({"lint", dir, federation});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, dir + "/y.json: rules[0].data_categories[5]: ")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "DATA_CATEGORY_GOSSIP")) << r.err;

  r = Policy({"lint"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "missing DIR")) << r.err;
  r = Policy({"lint", "/nonexistent/isa", federation});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "cannot list ISA directory")) << r.err;
}

}  // namespace
}  // namespace safeshare::cli
