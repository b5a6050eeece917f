// End-to-end: a real safeshare-gateway process on loopback, driven over real
// mutual TLS by the agent library and the safeshare CLI.

#include <map>

#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

uintmax_t fs_size(const std::string& path) {
  std::error_code ec;
  const uintmax_t n = std::filesystem::file_size(path, ec);
  return ec ? 0 : n;
}

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
  // The gateway handed over a sealed payload; only the recipient can open it.
  EXPECT_EQ(Open(got.signed_envelope()).payload().ciphertext().find("sealed referral content"),
            std::string::npos);

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
  auto other = police->Submit(Referral("hiow-police", "portsmouth-mash", "reuse-1", Content("different")));
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists) << other.status();
  // Another agency cannot take over (or probe) the id either.
  auto school = Agency("southsea-academy");
  auto hijack = school->Submit(Referral("southsea-academy", "portsmouth-mash", "reuse-1"));
  EXPECT_EQ(hijack.status().code(), absl::StatusCode::kAlreadyExists) << hijack.status();
}

TEST_F(GatewayE2eTest, SenderDifferentFromCertificateIsPermissionDenied) {
  // The police hold Hampshire CRT's signing key (stolen, or a shared
  // workstation) but their own certificate: a perfectly signed envelope in
  // Hampshire's name is still refused, by the sender check alone.
  auto police = Agency("hiow-police");
  v1::SignedEnvelope forged =
      SealByHand(Header("hampshire-crt", "portsmouth-mash", "forged-1"),
                 Content().SerializeAsString(), "hampshire-crt", "portsmouth-mash");
  auto r = police->Submit(forged);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_EQ(r.status().message(),
            "envelope.sender_agency_id is hampshire-crt but the client certificate belongs to "
            "hiow-police");
  ExpectMailboxEmpty("portsmouth-mash");
  // The same bytes from Hampshire's own certificate go through: only the caller differed.
  EXPECT_TRUE(Agency("hampshire-crt")->Submit(forged).ok());
  // The refusal is recorded against the caller who tried it.
  bool recorded = false;
  for (const auto& rec : Audit()) {
    recorded = recorded || (rec.event() == v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED &&
                            rec.message_id() == "forged-1" &&
                            rec.status_code() == "PERMISSION_DENIED" &&
                            rec.actor() == "safeshare://agency/hiow-police");
  }
  EXPECT_TRUE(recorded);
}

