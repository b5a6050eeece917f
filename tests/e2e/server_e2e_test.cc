// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. The gateway process: mutual TLS 1.3 and who may connect,
// health and reflection, start, stop, kill and policy reload.

#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

TEST_F(GatewayE2eTest, OfficerCertificateCannotSubmitOrReadMail) {
  auto officer = ClientFor(federation_ + "/officers/portsmouth-mash.ig-lead");
  auto r = officer->Submit(Referral("portsmouth-mash", "hampshire-crt"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_EQ(officer->Fetch().status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(GatewayE2eTest, NoClientCertificateFailsTheHandshake) {
  auto id = agents::LoadIdentity(AgencyDir("hiow-police"));
  ASSERT_TRUE(id.ok());
  id->cert_pem.clear();
  id->key_pem.clear();
  auto anonymous = AgentClient::Connect(gateway_->target(), *id, absl::Seconds(5));
  auto r = anonymous->Submit(Referral("hiow-police", "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, CertificateFromAnotherCaFailsTheHandshake) {
  TempDir other;
  std::string rogue = testing::MakeFederation(other);
  ASSERT_FALSE(rogue.empty());
  auto id = agents::LoadIdentity(rogue + "/agencies/hiow-police");
  ASSERT_TRUE(id.ok());
  // Trusts the real gateway, presents a certificate the federation never issued.
  auto real = agents::LoadIdentity(AgencyDir("hiow-police"));
  id->ca_pem = real->ca_pem;
  auto client = AgentClient::Connect(gateway_->target(), *id, absl::Seconds(5));
  auto r = client->Submit(Referral("hiow-police", "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, ExpiredCertificateFailsTheHandshake) {
  const std::string dir = data_.path() + "/expired";
  ASSERT_TRUE(agents::IssueClientCertificate(federation_, "safeshare://hips-dev/agency/hiow-police",
                                             dir, absl::Hours(-24 * 10), absl::Hours(24))
                  .ok());
  auto client = ClientFor(dir);
  auto r = client->Submit(Referral("hiow-police", "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  ExpectMailboxEmpty("portsmouth-mash");

  // The same CA and principal with a current certificate works: it was the date.
  const std::string fresh = data_.path() + "/fresh";
  ASSERT_TRUE(agents::IssueClientCertificate(federation_, "safeshare://hips-dev/agency/hiow-police",
                                             fresh, absl::Minutes(-1), absl::Hours(24))
                  .ok());
  EXPECT_TRUE(ClientFor(fresh)->Submit(Referral("hiow-police", "portsmouth-mash")).ok());
}

TEST_F(GatewayE2eTest, CertificateForANonMemberAgencyIsPermissionDenied) {
  const std::string dir = data_.path() + "/stranger";
  ASSERT_TRUE(agents::IssueClientCertificate(federation_,
                                             "safeshare://hips-dev/agency/not-a-member", dir,
                                             absl::Minutes(-1), absl::Hours(24))
                  .ok());
  auto r = ClientFor(dir)->Submit(Referral("hiow-police", "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, Tls12IsRefusedAndTls13Accepted) {
  const std::string dir = AgencyDir("hiow-police");
  const std::string connect = "127.0.0.1:" + std::to_string(gateway_->port());
  CommandResult tls12 =
      RunCommand({"/usr/bin/openssl", "s_client", "-connect", connect, "-tls1_2", "-cert",
                  dir + "/cert.pem", "-key", dir + "/key.pem", "-CAfile", dir + "/ca.pem"});
  EXPECT_NE(tls12.exit_code, 0) << tls12.out;
  EXPECT_NE(tls12.out.find("Cipher is (NONE)"), std::string::npos) << tls12.out;
  EXPECT_EQ(tls12.out.find("New, TLSv1.2"), std::string::npos) << tls12.out;

  CommandResult tls13 =
      RunCommand({"/usr/bin/openssl", "s_client", "-connect", connect, "-tls1_3", "-cert",
                  dir + "/cert.pem", "-key", dir + "/key.pem", "-CAfile", dir + "/ca.pem"});
  // Printed once the handshake completes (the session block may race the close).
  EXPECT_NE(tls13.out.find("New, TLSv1.3, Cipher is TLS_"), std::string::npos) << tls13.out;
  EXPECT_NE(tls13.out.find("Verify return code: 0 (ok)"), std::string::npos) << tls13.out;
}

TEST_F(GatewayE2eTest, HealthAndReflectionAreServed) {
  auto client = Agency("hiow-police");
  EXPECT_TRUE(client->CheckHealth().ok());

  auto id = agents::LoadIdentity(AgencyDir("hiow-police"));
  grpc::SslCredentialsOptions tls{id->ca_pem, id->key_pem, id->cert_pem};
  auto channel = grpc::CreateChannel(gateway_->target(), grpc::SslCredentials(tls));
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  stream->WritesDone();
  std::set<std::string> names;
  for (const auto& s : resp.list_services_response().service()) names.insert(s.name());
  EXPECT_TRUE(names.count("safeshare.v1.Referrals"));
  EXPECT_TRUE(names.count("safeshare.v1.Mailbox"));
  EXPECT_TRUE(names.count("safeshare.v1.Directory"));
}

TEST_F(GatewayE2eTest, AcceptedMessagesSurviveKillAndRestart) {
  auto police = Agency("hiow-police");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = police->Submit(Referral("hiow-police", "iow-mash"));
    ASSERT_TRUE(r.ok()) << r.status();
    ids.push_back(r->message_id());
  }
  gateway_->Kill();  // SIGKILL: no chance to flush anything
  ASSERT_TRUE(gateway_->Start());
  auto page = Agency("iow-mash")->Fetch();
  ASSERT_TRUE(page.ok()) << page.status();
  std::vector<std::string> got;
  for (const auto& m : page->messages()) got.push_back(m.message_id());
  EXPECT_EQ(got, ids);
}

TEST_F(GatewayE2eTest, AnAuditKeyThatIsNotTheFederationsStopsTheStart) {
  gateway_->Stop();
  // A real Ed25519 key, but the police's signing key, not the log's.
  std::string other;
  for (const auto& f : std::filesystem::directory_iterator(AgencyDir("hiow-police") + "/keys")) {
    if (f.path().filename().string().rfind("signing-", 0) == 0) other = f.path().string();
  }
  ASSERT_FALSE(other.empty());
  GatewayProcess wrong(federation_, data_.path() + "/wrong", {"--audit_key=" + other});
  EXPECT_FALSE(wrong.Start()) << "a gateway must not sign checkpoints the federation cannot check";
  std::ifstream in(wrong.log_path());
  std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("does not match the audit_log public key in the federation file"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("PRIVATE KEY"), std::string::npos) << "never the key itself";
}

TEST_F(GatewayE2eTest, SigtermShutsDownCleanly) {
  EXPECT_EQ(gateway_->Stop(), 0);
  std::ifstream log(gateway_->log_path());
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"event\":\"gateway.stopped\""), std::string::npos) << text;
}

TEST_F(GatewayE2eTest, SighupReloadsPolicyAndABadSetKeepsThePreviousOne) {
  const std::string isa = data_.path() + "/isa";
  std::filesystem::copy(testing::SourceDir() + "/deploy/isa", isa);
  gateway_->Stop();
  StartGateway({"--isa_dir=" + isa});
  auto agent = Agent("hiow-police");
  ASSERT_TRUE(agent->Send(Message("hiow-police", "portsmouth-mash")).ok());

  // A broken agreement file: the reload fails, the old policy stays.
  std::ofstream(isa + "/broken.json") << "{ \"id\": ";
  gateway_->Signal(SIGHUP);
  std::string log;
  for (int i = 0; i < 100 && log.find("policy.reload_failed") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(gateway_->log_path());
    log.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  EXPECT_NE(log.find("policy.reload_failed"), std::string::npos) << log;
  EXPECT_NE(log.find("broken.json"), std::string::npos) << log;
  EXPECT_TRUE(agent->Send(Message("hiow-police", "portsmouth-mash")).ok());

  // Only the Isle of Wight - Hampshire agreement left: the reload succeeds and
  // the police may no longer share with Portsmouth.
  for (const auto& f : std::filesystem::directory_iterator(isa)) {
    if (f.path().filename() != "isle-of-wight-hampshire-cross-border.json") {
      std::filesystem::remove(f);
    }
  }
  gateway_->Signal(SIGHUP);
  for (int i = 0; i < 100 && log.find("policy.reloaded") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(gateway_->log_path());
    log.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  ASSERT_NE(log.find("policy.reloaded"), std::string::npos) << log;
  auto denied = agent->Send(Message("hiow-police", "portsmouth-mash"));
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kFailedPrecondition) << denied.status();
  EXPECT_NE(denied.status().message().find("necessity_proportionality"), std::string::npos);
}

}  // namespace
}  // namespace safeshare
