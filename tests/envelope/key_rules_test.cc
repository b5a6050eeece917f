// Spec section 2 key rules, at the shared functions gateway and agents call
// (envelope/key_statement.h): a key entry's validity bounds and material, the
// half-open validity interval, and a key statement's size, proof of
// possession, directory-set flags and domain-separated signature.

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "envelope/key_statement.h"
#include "envelope/keys.h"
#include "envelope/sealing.h"

namespace safeshare::envelope {
namespace {

constexpr int64_t kFrom = 1764000000;  // not_before of every key here

void ExpectStatus(const absl::Status& st, absl::StatusCode code, absl::string_view fragment) {
  EXPECT_EQ(st.code(), code) << st;
  EXPECT_TRUE(absl::StrContains(st.message(), fragment)) << st;
}

// Exact to the nanosecond (common/time.h's ToTimestamp keeps microseconds).
google::protobuf::Timestamp At(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t s = absl::ToUnixSeconds(t);
  ts.set_seconds(s);
  ts.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(s))));
  return ts;
}

// `key`'s entry, valid from kFrom for `validity`.
v1::PublicKey Entry(const PrivateKey& key, absl::Duration validity = kDefaultKeyValidity) {
  v1::PublicKey k = PublicKeyEntry(key, absl::FromUnixSeconds(kFrom));
  *k.mutable_not_after() = At(absl::FromUnixSeconds(kFrom) + validity);
  return k;
}

PrivateKey NewKey(PrivateKey::Type type) { return *PrivateKey::Generate(type); }

// ---- ValidateKeyEntry (spec 2.2) --------------------------------------------

TEST(KeyEntryTest, BothValidityBoundsAreRequired) {
  const v1::PublicKey k = Entry(NewKey(PrivateKey::Type::kSigning));
  EXPECT_TRUE(ValidateKeyEntry(k, "statement.key").ok());
  v1::PublicKey no_from = k;
  no_from.clear_not_before();
  ExpectStatus(ValidateKeyEntry(no_from, "statement.key"), absl::StatusCode::kInvalidArgument,
               "statement.key: not_before and not_after are required");
  v1::PublicKey no_until = k;
  no_until.clear_not_after();
  ExpectStatus(ValidateKeyEntry(no_until, "statement.key"), absl::StatusCode::kInvalidArgument,
               "statement.key: not_before and not_after are required");
}

TEST(KeyEntryTest, NotAfterMustBeAfterNotBefore) {
  const PrivateKey key = NewKey(PrivateKey::Type::kEncryption);
  ExpectStatus(ValidateKeyEntry(Entry(key, absl::ZeroDuration()), "k"),
               absl::StatusCode::kInvalidArgument, "k: not_after must be after not_before");
  ExpectStatus(ValidateKeyEntry(Entry(key, -absl::Seconds(1)), "k"),
               absl::StatusCode::kInvalidArgument, "not_after must be after not_before");
  // The shortest positive validity is still one.
  EXPECT_TRUE(ValidateKeyEntry(Entry(key, absl::Nanoseconds(1)), "k").ok());
}

TEST(KeyEntryTest, ValidityIsAtMostThreeTimes366Days) {
  EXPECT_EQ(kMaxKeyValidity, absl::Seconds(int64_t{3} * 366 * 86400));  // the spec's number
  const PrivateKey key = NewKey(PrivateKey::Type::kSigning);
  EXPECT_TRUE(ValidateKeyEntry(Entry(key, kMaxKeyValidity), "k").ok()) << "exactly the maximum";
  ExpectStatus(ValidateKeyEntry(Entry(key, kMaxKeyValidity + absl::Nanoseconds(1)), "k"),
               absl::StatusCode::kInvalidArgument, "k: a key may be valid for at most");
  ExpectStatus(ValidateKeyEntry(Entry(key, kMaxKeyValidity + absl::Hours(24)), "k"),
               absl::StatusCode::kInvalidArgument, "rotate keys instead");
  // What `keys rotate` and `pki init` make is within it.
  EXPECT_TRUE(ValidateKeyEntry(PublicKeyEntry(key, absl::FromUnixSeconds(kFrom)), "k").ok());
}

