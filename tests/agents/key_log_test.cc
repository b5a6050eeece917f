// The agent's key transparency checks (agents/key_log.h), on key histories
// built here: a forged, unsigned, dropped or swapped key event, a statement
// for another federation, agency, action or event, a revoked key published
// again, a key served without an event, and a log served older than one seen
// before are refused; so are an event of another type or agency, a key whose
// id is not its bytes, a chain that skips events, a signer outside its
// validity, and a signed or repeated registration.

#include "agents/key_log.h"

#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/files.h"
#include "common/time.h"
#include "envelope/key_statement.h"
#include "envelope/keys.h"
#include "tests/support/test_support.h"
#include "transparency/checkpoint.h"
#include "transparency/merkle.h"

namespace safeshare::agents {
namespace {

namespace v1 = safeshare::v1;
using envelope::PrivateKey;

constexpr char kFederation[] = "hips-dev";
constexpr char kAgency[] = "iow-mash";
constexpr char kOrigin[] = "safeshare.hips-dev/audit";

PrivateKey NewKey(PrivateKey::Type type) { return *PrivateKey::Generate(type); }

// Builds an agency's key events into a log, as the gateway would.
class History {
 public:
  History() : audit_key_(NewKey(PrivateKey::Type::kSigning)) {}
  const absl::Time valid_from_ = absl::Now() - absl::Hours(1);

  // One validity start for the whole history, so an entry built again for a
  // later event (a revocation) has the same bounds however slow the test is.
  v1::PublicKey Entry(const PrivateKey& key, bool current) {
    v1::PublicKey k = envelope::PublicKeyEntry(key, valid_from_);
    k.set_current(current);
    return k;
  }

  // Appends a record to the log (any agency's, any event).
  void AppendRecord(const v1::AuditRecord& r) {
    v1::AuditRecord copy = r;
    copy.set_sequence(tree_.size());
    *copy.mutable_time() = ToTimestamp(absl::Now());
    std::string bytes;
    copy.SerializeToString(&bytes);
    records_.push_back(bytes);
    tree_.Append(bytes);
  }

  // The agency's key event for `key`; `signed_by` signs a statement.
  // `signed_key`, if given, is what the statement names instead of `key`;
  // `edit`, if given, changes the statement before it is signed;
  // `edit_record`, the record as the gateway writes it (after signing).
  void Event(v1::AuditEventType type, const v1::PublicKey& key,
             const PrivateKey* signed_by = nullptr, const PrivateKey* new_key = nullptr,
             const v1::PublicKey* signed_key = nullptr,
             const std::function<void(v1::KeyStatement&)>& edit = nullptr,
             const std::function<void(v1::AuditRecord&)>& edit_record = nullptr) {
    v1::AuditRecord r;
    r.set_event(type);
    r.set_sender_agency_id(kAgency);
    auto* e = r.mutable_key_event();
    e->set_agency_id(kAgency);
    *e->mutable_key() = key;
    if (!mine_.empty()) {
      e->set_has_previous(true);
      e->set_previous_event_index(mine_.back());
    }
    if (signed_by != nullptr) {
      v1::KeyStatement s;
      s.set_federation_id(kFederation);
      s.set_agency_id(kAgency);
      s.set_previous_event_index(mine_.back());
      if (type == v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED) {
        s.set_action(v1::KeyStatement::ACTION_PUBLISH);
        *s.mutable_key() = signed_key != nullptr ? *signed_key : key;
        s.mutable_key()->clear_current();
      } else {
        s.set_action(v1::KeyStatement::ACTION_REVOKE);
        s.set_revoke_key_id(key.key_id());
      }
      if (edit) edit(s);
      *e->mutable_statement() = *envelope::SignKeyStatement(s, *signed_by, new_key);
    }
    if (edit_record) edit_record(r);
    mine_.push_back(tree_.size());
    AppendRecord(r);
  }

