// End-to-end over real mutual TLS on loopback, a real safeshare-gateway
// process driven by the real agent code. Key transparency: stolen TLS
// credentials cannot change an agency's keys, an agent refuses a key the log
// does not vouch for, the monitor reports what the agency did not do, and a
// proper rotation goes through.

#include "absl/strings/match.h"
#include "envelope/digest.h"
#include "envelope/key_statement.h"
#include "envelope/sealing.h"
#include "tests/e2e/gateway_fixture.h"

namespace safeshare {
namespace {

namespace fs = std::filesystem;

class KeyTransparencyE2eTest : public GatewayE2eTest {
 protected:
  // A statement of `agency` for `key`, signed by `signer`, following the
  // agency's latest key event as its agent verifies it.
  v1::SignedKeyStatement Statement(agents::AgencyAgent& agent, const v1::PublicKey& key,
                                   const envelope::PrivateKey& signer,
                                   const envelope::PrivateKey* new_signing_key = nullptr) {
    auto history = agent.KeyHistory(agent.agency_id());
    EXPECT_TRUE(history.ok()) << history.status();
    v1::KeyStatement s;
    s.set_federation_id("hips-dev");
    s.set_agency_id(agent.agency_id());
    s.set_action(v1::KeyStatement::ACTION_PUBLISH);
    *s.mutable_key() = key;
    s.mutable_key()->clear_current();
    if (history.ok() && !history->events.empty()) {
      s.set_previous_event_index(history->events.back().leaf_index);
    }
    auto signed_statement = envelope::SignKeyStatement(s, signer, new_signing_key);
    EXPECT_TRUE(signed_statement.ok()) << signed_statement.status();
    return *signed_statement;
  }

  // Runs SQL on the stopped gateway's database: what a compromised gateway
  // (or anyone with its disk) can do.
  void Tamper(const std::string& sql) {
    EXPECT_EQ(testing::ExecSqlite(gateway_->db_path(), sql), "") << sql;
  }
};

TEST_F(KeyTransparencyE2eTest, StolenTlsCredentialsCannotChangeAnAgencysKeys) {
  const size_t events_before = KeyEventCount();
  auto iow = Agent("iow-mash");
  auto stolen = Agency("iow-mash");  // the agency's certificate and TLS key, nothing more
  auto attacker_key = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(attacker_key.ok());
  const v1::PublicKey forged = envelope::PublicKeyEntry(*attacker_key, absl::Now());

  // No statement at all: a bare TLS call.
  auto bare = stolen->PublishKey(v1::SignedKeyStatement());
  EXPECT_EQ(bare.status().code(), absl::StatusCode::kPermissionDenied) << bare.status();
  EXPECT_TRUE(absl::StrContains(bare.status().message(), "TLS credentials alone"));

  // Signed by a key of the attacker's.
  auto thief = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(thief.ok());
  auto by_thief = stolen->PublishKey(Statement(*iow, forged, *thief));
  EXPECT_EQ(by_thief.status().code(), absl::StatusCode::kPermissionDenied) << by_thief.status();
  EXPECT_TRUE(absl::StrContains(by_thief.status().message(), "not the current signing key"));

  // The agency's real statement, altered in flight: the signature fails.
  auto signing = iow->keyring().Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(signing.ok());
  v1::SignedKeyStatement altered = Statement(*iow, forged, *signing);
  v1::KeyStatement s;
  ASSERT_TRUE(s.ParseFromString(altered.statement()));
  auto other = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kEncryption);
  *s.mutable_key() = envelope::PublicKeyEntry(*other, absl::Now());
  s.mutable_key()->clear_current();
  altered.set_statement(s.SerializeAsString());
  auto tampered = stolen->PublishKey(altered);
  EXPECT_EQ(tampered.status().code(), absl::StatusCode::kUnauthenticated) << tampered.status();

  // A statement about another agency, even properly signed by its own key,
  // is refused from this caller.
  auto police = Agent("hiow-police");
  auto police_signing = police->keyring().Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(police_signing.ok());
  auto cross = stolen->PublishKey(Statement(*police, forged, *police_signing));
  EXPECT_EQ(cross.status().code(), absl::StatusCode::kPermissionDenied) << cross.status();

  // A statement the agency really signed, replayed after its keys moved on.
  v1::SignedKeyStatement first = Statement(*iow, forged, *signing);
  ASSERT_TRUE(iow->RotateKeys(/*signing=*/false, /*encryption=*/true).ok());
  auto replayed = stolen->PublishKey(first);
  EXPECT_EQ(replayed.status().code(), absl::StatusCode::kFailedPrecondition) << replayed.status();
  EXPECT_TRUE(absl::StrContains(replayed.status().message(), "sign again"));