TEST(KeyEntryTest, TheKeyIs32RawBytesUnderTheIdDerivedFromThem) {
  const PrivateKey key = NewKey(PrivateKey::Type::kEncryption);
  const v1::PublicKey k = Entry(key);
  v1::PublicKey no_purpose = k;
  no_purpose.clear_purpose();
  ExpectStatus(ValidateKeyEntry(no_purpose, "k"), absl::StatusCode::kInvalidArgument,
               "k: purpose must be SIGNING or ENCRYPTION");
  for (size_t n : {0, 31, 33, 64}) {
    v1::PublicKey sized = k;
    sized.set_public_key(std::string(n, '\x07'));
    ExpectStatus(ValidateKeyEntry(sized, "k"), absl::StatusCode::kInvalidArgument,
                 "k: public_key must be a raw 32-byte key");
  }
  // An id chosen rather than derived: another key's, upper case, or none.
  const std::string want = absl::StrCat("key_id must be ", key.KeyId());
  for (const std::string& id : {NewKey(PrivateKey::Type::kEncryption).KeyId(),
                                absl::AsciiStrToUpper(key.KeyId()), std::string()}) {
    v1::PublicKey named = k;
    named.set_key_id(id);
    ExpectStatus(ValidateKeyEntry(named, "k"), absl::StatusCode::kInvalidArgument, want);
  }
  // Another key's bytes under this id.
  v1::PublicKey swapped = k;
  swapped.set_public_key(NewKey(PrivateKey::Type::kEncryption).RawPublicKey());
  ExpectStatus(ValidateKeyEntry(swapped, "k"), absl::StatusCode::kInvalidArgument,
               "key_id must be ");
}

// ---- CheckKeyValidAt (spec 2.2): usable when not_before <= t < not_after ---

TEST(KeyValidityTest, TheIntervalIsHalfOpen) {
  const v1::PublicKey k = Entry(NewKey(PrivateKey::Type::kSigning), absl::Hours(24));
  const absl::Time from = absl::FromUnixSeconds(kFrom), until = from + absl::Hours(24);
  auto early = CheckKeyValidAt(k, from - absl::Nanoseconds(1));
  ExpectStatus(early, absl::StatusCode::kFailedPrecondition, "is not valid until");
  EXPECT_TRUE(absl::StrContains(early.message(), k.key_id())) << early;
  EXPECT_TRUE(CheckKeyValidAt(k, from).ok());
  EXPECT_TRUE(CheckKeyValidAt(k, until - absl::Nanoseconds(1)).ok());
  auto at_end = CheckKeyValidAt(k, until);
  ExpectStatus(at_end, absl::StatusCode::kFailedPrecondition, "expired at");
  EXPECT_TRUE(absl::StrContains(at_end.message(), k.key_id())) << at_end;
  ExpectStatus(CheckKeyValidAt(k, until + absl::Hours(24 * 365)),
               absl::StatusCode::kFailedPrecondition, "expired at");
}

// A federation file written before validity was required has no not_after.
TEST(KeyValidityTest, AKeyWithoutNotAfterNeverExpires) {
  v1::PublicKey k = Entry(NewKey(PrivateKey::Type::kEncryption));
  k.clear_not_after();
  const absl::Time from = absl::FromUnixSeconds(kFrom);
  EXPECT_TRUE(CheckKeyValidAt(k, from + absl::Hours(24 * 366 * 100)).ok());
  // Its not_before still holds.
  ExpectStatus(CheckKeyValidAt(k, from - absl::Seconds(1)), absl::StatusCode::kFailedPrecondition,
               "is not valid until");
}

// ---- Key statements (spec 2.4) ---------------------------------------------

class KeyStatementTest : public ::testing::Test {
 protected:
  static v1::KeyStatement Publish(const PrivateKey& key) {
    v1::KeyStatement s;
    s.set_federation_id("hips-dev");
    s.set_agency_id("iow-mash");
    s.set_action(v1::KeyStatement::ACTION_PUBLISH);
    *s.mutable_key() = Entry(key);
    s.mutable_key()->clear_current();
    s.set_previous_event_index(4);
    *s.mutable_signed_time() = At(absl::FromUnixSeconds(kFrom));
    return s;
  }

  v1::SignedKeyStatement Sign(const v1::KeyStatement& s, const PrivateKey* new_key = nullptr) {
    auto signed_statement = SignKeyStatement(s, signer_, new_key);
    EXPECT_TRUE(signed_statement.ok()) << signed_statement.status();
    return signed_statement.ok() ? *signed_statement : v1::SignedKeyStatement();
  }