  transparency::Checkpoint Checkpoint(uint64_t size = 0) {
    if (size == 0) size = tree_.size();
    return {kOrigin, size, *tree_.Root(size)};
  }
  std::string Note(uint64_t size = 0) {
    return *transparency::SignCheckpoint(Checkpoint(size), kOrigin, audit_key_.get());
  }

  // What GetAgency serves: every event of the agency under `size`.
  v1::KeyHistory Served(uint64_t size = 0, uint64_t known = 0) {
    if (size == 0) size = tree_.size();
    v1::KeyHistory h;
    h.set_checkpoint_note(Note(size));
    for (uint64_t i : mine_) {
      if (i >= size) continue;
      auto* e = h.add_events();
      e->set_leaf_index(i);
      e->set_record(records_[i]);
      auto proof = transparency::InclusionProof(tree_, i, size);
      for (auto& p : *proof) e->add_inclusion_proof(p);
    }
    if (known > 0 && known < size) {
      h.set_consistency_from_size(known);
      auto proof = transparency::ConsistencyProof(tree_, known, size);
      for (auto& p : *proof) h.add_consistency_proof(p);
    }
    return h;
  }

  std::string VerifierKey() const {
    return *transparency::VerifierKey(kOrigin, audit_key_.RawPublicKey());
  }

 private:
  PrivateKey audit_key_;
  transparency::MemoryTree tree_;
  std::vector<std::string> records_;
  std::vector<uint64_t> mine_;  // the agency's events
};

class KeyLogTest : public ::testing::Test {
 protected:
  // Registered K1 and E1 at onboarding, then a signing rotation to K2.
  void SetUp() override {
    v1::AuditRecord flow;
    flow.set_event(v1::AUDIT_EVENT_TYPE_DECISION);
    flow.set_sender_agency_id("hiow-police");
    log_.AppendRecord(flow);
    log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REGISTERED, log_.Entry(k1_, true));
    log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REGISTERED, log_.Entry(e1_, true));
    log_.AppendRecord(flow);
    log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED, log_.Entry(k2_, true), &k1_, &k2_);
  }

  absl::StatusOr<VerifiedKeys> Verify(const v1::KeyHistory& h) {
    auto key = transparency::ParseVerifierKey(log_.VerifierKey());
    EXPECT_TRUE(key.ok()) << key.status();
    auto checkpoint =
        transparency::VerifyCheckpoint(h.checkpoint_note(), kOrigin, key->public_key, kOrigin);
    EXPECT_TRUE(checkpoint.ok()) << checkpoint.status();
    return VerifyKeyHistory(kFederation, kAgency, h, *checkpoint);
  }

  static void ExpectRefused(const absl::StatusOr<VerifiedKeys>& v, absl::string_view why) {
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(absl::StrContains(v.status().message(), why)) << v.status();
  }

  // Registers a new key as onboarding does (unsigned; valid anywhere in the
  // chain) and checks the history still verifies, so that the event a test
  // adds next is refused for the one thing it changes.
  void ExpectARegistrationVerifies() {
    log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REGISTERED,
               log_.Entry(NewKey(PrivateKey::Type::kEncryption), true));
    auto v = Verify(log_.Served());
    ASSERT_TRUE(v.ok()) << v.status();
  }

  History log_;
  PrivateKey k1_ = NewKey(PrivateKey::Type::kSigning);
  PrivateKey k2_ = NewKey(PrivateKey::Type::kSigning);
  PrivateKey e1_ = NewKey(PrivateKey::Type::kEncryption);
};