TEST_F(GatewayE2eTest, UnknownRecipientIsNotFound) {
  auto r = Agency("hiow-police")->Submit(SealByHand(Header("hiow-police", "narnia-mash"), "x",
                                                    "hiow-police", "portsmouth-mash"));
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
  auto r = police->Submit(Referral("hiow-police", "portsmouth-mash", "", Content(std::string(70000, 'x'))));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_NE(r.status().message().find("65536"), std::string::npos) << r.status();
  // Far over: gRPC's receive limit answers, with the same code.
  r = police->Submit(Referral("hiow-police", "portsmouth-mash", "", Content(std::string(1 << 20, 'x'))));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  // Under the limit still works.
  EXPECT_TRUE(
      police->Submit(Referral("hiow-police", "portsmouth-mash", "", Content(std::string(60000, 'x')))).ok());
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
  auto r = ClientFor(dir)->Submit(Referral("hiow-police", "portsmouth-mash"));
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
  EXPECT_NE(inbox.out.find("signature verified"), std::string::npos) << inbox.out;
  std::ifstream payload(inbox_dir + "/cli-0001.content.json");
  std::string content((std::istreambuf_iterator<char>(payload)), std::istreambuf_iterator<char>());
  EXPECT_NE(content.find("Attendance 71%"), std::string::npos);

  // The sender follows the message until it settles.
  testing::ChildProcess watch;
  const std::string watch_log = data_.path() + "/watch.log";
  ASSERT_TRUE(watch.Start({cli, "status", "cli-0001", "--watch", gw,
                           "--identity=" + AgencyDir("southsea-academy")},
                          watch_log));
  ASSERT_TRUE(testing::WaitFor([&] { return fs_size(watch_log) > 0; }, 20));
  CommandResult ack =
      RunCommand({cli, "ack", "cli-0001", gw, "--identity=" + AgencyDir("portsmouth-mash")});
  ASSERT_EQ(ack.exit_code, 0) << ack.err;
  std::optional<int> watched;
  ASSERT_TRUE(testing::WaitFor([&] { return (watched = watch.Poll()).has_value(); }, 20))
      << "status --watch stops once the message is acknowledged";
  EXPECT_EQ(*watched, 0);
  std::ifstream watch_in(watch_log);
  std::string watched_text((std::istreambuf_iterator<char>(watch_in)),
                           std::istreambuf_iterator<char>());
  EXPECT_NE(watched_text.find("now DELIVERED"), std::string::npos) << watched_text;
  EXPECT_NE(watched_text.find("now ACKNOWLEDGED"), std::string::npos) << watched_text;
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

// ---- Sealed envelopes (issue 3) ----

TEST_F(GatewayE2eTest, SealedReferralOpensToExactlyWhatWasSentAndTheStoreHoldsNoPlaintext) {
  const std::string marker = "MARKER-7f3a9c-never-in-the-gateway";
  auto police = Agent("hiow-police");
  v1::SealedContent content = Content(marker);
  content.mutable_referral()->mutable_record()->set_domestic_abuse("DASH high risk");
  auto receipt = police->Send(Message("hiow-police", "portsmouth-mash", "sealed-1", content));
  ASSERT_TRUE(receipt.ok()) << receipt.status();

  auto inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_TRUE(inbox->refused.empty());
  const auto& got = inbox->received[0];
  EXPECT_EQ(got.message_id, "sealed-1");
  EXPECT_EQ(got.header.sender_agency_id(), "hiow-police");
  EXPECT_EQ(got.content.SerializeAsString(), content.SerializeAsString());

  // Stop the gateway so the WAL is checkpointed, then search every file of
  // the database for the marker.
  ASSERT_EQ(gateway_->Stop(), 0);
  for (const auto& entry : std::filesystem::directory_iterator(data_.path() + "/gw")) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(marker), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("DASH high risk"), std::string::npos) << entry.path();
  }
  std::ifstream db(gateway_->db_path(), std::ios::binary);
  std::string db_bytes((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
  EXPECT_NE(db_bytes.find("sealed-1"), std::string::npos) << "the search can find what is there";
}

TEST_F(GatewayE2eTest, TamperedEnvelopesAreRefusedAtSubmit) {
  auto police = Agency("hiow-police");
  const v1::SignedEnvelope good = Referral("hiow-police", "portsmouth-mash");

  v1::Envelope e = Open(good);
  const size_t ct_at = good.envelope_bytes().find(e.payload().ciphertext());
  ASSERT_NE(ct_at, std::string::npos);

  v1::SignedEnvelope flipped_ct = good;
  (*flipped_ct.mutable_envelope_bytes())[ct_at + 3] ^= 0x01;
  EXPECT_EQ(police->Submit(flipped_ct).status().code(), absl::StatusCode::kUnauthenticated);

  v1::SignedEnvelope flipped_header = good;
  const size_t practitioner_at = good.envelope_bytes().find("pc-4471");
  ASSERT_NE(practitioner_at, std::string::npos);
  (*flipped_header.mutable_envelope_bytes())[practitioner_at] ^= 0x01;  // "qc-4471"
  EXPECT_EQ(police->Submit(flipped_header).status().code(), absl::StatusCode::kUnauthenticated);

  v1::SignedEnvelope flipped_sig = good;
  (*flipped_sig.mutable_signature())[10] ^= 0x80;
  auto r = police->Submit(flipped_sig);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("does not verify"), std::string::npos) << r.status();

  // Replayed to another recipient: the recipient is signed, so changing it breaks
  // the signature...
  v1::Envelope redirected = e;
  redirected.set_recipient_agency_id("iow-mash");
  v1::SignedEnvelope replay = good;
  replay.set_envelope_bytes(redirected.SerializeAsString());
  EXPECT_EQ(police->Submit(replay).status().code(), absl::StatusCode::kUnauthenticated);

  ExpectMailboxEmpty("portsmouth-mash");
  ExpectMailboxEmpty("iow-mash");
  // ...and the untouched envelope still goes through.
  EXPECT_TRUE(police->Submit(good).ok());
}

TEST_F(GatewayE2eTest, KeyProblemsAreRefusedWithPreciseCodes) {
  auto police = Agency("hiow-police");

  // Sealed to Portsmouth's key but addressed to the Isle of Wight (a sender
  // re-signing a replay): wrong recipient key id.
  v1::SignedEnvelope wrong_key =
      SealByHand(Header("hiow-police", "iow-mash"), Content().SerializeAsString(), "hiow-police",
                 "portsmouth-mash");
  auto r = police->Submit(wrong_key);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("current encryption key"), std::string::npos);

  // Signed with another agency's key (the school's), sent as the police.
  v1::SignedEnvelope other_agency =
      SealByHand(Header("hiow-police", "portsmouth-mash"), Content().SerializeAsString(),
                 "southsea-academy", "portsmouth-mash");
  r = police->Submit(other_agency);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_NE(r.status().message().find("belongs to southsea-academy"), std::string::npos);

  // A signing key the directory has never seen.
  v1::SignedEnvelope unknown = Referral("hiow-police", "portsmouth-mash");
  unknown.set_signing_key_id(std::string(32, 'a'));
  EXPECT_EQ(police->Submit(unknown).status().code(), absl::StatusCode::kUnauthenticated);

  // Truncated and oversized sealed fields.
  v1::SignedEnvelope short_sig = Referral("hiow-police", "portsmouth-mash");
  short_sig.mutable_signature()->pop_back();
  EXPECT_EQ(police->Submit(short_sig).status().code(), absl::StatusCode::kInvalidArgument);
  v1::SignedEnvelope short_nonce = Referral("hiow-police", "portsmouth-mash");
  v1::Envelope e = Open(short_nonce);
  e.mutable_payload()->mutable_nonce()->pop_back();
  short_nonce.set_envelope_bytes(e.SerializeAsString());
  auto nr = police->Submit(short_nonce);
  EXPECT_EQ(nr.status().code(), absl::StatusCode::kInvalidArgument) << nr.status();
  EXPECT_NE(nr.status().message().find("nonce"), std::string::npos);
  v1::SignedEnvelope raw = Referral("hiow-police", "portsmouth-mash");
  v1::Envelope bad = Open(raw);
  bad.mutable_payload()->mutable_ephemeral_public_key()->append("!");
  raw.set_envelope_bytes(bad.SerializeAsString());
  r = police->Submit(raw);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("ephemeral_public_key"), std::string::npos);
}

