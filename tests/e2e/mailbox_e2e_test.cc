// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. Mailbox: fetching in order, only one's own mail, and
// refusing content.

#include <map>

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

}  // namespace
}  // namespace safeshare
