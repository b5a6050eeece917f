// The gateway's reading of real client certificates (from the development
// PKI): which SANs are identities, the development marker, and revocation by
// the federation file's lists and by a CRL.

#include <filesystem>
#include <fstream>

#include "agents/keyring.h"
#include "agents/pki/dev_pki.h"
#include "common/files.h"
#include "gateway/federation_directory.h"
#include "gateway/peer_certificate.h"
#include "gateway/principal.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace safeshare::gateway {
namespace {

class CertificateRevocationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new safeshare::testing::TempDir();
    fed_ = tmp_->path() + "/fed";
    ASSERT_TRUE(
        agents::CreateDevFederation(
            safeshare::testing::SourceDir() + "/deploy/dev-federation.textproto", fed_, false)
            .ok());
  }
  static void TearDownTestSuite() { delete tmp_; }

  static PeerCertificate Read(const std::string& identity_dir) {
    auto pem = ReadFile(identity_dir + "/cert.pem");
    EXPECT_TRUE(pem.ok()) << pem.status();
    auto cert = ParsePeerCertificate(pem.ok() ? *pem : "");
    EXPECT_TRUE(cert.ok()) << cert.status();
    return cert.ok() ? *cert : PeerCertificate();
  }
  static PeerCertificate Agency(const std::string& id) { return Read(fed_ + "/agencies/" + id); }

  // The dev federation file with `extra` appended (text format), loaded as
  // the gateway does: the CA bundle verifies the CRL, development accepted.
  static absl::StatusOr<FederationDirectory> Load(const std::string& extra,
                                                  absl::Time now = absl::Now()) {
    auto text = ReadFile(fed_ + "/federation.textproto");
    if (!text.ok()) return text.status();
    const std::string path = tmp_->path() + "/federation-under-test.textproto";
    std::ofstream(path) << *text << "\n" << extra << "\n";
    CertificateTrust trust;
    trust.ca_bundle_pem = *ReadFile(fed_ + "/ca/ca.pem");
    trust.accept_development = true;
    trust.now = now;
    return FederationDirectory::Load(path, trust);
  }

  std::string Issue(const std::string& name, const agents::IssueOptions& options,
                    const std::string& principal = "safeshare://hips-dev/agency/portsmouth-mash") {
    const std::string out = tmp_->path() + "/" + name;
    EXPECT_TRUE(agents::IssueClientCertificate(fed_, principal, out, options).ok());
    return out;
  }

  static inline safeshare::testing::TempDir* tmp_ = nullptr;
  static inline std::string fed_;
};

TEST_F(CertificateRevocationTest, ExpiryIsReadAndCountedInWholeDays) {
  const absl::Time now = absl::Now();
  // Development certificates live 30 days from five minutes ago.
  EXPECT_EQ(DaysToExpiry(Agency("portsmouth-mash").not_after, now), 29);
  agents::IssueOptions expired;
  expired.not_before_offset = absl::Hours(-72);
  expired.validity = absl::Hours(36);
  EXPECT_EQ(DaysToExpiry(Read(Issue("expired", expired)).not_after, now), -2);
  EXPECT_EQ(DaysToExpiry(now + absl::Hours(23), now), 0);
  EXPECT_EQ(DaysToExpiry(now - absl::Hours(1), now), -1);
}

TEST_F(CertificateRevocationTest, OnlyTheSafeshareUriSanIsAnIdentity) {
  agents::IssueOptions options;
  // Text that would read as an identity if DNS or e-mail SANs counted.
  options.extra_dns_sans = {"safeshare://hips-dev/agency/hiow-police", "mash.example.org"};
  options.extra_email_sans = {"safeshare://hips-dev/agency/hiow-police"};
  options.extra_uri_sans = {"https://portsmouth.example.org/mash"};
  PeerCertificate cert = Read(Issue("with-other-sans", options));
  EXPECT_EQ(cert.identity_uris,
            std::vector<std::string>{"safeshare://hips-dev/agency/portsmouth-mash"});
  auto dir = Load("");
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto p = AuthenticateCertificate(cert, *dir);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->agency_id, "portsmouth-mash");
}