TEST_F(GatewayE2eTest, RecipientRefusesSplicedAndUndeclaredContentAndTheSenderSeesIt) {
  auto police = Agency("hiow-police");
  // Ciphertext lifted from one envelope into another (re-signed by its sender):
  // the gateway cannot tell, the recipient's agent can.
  v1::Envelope donor = Open(Referral("hiow-police", "portsmouth-mash", "donor"));
  v1::SignedEnvelope host_sealed =
      SealByHand(Header("hiow-police", "portsmouth-mash", "spliced"), Content().SerializeAsString(),
                 "hiow-police", "portsmouth-mash");
  v1::Envelope host = Open(host_sealed);
  *host.mutable_payload() = donor.payload();
  auto ring = agents::Keyring::Load(AgencyDir("hiow-police"));
  auto signing = ring->Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(signing.ok());
  auto spliced_signed = envelope::SignEnvelope(host, *signing);
  ASSERT_TRUE(spliced_signed.ok());
  v1::SignedEnvelope spliced = *spliced_signed;
  ASSERT_TRUE(police->Submit(spliced).ok());

  // Content carrying a category the declaration does not list (health).
  v1::SealedContent undeclared = Content();
  undeclared.mutable_referral()->mutable_record()->set_health("not declared");
  auto refused_locally = Agent("hiow-police")->Send(
      Message("hiow-police", "portsmouth-mash", "undeclared", undeclared));
  EXPECT_EQ(refused_locally.status().code(), absl::StatusCode::kInvalidArgument)
      << "the sender's own agent refuses first";
  v1::SignedEnvelope hostile = SealByHand(Header("hiow-police", "portsmouth-mash", "undeclared"),
                                          undeclared.SerializeAsString(), "hiow-police",
                                          "portsmouth-mash");
  ASSERT_TRUE(police->Submit(hostile).ok());

  auto inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 0u);
  ASSERT_EQ(inbox->refused.size(), 2u);
  EXPECT_EQ(inbox->refused[0].message_id, "spliced");
  EXPECT_EQ(inbox->refused[0].reason, v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE);
  EXPECT_EQ(inbox->refused[1].message_id, "undeclared");
  EXPECT_EQ(inbox->refused[1].reason, v1::CONTENT_REFUSAL_REASON_UNDECLARED_CATEGORY);
  EXPECT_NE(inbox->refused[1].detail.find("DATA_CATEGORY_HEALTH"), std::string::npos);

  auto status = police->GetStatus("undeclared");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_CONTENT_REFUSED);
  EXPECT_EQ(status->content_refusal_reason(), v1::CONTENT_REFUSAL_REASON_UNDECLARED_CATEGORY);
  ExpectMailboxEmpty("portsmouth-mash");  // refused messages are not redelivered

  // Each refusal is in the log, by the recipient, with its reason.
  std::map<std::string, v1::AuditRecord> refusals;
  for (const auto& r : Audit()) {
    if (r.event() == v1::AUDIT_EVENT_TYPE_CONTENT_REFUSED_BY_RECIPIENT) refusals[r.message_id()] = r;
  }
  ASSERT_EQ(refusals.size(), 2u);
  EXPECT_EQ(refusals["spliced"].content_refusal_reason(), v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE);
  EXPECT_EQ(refusals["undeclared"].content_refusal_reason(),
            v1::CONTENT_REFUSAL_REASON_UNDECLARED_CATEGORY);
  EXPECT_EQ(refusals["undeclared"].actor(), "safeshare://agency/portsmouth-mash");
  EXPECT_EQ(refusals["undeclared"].state(), v1::MESSAGE_STATE_CONTENT_REFUSED);
  ExpectAuditLogVerifies();
}