TEST_F(KeyLogTest, AProperHistoryReplaysToTheKeysServed) {
  auto v = Verify(log_.Served());
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->events.size(), 3u);
  ASSERT_EQ(v->keys.size(), 3u);
  EXPECT_FALSE(v->keys[0].current()) << "K1 was rotated out";
  EXPECT_TRUE(v->keys[1].current());
  EXPECT_TRUE(v->keys[2].current());
  EXPECT_TRUE(CheckServedKeys(kAgency, v->keys, v->keys).ok());
  // A key served that no event introduces, or served with other flags.
  auto extra = v->keys;
  extra.push_back(log_.Entry(NewKey(PrivateKey::Type::kEncryption), true));
  auto st = CheckServedKeys(kAgency, extra, v->keys);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(st.message(), "no key event in the log introduces it")) << st;
  auto promoted = v->keys;
  promoted[0].set_current(true);
  EXPECT_FALSE(CheckServedKeys(kAgency, promoted, v->keys).ok());
  auto hidden = v->keys;
  hidden.pop_back();
  EXPECT_FALSE(CheckServedKeys(kAgency, hidden, v->keys).ok());
}

TEST_F(KeyLogTest, APublishNotSignedByTheCurrentSigningKeyIsRefused) {
  PrivateKey thief = NewKey(PrivateKey::Type::kSigning);
  PrivateKey forged = NewKey(PrivateKey::Type::kEncryption);
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED, log_.Entry(forged, true), &thief);
  ExpectRefused(Verify(log_.Served()), "was not the agency's current signing key");
}

TEST_F(KeyLogTest, ARetiredSigningKeyCannotPublish) {
  PrivateKey e2 = NewKey(PrivateKey::Type::kEncryption);
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED, log_.Entry(e2, true), &k1_);  // K2 is current
  ExpectRefused(Verify(log_.Served()), "was not the agency's current signing key");
}

TEST_F(KeyLogTest, AnUnsignedPublishIsRefused) {
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED,
             log_.Entry(NewKey(PrivateKey::Type::kEncryption), true));
  ExpectRefused(Verify(log_.Served()), "key statement");
}

TEST_F(KeyLogTest, AnEventNotInTheSignedTreeIsRefused) {
  auto h = log_.Served();
  (*h.mutable_events(1)->mutable_inclusion_proof(0))[0] ^= 1;
  ExpectRefused(Verify(h), "is not in the signed log");
  h = log_.Served();
  (*h.mutable_events(2)->mutable_record())[5] ^= 1;  // the gateway edits a record
  ExpectRefused(Verify(h), "is not in the signed log");
}

// Spec 2.4 step 3: each event is a key event of this agency. Each test adds
// an unsigned registration of a new key with one thing changed.
TEST_F(KeyLogTest, ARecordOfAnotherEventTypeIsRefused) {
  ExpectARegistrationVerifies();
  log_.Event(v1::AUDIT_EVENT_TYPE_DECISION,
             log_.Entry(NewKey(PrivateKey::Type::kEncryption), true));
  ExpectRefused(Verify(log_.Served()), absl::StrCat("is not a key event of ", kAgency));
}

// The record was written for another agency's caller (key_event still names
// this one).
TEST_F(KeyLogTest, AnEventSentByAnotherAgencyIsRefused) {
  ExpectARegistrationVerifies();
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REGISTERED,
             log_.Entry(NewKey(PrivateKey::Type::kEncryption), true), nullptr, nullptr, nullptr,
             nullptr, [](v1::AuditRecord& r) { r.set_sender_agency_id("hiow-police"); });
  ExpectRefused(Verify(log_.Served()), absl::StrCat("is not a key event of ", kAgency));
}

// The key event is about another agency's keys (the sender is still this one).
TEST_F(KeyLogTest, AnEventForAnotherAgencysKeyIsRefused) {
  ExpectARegistrationVerifies();
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REGISTERED,
             log_.Entry(NewKey(PrivateKey::Type::kEncryption), true), nullptr, nullptr, nullptr,
             nullptr,
             [](v1::AuditRecord& r) { r.mutable_key_event()->set_agency_id("hiow-police"); });
  ExpectRefused(Verify(log_.Served()), absl::StrCat("is not a key event of ", kAgency));
}

