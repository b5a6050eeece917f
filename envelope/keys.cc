#include "envelope/keys.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "absl/time/time.h"
#include "envelope/digest.h"

namespace safeshare::envelope {

std::string KeyIdOf(absl::string_view raw_public_key) {
  return ToHex(Sha256(raw_public_key).substr(0, 16));
}

void PrivateKey::Free::operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }

SigningPublicKey::SigningPublicKey(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {}

absl::StatusOr<SigningPublicKey> SigningPublicKey::FromRaw(absl::string_view raw) {
  // OpenSSL refuses any length but 32.
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  if (key == nullptr) return absl::InvalidArgumentError("signing key is not an Ed25519 public key");
  return SigningPublicKey(key);
}

absl::StatusOr<PrivateKey> PrivateKey::Generate(Type type) {
  EVP_PKEY* key =
      EVP_PKEY_Q_keygen(nullptr, nullptr, type == Type::kSigning ? "ED25519" : "X25519");
  if (key == nullptr) return absl::InternalError("key generation failed");
  return PrivateKey(type, key);
}

absl::StatusOr<PrivateKey> PrivateKey::FromRaw(Type type, absl::string_view raw) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(
      type == Type::kSigning ? EVP_PKEY_ED25519 : EVP_PKEY_X25519, nullptr,
      reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  if (key == nullptr) return absl::InvalidArgumentError("not a raw 32-byte private key");
  return PrivateKey(type, key);
}

absl::StatusOr<PrivateKey> PrivateKey::FromPem(absl::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return absl::InvalidArgumentError("not a PEM private key");
  switch (EVP_PKEY_get_id(key)) {
    case EVP_PKEY_ED25519:
      return PrivateKey(Type::kSigning, key);
    case EVP_PKEY_X25519:
      return PrivateKey(Type::kEncryption, key);
    default:
      EVP_PKEY_free(key);
      return absl::InvalidArgumentError("private key is neither Ed25519 nor X25519");
  }
}

std::string PrivateKey::Pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, len);
  BIO_free(bio);
  return pem;
}

std::string PrivateKey::RawPublicKey() const {
  unsigned char raw[32];
  size_t len = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key_.get(), raw, &len) != 1) return "";
  return std::string(reinterpret_cast<char*>(raw), len);
}

safeshare::v1::PublicKey PublicKeyEntry(const PrivateKey& key, absl::Time now,
                                        absl::Duration validity) {
  safeshare::v1::PublicKey entry;
  entry.set_public_key(key.RawPublicKey());
  entry.set_key_id(KeyIdOf(entry.public_key()));
  entry.set_purpose(key.type() == PrivateKey::Type::kSigning
                        ? safeshare::v1::KEY_PURPOSE_SIGNING
                        : safeshare::v1::KEY_PURPOSE_ENCRYPTION);
  entry.mutable_not_before()->set_seconds(absl::ToUnixSeconds(now));
  entry.mutable_not_after()->set_seconds(absl::ToUnixSeconds(now + validity));
  entry.set_current(true);
  return entry;
}

}  // namespace safeshare::envelope
