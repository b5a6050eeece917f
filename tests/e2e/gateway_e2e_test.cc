// End-to-end: a real safeshare-gateway process on loopback, driven over real
// mutual TLS by the agent library and the safeshare CLI.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "agents/agent_client.h"
#include "agents/outgoing_message.h"
#include "agents/pki/dev_pki.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/test_support.h"

namespace safeshare {
namespace {

using agents::AgentClient;
using agents::AgentIdentity;
using testing::CommandResult;
using testing::GatewayProcess;
using testing::RunCommand;
using testing::TempDir;

class GatewayE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fed_tmp_ = new TempDir();
    federation_ = testing::MakeFederation(*fed_tmp_);
    ASSERT_FALSE(federation_.empty()) << "pki init failed";
  }
  static void TearDownTestSuite() {
    delete fed_tmp_;
    fed_tmp_ = nullptr;
  }

  void SetUp() override { StartGateway({}); }

  void StartGateway(std::vector<std::string> flags) {
    gateway_ = std::make_unique<GatewayProcess>(federation_, data_.path() + "/gw", flags);
    ASSERT_TRUE(gateway_->Start()) << "gateway did not start; see " << gateway_->log_path();
  }

  static std::string AgencyDir(const std::string& id) {
    return federation_ + "/agencies/" + id;
  }

  std::unique_ptr<AgentClient> ClientFor(const std::string& identity_dir) {
    auto id = agents::LoadIdentity(identity_dir);
    EXPECT_TRUE(id.ok()) << id.status();
    return AgentClient::Connect(gateway_->target(), *id, absl::Seconds(10));
  }
  std::unique_ptr<AgentClient> Agency(const std::string& id) { return ClientFor(AgencyDir(id)); }

  static v1::SharingDeclaration Declaration() {
    v1::SharingDeclaration d;
    std::ifstream in(testing::SourceDir() + "/deploy/examples/police-to-portsmouth-referral.json");
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &d).ok());
    return d;
  }

  static v1::SignedEnvelope Referral(const std::string& from, const std::string& to,
                                     const std::string& message_id = "",
                                     std::string payload = "sealed referral content") {
    agents::OutgoingMessage m;
    m.message_id = message_id;
    m.sender_agency_id = from;
    m.recipient_agency_id = to;
    m.practitioner.set_id("pc-4471");
    m.practitioner.set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
    m.declaration = Declaration();
    m.payload = std::move(payload);
    auto e = agents::BuildSignedEnvelope(m);
    EXPECT_TRUE(e.ok()) << e.status();
    return *e;
  }

  static v1::Envelope Open(const v1::SignedEnvelope& s) {
    v1::Envelope e;
    EXPECT_TRUE(e.ParseFromString(s.envelope_bytes()));
    return e;
  }

  // The recipient's mailbox is empty (checked without consuming anything).
  void ExpectMailboxEmpty(const std::string& agency) {
    auto page = Agency(agency)->Fetch();
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->messages_size(), 0);
  }

  static inline TempDir* fed_tmp_ = nullptr;
  static inline std::string federation_;
  TempDir data_;
  std::unique_ptr<GatewayProcess> gateway_;
};

