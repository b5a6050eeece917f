// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. Revocation and who may present a
// certificate: revoked serials, fingerprints and CRLs (at start and after
// SIGHUP, ending open streams), identities of another federation from a
// second CA in the trust bundle, development certificates, and certificates
// with more than one identity.

#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "common/files.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

using RevocationE2eTest = GatewayE2eTest;

std::string FederationFile(const std::string& federation) {
  return federation + "/federation.textproto";
}

// What an operator pastes: `openssl x509 -noout -serial` or `-fingerprint
// -sha256`, whole.
std::string OpensslPrints(const std::string& cert, const std::string& what) {
  std::vector<std::string> argv = {"/usr/bin/openssl", "x509", "-noout", what, "-in", cert};
  if (what == "-fingerprint") argv.push_back("-sha256");
  CommandResult r = RunCommand(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return std::string(absl::StripAsciiWhitespace(r.out));
}

class Revoking : public RevocationE2eTest {
 protected:
  // Appends to the federation file, as an operator edits it.
  void Append(const std::string& text) {
    auto current = ReadFile(FederationFile(federation_));
    ASSERT_TRUE(current.ok());
    ASSERT_TRUE(
        WriteFileAtomically(FederationFile(federation_), *current + "\n" + text + "\n", 0644).ok());
  }
  // Then `kill -HUP`.
  void AppendAndReload(const std::string& text) {
    Append(text);
    gateway_->Signal(SIGHUP);
  }

  // Fetch as `agency` until it is refused (the reload is asynchronous).
  absl::Status RefusedAfterReload(const std::string& agency) {
    auto client = Agency(agency);
    absl::Status last;
    testing::WaitFor(
        [&] {
          last = client->Fetch().status();
          return !last.ok();
        },
        15);
    return last;
  }

  std::string GatewayLog() {
    auto log = ReadFile(gateway_->log_path());
    return log.ok() ? *log : "";
  }
};

// A live stream ended by the gateway, or by this watchdog (then CANCELLED).
struct WatchedStream {
  explicit WatchedStream(std::unique_ptr<AgentClient::Subscription> s) : sub(std::move(s)) {
    watchdog = std::thread([this] {
      if (!ended.WaitForNotificationWithTimeout(absl::Seconds(20))) sub->Cancel();
    });
  }
  ~WatchedStream() {
    if (!ended.HasBeenNotified()) ended.Notify();
    watchdog.join();
  }
  // Reads until the stream ends; its status.
  absl::Status End() {
    v1::MailboxMessage m;
    while (sub->Read(&m)) {
    }
    absl::Status st = sub->Finish();
    ended.Notify();
    return st;
  }
  std::unique_ptr<AgentClient::Subscription> sub;
  absl::Notification ended;
  std::thread watchdog;
};

TEST_F(Revoking, ARevokedSerialIsRefusedAfterSighupAndItsOpenStreamEnds) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "before-revocation")).ok());
  auto mash = Agency("portsmouth-mash");
  WatchedStream stream(mash->Subscribe(0));
  v1::MailboxMessage got;
  ASSERT_TRUE(stream.sub->Read(&got));  // the stream is open and authenticated
  EXPECT_EQ(got.message_id(), "before-revocation");
  auto iow = Agency("iow-mash");
  WatchedStream unrevoked(iow->Subscribe(0));

  AppendAndReload(absl::StrCat("revoked_certificates { serials: \"",
                               OpensslPrints(AgencyDir("portsmouth-mash") + "/cert.pem", "-serial"),
                               "\" }"));
  absl::Status refused = RefusedAfterReload("portsmouth-mash");
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
  EXPECT_NE(refused.message().find("revoked"), std::string::npos) << refused;

  absl::Status ended = stream.End();
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnauthenticated) << ended;
  EXPECT_NE(GatewayLog().find("federation.reloaded"), std::string::npos);

  // Everyone else goes on, their streams included.
  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash", "after-revocation")).ok());
  ASSERT_TRUE(unrevoked.sub->Read(&got));
  EXPECT_EQ(got.message_id(), "after-revocation");
  unrevoked.sub->Cancel();
  (void)unrevoked.End();
}

