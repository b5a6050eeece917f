#include "envelope/sealing.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "envelope/content.h"
#include "envelope/digest.h"
#include "envelope/envelope_shape.h"
#include "envelope/keys.h"
#include "gtest/gtest.h"

namespace safeshare::envelope {
namespace {

class SealingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    header_.set_message_id("m-1");
    header_.set_kind(v1::MESSAGE_KIND_REFERRAL);
    header_.set_sender_agency_id("hiow-police");
    header_.set_recipient_agency_id("portsmouth-mash");
    header_.mutable_sender_practitioner()->set_id("pc-1");
    header_.mutable_sender_practitioner()->set_role(v1::PRACTITIONER_ROLE_POLICE_OFFICER);
    header_.mutable_created_time()->set_seconds(1764000000);
    header_.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
  }

  RecipientKey To() const { return {recipient_.KeyId(), recipient_.RawPublicKey()}; }

  v1::SignedEnvelope Seal(const std::string& plaintext) {
    auto s = SealAndSign(header_, plaintext, To(), signing_);
    EXPECT_TRUE(s.ok()) << s.status();
    return *s;
  }

  static v1::Envelope Parse(const v1::SignedEnvelope& s) {
    v1::Envelope e;
    EXPECT_TRUE(e.ParseFromString(s.envelope_bytes()));
    return e;
  }

  PrivateKey signing_ = *PrivateKey::Generate(PrivateKey::Type::kSigning);
  PrivateKey recipient_ = *PrivateKey::Generate(PrivateKey::Type::kEncryption);
  v1::Envelope header_;
};

TEST_F(SealingTest, RoundTrip) {
  const std::string plaintext(16 * 1024, 'c');
  v1::SignedEnvelope s = Seal(plaintext);
  EXPECT_EQ(s.signing_key_id(), signing_.KeyId());
  EXPECT_TRUE(VerifySignature(s, signing_.RawPublicKey()).ok());
  v1::Envelope e = Parse(s);
  EXPECT_TRUE(ValidateSealedShape(s, e).ok());
  EXPECT_TRUE(ValidateEnvelopeShape(e).ok());
  EXPECT_EQ(e.payload().recipient_key_id(), recipient_.KeyId());
  EXPECT_EQ(e.payload().ciphertext().size(), plaintext.size() + kTagBytes);
  EXPECT_EQ(e.payload().ciphertext().find("cccccccc"), std::string::npos);
  auto opened = DecryptPayload(e, recipient_);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, plaintext);
}

TEST_F(SealingTest, EachSealIsFresh) {
  v1::Envelope a = Parse(Seal("same")), b = Parse(Seal("same"));
  EXPECT_NE(a.payload().ephemeral_public_key(), b.payload().ephemeral_public_key());
  EXPECT_NE(a.payload().ciphertext(), b.payload().ciphertext());
}

