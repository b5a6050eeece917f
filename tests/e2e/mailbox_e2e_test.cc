// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. Mailbox: fetching in order, only one's own mail, and
// refusing content.

#include <fstream>
#include <map>

#include "common/time.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

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
  auto refused_locally =
      Agent("hiow-police")
          ->Send(Message("hiow-police", "portsmouth-mash", "undeclared", undeclared));
  EXPECT_EQ(refused_locally.status().code(), absl::StatusCode::kInvalidArgument)
      << "the sender's own agent refuses first";
  v1::SignedEnvelope hostile =
      SealByHand(Header("hiow-police", "portsmouth-mash", "undeclared"),
                 undeclared.SerializeAsString(), "hiow-police", "portsmouth-mash");
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
    if (r.event() == v1::AUDIT_EVENT_TYPE_CONTENT_REFUSED_BY_RECIPIENT)
      refusals[r.message_id()] = r;
  }
  ASSERT_EQ(refusals.size(), 2u);
  EXPECT_EQ(refusals["spliced"].content_refusal_reason(), v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE);
  EXPECT_EQ(refusals["undeclared"].content_refusal_reason(),
            v1::CONTENT_REFUSAL_REASON_UNDECLARED_CATEGORY);
  EXPECT_EQ(refusals["undeclared"].actor(), "safeshare://hips-dev/agency/portsmouth-mash");
  EXPECT_EQ(refusals["undeclared"].state(), v1::MESSAGE_STATE_CONTENT_REFUSED);
  ExpectAuditLogVerifies();
}

// The consistent child identifier: an NHS number with a wrong check digit is
// refused by the sender's own agent before anything is sent, and, sealed by
// hand past it, by the recipient's agent; neither error shows the number.
TEST_F(GatewayE2eTest, AnInvalidNhsNumberIsRefusedByTheSendersAgentAndTheRecipients) {
  auto police = Agency("hiow-police");
  v1::SealedContent bad = Content();
  bad.mutable_referral()->mutable_record()->mutable_child()->set_nhs_number("943 476 5918");
  auto m = Message("hiow-police", "portsmouth-mash", "bad-nhs", bad);
  m.declaration.set_consistent_identifier(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED);
  auto refused_locally = Agent("hiow-police")->Send(m);
  EXPECT_EQ(refused_locally.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused_locally.status().message().find("not a valid NHS number"), std::string::npos)
      << refused_locally.status();
  EXPECT_EQ(refused_locally.status().message().find("5918"), std::string::npos);
  EXPECT_FALSE(police->GetStatus("bad-nhs").ok()) << "nothing reached the gateway";
  // A declaration that promises the number while the content lacks it.
  auto promised = Message("hiow-police", "portsmouth-mash", "no-nhs");
  promised.declaration.set_consistent_identifier(v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED);
  EXPECT_EQ(Agent("hiow-police")->Send(promised).status().code(),
            absl::StatusCode::kInvalidArgument);

  v1::Envelope header = Header("hiow-police", "portsmouth-mash", "bad-nhs");
  header.mutable_declaration()->set_consistent_identifier(
      v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED);
  ASSERT_TRUE(
      police->Submit(SealByHand(header, bad.SerializeAsString(), "hiow-police", "portsmouth-mash"))
          .ok());
  auto inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  EXPECT_EQ(inbox->received.size(), 0u);
  ASSERT_EQ(inbox->refused.size(), 1u);
  EXPECT_EQ(inbox->refused[0].reason, v1::CONTENT_REFUSAL_REASON_INVALID_IDENTIFIER);
  EXPECT_EQ(inbox->refused[0].detail.find("5918"), std::string::npos);
  auto status = police->GetStatus("bad-nhs");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_CONTENT_REFUSED);
  EXPECT_EQ(status->content_refusal_reason(), v1::CONTENT_REFUSAL_REASON_INVALID_IDENTIFIER);
  ExpectAuditLogVerifies();
}