TEST_F(GatewayE2eTest, RotationKeepsOldMessagesOpenableAndRequiresTheCurrentKey) {
  auto police = Agent("hiow-police");
  // Delivered before rotation, sealed to the old key.
  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash", "before-rotation")).ok());
  // Sealed before rotation but submitted after.
  auto stale = police->Seal(Message("hiow-police", "iow-mash", "stale"));
  ASSERT_TRUE(stale.ok());

  auto iow = Agent("iow-mash");
  auto rotated = iow->RotateKeys(/*signing=*/false, /*encryption=*/true);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  ASSERT_EQ(rotated->size(), 1u);
  EXPECT_TRUE((*rotated)[0].current());

  auto r = police->client().Submit(*stale);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find((*rotated)[0].key_id()), std::string::npos);

  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash", "after-rotation")).ok());
  auto inbox = Agent("iow-mash")->Receive();  // a fresh agent reads the keyring from disk
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 2u);
  EXPECT_TRUE(inbox->refused.empty());
  EXPECT_EQ(inbox->received[0].message_id, "before-rotation");
  EXPECT_EQ(inbox->received[1].message_id, "after-rotation");

  // The directory lists both keys, only the new one current.
  auto agency = police->client().GetAgency("iow-mash");
  ASSERT_TRUE(agency.ok());
  int encryption = 0, current = 0;
  for (const auto& k : agency->keys()) {
    if (k.purpose() != v1::KEY_PURPOSE_ENCRYPTION) continue;
    ++encryption;
    current += k.current();
  }
  EXPECT_EQ(encryption, 2);
  EXPECT_EQ(current, 1);
}

TEST_F(GatewayE2eTest, RevokedSigningKeyIsRefusedAndRotationSurvivesRestart) {
  auto police = Agent("hiow-police");
  auto old_key = police->keyring().Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(old_key.ok());
  auto signed_old = police->Seal(Message("hiow-police", "portsmouth-mash", "old-signature"));
  ASSERT_TRUE(signed_old.ok());
  auto in_flight = police->Seal(Message("hiow-police", "portsmouth-mash", "in-flight"));
  ASSERT_TRUE(in_flight.ok());

  ASSERT_TRUE(police->RotateKeys(/*signing=*/true, /*encryption=*/false).ok());
  // Rotation alone retires nothing: a message signed a moment before with the
  // previous key (queued, or retried) is still accepted.
  auto previous = police->client().Submit(*in_flight);
  EXPECT_TRUE(previous.ok()) << previous.status();
  ASSERT_TRUE(police->client().RevokeKey(old_key->KeyId()).ok());
  // The key just published verifies at once (the directory decodes it on reload).
  EXPECT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "rotated-sig")).ok());
  auto r = police->client().Submit(*signed_old);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_NE(r.status().message().find("revoked"), std::string::npos);

  // Another agency cannot revoke the police's keys.
  auto current = police->client().GetAgency("hiow-police");
  ASSERT_TRUE(current.ok());
  std::string new_id;
  for (const auto& k : current->keys()) {
    if (k.purpose() == v1::KEY_PURPOSE_SIGNING && k.current()) new_id = k.key_id();
  }
  ASSERT_FALSE(new_id.empty());
  EXPECT_EQ(Agency("southsea-academy")->RevokeKey(new_id).status().code(),
            absl::StatusCode::kNotFound);

  // Published keys and revocations are durable.
  gateway_->Kill();
  ASSERT_TRUE(gateway_->Start());
  EXPECT_EQ(Agency("hiow-police")->Submit(*signed_old).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Agent("hiow-police")->Send(Message("hiow-police", "portsmouth-mash", "new-sig")).ok());
}

// ---- Policy on Submit (issue 4) ----

TEST_F(GatewayE2eTest, AllowedReferralCarriesTheDecisionInItsReceipt) {
  auto receipt = Agent("hiow-police")->Send(Message("hiow-police", "portsmouth-mash"));
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  const auto& d = receipt->decision();
  EXPECT_EQ(d.decision(), v1::DECISION_ALLOW);
  EXPECT_EQ(d.rule_pack(), "golden-rules-2024");
  EXPECT_FALSE(d.isa_id().empty());
  EXPECT_EQ(d.findings_size(), 7);
}

