#include "agents/pki/dev_pki.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "agents/agent_client.h"
#include "agents/keyring.h"
#include "agents/outgoing_message.h"
#include "gateway/federation_directory.h"
#include "gateway/peer_certificate.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace safeshare::agents {
namespace {

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

X509* ReadCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

class DevPkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        CreateDevFederation(safeshare::testing::SourceDir() + "/deploy/dev-federation.textproto",
                            fed_, false)
            .ok());
  }
  safeshare::testing::TempDir tmp_;
  std::string fed_ = tmp_.path() + "/fed";
};

TEST_F(DevPkiTest, WritesEveryPrincipalWithPrivateKeys0600) {
  for (const char* agency : {"hampshire-crt", "portsmouth-mash", "southampton-mash", "iow-mash",
                             "hiow-police", "hiow-icb", "southsea-academy"}) {
    const std::string dir = fed_ + "/agencies/" + agency;
    EXPECT_EQ(ModeOf(dir + "/key.pem"), 0600u) << agency;
    int envelope_keys = 0;
    for (const auto& f : std::filesystem::directory_iterator(dir + "/keys")) {
      EXPECT_EQ(ModeOf(f.path().string()), 0600u) << f.path();
      ++envelope_keys;
    }
    EXPECT_EQ(envelope_keys, 2) << agency << ": a signing and an encryption key";
    auto id = LoadIdentity(dir);
    ASSERT_TRUE(id.ok()) << id.status();
    auto uri = PrincipalUriOfCertificate(id->cert_pem);
    ASSERT_TRUE(uri.ok());
    EXPECT_EQ(*uri, std::string("safeshare://hips-dev/agency/") + agency);
  }
  EXPECT_EQ(ModeOf(fed_ + "/ca/ca.key"), 0600u);
  EXPECT_EQ(ModeOf(fed_ + "/gateway/key.pem"), 0600u);
  auto officer = LoadIdentity(fed_ + "/officers/hampshire-crt.dpo");
  ASSERT_TRUE(officer.ok());
  EXPECT_EQ(*PrincipalUriOfCertificate(officer->cert_pem),
            "safeshare://hips-dev/officer/hampshire-crt/dpo");
  EXPECT_TRUE(std::filesystem::exists(fed_ + "/federation.textproto"));
}

TEST_F(DevPkiTest, CertificatesChainToTheFederationCa) {
  auto id = LoadIdentity(fed_ + "/agencies/hiow-police");
  ASSERT_TRUE(id.ok());
  X509* ca = ReadCert(id->ca_pem);
  X509* leaf = ReadCert(id->cert_pem);
  ASSERT_NE(ca, nullptr);
  ASSERT_NE(leaf, nullptr);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  EXPECT_EQ(X509_verify_cert(ctx), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(leaf);
  X509_free(ca);
}

TEST_F(DevPkiTest, RefusesToOverwriteAnExistingCaWithoutForce) {
  const std::string tmpl = safeshare::testing::SourceDir() + "/deploy/dev-federation.textproto";
  EXPECT_EQ(CreateDevFederation(tmpl, fed_, false).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CreateDevFederation(tmpl, fed_, true).ok());
}

TEST_F(DevPkiTest, IssuesAnExpiredCertificateOnRequest) {
  const std::string out = tmp_.path() + "/expired";
  ASSERT_TRUE(IssueClientCertificate(fed_, "safeshare://hips-dev/agency/hiow-police", out,
                                     absl::Hours(-48), absl::Hours(24))
                  .ok());
  auto id = LoadIdentity(out);
  ASSERT_TRUE(id.ok());
  X509* cert = ReadCert(id->cert_pem);
  ASSERT_NE(cert, nullptr);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notAfter(cert)), 0) << "notAfter is in the past";
  X509_free(cert);
  EXPECT_EQ(ModeOf(out + "/key.pem"), 0600u);
}

TEST_F(DevPkiTest, EveryAgencyGetsEnvelopeKeysWhosePublicHalvesAreInTheDirectory) {
  auto dir = safeshare::gateway::FederationDirectory::Load(fed_ + "/federation.textproto");
  ASSERT_TRUE(dir.ok()) << dir.status();
  for (const auto& agency : dir->federation().agencies()) {
    const std::string agency_dir = fed_ + "/agencies/" + agency.id();
    auto ring = Keyring::Load(agency_dir);
    ASSERT_TRUE(ring.ok()) << ring.status();
    EXPECT_EQ(ring->size(), 2u) << agency.id();
    ASSERT_EQ(agency.keys_size(), 2) << agency.id();
    for (const auto& key : agency.keys()) {
      EXPECT_TRUE(key.current());
      auto priv = ring->Find(key.key_id());
      ASSERT_TRUE(priv.ok()) << agency.id() << " " << key.key_id();
      EXPECT_EQ(priv->RawPublicKey(), key.public_key());
      const char* prefix = key.purpose() == v1::KEY_PURPOSE_SIGNING ? "signing-" : "encryption-";
      EXPECT_EQ(ModeOf(agency_dir + "/keys/" + prefix + key.key_id() + ".pem"), 0600u);
    }
  }
}