// The gateway's key bytes under another key's id: the id does not name these
// bytes.
TEST_F(KeyLogTest, AKeyWhoseIdIsNotItsBytesIsRefused) {
  ExpectARegistrationVerifies();
  const PrivateKey gateway = NewKey(PrivateKey::Type::kEncryption);
  v1::PublicKey forged = log_.Entry(NewKey(PrivateKey::Type::kEncryption), true);
  forged.set_public_key(gateway.RawPublicKey());
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REGISTERED, forged);
  ExpectRefused(Verify(log_.Served()), absl::StrCat("key_id must be ", gateway.KeyId()));
}

TEST_F(KeyLogTest, ADroppedEventBreaksTheChain) {
  auto h = log_.Served();
  h.mutable_events()->DeleteSubrange(1, 1);
  ExpectRefused(Verify(h), "does not follow the agency's previous key event");
}

// Spec 2.4 step 4: the agency's events are leaves 1, 2, 4 and 5; a new one
// naming 2 instead of 5 as its previous event forks the chain.
TEST_F(KeyLogTest, AnEventNamingAnOlderEventAsItsPreviousIsRefused) {
  ExpectARegistrationVerifies();
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REGISTERED,
             log_.Entry(NewKey(PrivateKey::Type::kEncryption), true), nullptr, nullptr, nullptr,
             nullptr,
             [](v1::AuditRecord& r) { r.mutable_key_event()->set_previous_event_index(2); });
  ExpectRefused(Verify(log_.Served()), "does not follow the agency's previous key event");
}

TEST_F(KeyLogTest, AnEventWhoseKeyIsNotTheOneSignedIsRefused) {
  // The agency signed one key; the event (as the gateway wrote it) carries another.
  PrivateKey signed_for = NewKey(PrivateKey::Type::kEncryption);
  PrivateKey swapped = NewKey(PrivateKey::Type::kEncryption);
  const v1::PublicKey signed_key = log_.Entry(signed_for, false);
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED, log_.Entry(swapped, true), &k2_, nullptr,
             &signed_key);
  ExpectRefused(Verify(log_.Served()), "is not the key the agency signed");
}

TEST_F(KeyLogTest, ARevocationByTheAgencyOrTheFederationFileReplays) {
  v1::PublicKey revoked = log_.Entry(e1_, false);
  revoked.set_revoked(true);
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REVOKED, revoked, &k2_);
  auto v = Verify(log_.Served());
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->keys[1].revoked());
  EXPECT_FALSE(v->keys[1].current());
  // Revoking a key the agency never had is refused.
  v1::PublicKey stranger = log_.Entry(NewKey(PrivateKey::Type::kEncryption), false);
  stranger.set_revoked(true);
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REVOKED, stranger);
  ExpectRefused(Verify(log_.Served()), "does not revoke a key of the agency");
}

// Spec 2.4 step 5: a statement is good for one federation, one agency and
// one action. Each is signed by K2, the current signing key, so only the
// named field is wrong.
TEST_F(KeyLogTest, AStatementForAnotherFederationIsRefused) {
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED,
             log_.Entry(NewKey(PrivateKey::Type::kEncryption), true), &k2_, nullptr, nullptr,
             [](v1::KeyStatement& s) { s.set_federation_id("hips-prod"); });
  ExpectRefused(Verify(log_.Served()), "for another action, agency or federation");
}

TEST_F(KeyLogTest, AStatementForAnotherAgencyIsRefused) {
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED,
             log_.Entry(NewKey(PrivateKey::Type::kEncryption), true), &k2_, nullptr, nullptr,
             [](v1::KeyStatement& s) { s.set_agency_id("hiow-police"); });
  ExpectRefused(Verify(log_.Served()), "for another action, agency or federation");
}

TEST_F(KeyLogTest, ARevocationStatementCannotPublishAKey) {
  const v1::PublicKey e2 = log_.Entry(NewKey(PrivateKey::Type::kEncryption), true);
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED, e2, &k2_, nullptr, nullptr,
             [&e2](v1::KeyStatement& s) {
               s.set_action(v1::KeyStatement::ACTION_REVOKE);
               s.clear_key();
               s.set_revoke_key_id(e2.key_id());
             });
  ExpectRefused(Verify(log_.Served()), "for another action, agency or federation");
}