TEST_F(GatewayE2eTest, DeniedShareIsFailedPreconditionWithFindingsAndNeverDelivered) {
  auto m = Message("hiow-police", "portsmouth-mash", "denied-1");
  m.declaration.clear_lawful_basis();
  v1::SubmitResponse refused;
  auto agent = Agent("hiow-police");
  auto r = agent->Send(m, &refused);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("lawful_basis"), std::string::npos) << r.status();
  EXPECT_EQ(refused.message_id(), "denied-1");
  EXPECT_EQ(refused.state(), v1::MESSAGE_STATE_REFUSED);
  EXPECT_EQ(refused.decision().decision(), v1::DECISION_DENY);
  bool failed_lawful_basis = false;
  for (const auto& f : refused.decision().findings()) {
    if (f.check() == "lawful_basis") failed_lawful_basis = f.outcome() == v1::FINDING_OUTCOME_FAIL;
  }
  EXPECT_TRUE(failed_lawful_basis);

  // A retry gets the same answer; the sender can see the refusal.
  v1::SubmitResponse again;
  auto sealed = agent->Seal(m);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(agent->client().Submit(*sealed, &again).status().code(),
            absl::StatusCode::kAlreadyExists)
      << "a reseal has new bytes: same id, other envelope";
  auto status = agent->client().GetStatus("denied-1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_REFUSED);
  ExpectMailboxEmpty("portsmouth-mash");
}

TEST_F(GatewayE2eTest, HeldShareStaysOutOfTheMailboxAndShowsInStatus) {
  auto m = Message("hiow-police", "portsmouth-mash", "held-1");
  m.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  m.declaration.set_urgency(v1::URGENCY_URGENT);
  auto agent = Agent("hiow-police");
  auto receipt = agent->Send(m);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->state(), v1::MESSAGE_STATE_HELD);
  EXPECT_EQ(receipt->decision().decision(), v1::DECISION_HOLD_FOR_ADVICE);
  auto status = agent->client().GetStatus("held-1");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_HELD);
  ExpectMailboxEmpty("portsmouth-mash");
  EXPECT_EQ(Agency("portsmouth-mash")->Ack("held-1").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Agency("portsmouth-mash")->GetStatus("held-1").status().code(),
            absl::StatusCode::kPermissionDenied)
      << "the recipient does not learn of a held message";

  // The same request at immediate urgency is never held.
  auto urgent = Message("hiow-police", "portsmouth-mash", "immediate-1");
  urgent.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  urgent.declaration.set_urgency(v1::URGENCY_IMMEDIATE);
  auto now = agent->Send(urgent);
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->state(), v1::MESSAGE_STATE_SUBMITTED);
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

// ---- Audit log (issue 5) ----

class AuditE2eTest : public GatewayE2eTest {
 protected:
  std::unique_ptr<AgentClient> Officer(const std::string& dir) {
    return ClientFor(federation_ + "/officers/" + dir);
  }
  std::vector<v1::AuditRecord> Query(AgentClient& officer, const v1::AuditQuery& q = {}) {
    std::vector<v1::AuditRecord> out;
    std::string token;
    do {
      auto page = officer.QueryRecords(q, 0, token);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const auto& r : page->records()) out.push_back(r);
      token = page->next_page_token();
    } while (!token.empty());
    return out;
  }
};

