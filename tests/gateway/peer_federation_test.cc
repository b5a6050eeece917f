// Peer federations in the federation file (docs/federation.md): what a load
// accepts, and which CA may vouch for which principal once peers' CAs share
// the gateway's trust bundle.
#include <fstream>
#include <regex>

#include "agents/pki/dev_pki.h"
#include "common/files.h"
#include "gateway/federation_directory.h"
#include "gateway/principal.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace safeshare::gateway {
namespace {

class PeerFederationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new safeshare::testing::TempDir();
    const std::string base =
        *ReadFile(safeshare::testing::SourceDir() + "/deploy/dev-federation.textproto");
    // Own (hips-dev); a peer; and a CA that issues certificates naming
    // hips-dev agencies although it is not hips-dev's.
    for (const auto& [dir, id, name] :
         {std::tuple<std::string*, std::string, std::string>{&own_, "hips-dev", "Own"},
          {&peer_, "peer-b", "Peer B"},
          {&impostor_, "hips-dev", "Impostor"}}) {
      *dir = tmp_->path() + "/" + name;
      const std::string tmpl = *dir + ".textproto";
      std::string text =
          std::regex_replace(base, std::regex("id: \"hips-dev\""), "id: \"" + id + "\"",
                             std::regex_constants::format_first_only);
      text = std::regex_replace(text, std::regex("display_name: \"[^\"]*\""),
                                "display_name: \"" + name + "\"",
                                std::regex_constants::format_first_only);
      std::ofstream(tmpl) << text;
      ASSERT_TRUE(agents::CreateDevFederation(tmpl, *dir, false).ok());
    }
  }
  static void TearDownTestSuite() { delete tmp_; }

  static std::string PeerEntry(const std::string& id, const std::string& ca_dir,
                               const std::string& extra = "") {
    return "peers { id: \"" + id + "\" gateway_address: \"localhost:1\" ca_file: \"" + ca_dir +
           "/ca/ca.pem\" audit_log { origin: \"safeshare." + id +
           "/audit\" public_key: \"0123456789abcdef0123456789abcdef\" } areas { id: \"dorset\" } "
           "agencies { id: \"" +
           id + "-school\" area_id: \"dorset\" } " + extra + "}";
  }

  static absl::StatusOr<FederationDirectory> Load(const std::string& extra) {
    const std::string path = tmp_->path() + "/under-test.textproto";
    std::ofstream(path) << *ReadFile(own_ + "/federation.textproto") << "\n" << extra << "\n";
    CertificateTrust trust;
    trust.ca_bundle_pem = *ReadFile(own_ + "/ca/ca.pem");
    trust.accept_development = true;
    return FederationDirectory::Load(path, trust);
  }

  static PeerCertificate Cert(const std::string& identity_dir) {
    auto cert = ParsePeerCertificate(*ReadFile(identity_dir + "/cert.pem"));
    EXPECT_TRUE(cert.ok()) << cert.status();
    return cert.ok() ? *cert : PeerCertificate();
  }

  static safeshare::testing::TempDir* tmp_;
  static std::string own_, peer_, impostor_;
};
safeshare::testing::TempDir* PeerFederationTest::tmp_ = nullptr;
std::string PeerFederationTest::own_, PeerFederationTest::peer_, PeerFederationTest::impostor_;

TEST_F(PeerFederationTest, PeersAgenciesAreRoutableButNeverMembers) {
  auto dir = Load(PeerEntry("peer-b", peer_));
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_NE(dir->FindPeer("peer-b"), nullptr);
  EXPECT_EQ(dir->PeerServing("peer-b-school"), dir->FindPeer("peer-b"));
  EXPECT_EQ(dir->PeerServing("portsmouth-mash"), nullptr);
  EXPECT_EQ(dir->FindAgency("peer-b-school"), nullptr);  // not a member here
  ASSERT_NE(dir->FindAnyAgency("peer-b-school"), nullptr);
  bool in_policy_view = false;
  for (const auto& a : dir->policy_view().agencies()) in_policy_view |= a.id() == "peer-b-school";
  EXPECT_TRUE(in_policy_view);
  EXPECT_TRUE(dir->policy_view().peers().empty());

  // A relative ca_file is relative to the federation file, as crl_file is.
  auto relative = Load(PeerEntry("peer-b", "Peer B"));
  ASSERT_TRUE(relative.ok()) << relative.status();
  EXPECT_FALSE(relative->PeerCaPem("peer-b").empty());
}