TEST_F(Revoking, ARevokedFingerprintIsRefusedAfterSighupAndItsOpenStreamEnds) {
  auto police = Agency("hiow-police");
  WatchedStream stream(police->Subscribe(0));
  ASSERT_TRUE(police->Fetch().ok());
  auto officer = Officer("hampshire-crt.dpo");
  ASSERT_TRUE(officer->GetCheckpoint().ok());

  AppendAndReload(absl::StrCat(
      "revoked_certificates {\n  sha256_fingerprints: \"",
      OpensslPrints(AgencyDir("hiow-police") + "/cert.pem", "-fingerprint"),
      "\"\n  sha256_fingerprints: \"",
      OpensslPrints(federation_ + "/officers/hampshire-crt.dpo/cert.pem", "-fingerprint"),
      "\"\n}"));
  absl::Status refused = RefusedAfterReload("hiow-police");
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnauthenticated) << refused;
  EXPECT_NE(refused.message().find("sha256_fingerprints"), std::string::npos) << refused;
  EXPECT_EQ(officer->GetCheckpoint().status().code(), absl::StatusCode::kUnauthenticated);
  absl::Status ended = stream.End();
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnauthenticated) << ended;
  EXPECT_TRUE(Agency("iow-mash")->Fetch().ok());

  // A new certificate for the same agency works: it was the certificate.
  const std::string fresh = data_.path() + "/reissued";
  ASSERT_TRUE(agents::IssueClientCertificate(federation_, "safeshare://hips-dev/agency/hiow-police",
                                             fresh, absl::Minutes(-1), absl::Hours(24))
                  .ok());
  EXPECT_TRUE(ClientFor(fresh)->Fetch().ok());
}

TEST_F(Revoking, ACrlListingTheCertificateRefusesIt) {
  const std::string serial = OpensslPrints(AgencyDir("hiow-police") + "/cert.pem", "-serial");
  CommandResult crl =
      RunCommand({testing::CliBinary(), "pki", "crl", "--dir", federation_, "--revoke",
                  serial.substr(serial.find('=') + 1), "--out", federation_ + "/federation.crl"});
  ASSERT_EQ(crl.exit_code, 0) << crl.err;
  const v1::SignedEnvelope referral = Referral("hiow-police", "portsmouth-mash");
  gateway_->Stop();
  Append("revoked_certificates { crl_file: \"federation.crl\" }");
  StartGateway({});
  auto r = Agency("hiow-police")->Submit(referral);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << r.status();
  EXPECT_NE(r.status().message().find("CRL"), std::string::npos) << r.status();
  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(Revoking, AStaleCrlStopsTheStartAndOnSighupLeavesThePreviousFileInForce) {
  ASSERT_TRUE(agents::IssueDevelopmentCrl(federation_, {}, federation_ + "/stale.crl",
                                          absl::Hours(-48), absl::Hours(-24))
                  .ok());
  // SIGHUP: refused and logged; the previous file (nothing revoked) stays.
  AppendAndReload(absl::StrCat("revoked_certificates {\n  crl_file: \"stale.crl\"\n  serials: \"",
                               OpensslPrints(AgencyDir("hiow-police") + "/cert.pem", "-serial"),
                               "\"\n}"));
  ASSERT_TRUE(testing::WaitFor(
      [&] { return GatewayLog().find("federation.reload_failed") != std::string::npos; }, 15))
      << GatewayLog();
  EXPECT_NE(GatewayLog().find("stale"), std::string::npos);
  EXPECT_TRUE(Agency("hiow-police")->Fetch().ok());

  // At start: the gateway does not start.
  gateway_->Stop();
  GatewayProcess restarted(federation_, data_.path() + "/restart");
  EXPECT_FALSE(restarted.Start());
  auto log = ReadFile(restarted.log_path());
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find("stale"), std::string::npos) << *log;
}