  // Only the agency's own rotation reached the directory and the log.
  EXPECT_EQ(KeyEventCount(), events_before + 1);
  auto served = police->KeyHistory("iow-mash");
  ASSERT_TRUE(served.ok()) << served.status();
  for (const auto& k : served->keys) EXPECT_NE(k.key_id(), forged.key_id());
  ExpectAuditLogVerifies();
}

TEST_F(KeyTransparencyE2eTest, AKeyServedWithoutAKeyEventIsRefusedByTheAgent) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash", "before")).ok());
  // A gateway that skips the log: a key of its own as iow-mash's current
  // encryption key, written straight into its store.
  auto rogue = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(rogue.ok());
  ASSERT_EQ(gateway_->Stop(), 0);
  Tamper(absl::StrCat(
      "UPDATE agency_keys SET current = 0 WHERE agency_id = 'iow-mash' AND purpose = 2;"
      "INSERT INTO agency_keys (key_id, agency_id, purpose, public_key, not_before_us, "
      "not_after_us, current, revoked_us) VALUES ('",
      rogue->KeyId(), "', 'iow-mash', 2, x'", envelope::ToHex(rogue->RawPublicKey()),
      "', 0, NULL, 1, NULL);"));
  ASSERT_TRUE(gateway_->Start());

  auto sealed = Agent("hiow-police")->Seal(Message("hiow-police", "iow-mash", "after"));
  ASSERT_FALSE(sealed.ok()) << "sealed to a key the log does not vouch for";
  EXPECT_EQ(sealed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(sealed.status().message(), "no key event in the log introduces it"))
      << sealed.status();
  EXPECT_TRUE(absl::StrContains(sealed.status().message(), rogue->KeyId()));
}

TEST_F(KeyTransparencyE2eTest, TheMonitorAlertsOnAKeyEventTheAgencyDidNotMake) {
  const std::string cli = testing::CliBinary();
  const std::string gw = "--gateway=" + gateway_->target();
  const std::string iow = "--identity=" + AgencyDir("iow-mash");
  CommandResult quiet = RunCommand({cli, "keys", "monitor", gw, iow});
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err << quiet.out;
  EXPECT_TRUE(absl::StrContains(quiet.out, "ok     ")) << quiet.out;
  EXPECT_FALSE(absl::StrContains(quiet.out, "ALERT")) << quiet.out;

  // The long-running mode, as the connector runs it.
  testing::ChildProcess follow;
  const std::string follow_log = data_.path() + "/monitor.log";
  ASSERT_TRUE(
      follow.Start({cli, "keys", "monitor", "--follow", "--interval=1", gw, iow}, follow_log));

  // A compromised operator registers a key of its own for iow-mash through
  // the federation file: a valid key event, which every agent accepts.
  auto forged = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(forged.ok());
  v1::Federation fed;
  {
    std::ifstream in(federation_ + "/federation.textproto");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &fed));
  }
  for (auto& a : *fed.mutable_agencies()) {
    if (a.id() == "iow-mash") *a.add_keys() = envelope::PublicKeyEntry(*forged, absl::Now());
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(fed, &text);
  std::ofstream(federation_ + "/federation.textproto") << text;
  gateway_->Signal(SIGHUP);  // the gateway rereads the file and registers the key
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto history = Agent("hiow-police")->KeyHistory("iow-mash");
        return history.ok() && history->keys.size() == 3;
      },
      20));

  CommandResult alert = RunCommand({cli, "keys", "monitor", gw, iow});
  EXPECT_EQ(alert.exit_code, 3) << alert.err << alert.out;
  EXPECT_TRUE(absl::StrContains(alert.out, "ALERT")) << alert.out;
  EXPECT_TRUE(absl::StrContains(alert.out, forged->KeyId())) << alert.out;
  EXPECT_TRUE(absl::StrContains(alert.err, "did not make")) << alert.err;

  // The follower saw it too, and exits with the alert status when stopped.
  auto followed = [&] {
    std::ifstream in(follow_log);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_TRUE(testing::WaitFor([&] { return absl::StrContains(followed(), forged->KeyId()); }, 30))
      << followed();
  follow.Signal(SIGTERM);
  std::optional<int> code;
  ASSERT_TRUE(testing::WaitFor([&] { return (code = follow.Poll()).has_value(); }, 20));
  EXPECT_EQ(*code, 3) << followed();

  // Another agency's view shows the same event in iow-mash's history.
  CommandResult history = RunCommand(
      {cli, "keys", "history", "--agency=iow-mash", gw, "--identity=" + AgencyDir("hiow-police")});
  ASSERT_EQ(history.exit_code, 0) << history.err;
  EXPECT_TRUE(absl::StrContains(history.out, forged->KeyId())) << history.out;
  EXPECT_TRUE(absl::StrContains(history.out, "KEY_REGISTERED")) << history.out;
}

