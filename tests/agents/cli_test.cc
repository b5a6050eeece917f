// The `safeshare` command table, through the real binary: help per command,
// unknown flags refused by name, deprecated spellings, exit codes.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "agents/cli/command.h"
#include "gtest/gtest.h"
#include "tests/policy/policy_test_util.h"
#include "tests/support/test_support.h"

namespace safeshare {
namespace {

using testing::CommandResult;

CommandResult Cli(std::vector<std::string> args) {
  args.insert(args.begin(), testing::CliBinary());
  return testing::RunCommand(args);
}

// No build-machine path (the old absl usage printed the source file's).
void ExpectNoBuildPaths(const std::string& text) {
  EXPECT_FALSE(absl::StrContains(text, "/work/")) << text;
  EXPECT_FALSE(absl::StrContains(text, testing::SourceDir())) << text;
  EXPECT_FALSE(absl::StrContains(text, ".cc")) << text;
}

TEST(CliHelp, SendHelpShowsSendsUsageAndOnlyItsFlags) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"help", "send"}, {"send", "--help"}, {"send", "-h"}, {"send", "--to=x", "--help"}}) {
    const CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, "usage: safeshare send --declaration FILE")) << r.out;
    for (const char* flag : {"--to AGENCY", "--to_team TEAM", "--declaration FILE",
                             "--payload FILE", "--practitioner STAFF_ID", "--receipt_out FILE",
                             "--identity DIR", "--gateway HOST:PORT"}) {
      EXPECT_TRUE(absl::StrContains(r.out, flag)) << flag << "\n" << r.out;
    }
    for (const char* other : {"--inbox", "--isa_dir", "--outcome_decision", "--watch", "--dir "}) {
      EXPECT_FALSE(absl::StrContains(r.out, other)) << other << "\n" << r.out;
    }
    EXPECT_TRUE(absl::StrContains(r.out, "exit status: 0 done")) << r.out;
    ExpectNoBuildPaths(r.out + r.err);
  }
}

TEST(CliHelp, TwoWordCommandsHaveTheirOwnHelp) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"help", "keys", "rotate"},
                                                                {"keys", "rotate", "--help"}}) {
    const CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, "usage: safeshare keys rotate")) << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "--purpose PURPOSE")) << r.out;
    EXPECT_FALSE(absl::StrContains(r.out, "--out ")) << r.out;  // keys gen's
  }
  const CommandResult group = Cli({"help", "keys"});
  EXPECT_EQ(group.exit_code, 0);
  for (const char* sub : {"keys gen", "keys rotate", "keys revoke"}) {
    EXPECT_TRUE(absl::StrContains(group.out, sub)) << group.out;
  }
}

TEST(CliHelp, HelpListsEveryCommandAndTheExitCodes) {
  const CommandResult r = Cli({"help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_GE(cli::CommandTable().size(), 27u);
  for (const cli::Command& c : cli::CommandTable()) {
    EXPECT_TRUE(absl::StrContains(r.out, "  " + c.name + " ")) << c.name << "\n" << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, c.summary)) << c.name;
  }
  EXPECT_TRUE(absl::StrContains(r.out, "1 refused by the gateway")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "3 HOLD_FOR_ADVICE")) << r.out;
  ExpectNoBuildPaths(r.out);
  EXPECT_EQ(Cli({"--help"}).out, r.out);
}

TEST(CliHelp, EveryCommandHasHelp) {
  for (const cli::Command& c : cli::CommandTable()) {
    std::vector<std::string> args = {"help"};
    for (absl::string_view word : absl::StrSplit(c.name, ' ')) args.emplace_back(word);
    const CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << c.name << ": " << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, "usage: safeshare " + c.name)) << r.out;
    EXPECT_FALSE(c.summary.empty()) << c.name;
    for (const cli::FlagSpec& f : c.flags) {
      EXPECT_FALSE(f.help.empty()) << c.name << " --" << f.name;
      EXPECT_TRUE(absl::StrContains(r.out, "--" + f.name)) << c.name << " --" << f.name;
      EXPECT_EQ(f.name.find('-'), std::string::npos) << "spell flags with underscores: " << f.name;
    }
    ExpectNoBuildPaths(r.out);
  }
}

TEST(CliHelp, PolicyCheckHelpExitsZero) {
  const CommandResult r = Cli({"policy", "check", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "--isa_dir DIR")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "0 ALLOW, 1 DENY, 3 HOLD_FOR_ADVICE; 2 bad input")) << r.out;
}

TEST(CliFlags, UnknownFlagExitsTwoNamingIt) {
  CommandResult r = Cli({"send", "--foo"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err,
                                "safeshare send: unknown flag --foo (see 'safeshare help "
                                "send')"))
      << r.err;
  r = Cli({"keys", "rotate", "--identity=x", "--foo=bar"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "safeshare keys rotate: unknown flag --foo ")) << r.err;
  // A flag of another command is unknown here.
  r = Cli({"send", "--inbox", "dir"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown flag --inbox")) << r.err;
  r = Cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "unknown command 'frobnicate'")) << r.err;
  r = Cli({"keys", "frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "expected one of gen, rotate, revoke")) << r.err;
}

TEST(CliFlags, MissingValuesExitTwoSayingWhatIsNeeded) {
  CommandResult r = Cli({"send", "--to=portsmouth-mash", "--identity", "dir"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--declaration FILE is required")) << r.err;
  r = Cli({"ack", "--identity=dir"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "safeshare ack: missing MESSAGE_ID")) << r.err;
  r = Cli({"ack", "id-1", "id-2", "--identity=dir"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "unexpected argument 'id-2'")) << r.err;
  r = Cli({"status", "id-1", "--identity"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--identity needs a value (DIR)")) << r.err;
  r = Cli({"status", "id-1", "--identity=dir", "--watch=often"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--watch is a switch")) << r.err;
  r = Cli({"pki", "issue", "--dir=d", "--principal=p", "--out=o", "--valid_days=many"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "--valid_days must be a whole number")) << r.err;
  r = Cli({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(r.err, "no command given")) << r.err;
}

TEST(CliFlags, DeprecatedSpellingWorksAndWarns) {
  namespace pt = safeshare::policy::testing;
  const std::string envelope_json = [] {
    std::string json;
    EXPECT_TRUE(
        google::protobuf::util::MessageToJsonString(pt::ExampleEnvelope(pt::kExamples[0]), &json)
            .ok());
    return json;
  }();
  const std::string envelope = pt::WriteFile(pt::MakeTempDir("cli"), "e.json", envelope_json);
  const std::vector<std::string> common = {
      "--federation", testing::SourceDir() + "/deploy/dev-federation.textproto",
      "--at=2026-12-01T10:00:00Z"};
  for (const std::string spelling : {"--isa-dir", "--isa_dir"}) {
    std::vector<std::string> args = {"policy", "check",  "--envelope",
                                     envelope, spelling, testing::SourceDir() + "/deploy/isa"};
    args.insert(args.end(), common.begin(), common.end());
    const CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << spelling << ": " << r.err;
    EXPECT_TRUE(absl::StrContains(r.out, "\"decision\": \"ALLOW\"")) << r.out;
    EXPECT_EQ(absl::StrContains(r.err, "--isa-dir is deprecated; use --isa_dir"),
              spelling == "--isa-dir")
        << r.err;
  }
}

}  // namespace
}  // namespace safeshare