// The recipient's agent's checks R1-R17 (docs/envelope-format.md, 6.4), one
// broken envelope each, opened as a delivered mailbox message: each refused
// with the code and the refusal reason the spec gives. A gateway that skipped
// its own checks would hand over exactly these.
TEST_F(GatewayE2eTest, TheRecipientsAgentRefusesEachBrokenEnvelopeWithTheSpecsReason) {
  auto police = Agent("hiow-police");
  auto mash = Agent("portsmouth-mash");
  ASSERT_TRUE(police && mash);
  auto signing = police->keyring().Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(signing.ok());
  const std::string content = Content().SerializeAsString();
  auto sealed = [&](v1::Envelope header, const std::string& plaintext) {
    return SealByHand(std::move(header), plaintext, "hiow-police", "portsmouth-mash");
  };
  auto header = [&](const std::string& id) { return Header("hiow-police", "portsmouth-mash", id); };
  auto resigned = [&](const v1::Envelope& e) {
    auto s = envelope::SignEnvelope(e, *signing);
    EXPECT_TRUE(s.ok());
    return *s;
  };
  auto with_content = [&](const std::string& id, const std::string& text,
                          v1::ConsistentIdentifierStatus identifier =
                              v1::CONSISTENT_IDENTIFIER_STATUS_UNSPECIFIED) {
    v1::SealedContent c;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
    v1::Envelope h = header(id);
    h.mutable_declaration()->set_consistent_identifier(identifier);
    return sealed(h, c.SerializeAsString());
  };
  const v1::Federation fed = Federation();
  std::string police_encryption_key_id;
  for (const auto& a : fed.agencies()) {
    for (const auto& k : a.keys()) {
      if (a.id() == "hiow-police" && k.purpose() == v1::KEY_PURPOSE_ENCRYPTION) {
        police_encryption_key_id = k.key_id();
      }
    }
  }
  auto other_key = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(other_key.ok());

  struct Case {
    std::string check;
    v1::SignedEnvelope envelope;
    absl::StatusCode code;
    v1::ContentRefusalReason reason;
    std::string mailbox_id = "";  // the id the mailbox delivers it under, if not the signed one
  };
  std::vector<Case> cases;
  {
    v1::SignedEnvelope garbage;
    garbage.set_envelope_bytes(std::string("\xff\xff\xff", 3));
    cases.push_back({"R1", garbage, absl::StatusCode::kInvalidArgument,
                     v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT, "r1"});
  }
  {
    v1::SignedEnvelope s = sealed(header("r2"), content);
    s.mutable_signature()->pop_back();
    cases.push_back({"R2", s, absl::StatusCode::kInvalidArgument,
                     v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT});
  }
  cases.push_back({"R3", sealed(header("r3 has spaces"), content),
                   absl::StatusCode::kInvalidArgument, v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT,
                   "r3"});
  cases.push_back({"R4", sealed(Header("hiow-police", "iow-mash", "r4"), content),
                   absl::StatusCode::kFailedPrecondition,
                   v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT});
  {
    v1::SignedEnvelope s = sealed(header("r6-not-signing"), content);
    s.set_signing_key_id(police_encryption_key_id);
    cases.push_back(
        {"R6", s, absl::StatusCode::kUnauthenticated, v1::CONTENT_REFUSAL_REASON_BAD_SIGNATURE});
  }
  cases.push_back(
      {"R6", SealByHand(header("r6-other-agency"), content, "southsea-academy", "portsmouth-mash"),
       absl::StatusCode::kUnauthenticated, v1::CONTENT_REFUSAL_REASON_BAD_SIGNATURE});
  {
    // Dated before the signing key was valid (the development keys are minutes old).
    v1::Envelope h = header("r8");
    h.mutable_created_time()->set_seconds(h.created_time().seconds() - 3600);
    cases.push_back({"R8", sealed(h, content), absl::StatusCode::kUnauthenticated,
                     v1::CONTENT_REFUSAL_REASON_BAD_SIGNATURE});
  }
  {
    v1::SignedEnvelope s = sealed(header("r9"), content);
    (*s.mutable_signature())[5] ^= 0x04;
    cases.push_back(
        {"R9", s, absl::StatusCode::kUnauthenticated, v1::CONTENT_REFUSAL_REASON_BAD_SIGNATURE});
  }
  {
    auto s = envelope::SealAndSign(header("r10"), content,
                                   {other_key->KeyId(), other_key->RawPublicKey()}, *signing);
    ASSERT_TRUE(s.ok());
    cases.push_back({"R10", *s, absl::StatusCode::kFailedPrecondition,
                     v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE});
  }
  {
    v1::Envelope e = Open(sealed(header("r11"), content));
    (*e.mutable_payload()->mutable_ciphertext())[2] ^= 0x01;
    cases.push_back({"R11", resigned(e), absl::StatusCode::kInvalidArgument,
                     v1::CONTENT_REFUSAL_REASON_UNDECRYPTABLE});
  }
  cases.push_back({"R12", sealed(header("r12"), std::string("\xff\xff\xff", 3)),
                   absl::StatusCode::kInvalidArgument,
                   v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT});
  cases.push_back({"R13", with_content("r13", R"(information_request { questions: "q" })"),
                   absl::StatusCode::kFailedPrecondition,
                   v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT});
  cases.push_back({"R14", with_content("r14", R"(referral { record { health: "h" } })"),
                   absl::StatusCode::kFailedPrecondition,
                   v1::CONTENT_REFUSAL_REASON_UNDECLARED_CATEGORY});
  cases.push_back(
      {"R15",
       with_content("r15", R"(referral { record { child { nhs_number: "943 476 5918" } } })"),
       absl::StatusCode::kInvalidArgument, v1::CONTENT_REFUSAL_REASON_INVALID_IDENTIFIER});
  cases.push_back({"R16",
                   with_content("r16", R"(referral { record { child { given_names: "A" } } })",
                                v1::CONSISTENT_IDENTIFIER_STATUS_INCLUDED),
                   absl::StatusCode::kInvalidArgument,
                   v1::CONTENT_REFUSAL_REASON_INVALID_IDENTIFIER});
  cases.push_back({"R17", sealed(header("r17-signed"), content), absl::StatusCode::kInvalidArgument,
                   v1::CONTENT_REFUSAL_REASON_MALFORMED_CONTENT, "r17-delivered"});

  for (const Case& c : cases) {
    v1::MailboxMessage m;
    m.set_message_id(c.mailbox_id.empty() ? Open(c.envelope).message_id() : c.mailbox_id);
    *m.mutable_signed_envelope() = c.envelope;
    *m.mutable_accepted_time() = ToTimestamp(absl::Now());
    v1::ContentRefusalReason reason = v1::CONTENT_REFUSAL_REASON_UNSPECIFIED;
    auto opened = mash->OpenDelivered(m, &reason);
    EXPECT_EQ(opened.status().code(), c.code) << c.check << ": " << opened.status();
    EXPECT_EQ(v1::ContentRefusalReason_Name(reason), v1::ContentRefusalReason_Name(c.reason))
        << c.check << ": " << opened.status();
  }
  // The same agent opens an untouched one: the cases failed for their own reason.
  v1::MailboxMessage good;
  good.set_message_id("r-good");
  *good.mutable_signed_envelope() = sealed(header("r-good"), content);
  *good.mutable_accepted_time() = ToTimestamp(absl::Now());
  v1::ContentRefusalReason none = v1::CONTENT_REFUSAL_REASON_UNSPECIFIED;
  EXPECT_TRUE(mash->OpenDelivered(good, &none).ok());
}