TEST_F(GatewayE2eTest, ReferralIsAcceptedDeliveredAndAcknowledged) {
  auto police = Agency("hiow-police");
  auto mash = Agency("portsmouth-mash");
  v1::SignedEnvelope sent = Referral("hiow-police", "portsmouth-mash");
  const std::string id = Open(sent).message_id();

  auto receipt = police->Submit(sent);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->message_id(), id);
  EXPECT_EQ(receipt->state(), v1::MESSAGE_STATE_SUBMITTED);
  EXPECT_EQ(receipt->envelope_sha256().size(), 32u);

  auto status = police->GetStatus(id);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_SUBMITTED);

  auto page = mash->Fetch();
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->messages_size(), 1);
  const auto& got = page->messages(0);
  EXPECT_EQ(got.message_id(), id);
  EXPECT_EQ(got.signed_envelope().envelope_bytes(), sent.envelope_bytes());  // byte-exact
  EXPECT_TRUE(got.has_first_delivered_time());
  EXPECT_EQ(Open(got.signed_envelope()).payload().ciphertext(), "sealed referral content");

  status = police->GetStatus(id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_DELIVERED);

  auto ack = mash->Ack(id);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_TRUE(ack->has_acknowledged_time());
  EXPECT_TRUE(mash->Ack(id).ok()) << "Ack is idempotent";

  status = police->GetStatus(id);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_ACKNOWLEDGED);
  ASSERT_EQ(status->history_size(), 3);
  EXPECT_EQ(status->history(0).state(), v1::MESSAGE_STATE_SUBMITTED);
  EXPECT_EQ(status->history(1).state(), v1::MESSAGE_STATE_DELIVERED);
  EXPECT_EQ(status->history(2).state(), v1::MESSAGE_STATE_ACKNOWLEDGED);

  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, FetchPagesThroughAMailboxInOrder) {
  auto police = Agency("hiow-police");
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    auto r = police->Submit(Referral("hiow-police", "hampshire-crt"));
    ASSERT_TRUE(r.ok()) << r.status();
    ids.push_back(r->message_id());
  }
  auto crt = Agency("hampshire-crt");
  std::vector<std::string> got;
  std::string token;
  do {
    auto page = crt->Fetch(3, token);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->messages_size(), 3);
    for (const auto& m : page->messages()) got.push_back(m.message_id());
    token = page->next_page_token();
  } while (!token.empty());
  EXPECT_EQ(got, ids);
}

TEST_F(GatewayE2eTest, SameMessageIdTwiceIsStoredOnceWithTheFirstReceipt) {
  auto police = Agency("hiow-police");
  v1::SignedEnvelope sent = Referral("hiow-police", "portsmouth-mash", "dup-0001");
  auto first = police->Submit(sent);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = police->Submit(sent);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->SerializeAsString(), second->SerializeAsString());
  auto page = Agency("portsmouth-mash")->Fetch();
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->messages_size(), 1);
}

TEST_F(GatewayE2eTest, ReusingAMessageIdForOtherContentIsAlreadyExists) {
  auto police = Agency("hiow-police");
  ASSERT_TRUE(police->Submit(Referral("hiow-police", "portsmouth-mash", "reuse-1")).ok());
  auto other = police->Submit(Referral("hiow-police", "portsmouth-mash", "reuse-1", "different"));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists) << other.status();
  // Another agency cannot take over (or probe) the id either.
  auto school = Agency("southsea-academy");
  auto hijack = school->Submit(Referral("southsea-academy", "portsmouth-mash", "reuse-1"));
  EXPECT_EQ(hijack.status().code(), absl::StatusCode::kAlreadyExists) << hijack.status();
}