TEST_F(AuditE2eTest, ReceiptsProveTheDecisionIsInTheSignedLog) {
  auto police = Agent("hiow-police");
  auto allowed = police->Send(Message("hiow-police", "portsmouth-mash", "audited-1"));
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  EXPECT_TRUE(agents::VerifyReceipt(*allowed, AuditLog()).ok())
      << agents::VerifyReceipt(*allowed, AuditLog());

  auto m = Message("hiow-police", "portsmouth-mash", "audited-2");
  m.declaration.clear_lawful_basis();
  v1::SubmitResponse denied;
  ASSERT_EQ(police->Send(m, &denied).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(agents::VerifyReceipt(denied, AuditLog()).ok()) << "a refusal is recorded too";
  EXPECT_GT(denied.audit_inclusion_proof().leaf_index(),
            allowed->audit_inclusion_proof().leaf_index());

  // A receipt whose decision was altered no longer matches its record.
  v1::SubmitResponse forged = denied;
  forged.mutable_decision()->set_decision(v1::DECISION_ALLOW);
  EXPECT_EQ(agents::VerifyReceipt(forged, AuditLog()).code(), absl::StatusCode::kDataLoss);
  // Nor one whose message id was changed (a receipt for another message).
  v1::SubmitResponse renamed = *allowed;
  renamed.set_message_id("audited-2");
  auto wrong_id = agents::VerifyReceipt(renamed, AuditLog());
  EXPECT_EQ(wrong_id.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(wrong_id.message().find("not this message's decision"), std::string::npos) << wrong_id;
  // Nor does one checked against another federation's key.
  v1::AuditLogIdentity other = AuditLog();
  other.set_public_key(std::string(32, '\x07'));
  EXPECT_FALSE(agents::VerifyReceipt(*allowed, other).ok());
}

TEST_F(AuditE2eTest, OnlyOfficersReadTheAuditAndEachWithinTheirScope) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash")).ok());
  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash")).ok());
  ASSERT_TRUE(police->Send(Message("hiow-police", "hampshire-crt")).ok());
  // Between two agencies of Portsmouth's area other than the IG lead's own
  // (refused or not, a decision is recorded against both).
  auto hospital = Agent("portsmouth-hospitals");
  (void)hospital->Send(Message("portsmouth-hospitals", "southsea-academy", "pht-1"));

  EXPECT_EQ(Agency("portsmouth-mash")->GetCheckpoint().status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Agency("portsmouth-mash")->QueryRecords({}, 0, "").status().code(),
            absl::StatusCode::kPermissionDenied);

  // The Portsmouth IG lead (area scope) sees the flows of every agency in
  // Portsmouth: its own MASH's and those between the hospital and the school.
  auto portsmouth = Officer("portsmouth-mash.ig-lead");
  auto mine = Query(*portsmouth);
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].recipient_agency_id(), "portsmouth-mash");
  EXPECT_EQ(mine[1].message_id(), "pht-1");
  v1::AuditQuery iow;
  iow.set_agency_id("iow-mash");
  EXPECT_TRUE(Query(*portsmouth, iow).empty()) << "asking does not widen the scope";

  // The constabulary's DPO (agency scope) sees the police's three flows and
  // nothing of the hospital's, even when asking for it.
  auto police_dpo = Officer("hiow-police.dpo");
  auto own = Query(*police_dpo);
  ASSERT_EQ(own.size(), 3u);
  for (const auto& r : own) EXPECT_EQ(r.sender_agency_id(), "hiow-police");
  v1::AuditQuery school;
  school.set_agency_id("southsea-academy");
  EXPECT_TRUE(Query(*police_dpo, school).empty());
  EXPECT_EQ(Query(*portsmouth, school).size(), 1u);

  // The partnership DPO (federation scope) sees all four, and can filter.
  auto dpo = Officer("hampshire-crt.dpo");
  EXPECT_EQ(Query(*dpo).size(), 4u);
  EXPECT_EQ(Query(*dpo, iow).size(), 1u);
  v1::AuditQuery area;
  area.set_area_id("hampshire");
  EXPECT_EQ(Query(*dpo, area).size(), 3u) << "the police are in Hampshire";
  v1::AuditQuery denied;
  denied.set_decision(v1::DECISION_DENY);
  auto refused = Query(*dpo, denied);
  ASSERT_EQ(refused.size(), 1u) << "no agreement covers a hospital writing to a school";
  EXPECT_EQ(refused[0].message_id(), "pht-1");
}

TEST_F(AuditE2eTest, EveryEventAndRefusalIsRecordedAndTheLogVerifiesAfterAKill) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "life-1")).ok());
  auto mash = Agent("portsmouth-mash");
  auto inbox = mash->Receive();
  ASSERT_TRUE(inbox.ok());
  ASSERT_TRUE(mash->client().Ack("life-1").ok());
  // A refused Submit from a known sender: bad signature.
  v1::SignedEnvelope bad = Referral("hiow-police", "portsmouth-mash", "bad-sig");
  (*bad.mutable_signature())[0] ^= 1;
  ASSERT_EQ(police->client().Submit(bad).status().code(), absl::StatusCode::kUnauthenticated);

  auto dpo = Officer("hampshire-crt.dpo");
  auto records = Query(*dpo);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].event(), v1::AUDIT_EVENT_TYPE_DECISION);
  EXPECT_EQ(records[0].decision().findings_size(), 7);
  EXPECT_EQ(records[0].payload_sha256().size(), 32u);
  EXPECT_EQ(records[0].sender_practitioner().id(), "pc-4471");
  EXPECT_EQ(records[1].event(), v1::AUDIT_EVENT_TYPE_DELIVERED);
  EXPECT_EQ(records[2].event(), v1::AUDIT_EVENT_TYPE_ACKNOWLEDGED);
  EXPECT_EQ(records[3].event(), v1::AUDIT_EVENT_TYPE_SUBMIT_REFUSED);
  EXPECT_EQ(records[3].status_code(), "UNAUTHENTICATED");
  for (uint64_t i = 0; i < records.size(); ++i) EXPECT_EQ(records[i].sequence(), i);

  gateway_->Kill();
  ASSERT_TRUE(gateway_->Start());
  ASSERT_TRUE(Agent("hiow-police")->Send(Message("hiow-police", "iow-mash", "after-kill")).ok());
  ASSERT_EQ(gateway_->Stop(), 0);
  const std::string copy = data_.path() + "/copy.db";
  std::filesystem::copy_file(gateway_->db_path(), copy);
  auto v = agents::VerifyAuditDatabase(copy, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 5u);
  EXPECT_EQ(v->tree_size, 5u);
}

