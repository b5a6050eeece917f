#include "envelope/sealing.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/refusal_reasons.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace safeshare::envelope {
namespace {

constexpr char kHkdfInfo[] = "safeshare.v1 payload key";

struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  void operator()(EVP_KDF* k) const { EVP_KDF_free(k); }
  void operator()(EVP_KDF_CTX* c) const { EVP_KDF_CTX_free(c); }
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
template <typename T>
using Owned = std::unique_ptr<T, CtxFree>;

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// X25519 shared secret -> HKDF-SHA256(salt = ephemeral || recipient) -> 32-byte key.
absl::StatusOr<std::string> DeriveKey(EVP_PKEY* own, absl::string_view peer_raw,
                                      absl::string_view ephemeral_raw,
                                      absl::string_view recipient_raw) {
  Owned<EVP_PKEY> peer(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, U(peer_raw), peer_raw.size()));
  if (!peer) return absl::InvalidArgumentError("not an X25519 public key");
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new(own, nullptr));
  unsigned char shared[32];
  size_t shared_len = sizeof shared;
  // OpenSSL refuses an all-zero result (a low-order peer point).
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), shared, &shared_len) != 1) {
    return absl::InvalidArgumentError("X25519 key agreement failed");
  }
  std::string salt = absl::StrCat(ephemeral_raw, recipient_raw);
  Owned<EVP_KDF> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  Owned<EVP_KDF_CTX> kctx(kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, shared, shared_len),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(kHkdfInfo),
                                        sizeof(kHkdfInfo) - 1),
      OSSL_PARAM_construct_end()};
  std::string key(32, '\0');
  bool ok = kctx && EVP_KDF_derive(kctx.get(), reinterpret_cast<unsigned char*>(key.data()),
                                   key.size(), params) == 1;
  OPENSSL_cleanse(shared, sizeof shared);
  if (!ok) return absl::InternalError("HKDF failed");
  return key;
}

}  // namespace

std::string HeaderAssociatedData(const safeshare::v1::Envelope& envelope) {
  safeshare::v1::Envelope header = envelope;
  header.mutable_payload()->clear_ciphertext();
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  header.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

absl::StatusOr<safeshare::v1::SignedEnvelope> SealAndSign(safeshare::v1::Envelope header,
                                                          absl::string_view plaintext,
                                                          const RecipientKey& recipient,
                                                          const PrivateKey& signing_key) {
  if (signing_key.type() != PrivateKey::Type::kSigning) {
    return absl::InvalidArgumentError("the signing key must be Ed25519");
  }
  auto ephemeral = PrivateKey::Generate(PrivateKey::Type::kEncryption);
  if (!ephemeral.ok()) return ephemeral.status();
  std::string nonce(kNonceBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), kNonceBytes) != 1) {
    return absl::InternalError("no randomness for the nonce");
  }
  return Sealer::SealWith(std::move(header), plaintext, recipient, signing_key, *ephemeral, nonce);
}

absl::StatusOr<safeshare::v1::SignedEnvelope> Sealer::SealWith(
    safeshare::v1::Envelope header, absl::string_view plaintext, const RecipientKey& recipient,
    const PrivateKey& signing_key, const PrivateKey& ephemeral, absl::string_view nonce) {
  if (signing_key.type() != PrivateKey::Type::kSigning) {
    return absl::InvalidArgumentError("the signing key must be Ed25519");
  }
  if (ephemeral.type() != PrivateKey::Type::kEncryption || nonce.size() != kNonceBytes) {
    return absl::InvalidArgumentError("the ephemeral key must be X25519 and the nonce 12 bytes");
  }
  if (recipient.public_key.size() != kX25519KeyBytes) {
    return absl::InvalidArgumentError("recipient encryption key must be 32 bytes");
  }
  const std::string ephemeral_raw = ephemeral.RawPublicKey();
  auto key = DeriveKey(ephemeral.get(), recipient.public_key, ephemeral_raw, recipient.public_key);
  if (!key.ok()) return key.status();

  auto* payload = header.mutable_payload();
  payload->Clear();
  payload->set_recipient_key_id(recipient.key_id);
  payload->set_ephemeral_public_key(ephemeral_raw);
  payload->set_nonce(std::string(nonce));
  const std::string aad = HeaderAssociatedData(header);

  Owned<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  std::string out(plaintext.size() + kTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, total = 0;
  bool ok =
      ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(*key), U(nonce)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), o, &len, U(plaintext), static_cast<int>(plaintext.size())) == 1;
  total = len;
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), o + total, &len) == 1;
  total += len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, o + total) == 1;
  OPENSSL_cleanse(key->data(), key->size());
  if (!ok) return absl::InternalError("AES-256-GCM encryption failed");
  out.resize(total + kTagBytes);
  payload->set_ciphertext(std::move(out));

  return SignEnvelope(header, signing_key);
}