// R7: a signature by a key its agency has since revoked opens nothing, though
// it verified when it was made.
TEST_F(GatewayE2eTest, TheRecipientsAgentRefusesASignatureByARevokedKey) {
  auto police = Agent("hiow-police");
  auto old_key = police->keyring().Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(old_key.ok());
  auto signed_old = police->Seal(Message("hiow-police", "portsmouth-mash", "r7"));
  ASSERT_TRUE(signed_old.ok());
  ASSERT_TRUE(police->RotateKeys(/*signing=*/true, /*encryption=*/false).ok());
  ASSERT_TRUE(police->RevokeKey(old_key->KeyId()).ok());
  v1::MailboxMessage m;
  m.set_message_id("r7");
  *m.mutable_signed_envelope() = *signed_old;
  *m.mutable_accepted_time() = ToTimestamp(absl::Now());
  v1::ContentRefusalReason reason = v1::CONTENT_REFUSAL_REASON_UNSPECIFIED;
  auto opened = Agent("portsmouth-mash")->OpenDelivered(m, &reason);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnauthenticated) << opened.status();
  EXPECT_NE(opened.status().message().find("revoked"), std::string::npos) << opened.status();
  EXPECT_EQ(reason, v1::CONTENT_REFUSAL_REASON_BAD_SIGNATURE);
}

// R5: when the sender's keys cannot be checked (here the recipient's memory
// of the key log is unreadable), that is no verdict on the message: it is
// neither refused nor acknowledged, and it is opened once the keys check out.
TEST_F(GatewayE2eTest, AMessageWhoseSenderKeysCannotBeCheckedWaitsInTheMailbox) {
  ASSERT_TRUE(Agent("hiow-police")->Send(Message("hiow-police", "portsmouth-mash", "r5")).ok());
  const std::string memory = AgencyDir("portsmouth-mash") + "/key-log.textproto";
  std::string saved;
  {
    std::ifstream in(memory);
    saved.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::ofstream(memory) << "not a key log";
  auto inbox = Agent("portsmouth-mash")->Receive();
  EXPECT_EQ(inbox.status().code(), absl::StatusCode::kUnavailable) << inbox.status();
  auto status = Agency("hiow-police")->GetStatus("r5");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), v1::MESSAGE_STATE_DELIVERED) << "not refused, not acknowledged";
  std::ofstream(memory) << saved;
  inbox = Agent("portsmouth-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 1u);
  EXPECT_EQ(inbox->received[0].message_id, "r5");
}

}  // namespace
}  // namespace safeshare
