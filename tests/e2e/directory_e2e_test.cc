// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. Directory: the federation, key rotation and revocation.

#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

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
  for (const auto& k : agency->agency().keys()) {
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
  ASSERT_TRUE(police->RevokeKey(old_key->KeyId()).ok());
  // The key just published verifies at once (the directory decodes it on reload).
  EXPECT_TRUE(police->Send(Message("hiow-police", "portsmouth-mash", "rotated-sig")).ok());
  auto r = police->client().Submit(*signed_old);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  EXPECT_NE(r.status().message().find("revoked"), std::string::npos);
  EXPECT_EQ(Reason(r.status()), "SIGNING_KEY_REVOKED");

  // Another agency cannot revoke the police's keys.
  auto current = police->client().GetAgency("hiow-police");
  ASSERT_TRUE(current.ok());
  std::string new_id;
  for (const auto& k : current->agency().keys()) {
    if (k.purpose() == v1::KEY_PURPOSE_SIGNING && k.current()) new_id = k.key_id();
  }
  ASSERT_FALSE(new_id.empty());
  EXPECT_EQ(Agent("southsea-academy")->RevokeKey(new_id).status().code(),
            absl::StatusCode::kNotFound);

  // Published keys and revocations are durable.
  gateway_->Kill();
  ASSERT_TRUE(gateway_->Start());
  EXPECT_EQ(Agency("hiow-police")->Submit(*signed_old).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      Agent("hiow-police")->Send(Message("hiow-police", "portsmouth-mash", "new-sig")).ok());
}

}  // namespace
}  // namespace safeshare