  // Parsed, then verified under the signer, as gateway and agent do.
  absl::Status Check(const v1::SignedKeyStatement& signed_statement) {
    auto parsed = ParseKeyStatement(signed_statement);
    if (!parsed.ok()) return parsed.status();
    return VerifyKeyStatement(signed_statement, *parsed, signer_.RawPublicKey());
  }

  PrivateKey signer_ = NewKey(PrivateKey::Type::kSigning);
};

TEST_F(KeyStatementTest, PublishAndRevokeStatementsSignParseAndVerify) {
  const v1::KeyStatement s = Publish(NewKey(PrivateKey::Type::kEncryption));
  const v1::SignedKeyStatement signed_statement = Sign(s);
  EXPECT_EQ(signed_statement.statement(), s.SerializeAsString());
  EXPECT_EQ(signed_statement.signing_key_id(), signer_.KeyId());
  EXPECT_EQ(signed_statement.signature().size(), 64u);
  EXPECT_TRUE(signed_statement.new_key_signature().empty()) << "an encryption key signs nothing";
  auto parsed = ParseKeyStatement(signed_statement);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->SerializeAsString(), s.SerializeAsString());
  EXPECT_TRUE(VerifyKeyStatement(signed_statement, *parsed, signer_.RawPublicKey()).ok());

  // Under another key, or with the bytes altered after signing: UNAUTHENTICATED.
  ExpectStatus(VerifyKeyStatement(signed_statement, *parsed,
                                  NewKey(PrivateKey::Type::kSigning).RawPublicKey()),
               absl::StatusCode::kUnauthenticated, "does not verify under signing key");
  v1::KeyStatement moved = s;
  moved.set_previous_event_index(5);
  v1::SignedKeyStatement altered = signed_statement;
  altered.set_statement(moved.SerializeAsString());
  ExpectStatus(Check(altered), absl::StatusCode::kUnauthenticated,
               "does not verify under signing key");

  v1::KeyStatement revoke = s;
  revoke.set_action(v1::KeyStatement::ACTION_REVOKE);
  revoke.clear_key();
  revoke.set_revoke_key_id(s.key().key_id());
  EXPECT_TRUE(Check(Sign(revoke)).ok());

  // Only an Ed25519 key signs a statement.
  EXPECT_EQ(SignKeyStatement(s, NewKey(PrivateKey::Type::kEncryption)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// `bytes` grown to exactly `size` by an unknown length-delimited field (number
// 100), which parsing keeps: only the size changes.
std::string PadTo(std::string bytes, size_t size) {
  const size_t n = size - bytes.size() - 4;  // a 2-byte tag and a 2-byte length
  EXPECT_TRUE(n >= 128 && n < 16384) << n;
  bytes += "\xa2\x06";
  bytes += static_cast<char>(0x80 | (n & 0x7f));
  bytes += static_cast<char>(n >> 7);
  bytes.append(n, 'x');
  EXPECT_EQ(bytes.size(), size);
  return bytes;
}

TEST_F(KeyStatementTest, TheStatementIsOneTo4096Bytes) {
  const v1::SignedKeyStatement good = Sign(Publish(NewKey(PrivateKey::Type::kEncryption)));
  v1::SignedKeyStatement sized = good;
  sized.set_statement(PadTo(good.statement(), 4096));
  EXPECT_TRUE(ParseKeyStatement(sized).ok()) << "4096 bytes is the limit, not over it";
  sized.set_statement(PadTo(good.statement(), 4097));
  ExpectStatus(ParseKeyStatement(sized).status(), absl::StatusCode::kInvalidArgument,
               "statement must be 1-4096 bytes");
  sized.clear_statement();
  ExpectStatus(ParseKeyStatement(sized).status(), absl::StatusCode::kInvalidArgument,
               "statement must be 1-4096 bytes");
}

// Proof of possession: whoever publishes a signing key must hold it.
TEST_F(KeyStatementTest, ANewSigningKeyMustSignItsOwnPublication) {
  const PrivateKey next = NewKey(PrivateKey::Type::kSigning);
  const v1::KeyStatement s = Publish(next);
  EXPECT_TRUE(Check(Sign(s, &next)).ok());

  ExpectStatus(ParseKeyStatement(Sign(s)).status(), absl::StatusCode::kInvalidArgument,
               "new_key_signature");
  // Signed by a key other than the one published.
  ExpectStatus(Check(Sign(s, &signer_)), absl::StatusCode::kUnauthenticated,
               "did not sign the statement");
  const PrivateKey other = NewKey(PrivateKey::Type::kSigning);
  ExpectStatus(Check(Sign(s, &other)), absl::StatusCode::kUnauthenticated,
               "did not sign the statement");
  // The right length, the wrong bytes.
  v1::SignedKeyStatement zeros = Sign(s, &next);
  zeros.set_new_key_signature(std::string(64, '\0'));
  ExpectStatus(Check(zeros), absl::StatusCode::kUnauthenticated, "did not sign the statement");
}

// current and revoked follow from the log's events, never from the agency.
TEST_F(KeyStatementTest, APublishedKeyCarriesNoDirectoryFlagsAndHasItsValidity) {
  v1::KeyStatement s = Publish(NewKey(PrivateKey::Type::kEncryption));
  s.mutable_key()->set_current(true);
  ExpectStatus(Check(Sign(s)), absl::StatusCode::kInvalidArgument,
               "key.current and key.revoked are set by the directory");
  s.mutable_key()->set_current(false);
  s.mutable_key()->set_revoked(true);
  ExpectStatus(Check(Sign(s)), absl::StatusCode::kInvalidArgument,
               "key.current and key.revoked are set by the directory");
  // The published key is checked as a key entry.
  v1::KeyStatement too_long = Publish(NewKey(PrivateKey::Type::kEncryption));
  *too_long.mutable_key()->mutable_not_after() =
      At(absl::FromUnixSeconds(kFrom) + kMaxKeyValidity + absl::Seconds(1));
  ExpectStatus(Check(Sign(too_long)), absl::StatusCode::kInvalidArgument,
               "key statement: key: a key may be valid for at most");
  v1::KeyStatement open_ended = Publish(NewKey(PrivateKey::Type::kEncryption));
  open_ended.mutable_key()->clear_not_after();
  ExpectStatus(Check(Sign(open_ended)), absl::StatusCode::kInvalidArgument,
               "key statement: key: not_before and not_after are required");
}

// The signature covers "safeshare/key-statement/v1\n" || statement, so an
// Ed25519 signature over the bare bytes (an envelope's) is not a statement's,
// nor the other way round.
TEST_F(KeyStatementTest, TheSignatureIsDomainSeparatedFromAnEnvelopes) {
  EXPECT_EQ(kKeyStatementContext, "safeshare/key-statement/v1\n");
  v1::KeyStatement s;
  s.set_federation_id("hips-dev");
  v1::Envelope e;
  e.set_message_id("hips-dev");
  // Field 1 is a string in both, so both are the same bytes.
  ASSERT_EQ(s.SerializeAsString(), e.SerializeAsString());

  auto as_envelope = SignEnvelope(e, signer_);  // Ed25519 over exactly those bytes
  ASSERT_TRUE(as_envelope.ok()) << as_envelope.status();
  ASSERT_TRUE(VerifySignature(*as_envelope, signer_.RawPublicKey()).ok());
  v1::SignedKeyStatement bare;
  bare.set_statement(as_envelope->envelope_bytes());
  bare.set_signature(as_envelope->signature());
  bare.set_signing_key_id(signer_.KeyId());
  ExpectStatus(VerifyKeyStatement(bare, s, signer_.RawPublicKey()),
               absl::StatusCode::kUnauthenticated, "does not verify under signing key");

  const v1::SignedKeyStatement as_statement = Sign(s);
  ASSERT_EQ(as_statement.statement(), as_envelope->envelope_bytes());
  EXPECT_TRUE(VerifyKeyStatement(as_statement, s, signer_.RawPublicKey()).ok());
  // Ed25519 is deterministic: only the prefix makes these differ.
  EXPECT_NE(as_statement.signature(), as_envelope->signature());
  v1::SignedEnvelope forged = *as_envelope;
  forged.set_signature(as_statement.signature());
  EXPECT_EQ(VerifySignature(forged, signer_.RawPublicKey()).code(),
            absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace safeshare::envelope
