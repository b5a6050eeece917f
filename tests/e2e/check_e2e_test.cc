// `safeshare-gateway check`: everything the gateway would load, checked
// without starting it or writing anything; exit 1 on any problem, each named.
#include <filesystem>
#include <fstream>

#include "agents/agency_agent.h"
#include "agents/pki/dev_pki.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace safeshare {
namespace {

namespace fs = std::filesystem;

class CheckE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fed_ = testing::MakeFederation(tmp_);
    ASSERT_FALSE(fed_.empty());
    fs::create_directories(tmp_.path() + "/data");
  }

  // The flags the gateway would start with, `replace` overriding some.
  testing::CommandResult Check(const std::vector<std::string>& replace = {}) {
    std::vector<std::string> argv = {testing::GatewayBinary(),
                                     "check",
                                     "--listen=127.0.0.1:0",
                                     "--ca=" + fed_ + "/gateway/ca.pem",
                                     "--cert=" + fed_ + "/gateway/cert.pem",
                                     "--key=" + fed_ + "/gateway/key.pem",
                                     "--store=sqlite://" + db(),
                                     "--federation=" + fed_ + "/federation.textproto",
                                     "--isa_dir=" + testing::TestAgreements(tmp_.path() + "/isa"),
                                     "--audit_key=" + fed_ + "/gateway/audit-signing.pem",
                                     "--development"};
    argv.insert(argv.end(), replace.begin(), replace.end());
    return testing::RunCommand(argv);
  }
  std::string db() const { return tmp_.path() + "/data/gateway.db"; }

  testing::TempDir tmp_;
  std::string fed_;
};

TEST_F(CheckE2eTest, AGoodConfigurationSaysWhatItWouldRunWithAndWritesNothing) {
  auto r = Check();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("federation: hips-dev, 9 agencies"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("agreements: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("audit log: safeshare.hips-dev/audit"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("days to expiry"), std::string::npos) << r.out;
  // Development certificates live 30 days: always within the warning.
  EXPECT_NE(r.out.find("warning  the gateway certificate"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("problem"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(db()));
}

TEST_F(CheckE2eTest, EachProblemIsNamedAndFailsTheCheck) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--audit_key=" + fed_ + "/gateway/witness-signing.pem"},
       "does not match the audit_log public key"},
      {{"--key=" + fed_ + "/agencies/hiow-police/key.pem"}, "does not match"},
      {{"--store=sqlite://" + tmp_.path() + "/nowhere/gateway.db"}, "is not writable"},
      {{"--store=postgresql://nobody@127.0.0.1:1/none"}, "cannot connect"},
      {{"--isa_dir=" + tmp_.path() + "/no-agreements"}, "no-agreements"},
      {{"--federation=" + tmp_.path() + "/missing.textproto"}, "missing.textproto"},
      {{"--witness_policy=" + tmp_.path() + "/no-policy.txt",
        "--witness_ca=" + fed_ + "/gateway/ca.pem"},
       "no-policy.txt"},
      {{"--witness_listen=127.0.0.1:0", "--witness_key=" + fed_ + "/gateway/audit-signing.pem",
        "--witness_name=x"},
       "must not be the audit log's own key"},
  };
  for (const auto& [flags, expect] : cases) {
    auto r = Check(flags);
    EXPECT_EQ(r.exit_code, 1) << flags.front() << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("problem  "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(expect), std::string::npos) << flags.front() << "\n" << r.out;
  }
}

TEST_F(CheckE2eTest, ACertificateOutsideItsValidityIsAProblem) {
  const std::string out = tmp_.path() + "/expired";
  ASSERT_TRUE(agents::IssueClientCertificate(fed_, "safeshare://hips-dev/gateway", out,
                                             absl::Hours(-48), absl::Hours(24))
                  .ok());
  auto r = Check({"--cert=" + out + "/cert.pem", "--key=" + out + "/key.pem"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("has expired"), std::string::npos) << r.out;

  const std::string later = tmp_.path() + "/later";
  ASSERT_TRUE(agents::IssueClientCertificate(fed_, "safeshare://hips-dev/gateway", later,
                                             absl::Hours(48), absl::Hours(24))
                  .ok());
  r = Check({"--cert=" + later + "/cert.pem", "--key=" + later + "/key.pem"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("is not valid yet"), std::string::npos) << r.out;
}

// The running gateway says the same: its own certificate's days to expiry at
// start, and each caller's certificate near its end, once.
TEST_F(CheckE2eTest, TheGatewayLogsCertificatesNearTheirEnd) {
  testing::GatewayProcess gw(fed_, tmp_.path() + "/gw");
  ASSERT_TRUE(gw.Start());
  for (int i = 0; i < 3; ++i) {
    auto agent = agents::AgencyAgent::Open(fed_ + "/agencies/portsmouth-mash", gw.target());
    ASSERT_TRUE(agent.ok());
    EXPECT_TRUE((*agent)->client().ListAgencies().ok());
  }
  gw.Stop();
  std::ifstream in(gw.log_path());
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("\"event\":\"certificate.expiry\""), std::string::npos) << log;
  EXPECT_NE(log.find("\"days_to_expiry\":\"29\""), std::string::npos) << log;
  const std::string expiring = "\"event\":\"certificate.expiring\"";
  const size_t first = log.find(expiring);
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(expiring, first + 1), std::string::npos) << "logged once per certificate";
  EXPECT_NE(log.find("safeshare://hips-dev/agency/portsmouth-mash"), std::string::npos);
}

}  // namespace
}  // namespace safeshare