TEST_F(GatewayE2eTest, SenderDifferentFromCertificateIsPermissionDenied) {
  auto police = Agency("hiow-police");
  auto r = police->Submit(Referral("hampshire-crt", "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_NE(r.status().message().find("hiow-police"), std::string::npos);
  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, UnknownRecipientIsNotFound) {
  auto r = Agency("hiow-police")->Submit(Referral("hiow-police", "narnia-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
}

TEST_F(GatewayE2eTest, EmptyEnvelopeIsInvalidArgument) {
  auto r = Agency("hiow-police")->Submit(v1::SignedEnvelope());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
}

TEST_F(GatewayE2eTest, MalformedEnvelopeBytesAreInvalidArgument) {
  auto police = Agency("hiow-police");
  v1::SignedEnvelope garbage;
  garbage.set_envelope_bytes(std::string("\xff\xff\xff\xff\x0f garbage", 13));
  EXPECT_EQ(police->Submit(garbage).status().code(), absl::StatusCode::kInvalidArgument);

  // Truncated: a valid envelope cut short.
  v1::SignedEnvelope cut = Referral("hiow-police", "portsmouth-mash");
  cut.set_envelope_bytes(cut.envelope_bytes().substr(0, cut.envelope_bytes().size() / 2));
  EXPECT_EQ(police->Submit(cut).status().code(), absl::StatusCode::kInvalidArgument);

  // Well-formed protobuf with a field the contract does not define.
  v1::SignedEnvelope extra = Referral("hiow-police", "portsmouth-mash");
  extra.mutable_envelope_bytes()->append(std::string("\xf8\x07\x01", 3));  // field 127 = 1
  EXPECT_EQ(police->Submit(extra).status().code(), absl::StatusCode::kInvalidArgument);

  // Shape: no declaration.
  v1::Envelope e = Open(Referral("hiow-police", "portsmouth-mash"));
  e.clear_declaration();
  v1::SignedEnvelope no_decl;
  no_decl.set_envelope_bytes(e.SerializeAsString());
  auto r = police->Submit(no_decl);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("declaration"), std::string::npos);

  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, OversizedEnvelopeIsResourceExhausted) {
  gateway_->Stop();
  StartGateway({"--max_message_bytes=65536"});
  auto police = Agency("hiow-police");
  // Just over the limit: the gateway's own check answers.
  auto r = police->Submit(Referral("hiow-police", "portsmouth-mash", "", std::string(70000, 'x')));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_NE(r.status().message().find("65536"), std::string::npos) << r.status();
  // Far over: gRPC's receive limit answers, with the same code.
  r = police->Submit(Referral("hiow-police", "portsmouth-mash", "", std::string(1 << 20, 'x')));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  // Under the limit still works.
  EXPECT_TRUE(
      police->Submit(Referral("hiow-police", "portsmouth-mash", "", std::string(60000, 'x'))).ok());
}

TEST_F(GatewayE2eTest, OneAgencyCannotFetchAckOrTrackAnothersMail) {
  auto police = Agency("hiow-police");
  auto r = police->Submit(Referral("hiow-police", "portsmouth-mash", "private-1"));
  ASSERT_TRUE(r.ok()) << r.status();

  auto other = Agency("southampton-mash");
  auto page = other->Fetch();
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->messages_size(), 0);
  EXPECT_EQ(other->Ack("private-1").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(other->GetStatus("private-1").status().code(), absl::StatusCode::kPermissionDenied);
  // The sender cannot acknowledge on the recipient's behalf either.
  EXPECT_EQ(police->Ack("private-1").status().code(), absl::StatusCode::kPermissionDenied);
  // Unknown ids look the same as other agencies' ids.
  EXPECT_EQ(other->Ack("no-such-id").status().code(), absl::StatusCode::kPermissionDenied);

  auto status = police->GetStatus("private-1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_SUBMITTED) << "nothing was acknowledged";
}

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
  ASSERT_TRUE(agents::IssueClientCertificate(federation_, "safeshare://agency/hiow-police", dir,
                                             absl::Hours(-24 * 10), absl::Hours(24))
                  .ok());
  auto client = ClientFor(dir);
  auto r = client->Submit(Referral("hiow-police", "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  ExpectMailboxEmpty("portsmouth-mash");

  // The same CA and principal with a current certificate works: it was the date.
  const std::string fresh = data_.path() + "/fresh";
  ASSERT_TRUE(agents::IssueClientCertificate(federation_, "safeshare://agency/hiow-police",
                                             fresh, absl::Minutes(-1), absl::Hours(24))
                  .ok());
  EXPECT_TRUE(ClientFor(fresh)->Submit(Referral("hiow-police", "portsmouth-mash")).ok());
}

TEST_F(GatewayE2eTest, CertificateForANonMemberAgencyIsPermissionDenied) {
  const std::string dir = data_.path() + "/stranger";
  ASSERT_TRUE(agents::IssueClientCertificate(federation_, "safeshare://agency/not-a-member", dir,
                                             absl::Minutes(-1), absl::Hours(24))
                  .ok());
  auto r = ClientFor(dir)->Submit(Referral("not-a-member", "portsmouth-mash"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, Tls12IsRefusedAndTls13Accepted) {
  const std::string dir = AgencyDir("hiow-police");
  const std::string connect = "127.0.0.1:" + std::to_string(gateway_->port());
  CommandResult tls12 = RunCommand({"/usr/bin/openssl", "s_client", "-connect", connect,
                                    "-tls1_2", "-cert", dir + "/cert.pem", "-key",
                                    dir + "/key.pem", "-CAfile", dir + "/ca.pem"});
  EXPECT_NE(tls12.exit_code, 0) << tls12.out;
  EXPECT_NE(tls12.out.find("Cipher is (NONE)"), std::string::npos) << tls12.out;
  EXPECT_EQ(tls12.out.find("New, TLSv1.2"), std::string::npos) << tls12.out;

  CommandResult tls13 = RunCommand({"/usr/bin/openssl", "s_client", "-connect", connect,
                                    "-tls1_3", "-cert", dir + "/cert.pem", "-key",
                                    dir + "/key.pem", "-CAfile", dir + "/ca.pem"});
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

TEST_F(GatewayE2eTest, DirectoryListsTheFederation) {
  auto agencies = Agency("southsea-academy")->ListAgencies();
  ASSERT_TRUE(agencies.ok()) << agencies.status();
  std::set<std::string> ids;
  for (const auto& a : agencies->agencies()) ids.insert(a.id());
  for (const char* want : {"hampshire-crt", "portsmouth-mash", "southampton-mash", "iow-mash",
                           "hiow-police", "hiow-icb", "southsea-academy"}) {
    EXPECT_TRUE(ids.count(want)) << want;
  }
  auto iow = Agency("iow-mash")->ListAgencies("isle-of-wight");
  ASSERT_TRUE(iow.ok());
  ASSERT_EQ(iow->agencies_size(), 1);
  EXPECT_EQ(iow->agencies(0).id(), "iow-mash");
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

TEST_F(GatewayE2eTest, SigtermShutsDownCleanly) {
  EXPECT_EQ(gateway_->Stop(), 0);
  std::ifstream log(gateway_->log_path());
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"event\":\"gateway.stopped\""), std::string::npos) << text;
}

TEST_F(GatewayE2eTest, CliSendsReceivesAcknowledgesAndTracks) {
  const std::string cli = testing::CliBinary();
  const std::string gw = "--gateway=" + gateway_->target();
  const std::string examples = testing::SourceDir() + "/deploy/examples/";
  CommandResult sent = RunCommand(
      {cli, "send", gw, "--identity=" + AgencyDir("southsea-academy"), "--to=portsmouth-mash",
       "--declaration=" + examples + "school-to-portsmouth-referral.json",
       "--payload=" + examples + "school-to-portsmouth-referral.payload.json",
       "--practitioner=dsl-01", "--role=designated_safeguarding_lead", "--message_id=cli-0001",
       "--json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_NE(sent.out.find("MESSAGE_STATE_SUBMITTED"), std::string::npos) << sent.out;

  const std::string inbox_dir = data_.path() + "/inbox";
  CommandResult inbox = RunCommand(
      {cli, "inbox", gw, "--identity=" + AgencyDir("portsmouth-mash"), "--out=" + inbox_dir});
  ASSERT_EQ(inbox.exit_code, 0) << inbox.err;
  EXPECT_TRUE(std::filesystem::exists(inbox_dir + "/cli-0001.envelope.json"));
  std::ifstream payload(inbox_dir + "/cli-0001.payload");
  std::string content((std::istreambuf_iterator<char>(payload)), std::istreambuf_iterator<char>());
  EXPECT_NE(content.find("Attendance 71%"), std::string::npos);

  CommandResult ack =
      RunCommand({cli, "ack", "cli-0001", gw, "--identity=" + AgencyDir("portsmouth-mash")});
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  CommandResult status =
      RunCommand({cli, "status", "cli-0001", gw, "--identity=" + AgencyDir("southsea-academy")});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("now ACKNOWLEDGED"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("DELIVERED"), std::string::npos) << status.out;

  // Refusals come back as a non-zero exit and the gateway's reason.
  CommandResult denied =
      RunCommand({cli, "ack", "cli-0001", gw, "--identity=" + AgencyDir("southampton-mash")});
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("PERMISSION_DENIED"), std::string::npos) << denied.err;

  CommandResult bad_json = RunCommand(
      {cli, "send", gw, "--identity=" + AgencyDir("southsea-academy"), "--to=portsmouth-mash",
       "--declaration=" + examples + "school-to-portsmouth-referral.payload.json",
       "--payload=" + examples + "school-to-portsmouth-referral.payload.json",
       "--practitioner=dsl-01"});
  EXPECT_EQ(bad_json.exit_code, 2) << bad_json.err;
}

}  // namespace
}  // namespace safeshare