TEST_F(DevPkiTest, CertificatesAreMarkedForDevelopmentAndLiveThirtyDays) {
  for (const std::string dir :
       {fed_ + "/agencies/hiow-police", fed_ + "/officers/hampshire-crt.dpo", fed_ + "/gateway"}) {
    auto id = LoadIdentity(dir);
    ASSERT_TRUE(id.ok()) << dir;
    auto peer = safeshare::gateway::ParsePeerCertificate(id->cert_pem);
    ASSERT_TRUE(peer.ok()) << peer.status();
    EXPECT_TRUE(peer->development) << dir;
    X509* cert = ReadCert(id->cert_pem);
    ASSERT_NE(cert, nullptr);
    int days = 0, seconds = 0;
    ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert), X509_get0_notAfter(cert)),
              1);
    EXPECT_LE(days, 30) << dir;
    EXPECT_GE(days, 29) << dir;
    X509_free(cert);
  }
  EXPECT_EQ(
      IssueClientCertificate(fed_, "safeshare://hips-dev/agency/hiow-police", tmp_.path() + "/long",
                             absl::ZeroDuration(), absl::Hours(24 * 31))
          .code(),
      absl::StatusCode::kInvalidArgument);
}

// --principal reaches the certificate verbatim: anything but the identity
// grammar is refused, so it cannot add a SAN, an extension or a critical flag.
TEST_F(DevPkiTest, AnInjectedPrincipalIsRefusedAndNothingIsWritten) {
  for (const std::string principal : {
           "safeshare://hips-dev/agency/hiow-police,URI:safeshare://hips-dev/agency/iow-mash",
           "safeshare://hips-dev/agency/hiow-police,DNS:gateway.example.org",
           "safeshare://hips-dev/agency/hiow-police\ncritical,CA:TRUE",
           "safeshare://hips-dev/agency/hiow-police@section",
           "safeshare://hips-dev/agency/hiow-police/",
           "safeshare://hips-dev/agency/Hiow-Police",
           "safeshare://agency/hiow-police",
           "safeshare://other-fed/agency/hiow-police",
           "URI:safeshare://hips-dev/agency/hiow-police",
       }) {
    const std::string out = tmp_.path() + "/injected";
    EXPECT_EQ(
        IssueClientCertificate(fed_, principal, out, absl::ZeroDuration(), absl::Hours(24)).code(),
        absl::StatusCode::kInvalidArgument)
        << principal;
    EXPECT_FALSE(std::filesystem::exists(out + "/cert.pem")) << principal;
  }
  // Through the CLI: bad input (exit 2), with the grammar in the message.
  auto r = safeshare::testing::RunCommand(
      {safeshare::testing::CliBinary(), "pki", "issue", "--dir", fed_, "--principal",
       "safeshare://hips-dev/agency/hiow-police,DNS:evil.example.org", "--out",
       tmp_.path() + "/cli-injected"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("safeshare://<federation-id>/agency/<id>"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp_.path() + "/cli-injected/cert.pem"));

  auto ok = safeshare::testing::RunCommand(
      {safeshare::testing::CliBinary(), "pki", "issue", "--dir", fed_, "--principal",
       "safeshare://hips-dev/agency/hiow-police", "--out", tmp_.path() + "/cli-issued"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  auto id = LoadIdentity(tmp_.path() + "/cli-issued");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*PrincipalUriOfCertificate(id->cert_pem), "safeshare://hips-dev/agency/hiow-police");
}

TEST_F(DevPkiTest, TheAgentRefusesACertificateWithTwoIdentities) {
  IssueOptions options;
  options.extra_uri_sans = {"safeshare://hips-dev/agency/iow-mash"};
  const std::string out = tmp_.path() + "/two";
  ASSERT_TRUE(
      IssueClientCertificate(fed_, "safeshare://hips-dev/agency/hiow-police", out, options).ok());
  auto id = LoadIdentity(out);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(PrincipalUriOfCertificate(id->cert_pem).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeyringTest, AddsAndFindsKeysAndPicksTheNewest) {
  safeshare::testing::TempDir tmp;
  Keyring ring;
  auto first = *envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
  auto second = *envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(ring.Add(tmp.path(), first).ok());
  ASSERT_TRUE(ring.Add(tmp.path(), second).ok());
  EXPECT_EQ(ring.Newest(envelope::PrivateKey::Type::kSigning)->KeyId(), second.KeyId());
  EXPECT_EQ(ring.Newest(envelope::PrivateKey::Type::kEncryption).status().code(),
            absl::StatusCode::kNotFound);
  auto loaded = Keyring::Load(tmp.path());
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->size(), 2u);
  EXPECT_TRUE(loaded->Find(first.KeyId()).ok());
  EXPECT_EQ(loaded->Find("0000").status().code(), absl::StatusCode::kNotFound);
}

// Spec 2.3: every .pem in keys/ is read, type and id from the key itself (not
// the name); one that is not an envelope key stops the load, naming the file;
// other files are ignored.
TEST(KeyringTest, LoadsEveryPemByItsContentAndStopsAtOneThatIsNotAKey) {
  safeshare::testing::TempDir tmp;
  Keyring ring;
  auto key = *envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(ring.Add(tmp.path(), key).ok());
  const std::string keys = tmp.path() + "/keys";
  // A misleading name changes nothing: the key says what it is.
  std::filesystem::rename(keys + "/encryption-" + key.KeyId() + ".pem", keys + "/signing-x.pem");
  std::ofstream(keys + "/notes.txt") << "not a key, and not a .pem";
  auto loaded = Keyring::Load(tmp.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->Find(key.KeyId()).ok());
  EXPECT_EQ(loaded->Find(key.KeyId())->type(), envelope::PrivateKey::Type::kEncryption);
  std::ofstream(keys + "/stray.pem") << "-----not a key-----\n";
  auto refused = Keyring::Load(tmp.path());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_NE(refused.status().message().find("stray.pem"), std::string::npos) << refused.status();
}

TEST(NewMessageIdTest, IsAVersion4Uuid) {
  std::string a = NewMessageId(), b = NewMessageId();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '4');
}

}  // namespace
}  // namespace safeshare::agents