absl::StatusOr<safeshare::v1::SignedEnvelope> SignEnvelope(const safeshare::v1::Envelope& sealed,
                                                           const PrivateKey& signing_key) {
  if (signing_key.type() != PrivateKey::Type::kSigning) {
    return absl::InvalidArgumentError("the signing key must be Ed25519");
  }
  safeshare::v1::SignedEnvelope signed_envelope;
  if (!sealed.SerializeToString(signed_envelope.mutable_envelope_bytes())) {
    return absl::InternalError("cannot serialize envelope");
  }
  Owned<EVP_MD_CTX> md(EVP_MD_CTX_new());
  std::string sig(kSignatureBytes, '\0');
  size_t sig_len = sig.size();
  const std::string& bytes = signed_envelope.envelope_bytes();
  if (!md || EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, signing_key.get()) != 1 ||
      EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len, U(bytes),
                     bytes.size()) != 1) {
    return absl::InternalError("Ed25519 signing failed");
  }
  signed_envelope.set_signature(sig);
  signed_envelope.set_signing_key_id(signing_key.KeyId());
  return signed_envelope;
}

absl::Status ValidateSealedShape(const safeshare::v1::SignedEnvelope& s,
                                 const safeshare::v1::Envelope& e) {
  auto bad = [](absl::string_view field, absl::string_view why) {
    return WithReason(absl::InvalidArgumentError(absl::StrCat(field, ": ", why)),
                      reason::kEnvelopeMalformed, {{"field", std::string(field)}});
  };
  if (s.signature().size() != kSignatureBytes) {
    return bad("signed_envelope.signature", "must be a 64-byte Ed25519 signature");
  }
  if (s.signing_key_id().size() != 32) {
    return bad("signed_envelope.signing_key_id", "must be a 32-character directory key id");
  }
  const auto& p = e.payload();
  if (p.recipient_key_id().size() != 32) {
    return bad("envelope.payload.recipient_key_id", "must be a 32-character directory key id");
  }
  if (p.ephemeral_public_key().size() != kX25519KeyBytes) {
    return bad("envelope.payload.ephemeral_public_key", "must be 32 bytes");
  }
  if (p.nonce().size() != kNonceBytes) return bad("envelope.payload.nonce", "must be 12 bytes");
  if (p.ciphertext().size() < kTagBytes) {
    return bad("envelope.payload.ciphertext", "is shorter than the 16-byte GCM tag");
  }
  return absl::OkStatus();
}

absl::Status VerifySignature(const safeshare::v1::SignedEnvelope& s,
                             absl::string_view raw_signing_public_key) {
  absl::StatusOr<SigningPublicKey> key = SigningPublicKey::FromRaw(raw_signing_public_key);
  if (!key.ok()) return key.status();
  return VerifySignature(s, *key);
}

absl::Status VerifySignature(const safeshare::v1::SignedEnvelope& s,
                             const SigningPublicKey& signing_key) {
  Owned<EVP_MD_CTX> md(EVP_MD_CTX_new());
  const std::string& bytes = s.envelope_bytes();
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, signing_key.get()) != 1 ||
      EVP_DigestVerify(md.get(), U(s.signature()), s.signature().size(), U(bytes), bytes.size()) !=
          1) {
    return WithReason(
        absl::UnauthenticatedError(absl::StrCat(
            "the envelope signature does not verify under signing key ", s.signing_key_id(),
            ": the envelope was altered or signed with another key")),
        reason::kSignatureInvalid);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DecryptPayload(const safeshare::v1::Envelope& e,
                                           const PrivateKey& encryption_key) {
  if (encryption_key.type() != PrivateKey::Type::kEncryption) {
    return absl::InvalidArgumentError("the decryption key must be X25519");
  }
  const auto& p = e.payload();
  const std::string own_raw = encryption_key.RawPublicKey();
  if (p.recipient_key_id() != KeyIdOf(own_raw)) {
    return absl::FailedPreconditionError(absl::StrCat("payload is sealed to key ",
                                                      p.recipient_key_id(), ", not to this key (",
                                                      KeyIdOf(own_raw), ")"));
  }
  if (p.nonce().size() != kNonceBytes || p.ciphertext().size() < kTagBytes) {
    return absl::InvalidArgumentError("payload nonce or ciphertext is truncated");
  }
  auto key =
      DeriveKey(encryption_key.get(), p.ephemeral_public_key(), p.ephemeral_public_key(), own_raw);
  if (!key.ok()) return key.status();
  const std::string aad = HeaderAssociatedData(e);
  const size_t body = p.ciphertext().size() - kTagBytes;
  std::string out(body, '\0');
  std::string tag = p.ciphertext().substr(body);
  Owned<EVP_CIPHER_CTX> ctx(EVP_CIPHER_CTX_new());
  int len = 0, total = 0;
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(*key), U(p.nonce())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), o, &len, U(p.ciphertext()), static_cast<int>(body)) == 1;
  total = len;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
       EVP_DecryptFinal_ex(ctx.get(), o + total, &len) == 1;
  OPENSSL_cleanse(key->data(), key->size());
  if (!ok) {
    OPENSSL_cleanse(out.data(), out.size());
    return absl::InvalidArgumentError(
        "payload does not decrypt: the ciphertext or its envelope header was altered");
  }
  out.resize(total + len);
  return out;
}

}  // namespace safeshare::envelope