TEST_F(PeerFederationTest, APeerCaVouchesForItsGatewayOnly) {
  auto dir = Load(PeerEntry("peer-b", peer_) + "\n" + PeerEntry("peer-c", impostor_));
  ASSERT_TRUE(dir.ok()) << dir.status();
  // Our own agency and the peer's gateway, each by its own CA.
  EXPECT_TRUE(AuthenticateCertificate(Cert(own_ + "/agencies/portsmouth-mash"), *dir).ok());
  auto gateway = AuthenticatePeerGatewayCertificate(Cert(peer_ + "/gateway"), *dir);
  ASSERT_TRUE(gateway.ok()) << gateway.status();
  EXPECT_TRUE(gateway->is_gateway());
  EXPECT_EQ(gateway->federation_id, "peer-b");
  // A certificate naming one of our agencies, issued by a peer's CA.
  auto forged = AuthenticateCertificate(Cert(impostor_ + "/agencies/portsmouth-mash"), *dir);
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kUnauthenticated) << forged.status();
  // The peer's agencies are not callers here, and a gateway only calls
  // PeerGateway; our own gateway is not a peer.
  EXPECT_EQ(
      AuthenticateCertificate(Cert(peer_ + "/agencies/portsmouth-mash"), *dir).status().code(),
      absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(AuthenticateCertificate(Cert(peer_ + "/gateway"), *dir).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AuthenticatePeerGatewayCertificate(Cert(own_ + "/agencies/portsmouth-mash"), *dir)
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(AuthenticatePeerGatewayCertificate(Cert(own_ + "/gateway"), *dir).status().code(),
            absl::StatusCode::kUnauthenticated);
  // The impostor CA's gateway names hips-dev, which is not a peer.
  EXPECT_EQ(AuthenticatePeerGatewayCertificate(Cert(impostor_ + "/gateway"), *dir).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(PeerFederationTest, RefusesPeersItCannotTrustOrRoute) {
  const std::pair<std::string, std::string> cases[] = {
      {PeerEntry("hips-dev", peer_), "not this federation's"},
      {PeerEntry("peer-b", peer_) + PeerEntry("peer-b", peer_), "once"},
      {std::regex_replace(PeerEntry("peer-b", peer_), std::regex("localhost:1"), ""),
       "gateway_address"},
      {std::regex_replace(PeerEntry("peer-b", peer_), std::regex("0123456789abcdef"), "x"),
       "32-byte"},
      {PeerEntry("peer-b", tmp_->path() + "/nowhere"), "cannot be read"},
      {PeerEntry("peer-b", own_), "same name as this federation's"},
      {PeerEntry("peer-b", peer_, "agencies { id: \"portsmouth-mash\" area_id: \"dorset\" }"),
       "unique across peers"},
      {PeerEntry("peer-b", peer_, "agencies { id: \"b2\" area_id: \"nowhere\" }"), "unknown area"},
      {PeerEntry("peer-b", peer_,
                 "agencies { id: \"b3\" area_id: \"dorset\" keys { key_id: \"k\" } }"),
       "key log only"},
  };
  for (const auto& [text, expect] : cases) {
    auto dir = Load(text);
    ASSERT_FALSE(dir.ok()) << text;
    EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(dir.status().message().find(expect), std::string::npos) << dir.status();
  }
}

}  // namespace
}  // namespace safeshare::gateway