TEST_F(RevocationE2eTest, AnIdentityOfAnotherFederationFromASecondTrustedCaIsRefused) {
  // A second federation whose CA the gateway also trusts (e.g. a neighbour's
  // bundle), issuing the same agency ids under its own federation id.
  TempDir other;
  auto tmpl = ReadFile(testing::SourceDir() + "/deploy/dev-federation.textproto");
  ASSERT_TRUE(tmpl.ok());
  const std::string other_tmpl = other.path() + "/other.textproto";
  ASSERT_TRUE(
      WriteFileAtomically(
          other_tmpl, absl::StrReplaceAll(*tmpl, {{"id: \"hips-dev\"", "id: \"wessex\""}}), 0644)
          .ok());
  CommandResult init = RunCommand({testing::CliBinary(), "pki", "init", "--dir",
                                   other.path() + "/fed", "--federation_template", other_tmpl});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto ours = ReadFile(federation_ + "/gateway/ca.pem");
  auto theirs = ReadFile(other.path() + "/fed/ca/ca.pem");
  ASSERT_TRUE(ours.ok() && theirs.ok());
  gateway_->Stop();
  ASSERT_TRUE(WriteFileAtomically(federation_ + "/gateway/ca.pem", *ours + *theirs, 0644).ok());
  StartGateway({});

  auto id = agents::LoadIdentity(other.path() + "/fed/agencies/hiow-police");
  ASSERT_TRUE(id.ok());
  id->ca_pem = *ours;  // trusts our gateway
  auto client = AgentClient::Connect(gateway_->target(), *id, absl::Seconds(10));
  auto r = client->Submit(Referral("hiow-police", "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << r.status();
  EXPECT_NE(r.status().message().find("federation 'wessex'"), std::string::npos) << r.status();
  ExpectMailboxEmpty("portsmouth-mash");
  // The handshake itself succeeded: the second CA is trusted, the identity is not ours.
  EXPECT_TRUE(Agency("hiow-police")->Submit(Referral("hiow-police", "portsmouth-mash")).ok());
}

TEST_F(RevocationE2eTest, DevelopmentCertificatesNeedTheDevelopmentFlag) {
  const v1::SignedEnvelope referral = Referral("hiow-police", "portsmouth-mash");
  gateway_->Stop();
  StartGateway({"--development=false"});
  auto r = Agency("hiow-police")->Submit(referral);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << r.status();
  EXPECT_NE(r.status().message().find("--development"), std::string::npos) << r.status();

  // The same CA and principal without the marker (as a production CA issues).
  agents::IssueOptions production;
  production.development_marker = false;
  const std::string dir = data_.path() + "/production";
  ASSERT_TRUE(agents::IssueClientCertificate(federation_, "safeshare://hips-dev/agency/hiow-police",
                                             dir, production)
                  .ok());
  EXPECT_TRUE(ClientFor(dir)->Fetch().ok());

  gateway_->Stop();
  StartGateway({});  // --development
  EXPECT_TRUE(Agency("hiow-police")->Fetch().ok());
}

TEST_F(RevocationE2eTest, OnlyOneSafeshareUriMayNameTheCaller) {
  agents::IssueOptions two;
  two.extra_uri_sans = {"safeshare://hips-dev/agency/portsmouth-mash"};
  const std::string twice = data_.path() + "/two-identities";
  ASSERT_TRUE(agents::IssueClientCertificate(federation_, "safeshare://hips-dev/agency/hiow-police",
                                             twice, two)
                  .ok());
  auto r = ClientFor(twice)->Fetch();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << r.status();

  // Other SAN types do not count, whatever they say.
  agents::IssueOptions others;
  others.extra_dns_sans = {"police.example.org"};
  others.extra_email_sans = {"safeshare://hips-dev/agency/portsmouth-mash"};
  const std::string mixed = data_.path() + "/mixed-sans";
  ASSERT_TRUE(agents::IssueClientCertificate(federation_, "safeshare://hips-dev/agency/hiow-police",
                                             mixed, others)
                  .ok());
  auto page = ClientFor(mixed)->Fetch();
  EXPECT_TRUE(page.ok()) << page.status();
}

}  // namespace
}  // namespace safeshare