TEST_F(KeyTransparencyE2eTest, AProperRotationGoesThroughEndToEnd) {
  auto iow = Agent("iow-mash");
  auto retired = iow->keyring().Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(retired.ok());
  auto rotated = iow->RotateKeys(/*signing=*/true, /*encryption=*/true);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  ASSERT_EQ(rotated->size(), 2u);
  // The retired signing key signs no more key changes.
  auto spare = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(spare.ok());
  auto by_retired = iow->client().PublishKey(
      Statement(*iow, envelope::PublicKeyEntry(*spare, absl::Now()), *retired));
  EXPECT_EQ(by_retired.status().code(), absl::StatusCode::kPermissionDenied) << by_retired.status();
  // A partner verifies the new keys and seals to the new encryption key.
  auto police = Agent("hiow-police");
  auto sent = police->Send(Message("hiow-police", "iow-mash", "to-rotated"));
  ASSERT_TRUE(sent.ok()) << sent.status();
  auto inbox = Agent("iow-mash")->Receive();
  ASSERT_TRUE(inbox.ok()) << inbox.status();
  ASSERT_EQ(inbox->received.size(), 1u);
  // What iow-mash sends now is signed with its new signing key, which the
  // gateway verifies before policy decides (a decision, not a refusal of the
  // signature).
  v1::SubmitResponse refused;
  auto from_iow =
      Agent("iow-mash")->Send(Message("iow-mash", "hampshire-crt", "from-rotated"), &refused);
  EXPECT_TRUE(from_iow.ok() || refused.has_decision()) << from_iow.status();
  auto sealed = Agent("iow-mash")->Seal(Message("iow-mash", "hampshire-crt", "signed-new"));
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->signing_key_id(), (*rotated)[0].key_id());

  // The history shows both publications, each signed; the monitor is quiet.
  auto history = police->KeyHistory("iow-mash");
  ASSERT_TRUE(history.ok()) << history.status();
  int published = 0;
  for (const auto& e : history->events) {
    if (e.record.event() != v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED) continue;
    ++published;
    EXPECT_EQ(e.record.key_event().statement().signature().size(), 64u);
  }
  EXPECT_EQ(published, 2);
  CommandResult monitor =
      RunCommand({testing::CliBinary(), "keys", "monitor", "--gateway=" + gateway_->target(),
                  "--identity=" + AgencyDir("iow-mash")});
  EXPECT_EQ(monitor.exit_code, 0) << monitor.err << monitor.out;
  ExpectAuditLogVerifies();
}

TEST_F(KeyTransparencyE2eTest, AnExpiredKeyIsNeitherSealedToNorAccepted) {
  auto iow = Agent("iow-mash");
  auto old = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kEncryption);
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(iow->keyring().Add(AgencyDir("iow-mash"), *old).ok());
  // Valid yesterday only, properly signed and published.
  v1::PublicKey expired =
      envelope::PublicKeyEntry(*old, absl::Now() - absl::Hours(48), absl::Hours(24));
  auto signing = iow->keyring().Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(signing.ok());
  auto published = iow->client().PublishKey(Statement(*iow, expired, *signing));
  ASSERT_TRUE(published.ok()) << published.status();

  auto police = Agent("hiow-police");
  auto sealed = police->Seal(Message("hiow-police", "iow-mash", "to-expired"));
  EXPECT_EQ(sealed.status().code(), absl::StatusCode::kFailedPrecondition) << sealed.status();
  EXPECT_TRUE(absl::StrContains(sealed.status().message(), "expired")) << sealed.status();
  // Sealed by hand, bypassing the agent: the gateway refuses it too.
  auto police_signing = police->keyring().Newest(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(police_signing.ok());
  auto by_hand = envelope::SealAndSign(Header("hiow-police", "iow-mash", "by-hand"),
                                       Content().SerializeAsString(),
                                       {old->KeyId(), old->RawPublicKey()}, *police_signing);
  ASSERT_TRUE(by_hand.ok());
  auto submitted = police->client().Submit(*by_hand);
  EXPECT_EQ(submitted.status().code(), absl::StatusCode::kFailedPrecondition) << submitted.status();
  EXPECT_TRUE(absl::StrContains(submitted.status().message(), "expired")) << submitted.status();
  EXPECT_EQ(Reason(submitted.status()), "RECIPIENT_KEY_MISSING") << "no usable key: wait";

  // A signing key whose validity has passed signs nothing the gateway accepts.
  auto lapsed = envelope::PrivateKey::Generate(envelope::PrivateKey::Type::kSigning);
  ASSERT_TRUE(lapsed.ok());
  ASSERT_TRUE(police->keyring().Add(AgencyDir("hiow-police"), *lapsed).ok());
  v1::PublicKey lapsed_entry =
      envelope::PublicKeyEntry(*lapsed, absl::Now() - absl::Hours(48), absl::Hours(24));
  auto lapsed_published =
      police->client().PublishKey(Statement(*police, lapsed_entry, *police_signing, &*lapsed));
  ASSERT_TRUE(lapsed_published.ok()) << lapsed_published.status();
  auto signed_lapsed = envelope::SealAndSign(Header("hiow-police", "hampshire-crt", "lapsed"),
                                             Content().SerializeAsString(),
                                             {old->KeyId(), old->RawPublicKey()}, *lapsed);
  ASSERT_TRUE(signed_lapsed.ok());
  auto refused = police->client().Submit(*signed_lapsed);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "signing key")) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "expired")) << refused.status();
  EXPECT_EQ(Reason(refused.status()), "SIGNING_KEY_NOT_VALID");
}