// The agency's events are leaves 1, 2 and 4: a statement naming 2 was signed
// before K2's event and cannot be applied after it (a replay).
TEST_F(KeyLogTest, AStatementNotNamingTheLatestKeyEventIsRefused) {
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED,
             log_.Entry(NewKey(PrivateKey::Type::kEncryption), true), &k2_, nullptr, nullptr,
             [](v1::KeyStatement& s) { s.set_previous_event_index(2); });
  ExpectRefused(Verify(log_.Served()), "does not follow the event before it");
}

// Revocation is final: even the current signing key cannot bring a key back.
TEST_F(KeyLogTest, ARevokedKeyIsNeverPublishedAgain) {
  const v1::PublicKey e2 = log_.Entry(NewKey(PrivateKey::Type::kEncryption), true);
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED, e2, &k2_);
  v1::PublicKey revoked = e2;
  revoked.set_current(false);
  revoked.set_revoked(true);
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REVOKED, revoked, &k2_);
  auto before = Verify(log_.Served());
  ASSERT_TRUE(before.ok()) << before.status();
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED, e2, &k2_);
  ExpectRefused(Verify(log_.Served()), "publishes a revoked or altered key");
}

// Spec 2.4 step 5: the signer must be valid at the record's time (now, as
// AppendRecord stamps it). K2 properly publishes K3, which becomes the
// current signing key, but K3's validity does not cover now.
TEST_F(KeyLogTest, ASigningKeyPastItsNotAfterCannotPublish) {
  PrivateKey k3 = NewKey(PrivateKey::Type::kSigning);
  // Valid for two hours that ended a day ago.
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED,
             envelope::PublicKeyEntry(k3, absl::Now() - absl::Hours(26), absl::Hours(2)), &k2_,
             &k3);
  auto before = Verify(log_.Served());
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->keys.back().key_id(), k3.KeyId());
  ASSERT_TRUE(before->keys.back().current());
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED,
             log_.Entry(NewKey(PrivateKey::Type::kEncryption), true), &k3);
  auto v = Verify(log_.Served());
  ExpectRefused(v, "a key event's signer was not valid then");
  EXPECT_TRUE(absl::StrContains(v.status().message(), "expired at")) << v.status();
}

TEST_F(KeyLogTest, ASigningKeyBeforeItsNotBeforeCannotPublish) {
  PrivateKey k3 = NewKey(PrivateKey::Type::kSigning);
  // Valid from an hour from now.
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED,
             envelope::PublicKeyEntry(k3, absl::Now() + absl::Hours(1)), &k2_, &k3);
  auto before = Verify(log_.Served());
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->keys.back().key_id(), k3.KeyId());
  ASSERT_TRUE(before->keys.back().current());
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_PUBLISHED,
             log_.Entry(NewKey(PrivateKey::Type::kEncryption), true), &k3);
  auto v = Verify(log_.Served());
  ExpectRefused(v, "a key event's signer was not valid then");
  EXPECT_TRUE(absl::StrContains(v.status().message(), "is not valid until")) << v.status();
}

// A registration is the federation file's and unsigned; one carrying a
// statement is not what it claims. Here a proper publication signed by K2,
// logged as a registration.
TEST_F(KeyLogTest, ASignedRegistrationIsRefused) {
  ExpectARegistrationVerifies();
  const v1::PublicKey e2 = log_.Entry(NewKey(PrivateKey::Type::kEncryption), true);
  // For types other than PUBLISHED the helper signs a revocation: make it a publish.
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REGISTERED, e2, &k2_, nullptr, nullptr,
             [&e2](v1::KeyStatement& s) {
               s.set_action(v1::KeyStatement::ACTION_PUBLISH);
               s.clear_revoke_key_id();
               *s.mutable_key() = e2;
               s.mutable_key()->clear_current();
             });
  ExpectRefused(Verify(log_.Served()), "is signed or registers a known key");
}