TEST_F(AuditE2eTest, ExportsStreamAndVerifyOffline) {
  auto police = Agent("hiow-police");
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(police->Send(Message("hiow-police", i % 2 ? "portsmouth-mash" : "iow-mash")).ok());
  }
  auto dpo = Officer("hampshire-crt.dpo");
  std::string jsonl, csv, filtered;
  auto collect = [](std::string& into) {
    return [&into](const std::string& chunk) {
      into += chunk;
      return absl::OkStatus();
    };
  };
  ASSERT_TRUE(dpo->ExportRecords({}, v1::EXPORT_FORMAT_JSON_LINES, collect(jsonl)).ok());
  ASSERT_TRUE(dpo->ExportRecords({}, v1::EXPORT_FORMAT_CSV, collect(csv)).ok());
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 8) << "header and seven rows";
  EXPECT_EQ(csv.rfind("sequence,time,event,message_id", 0), 0u);

  const std::string full = data_.path() + "/full.jsonl";
  std::ofstream(full) << jsonl;
  auto v = agents::VerifyAuditExport(full, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 7u);
  EXPECT_TRUE(v->complete);

  // The Portsmouth lead's export is filtered by scope: each record carries a proof.
  auto portsmouth = Officer("portsmouth-mash.ig-lead");
  absl::Status exported =
      portsmouth->ExportRecords({}, v1::EXPORT_FORMAT_JSON_LINES, collect(filtered));
  ASSERT_TRUE(exported.ok()) << exported.code() << " " << exported.message();
  const std::string part = data_.path() + "/part.jsonl";
  std::ofstream(part) << filtered;
  v = agents::VerifyAuditExport(part, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->records, 3u);
  EXPECT_FALSE(v->complete);

  // Dropping a line from the full export is caught.
  std::string cut = jsonl;
  size_t second = cut.find('\n', cut.find('\n') + 1);
  cut.erase(cut.find('\n') + 1, second - cut.find('\n'));
  std::ofstream(full) << cut;
  v = agents::VerifyAuditExport(full, AuditLog());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(v.status().message().find("record 0 is missing"), std::string::npos) << v.status();
}

TEST_F(AuditE2eTest, AnExportIsOneSnapshotWhileWritesContinue) {
  // More than one export chunk (500 records), so the gateway reads the log
  // several times during one export while the police keep submitting.
  auto police = Agent("hiow-police");
  std::vector<v1::SignedEnvelope> sealed;
  for (int i = 0; i < 1300; ++i) {
    auto s = police->Seal(Message("hiow-police", i % 2 ? "portsmouth-mash" : "iow-mash",
                                  absl::StrCat("snap-", i)));
    ASSERT_TRUE(s.ok()) << s.status();
    sealed.push_back(*s);
  }
  // 1,100 records first, from four connections at once (group commit).
  std::vector<std::thread> fill;
  for (int t = 0; t < 4; ++t) {
    fill.emplace_back([&, t] {
      auto client = Agency("hiow-police");
      for (size_t i = t; i < 1100; i += 4) EXPECT_TRUE(client->Submit(sealed[i]).ok()) << i;
    });
  }
  for (auto& th : fill) th.join();

  std::atomic<bool> exporting{true};
  std::atomic<int> during{0};
  std::thread writer([&] {
    auto client = Agency("hiow-police");
    for (size_t i = 1100; i < sealed.size() && exporting; ++i) {
      if (client->Submit(sealed[i]).ok()) ++during;
    }
  });
  std::string jsonl;
  int chunks = 0;
  absl::Status exported = Officer("hampshire-crt.dpo")
                              ->ExportRecords({}, v1::EXPORT_FORMAT_JSON_LINES,
                                              [&](const std::string& chunk) {
                                                jsonl += chunk;
                                                // A slow reader: writes land between chunks.
                                                if (++chunks < 3) {
                                                  const int before = during;
                                                  testing::WaitFor([&] { return during > before + 20; },
                                                                   5);
                                                }
                                                return absl::OkStatus();
                                              });
  exporting = false;
  writer.join();
  ASSERT_TRUE(exported.ok()) << exported;
  EXPECT_GE(chunks, 3);
  EXPECT_GT(during.load(), 0) << "the log grew while it was exported";

  const std::string path = data_.path() + "/snapshot.jsonl";
  std::ofstream(path) << jsonl;
  auto v = agents::VerifyAuditExport(path, AuditLog());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->complete);
  EXPECT_EQ(v->records, v->tree_size) << "every record of the snapshot, and none after it";
  EXPECT_GE(v->tree_size, 1100u);
  auto now = Officer("hampshire-crt.dpo")->GetCheckpoint();
  ASSERT_TRUE(now.ok());
  EXPECT_GT(now->tree_size(), v->tree_size);
}