TEST_F(KeyTransparencyE2eTest, ARolledBackLogIsRefusedByAnAgentThatSawANewerOne) {
  ASSERT_EQ(gateway_->Stop(), 0);
  const std::string saved = data_.path() + "/saved.db";
  fs::copy_file(gateway_->db_path(), saved);
  ASSERT_TRUE(gateway_->Start());
  ASSERT_TRUE(Agent("iow-mash")->RotateKeys(/*signing=*/false, /*encryption=*/true).ok());
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash", "seen")).ok());

  // The gateway's database is put back as it was before the rotation.
  ASSERT_EQ(gateway_->Stop(), 0);
  fs::remove(gateway_->db_path() + "-wal");
  fs::remove(gateway_->db_path() + "-shm");
  fs::copy_file(saved, gateway_->db_path(), fs::copy_options::overwrite_existing);
  ASSERT_TRUE(gateway_->Start());
  auto sealed = Agent("hiow-police")->Seal(Message("hiow-police", "iow-mash", "rolled-back"));
  EXPECT_EQ(sealed.status().code(), absl::StatusCode::kFailedPrecondition) << sealed.status();
  EXPECT_TRUE(absl::StrContains(sealed.status().message(), "older than")) << sealed.status();
}

}  // namespace
}  // namespace safeshare

namespace safeshare {
namespace {

// A store from before key transparency holds keys but no key events: the
// gateway registers every stored key, as it stands, once, and agents verify
// them; the records already in the log verify as before.
TEST_F(KeyTransparencyE2eTest, KeysStoredBeforeKeyTransparencyAreRegisteredOnce) {
  auto police = Agent("hiow-police");
  ASSERT_TRUE(police->Send(Message("hiow-police", "iow-mash", "before-upgrade")).ok());
  ASSERT_TRUE(Agent("iow-mash")->RotateKeys(/*signing=*/false, /*encryption=*/true).ok());
  ASSERT_EQ(gateway_->Stop(), 0);
  Tamper("DELETE FROM key_events;");  // as a version-7 store, whose keys had none
  ASSERT_TRUE(gateway_->Start());
  const std::string fresh_identity = data_.path() + "/fresh-police";
  fs::copy(AgencyDir("hiow-police"), fresh_identity, fs::copy_options::recursive);
  fs::remove(fresh_identity + "/" + agents::kKeyLogMemoryFile);  // an agent new to this log
  auto fresh = agents::AgencyAgent::Open(fresh_identity, gateway_->target());
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  auto history = (*fresh)->KeyHistory("iow-mash");
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->events.size(), 3u) << "two onboarding keys and the rotated one";
  for (const auto& e : history->events) {
    EXPECT_EQ(e.record.event(), v1::AUDIT_EVENT_TYPE_KEY_REGISTERED);
    EXPECT_EQ(e.record.key_event().registered_by(), "stored before key transparency");
  }
  int current = 0;
  for (const auto& k : history->keys) current += k.current();
  EXPECT_EQ(current, 2) << "the rotated encryption key and the signing key, as they stood";
  EXPECT_TRUE((*fresh)->Send(Message("hiow-police", "iow-mash", "after-upgrade")).ok());
  // Once only: a restart registers nothing more.
  const size_t events = KeyEventCount();
  ASSERT_EQ(gateway_->Stop(), 0);
  ASSERT_TRUE(gateway_->Start());
  EXPECT_EQ(KeyEventCount(), events);
  ExpectAuditLogVerifies();
}

}  // namespace
}  // namespace safeshare