TEST_F(SealingTest, FlippedBitsAnywhereAreDetected) {
  v1::SignedEnvelope s = Seal("referral");
  for (size_t i = 0; i < s.envelope_bytes().size(); ++i) {
    v1::SignedEnvelope t = s;
    (*t.mutable_envelope_bytes())[i] ^= 0x04;
    EXPECT_EQ(VerifySignature(t, signing_.RawPublicKey()).code(),
              absl::StatusCode::kUnauthenticated)
        << "byte " << i;
  }
  v1::SignedEnvelope t = s;
  (*t.mutable_signature())[63] ^= 0x01;
  EXPECT_EQ(VerifySignature(t, signing_.RawPublicKey()).code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(SealingTest, ADecodedKeyVerifiesAsTheRawBytesDo) {
  auto decoded = SigningPublicKey::FromRaw(signing_.RawPublicKey());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  v1::SignedEnvelope s = Seal("referral");
  EXPECT_TRUE(VerifySignature(s, *decoded).ok());
  EXPECT_TRUE(VerifySignature(s, *decoded).ok()) << "the key is reused, not consumed";
  v1::SignedEnvelope t = s;
  (*t.mutable_envelope_bytes())[3] ^= 0x01;
  EXPECT_EQ(VerifySignature(t, *decoded).code(), absl::StatusCode::kUnauthenticated);
  PrivateKey other = *PrivateKey::Generate(PrivateKey::Type::kSigning);
  EXPECT_EQ(VerifySignature(s, *SigningPublicKey::FromRaw(other.RawPublicKey())).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(SigningPublicKey::FromRaw("short").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifySignature(s, std::string(31, 'k')).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SealingTest, DecryptionDetectsAlteredCiphertextAndHeader) {
  v1::Envelope e = Parse(Seal("referral"));
  v1::Envelope ct = e;
  (*ct.mutable_payload()->mutable_ciphertext())[0] ^= 0x01;
  EXPECT_EQ(DecryptPayload(ct, recipient_).status().code(), absl::StatusCode::kInvalidArgument);
  v1::Envelope tag = e;
  tag.mutable_payload()->mutable_ciphertext()->back() ^= 0x01;
  EXPECT_EQ(DecryptPayload(tag, recipient_).status().code(), absl::StatusCode::kInvalidArgument);
  // The header is associated data: changing any of it breaks decryption.
  v1::Envelope hdr = e;
  hdr.set_recipient_agency_id("iow-mash");
  EXPECT_EQ(DecryptPayload(hdr, recipient_).status().code(), absl::StatusCode::kInvalidArgument);
  v1::Envelope decl = e;
  decl.mutable_declaration()->add_data_categories(v1::DATA_CATEGORY_HEALTH);
  EXPECT_EQ(DecryptPayload(decl, recipient_).status().code(), absl::StatusCode::kInvalidArgument);
  v1::Envelope nonce = e;
  (*nonce.mutable_payload()->mutable_nonce())[0] ^= 0x01;
  EXPECT_EQ(DecryptPayload(nonce, recipient_).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SealingTest, CiphertextSplicedIntoAnotherEnvelopeFailsToOpen) {
  v1::Envelope donor = Parse(Seal("donor content"));
  header_.set_message_id("m-2");
  v1::Envelope host = Parse(Seal("host content"));
  *host.mutable_payload() = donor.payload();
  EXPECT_EQ(DecryptPayload(host, recipient_).status().code(), absl::StatusCode::kInvalidArgument);
  // Splicing the whole payload but keeping the donor's header opens: it is the donor.
  EXPECT_TRUE(DecryptPayload(donor, recipient_).ok());
}

TEST_F(SealingTest, WrongKeyIsNamed) {
  v1::Envelope e = Parse(Seal("referral"));
  PrivateKey other = *PrivateKey::Generate(PrivateKey::Type::kEncryption);
  auto r = DecryptPayload(e, other);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(recipient_.KeyId()), std::string::npos);
  // Claiming the other key's id does not help: the key agreement differs.
  e.mutable_payload()->set_recipient_key_id(other.KeyId());
  EXPECT_EQ(DecryptPayload(e, other).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SealingTest, SignatureByAnotherKeyFails) {
  v1::SignedEnvelope s = Seal("referral");
  PrivateKey mallory = *PrivateKey::Generate(PrivateKey::Type::kSigning);
  EXPECT_EQ(VerifySignature(s, mallory.RawPublicKey()).code(), absl::StatusCode::kUnauthenticated);
  auto resigned = SignEnvelope(Parse(s), mallory);
  ASSERT_TRUE(resigned.ok());
  EXPECT_TRUE(VerifySignature(*resigned, mallory.RawPublicKey()).ok());
  EXPECT_EQ(VerifySignature(*resigned, signing_.RawPublicKey()).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(SealingTest, TruncatedOrOversizedFieldsAreNamed) {
  v1::SignedEnvelope s = Seal("referral");
  struct Case {
    const char* field;
    void (*mutate)(v1::SignedEnvelope&, v1::Envelope&);
  };
  const Case cases[] = {
      {"signature",
       [](v1::SignedEnvelope& s, v1::Envelope&) { s.mutable_signature()->pop_back(); }},
      {"signature",
       [](v1::SignedEnvelope& s, v1::Envelope&) { s.mutable_signature()->push_back('x'); }},
      {"signing_key_id",
       [](v1::SignedEnvelope& s, v1::Envelope&) { s.set_signing_key_id("short"); }},
      {"recipient_key_id", [](v1::SignedEnvelope&,
                              v1::Envelope& e) { e.mutable_payload()->set_recipient_key_id("x"); }},
      {"ephemeral_public_key",
       [](v1::SignedEnvelope&, v1::Envelope& e) {
         e.mutable_payload()->mutable_ephemeral_public_key()->pop_back();
       }},
      {"ephemeral_public_key",
       [](v1::SignedEnvelope&, v1::Envelope& e) {
         e.mutable_payload()->mutable_ephemeral_public_key()->append("xx");
       }},
      {"nonce",
       [](v1::SignedEnvelope&, v1::Envelope& e) { e.mutable_payload()->set_nonce("123"); }},
      {"ciphertext",
       [](v1::SignedEnvelope&, v1::Envelope& e) { e.mutable_payload()->set_ciphertext("short"); }},
  };
  for (const Case& c : cases) {
    v1::SignedEnvelope t = s;
    v1::Envelope e = Parse(s);
    c.mutate(t, e);
    absl::Status st = ValidateSealedShape(t, e);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(st.message().find(c.field), std::string::npos) << st;
  }
}

TEST_F(SealingTest, LowOrderEphemeralKeyIsRefused) {
  v1::Envelope e = Parse(Seal("referral"));
  e.mutable_payload()->set_ephemeral_public_key(std::string(32, '\0'));
  // Refused at the key agreement (an all-zero shared secret), not later by
  // the tag check that any altered key would also fail.
  auto opened = DecryptPayload(e, recipient_);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(opened.status().message(), "X25519 key agreement failed");
}

TEST(KeysTest, PemRoundTripKeepsTheKeyAndItsId) {
  for (auto type : {PrivateKey::Type::kSigning, PrivateKey::Type::kEncryption}) {
    PrivateKey k = *PrivateKey::Generate(type);
    auto back = PrivateKey::FromPem(k.Pem());
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->type(), type);
    EXPECT_EQ(back->KeyId(), k.KeyId());
    EXPECT_EQ(k.KeyId().size(), 32u);
  }
  EXPECT_EQ(PrivateKey::FromPem("not pem").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ContentTest, CategoriesComeFromTheFieldsSet) {
  v1::SealedContent c;
  auto* r = c.mutable_referral()->mutable_record();
  r->mutable_child()->set_given_names("A");
  r->add_family()->set_relationship("mother");
  r->set_health("x");
  std::set<v1::DataCategory> want = {
      v1::DATA_CATEGORY_IDENTITY, v1::DATA_CATEGORY_FAMILY_COMPOSITION, v1::DATA_CATEGORY_HEALTH};
  EXPECT_EQ(CategoriesIn(c), want);
}

TEST(ContentTest, UndeclaredCategoriesAndWrongKindsAreRefused) {
  v1::SealedContent c;
  c.mutable_referral()->mutable_record()->set_concern_details("x");
  c.mutable_referral()->mutable_record()->set_criminal_offence("y");
  v1::SharingDeclaration d;
  d.add_data_categories(v1::DATA_CATEGORY_CONCERN_DETAILS);
  absl::Status st = CheckContentAgainstDeclaration(c, v1::MESSAGE_KIND_REFERRAL, d);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("DATA_CATEGORY_CRIMINAL_OFFENCE"), std::string::npos);
  d.add_data_categories(v1::DATA_CATEGORY_CRIMINAL_OFFENCE);
  EXPECT_TRUE(CheckContentAgainstDeclaration(c, v1::MESSAGE_KIND_REFERRAL, d).ok());
  EXPECT_FALSE(CheckContentAgainstDeclaration(c, v1::MESSAGE_KIND_OUTCOME, d).ok());
}

TEST(ContentTest, ParseRefusesGarbageAndUnknownFields) {
  EXPECT_FALSE(ParseContent("\xff\xff\xff").ok());
  v1::SealedContent c;
  c.mutable_referral()->mutable_record()->set_concern_details("x");
  std::string bytes = c.SerializeAsString();
  EXPECT_TRUE(ParseContent(bytes).ok());
  bytes.append("\xf8\x07\x01", 3);  // field 127, outside the schema
  EXPECT_EQ(ParseContent(bytes).status().code(), absl::StatusCode::kInvalidArgument);
}

// Spec 2.1: the key id is derived, never chosen.
TEST(KeysTest, TheKeyIdIsTheHexOfTheFirst16BytesOfSha256) {
  const std::string zeros(32, '\0');
  const std::string id = KeyIdOf(zeros);
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  EXPECT_EQ(id, ToHex(Sha256(zeros).substr(0, 16)));
  // SHA-256 of 32 zero bytes is 66687aad...0d5f2925 (coreutils sha256sum).
  EXPECT_EQ(id, "66687aadf862bd776c8fc18b8e9f8e20");
  for (auto type : {PrivateKey::Type::kSigning, PrivateKey::Type::kEncryption}) {
    PrivateKey k = *PrivateKey::Generate(type);
    EXPECT_EQ(k.KeyId(), ToHex(Sha256(k.RawPublicKey()).substr(0, 16)));
    // The directory entry carries the same id for the same bytes.
    v1::PublicKey entry = PublicKeyEntry(k, absl::FromUnixSeconds(1764000000));
    EXPECT_EQ(entry.key_id(), k.KeyId());
    EXPECT_EQ(entry.public_key(), k.RawPublicKey());
  }
}

// Known answers: RFC 8032 section 7.1 test 1 (Ed25519) and RFC 7748 section
// 6.1 Alice (X25519); the public keys and ids were checked with the openssl
// and sha256sum tools, so a wrong reading of the raw bytes shows here.
TEST(KeysTest, FromRawReadsTheRfcPrivateKeys) {
  auto ed = PrivateKey::FromRaw(
      PrivateKey::Type::kSigning,
      absl::HexStringToBytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  ASSERT_TRUE(ed.ok()) << ed.status();
  EXPECT_EQ(ed->type(), PrivateKey::Type::kSigning);
  EXPECT_EQ(ToHex(ed->RawPublicKey()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(ed->KeyId(), "21fe31dfa154a261626bf854046fd227");
  auto x = PrivateKey::FromRaw(
      PrivateKey::Type::kEncryption,
      absl::HexStringToBytes("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(x->type(), PrivateKey::Type::kEncryption);
  EXPECT_EQ(ToHex(x->RawPublicKey()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(x->KeyId(), "300c9c9603b92a4b39ed3958bf924011");
}

TEST(KeysTest, ARawPrivateKeyIsExactly32BytesAndAlwaysTheSameKey) {
  const std::string raw(32, '\x07');
  for (auto type : {PrivateKey::Type::kSigning, PrivateKey::Type::kEncryption}) {
    auto a = PrivateKey::FromRaw(type, raw);
    auto b = PrivateKey::FromRaw(type, raw);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->type(), type);
    EXPECT_EQ(a->RawPublicKey().size(), 32u);
    EXPECT_EQ(a->KeyId(), b->KeyId());
    EXPECT_NE(a->KeyId(), PrivateKey::FromRaw(type, std::string(32, '\x08'))->KeyId());
    // It writes and reads back as any key file does.
    auto back = PrivateKey::FromPem(a->Pem());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->KeyId(), a->KeyId());
    for (size_t n : {0, 31, 33, 64}) {
      EXPECT_EQ(PrivateKey::FromRaw(type, std::string(n, '\x07')).status().code(),
                absl::StatusCode::kInvalidArgument)
          << n << " bytes";
    }
  }
  // The same 32 bytes make different Ed25519 and X25519 keys.
  EXPECT_NE(PrivateKey::FromRaw(PrivateKey::Type::kSigning, raw)->RawPublicKey(),
            PrivateKey::FromRaw(PrivateKey::Type::kEncryption, raw)->RawPublicKey());
}

TEST_F(SealingTest, ARawSigningKeySignsAndAnotherTypeIsRefused) {
  auto signer = PrivateKey::FromRaw(PrivateKey::Type::kSigning, std::string(32, '\x07'));
  ASSERT_TRUE(signer.ok()) << signer.status();
  auto s = SignEnvelope(header_, *signer);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->signing_key_id(), signer->KeyId());
  EXPECT_TRUE(VerifySignature(*s, signer->RawPublicKey()).ok());
  // Ed25519 is deterministic: the same seed signs the same bytes alike.
  auto again = SignEnvelope(
      header_, *PrivateKey::FromRaw(PrivateKey::Type::kSigning, std::string(32, '\x07')));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->signature(), s->signature());
  auto x = PrivateKey::FromRaw(PrivateKey::Type::kEncryption, std::string(32, '\x07'));
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(SignEnvelope(header_, *x).status().code(), absl::StatusCode::kInvalidArgument);
}

// Spec 3.3: one byte off either way is refused, naming the field.
TEST_F(SealingTest, EachSealedSizeIsExactAndOneOffIsRefusedWithItsReason) {
  const v1::SignedEnvelope s = Seal("referral");
  ASSERT_TRUE(ValidateSealedShape(s, Parse(s)).ok());
  struct Case {
    const char* field;
    void (*mutate)(v1::SignedEnvelope&, v1::Envelope&);
  };
  const Case cases[] = {
      {"signed_envelope.signature",
       [](v1::SignedEnvelope& s, v1::Envelope&) { s.set_signature(std::string(63, 's')); }},
      {"signed_envelope.signature",
       [](v1::SignedEnvelope& s, v1::Envelope&) { s.set_signature(std::string(65, 's')); }},
      {"signed_envelope.signing_key_id",
       [](v1::SignedEnvelope& s, v1::Envelope&) { s.set_signing_key_id(std::string(31, 'a')); }},
      {"signed_envelope.signing_key_id",
       [](v1::SignedEnvelope& s, v1::Envelope&) { s.set_signing_key_id(std::string(33, 'a')); }},
      {"envelope.payload.recipient_key_id",
       [](v1::SignedEnvelope&, v1::Envelope& e) {
         e.mutable_payload()->set_recipient_key_id(std::string(33, 'a'));
       }},
      {"envelope.payload.recipient_key_id",
       [](v1::SignedEnvelope&, v1::Envelope& e) {
         e.mutable_payload()->set_recipient_key_id(std::string(31, 'a'));
       }},
      {"envelope.payload.ephemeral_public_key",
       [](v1::SignedEnvelope&, v1::Envelope& e) {
         e.mutable_payload()->set_ephemeral_public_key(std::string(31, 'k'));
       }},
      {"envelope.payload.nonce",
       [](v1::SignedEnvelope&, v1::Envelope& e) {
         e.mutable_payload()->set_nonce(std::string(13, 'n'));
       }},
      {"envelope.payload.nonce",
       [](v1::SignedEnvelope&, v1::Envelope& e) {
         e.mutable_payload()->set_nonce(std::string(11, 'n'));
       }},
      {"envelope.payload.ciphertext",
       [](v1::SignedEnvelope&, v1::Envelope& e) {
         e.mutable_payload()->set_ciphertext(std::string(15, 'c'));
       }},
  };
  for (const Case& c : cases) {
    v1::SignedEnvelope t = s;
    v1::Envelope e = Parse(s);
    c.mutate(t, e);
    absl::Status st = ValidateSealedShape(t, e);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_TRUE(absl::StartsWith(st.message(), absl::StrCat(c.field, ": "))) << st;
    auto info = ReasonOf(st);
    ASSERT_TRUE(info.has_value()) << c.field;
    EXPECT_EQ(info->reason(), "ENVELOPE_MALFORMED") << c.field;
    ASSERT_EQ(info->metadata().count("field"), 1u) << c.field;
    EXPECT_EQ(info->metadata().at("field"), c.field);
  }
  // The shortest ciphertext is the bare tag (an empty plaintext).
  v1::Envelope tag_only = Parse(s);
  tag_only.mutable_payload()->set_ciphertext(std::string(kTagBytes, 'c'));
  EXPECT_TRUE(ValidateSealedShape(s, tag_only).ok());
}

// Spec R10/R11: the key must be X25519, then the one the payload names.
TEST_F(SealingTest, DecryptionNeedsTheX25519KeyThePayloadNames) {
  v1::Envelope e = Parse(Seal("referral"));
  auto ed = DecryptPayload(e, signing_);
  EXPECT_EQ(ed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ed.status().message(), "the decryption key must be X25519");
  // Even when the payload names the Ed25519 key's id, the type check refuses
  // first (else the key agreement would, with another message).
  v1::Envelope named = e;
  named.mutable_payload()->set_recipient_key_id(signing_.KeyId());
  EXPECT_EQ(DecryptPayload(named, signing_).status().message(),
            "the decryption key must be X25519");

  PrivateKey other = *PrivateKey::Generate(PrivateKey::Type::kEncryption);
  auto wrong = DecryptPayload(e, other);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(wrong.status().message(), recipient_.KeyId())) << wrong.status();
  EXPECT_TRUE(absl::StrContains(wrong.status().message(), other.KeyId())) << wrong.status();
  EXPECT_TRUE(DecryptPayload(e, recipient_).ok());
}

}  // namespace
// A6: sealing refuses a recipient key that is not a raw X25519 key, and a
// signing key of the wrong type, before anything is encrypted.
TEST(SealAndSignTest, RefusesKeysOfTheWrongShape) {
  auto signing = *PrivateKey::Generate(PrivateKey::Type::kSigning);
  auto recipient = *PrivateKey::Generate(PrivateKey::Type::kEncryption);
  v1::Envelope header;
  header.set_message_id("a6");
  auto short_key =
      SealAndSign(header, "x", {recipient.KeyId(), recipient.RawPublicKey().substr(1)}, signing);
  EXPECT_EQ(short_key.status().code(), absl::StatusCode::kInvalidArgument) << short_key.status();
  auto wrong_signer =
      SealAndSign(header, "x", {recipient.KeyId(), recipient.RawPublicKey()}, recipient);
  EXPECT_EQ(wrong_signer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      SealAndSign(header, "x", {recipient.KeyId(), recipient.RawPublicKey()}, signing).ok());
}

}  // namespace safeshare::envelope
