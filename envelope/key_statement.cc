#include "envelope/key_statement.h"

#include <openssl/evp.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "envelope/envelope_shape.h"
#include "envelope/identity_uri.h"

namespace safeshare::envelope {
namespace {

struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string SigningInput(absl::string_view statement) {
  return absl::StrCat(kKeyStatementContext, statement);
}

absl::StatusOr<std::string> Sign(const PrivateKey& key, absl::string_view input) {
  if (key.type() != PrivateKey::Type::kSigning) {
    return absl::InvalidArgumentError("a key statement is signed with an Ed25519 signing key");
  }
  std::unique_ptr<EVP_MD_CTX, MdFree> md(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  size_t len = sig.size();
  if (!md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, U(input),
                     input.size()) != 1 ||
      len != 64) {
    return absl::InternalError("Ed25519 signing failed");
  }
  return sig;
}

bool Verifies(absl::string_view raw_public_key, absl::string_view input,
              absl::string_view signature) {
  auto key = SigningPublicKey::FromRaw(raw_public_key);
  if (!key.ok() || signature.size() != 64) return false;
  std::unique_ptr<EVP_MD_CTX, MdFree> md(EVP_MD_CTX_new());
  return md && EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key->get()) == 1 &&
         EVP_DigestVerify(md.get(), U(signature), signature.size(), U(input), input.size()) == 1;
}

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

}  // namespace

absl::StatusOr<safeshare::v1::SignedKeyStatement> SignKeyStatement(
    const safeshare::v1::KeyStatement& statement, const PrivateKey& signer,
    const PrivateKey* new_signing_key) {
  safeshare::v1::SignedKeyStatement out;
  if (!statement.SerializeToString(out.mutable_statement())) {
    return absl::InternalError("the key statement did not serialize");
  }
  const std::string input = SigningInput(out.statement());
  auto sig = Sign(signer, input);
  if (!sig.ok()) return sig.status();
  out.set_signature(*sig);
  out.set_signing_key_id(signer.KeyId());
  if (new_signing_key != nullptr) {
    auto pop = Sign(*new_signing_key, input);
    if (!pop.ok()) return pop.status();
    out.set_new_key_signature(*pop);
  }
  return out;
}

absl::Status ValidateKeyMaterial(const safeshare::v1::PublicKey& key, absl::string_view field) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
  };
  if (key.purpose() != safeshare::v1::KEY_PURPOSE_SIGNING &&
      key.purpose() != safeshare::v1::KEY_PURPOSE_ENCRYPTION) {
    return bad("purpose must be SIGNING or ENCRYPTION");
  }
  if (key.public_key().size() != 32) return bad("public_key must be a raw 32-byte key");
  if (key.key_id() != KeyIdOf(key.public_key())) {
    return bad(absl::StrCat("key_id must be ", KeyIdOf(key.public_key()), " for this public key"));
  }
  return absl::OkStatus();
}

absl::Status ValidateKeyEntry(const safeshare::v1::PublicKey& key, absl::string_view field) {
  if (auto st = ValidateKeyMaterial(key, field); !st.ok()) return st;
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
  };
  if (!key.has_not_before() || !key.has_not_after()) {
    return bad("not_before and not_after are required: a published key carries its validity");
  }
  const absl::Time from = ToTime(key.not_before()), until = ToTime(key.not_after());
  if (until <= from) return bad("not_after must be after not_before");
  if (until - from > kMaxKeyValidity) {
    return bad(absl::StrCat("a key may be valid for at most ",
                            absl::FormatDuration(kMaxKeyValidity), "; rotate keys instead"));
  }
  return absl::OkStatus();
}

absl::StatusOr<safeshare::v1::KeyStatement> ParseKeyStatement(
    const safeshare::v1::SignedKeyStatement& signed_statement) {
  auto bad = [](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("key statement: ", why));
  };
  if (signed_statement.statement().empty() || signed_statement.statement().size() > 4096) {
    return bad("statement must be 1-4096 bytes of a serialized KeyStatement");
  }
  if (signed_statement.signature().size() != 64) {
    return bad("signature must be a 64-byte Ed25519 signature");
  }
  if (signed_statement.signing_key_id().size() != 32) {
    return bad("signing_key_id must be a 32-character directory key id");
  }
  safeshare::v1::KeyStatement s;
  if (!s.ParseFromString(signed_statement.statement())) {
    return bad("statement is not a serialized KeyStatement");
  }
  if (!IsValidFederationId(s.federation_id())) return bad("federation_id is not a federation id");
  if (!IsValidAgencyId(s.agency_id())) return bad("agency_id is not an agency id");
  switch (s.action()) {
    case safeshare::v1::KeyStatement::ACTION_PUBLISH:
      if (auto st = ValidateKeyEntry(s.key(), "key statement: key"); !st.ok()) return st;
      if (s.key().current() || s.key().revoked()) {
        return bad("key.current and key.revoked are set by the directory, not the statement");
      }
      if (s.key().purpose() == safeshare::v1::KEY_PURPOSE_SIGNING &&
          signed_statement.new_key_signature().size() != 64) {
        return bad("a new signing key must sign the statement too (new_key_signature)");
      }
      break;
    case safeshare::v1::KeyStatement::ACTION_REVOKE:
      if (s.revoke_key_id().size() != 32) {
        return bad("revoke_key_id must be a 32-character directory key id");
      }
      break;
    default:
      return bad("action must be PUBLISH or REVOKE");
  }
  return s;
}

absl::Status VerifyKeyStatement(const safeshare::v1::SignedKeyStatement& signed_statement,
                                const safeshare::v1::KeyStatement& statement,
                                absl::string_view signer_public_key) {
  const std::string input = SigningInput(signed_statement.statement());
  if (!Verifies(signer_public_key, input, signed_statement.signature())) {
    return absl::UnauthenticatedError(absl::StrCat(
        "the key statement's signature does not verify under signing key ",
        signed_statement.signing_key_id(), ": it was altered or signed with another key"));
  }
  if (statement.action() == safeshare::v1::KeyStatement::ACTION_PUBLISH &&
      statement.key().purpose() == safeshare::v1::KEY_PURPOSE_SIGNING &&
      !Verifies(statement.key().public_key(), input, signed_statement.new_key_signature())) {
    return absl::UnauthenticatedError(
        absl::StrCat("the new signing key ", statement.key().key_id(),
                     " did not sign the statement: whoever published it does not hold it"));
  }
  return absl::OkStatus();
}

absl::Status CheckKeyValidAt(const safeshare::v1::PublicKey& key, absl::Time t) {
  if (key.has_not_before() && t < ToTime(key.not_before())) {
    return absl::FailedPreconditionError(
        absl::StrCat("key ", key.key_id(), " is not valid until ",
                     absl::FormatTime(ToTime(key.not_before()), absl::UTCTimeZone())));
  }
  if (key.has_not_after() && t >= ToTime(key.not_after())) {
    return absl::FailedPreconditionError(
        absl::StrCat("key ", key.key_id(), " expired at ",
                     absl::FormatTime(ToTime(key.not_after()), absl::UTCTimeZone()),
                     "; its agency must rotate keys"));
  }
  return absl::OkStatus();
}

}  // namespace safeshare::envelope