// Registering K1 again would make the retired signing key current without
// any statement.
TEST_F(KeyLogTest, RegisteringAKnownKeyAgainIsRefused) {
  ExpectARegistrationVerifies();
  log_.Event(v1::AUDIT_EVENT_TYPE_KEY_REGISTERED, log_.Entry(k1_, true));
  ExpectRefused(Verify(log_.Served()), "is signed or registers a known key");
}

// KeyLog keeps what it verified: a later answer must extend it.
TEST_F(KeyLogTest, AnOlderOrForkedLogIsRefusedAfterANewerOneWasSeen) {
  testing::TempDir dir;
  ASSERT_TRUE(
      WriteFileAtomically(dir.path() + "/" + kAuditLogKeyFile, log_.VerifierKey(), 0644).ok());
  auto key_log = KeyLog::Open(dir.path(), kFederation);
  ASSERT_TRUE(key_log.ok()) << key_log.status();
  v1::GetAgencyResponse answer;
  *answer.mutable_key_history() = log_.Served();
  auto replayed = Verify(answer.key_history());
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  for (const auto& k : replayed->keys) *answer.mutable_agency()->add_keys() = k;
  auto first = key_log->Verify(kAgency, answer);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(absl::StrContains(*ReadFile(dir.path() + "/" + kKeyLogMemoryFile), "iow-mash"));
  const uint64_t seen = key_log->known_tree_size();
  EXPECT_EQ(seen, 5u);

  // Remembered across runs.
  auto reopened = KeyLog::Open(dir.path(), kFederation);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->known_tree_size(), seen);

  // An older log (a rolled-back database) is refused.
  v1::GetAgencyResponse older = answer;
  *older.mutable_key_history() = log_.Served(4);
  auto rolled_back = reopened->Verify(kAgency, older);
  EXPECT_EQ(rolled_back.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(rolled_back.status().message(), "older than"))
      << rolled_back.status();

  // A grown log needs a consistency proof from what was seen.
  v1::AuditRecord flow;
  flow.set_event(v1::AUDIT_EVENT_TYPE_DECISION);
  log_.AppendRecord(flow);
  v1::GetAgencyResponse grown = answer;
  *grown.mutable_key_history() = log_.Served(0, /*known=*/0);
  EXPECT_FALSE(reopened->Verify(kAgency, grown).ok()) << "no consistency proof";
  *grown.mutable_key_history() = log_.Served(0, seen);
  EXPECT_TRUE(reopened->Verify(kAgency, grown).ok());

  // A key event seen before may not vanish from the agency's history.
  v1::GetAgencyResponse dropped = grown;
  dropped.mutable_key_history()->mutable_events()->DeleteSubrange(2, 1);
  dropped.mutable_agency()->mutable_keys()->DeleteSubrange(2, 1);
  auto gone = reopened->Verify(kAgency, dropped);
  EXPECT_FALSE(gone.ok());

  // A checkpoint not signed by the federation's audit key is refused.
  v1::GetAgencyResponse unsigned_log = grown;
  unsigned_log.mutable_key_history()->set_checkpoint_note(*transparency::SignCheckpoint(
      log_.Checkpoint(), kOrigin, NewKey(PrivateKey::Type::kSigning).get()));
  auto forged = reopened->Verify(kAgency, unsigned_log);
  EXPECT_TRUE(absl::StrContains(forged.status().message(), "checkpoint does not verify"))
      << forged.status();
}

TEST_F(KeyLogTest, AnIdentityWithoutTheLogKeyCannotVerifyAnything) {
  testing::TempDir dir;
  auto key_log = KeyLog::Open(dir.path(), kFederation);
  EXPECT_EQ(key_log.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(key_log.status().message(), "audit-log.pub"));
}

}  // namespace
}  // namespace safeshare::agents