TEST_F(CertificateRevocationTest, TwoSafeshareUriSansAreRefused) {
  agents::IssueOptions options;
  options.extra_uri_sans = {"SAFESHARE://hips-dev/agency/hiow-police"};
  PeerCertificate cert = Read(Issue("two-identities", options));
  EXPECT_EQ(cert.identity_uris.size(), 2u);
  auto dir = Load("");
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto p = AuthenticateCertificate(cert, *dir);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(p.status().message().find("exactly one"), std::string::npos) << p.status();
}

TEST_F(CertificateRevocationTest, DevelopmentMarkerIsReadFromThePolicyExtension) {
  EXPECT_TRUE(Agency("hiow-police").development);
  agents::IssueOptions production;
  production.development_marker = false;
  EXPECT_FALSE(Read(Issue("production-like", production)).development);
}

TEST_F(CertificateRevocationTest, SerialAndFingerprintMatchOpenssl) {
  const std::string cert = fed_ + "/agencies/hiow-police/cert.pem";
  auto serial = safeshare::testing::RunCommand(
      {"/usr/bin/openssl", "x509", "-noout", "-serial", "-in", cert});
  auto fingerprint = safeshare::testing::RunCommand(
      {"/usr/bin/openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", cert});
  ASSERT_EQ(serial.exit_code, 0);
  ASSERT_EQ(fingerprint.exit_code, 0);
  PeerCertificate peer = Agency("hiow-police");
  EXPECT_EQ(*NormalizeSerial(serial.out), peer.serial) << serial.out;
  EXPECT_EQ(*NormalizeFingerprint(fingerprint.out), peer.sha256_fingerprint) << fingerprint.out;
}

TEST_F(CertificateRevocationTest, ACrlListingTheCertificateRevokesIt) {
  PeerCertificate police = Agency("hiow-police");
  ASSERT_TRUE(
      agents::IssueDevelopmentCrl(fed_, {police.serial}, tmp_->path() + "/current.crl").ok());
  auto dir = Load("revoked_certificates { crl_file: \"current.crl\" }");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_TRUE(dir->revocations().has_crl());
  auto refused = AuthenticateCertificate(police, *dir);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(refused.status().message().find("CRL"), std::string::npos) << refused.status();
  EXPECT_NE(refused.status().message().find(police.serial), std::string::npos);
  EXPECT_TRUE(AuthenticateCertificate(Agency("iow-mash"), *dir).ok());
}

TEST_F(CertificateRevocationTest, AStaleCrlFailsTheLoad) {
  const std::string crl = tmp_->path() + "/stale.crl";
  ASSERT_TRUE(agents::IssueDevelopmentCrl(fed_, {Agency("hiow-police").serial}, crl,
                                          absl::Hours(-48), absl::Hours(-24))
                  .ok());
  auto dir = Load("revoked_certificates { crl_file: \"stale.crl\" }");
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kFailedPrecondition) << dir.status();
  EXPECT_NE(dir.status().message().find("stale"), std::string::npos) << dir.status();

  // The same CRL loads while it is current.
  EXPECT_TRUE(
      Load("revoked_certificates { crl_file: \"stale.crl\" }", absl::Now() - absl::Hours(36)).ok());
}

TEST_F(CertificateRevocationTest, ACrlFromACaOutsideTheBundleFailsTheLoad) {
  safeshare::testing::TempDir other;
  ASSERT_TRUE(agents::CreateDevFederation(
                  safeshare::testing::SourceDir() + "/deploy/dev-federation.textproto",
                  other.path() + "/fed", false)
                  .ok());
  ASSERT_TRUE(
      agents::IssueDevelopmentCrl(other.path() + "/fed", {"01"}, tmp_->path() + "/foreign.crl")
          .ok());
  auto dir = Load("revoked_certificates { crl_file: \"foreign.crl\" }");
  EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument) << dir.status();
  EXPECT_NE(dir.status().message().find("not signed"), std::string::npos) << dir.status();
}

TEST_F(CertificateRevocationTest, ACorruptOrMissingCrlFailsTheLoad) {
  std::ofstream(tmp_->path() + "/garbage.crl") << "not a CRL";
  EXPECT_FALSE(Load("revoked_certificates { crl_file: \"garbage.crl\" }").ok());
  EXPECT_FALSE(Load("revoked_certificates { crl_file: \"absent.crl\" }").ok());
}

}  // namespace
}  // namespace safeshare::gateway