TEST_F(AuditE2eTest, FlowReportCountsDecisionsByAreaAndCheck) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash")).ok());
  auto m = Message("hiow-police", "portsmouth-mash");
  m.declaration.clear_lawful_basis();
  ASSERT_FALSE(police->Send(m).ok());
  auto report = Officer("hampshire-crt.dpo")->FlowReport({});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->flows_size(), 1);
  EXPECT_EQ(report->flows(0).from_area_id(), "hampshire");
  EXPECT_EQ(report->flows(0).to_area_id(), "portsmouth");
  EXPECT_EQ(report->flows(0).allowed(), 1u);
  EXPECT_EQ(report->flows(0).denied(), 1u);
  bool lawful_basis_failed = false;
  for (const auto& c : report->checks()) {
    if (c.check() == "lawful_basis") lawful_basis_failed = c.failed() == 1;
  }
  EXPECT_TRUE(lawful_basis_failed);
}

// ---- Advice on held messages ----

TEST_F(AuditE2eTest, OfficersApproveOrRefuseHeldMessagesWithinTheirScope) {
  auto police = Agent("hiow-police");
  auto held = [&](const std::string& id) {
    auto m = Message("hiow-police", "portsmouth-mash", id);
    m.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
    m.declaration.set_urgency(v1::URGENCY_URGENT);
    auto r = police->Send(m);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->state(), v1::MESSAGE_STATE_HELD);
  };
  held("held-a");
  held("held-b");
  // And one from Southsea Academy, in Portsmouth's area.
  auto school = Agent("southsea-academy");
  auto from_school = Message("southsea-academy", "portsmouth-mash", "held-c");
  {
    std::ifstream in(testing::SourceDir() + "/deploy/examples/school-to-portsmouth-referral.json");
    std::string json((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &from_school.declaration).ok());
  }
  from_school.practitioner.set_role(v1::PRACTITIONER_ROLE_DESIGNATED_SAFEGUARDING_LEAD);
  from_school.declaration.set_advice_status(v1::ADVICE_STATUS_REQUESTED);
  from_school.declaration.set_urgency(v1::URGENCY_URGENT);
  auto c = school->Send(from_school);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->state(), v1::MESSAGE_STATE_HELD);

  auto ids = [](const absl::StatusOr<v1::ListHeldResponse>& list) {
    std::vector<std::string> out;
    EXPECT_TRUE(list.ok()) << list.status();
    if (list.ok()) {
      for (const auto& m : list->messages()) out.push_back(m.message_id());
    }
    return out;
  };
  using Ids = std::vector<std::string>;
  // The police are in Hampshire: the Portsmouth lead (area scope) oversees
  // the school but not them.
  auto portsmouth = Officer("portsmouth-mash.ig-lead");
  EXPECT_EQ(ids(portsmouth->ListHeld()), Ids{"held-c"});
  EXPECT_EQ(portsmouth->Approve("held-a", "The s47 threshold is met, share now.").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Agency("hiow-police")->ListHeld().status().code(),
            absl::StatusCode::kPermissionDenied);
  // The constabulary's DPO (agency scope) oversees the police alone.
  auto police_dpo = Officer("hiow-police.dpo");
  EXPECT_EQ(ids(police_dpo->ListHeld()), (Ids{"held-a", "held-b"}));
  EXPECT_EQ(police_dpo->Approve("held-c", "The school's concern is clearly urgent.").code(),
            absl::StatusCode::kPermissionDenied);

  auto dpo = Officer("hampshire-crt.dpo");
  EXPECT_EQ(ids(dpo->ListHeld()), (Ids{"held-a", "held-b", "held-c"}));
  auto list = dpo->ListHeld();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->messages_size(), 3);
  EXPECT_EQ(list->messages(0).message_id(), "held-a");
  EXPECT_FALSE(list->messages(0).envelope_header().has_payload()) << "never content";
  EXPECT_EQ(list->messages(0).decision().decision(), v1::DECISION_HOLD_FOR_ADVICE);

  EXPECT_EQ(dpo->Approve("held-a", "short").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(dpo->Approve("held-a", "Necessary and proportionate: the child is at risk.").ok());
  ASSERT_TRUE(dpo->RefuseHeld("held-b", "Not necessary: the front door already has this.").ok());
  EXPECT_EQ(dpo->Approve("held-b", "Changed my mind about this one.").code(),
            absl::StatusCode::kFailedPrecondition);

  auto inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok());
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_EQ(inbox->received[0].message_id, "held-a");
  auto b = police->client().GetStatus("held-b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->state(), v1::MESSAGE_STATE_REFUSED);

  int approved = 0, refused = 0;
  for (const auto& r : Query(*dpo)) {
    if (r.event() == v1::AUDIT_EVENT_TYPE_APPROVED_BY_OFFICER) {
      ++approved;
      EXPECT_EQ(r.actor(), "safeshare://officer/hampshire-crt/dpo");
      EXPECT_NE(r.reason().find("proportionate"), std::string::npos);
    }
    refused += r.event() == v1::AUDIT_EVENT_TYPE_REFUSED_BY_OFFICER;
  }
  EXPECT_EQ(approved, 1);
  EXPECT_EQ(refused, 1);
  ExpectAuditLogVerifies();
}

}  // namespace
}  // namespace safeshare
